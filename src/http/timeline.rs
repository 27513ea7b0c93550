//! The view of a timeline event, and its schema: a `oneOf` with one member
//! per kind, discriminated by `kind`, each naming its payload's schema
//! (`domain::events`). The wire form is the same for every kind.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{
    Discriminator, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use crate::db::events::Event;
use crate::domain::EventKind;
use crate::domain::events::EventData;

/// One event of the timeline.
#[derive(Debug, Serialize)]
pub struct EventView {
    /// Position in the timeline; increases with each event.
    pub seq: i64,
    pub kind: EventKind,
    pub occurred_at: DateTime<Utc>,
    /// The user or client who caused it.
    pub actor_id: Option<Uuid>,
    /// What it records: the payload of its `kind`.
    pub data: serde_json::Value,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        Self {
            seq: e.seq,
            kind: e.kind,
            occurred_at: e.occurred_at,
            actor_id: e.actor_id,
            data: e.data,
        }
    }
}

/// Read back (by a Rust client, and by the tests), an event must hold its
/// kind's payload: the document's `oneOf` is checked by every test that
/// reads a timeline.
impl<'de> Deserialize<'de> for EventView {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            seq: i64,
            kind: EventKind,
            occurred_at: DateTime<Utc>,
            actor_id: Option<Uuid>,
            data: serde_json::Value,
        }
        let wire = Wire::deserialize(deserializer)?;
        EventData::parse(wire.kind, wire.data.clone()).map_err(|e| {
            serde::de::Error::custom(format!(
                "`data` is not a {} payload: {e}",
                wire.kind.as_str()
            ))
        })?;
        Ok(Self {
            seq: wire.seq,
            kind: wire.kind,
            occurred_at: wire.occurred_at,
            actor_id: wire.actor_id,
            data: wire.data,
        })
    }
}

/// The schema name of the event of a payload: `StatusChanged` → `StatusChangedEvent`.
fn event_schema(payload: &str) -> String {
    format!("{payload}Event")
}

impl PartialSchema for EventView {
    fn schema() -> RefOr<Schema> {
        let kinds = EventData::schema_names();
        let mut one_of = OneOfBuilder::new().description(Some(
            "One event of the timeline: `kind` says which, and `data` holds that kind's payload.",
        ));
        for (_, payload) in &kinds {
            one_of = one_of.item(Ref::from_schema_name(event_schema(payload)));
        }
        let mapping = kinds.iter().map(|(kind, payload)| {
            let target = format!("#/components/schemas/{}", event_schema(payload));
            (kind.as_str(), target)
        });
        one_of
            .discriminator(Some(Discriminator::with_mapping("kind", mapping)))
            .into()
    }
}

impl ToSchema for EventView {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        EventData::schemas(schemas);
        let format = |known| Some(SchemaFormat::KnownFormat(known));
        for (kind, payload) in EventData::schema_names() {
            let seq = ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(format(KnownFormat::Int64))
                .description(Some("Position in the timeline; increases with each event."));
            let tag = ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([kind.as_str()]));
            let occurred_at = ObjectBuilder::new()
                .schema_type(Type::String)
                .format(format(KnownFormat::DateTime));
            let actor_id = ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .format(format(KnownFormat::Uuid))
                .description(Some("The user or client who caused it."));
            let event = ObjectBuilder::new()
                .description(Some(kind.meaning()))
                .property("seq", seq)
                .property("kind", tag)
                .property("occurred_at", occurred_at)
                .property("actor_id", actor_id)
                .property("data", Ref::from_schema_name(payload.as_str()))
                .required("seq")
                .required("kind")
                .required("occurred_at")
                .required("actor_id")
                .required("data");
            schemas.push((event_schema(&payload), event.into()));
        }
    }
}
