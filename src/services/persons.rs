//! A person's use cases: record one (after a look for the same person
//! already known, unless the caller confirms it is new) and change one.
//! A NIR is unique; a person's territory is its commune's.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use crate::audit::record;
use crate::db::Error;
use crate::db::communes;
use crate::db::error::{Violation, violation};
use crate::db::persons::{self, Candidate, NewPerson, Person, PersonChanges, Probe};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::services::change::Change;

/// What recording a person ended in.
pub enum Recorded {
    Person(Box<Person>),
    /// Known persons of the caller's scope who look like the new one,
    /// most alike first; nothing was recorded.
    PossibleDuplicates(Vec<Candidate>),
}

/// Records `new`; unless `confirmed_new`, first looks (audited) for known
/// persons like it, and records nothing if there are.
pub async fn record(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    new: NewPerson,
    confirmed_new: bool,
) -> Result<Recorded, Error> {
    if !confirmed_new {
        let probe = Probe {
            exclude: None,
            full_name: format!("{} {}", new.family_name, new.given_names),
            birth_date: new.birth_date,
            caf_number: new.caf_number.clone(),
            msa_number: new.msa_number.clone(),
            nir_index: new.nir_index.clone(),
        };
        let asked = serde_json::json!({ "possible_duplicates_of_new_person": true });
        let listing = record::listing(
            by.audit,
            by.who,
            AuditAction::List,
            AuditTarget::Person,
            asked,
        );
        let found = persons::candidates(conn, by.who, &probe, &listing).await?;
        if !found.is_empty() {
            return Ok(Recorded::PossibleDuplicates(found));
        }
    }
    let person = Change::new(by, AuditAction::Create, AuditTarget::Person)
        .run(
            conn,
            async |conn| {
                let person = persons::insert(conn, &new).await.map_err(nir_conflict)?;
                check_commune_territory(conn, &person).await?;
                Ok::<_, Error>(person)
            },
            |person| person.id,
        )
        .await?;
    Ok(Recorded::Person(Box::new(person)))
}

/// Changes a person of the caller's territories.
pub async fn update(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    changes: &PersonChanges,
) -> Result<Person, Error> {
    Change::new(by, AuditAction::Update, AuditTarget::Person)
        .of(id)
        .run(
            conn,
            async |conn| {
                let person = persons::update(conn, by.who, id, version, changes)
                    .await
                    .map_err(nir_conflict)?;
                if changes.commune_insee.is_some() || changes.territory_id.is_some() {
                    check_commune_territory(conn, &person).await?;
                }
                Ok::<_, Error>(person)
            },
            |person| person.id,
        )
        .await
}

/// A person's commune must be one their territory covers (checked inside
/// the write's transaction, which it rolls back). Moving a commune to
/// another territory moves no one: the rule applies when a person's
/// commune or territory is recorded, not to every later change.
async fn check_commune_territory(
    conn: &mut AsyncPgConnection,
    person: &Person,
) -> Result<(), Error> {
    let covering =
        communes::covering_territory(conn, &person.commune_insee, "commune_insee").await?;
    if covering != person.territory_id {
        return Err(Error::unprocessable(
            "territory_id",
            "is not the territory of the commune `commune_insee`",
        ));
    }
    Ok(())
}

/// The only unique constraint on persons is the NIR's blind index.
fn nir_conflict(error: impl Into<Error>) -> Error {
    match error.into() {
        Error::Query(e) if violation(&e) == Some(Violation::Unique) => Error::conflict(
            "A person with this NIR is already recorded. Search by NIR to find them.",
        ),
        other => other,
    }
}
