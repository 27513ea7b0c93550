//! Every timeline a database holds, replayed through the state machine:
//! what the API writes and what `seed-demo` writes alike. A pathway's
//! status events must be ones the API could have written, in the order of
//! their sequence and of their time, and lead to the status it has.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use parcours::domain::PathwayStatus;
use parcours::domain::pathway::{Step, replay};

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    pathway: uuid::Uuid,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    opened: String,
    #[diesel(sql_type = Text)]
    from: String,
    #[diesel(sql_type = Text)]
    to: String,
    #[diesel(sql_type = Timestamptz)]
    occurred_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    current: String,
}

/// Each pathway whose timeline the API could not have written, and why.
pub async fn unreplayable(conn: &mut AsyncPgConnection) -> Vec<String> {
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT e.pathway_id AS pathway, e.kind::text AS kind, \
                coalesce(e.data->>'status', '') AS opened, \
                coalesce(e.data->>'from', '') AS from, coalesce(e.data->>'to', '') AS to, \
                e.occurred_at, p.status::text AS current \
         FROM pathway_events e JOIN pathways p ON p.id = e.pathway_id \
         WHERE e.kind IN ('pathway_opened', 'status_changed') \
         ORDER BY e.pathway_id, e.seq",
    )
    .load(conn)
    .await
    .unwrap_or_else(|e| panic!("reading the timelines: {e}"));
    let status = |text: &str| PathwayStatus::parse(text);
    let mut wrong = Vec::new();
    for timeline in rows.chunk_by(|a, b| a.pathway == b.pathway) {
        let Some(first) = timeline.first() else {
            continue;
        };
        let steps: Option<Vec<Step>> = timeline
            .iter()
            .map(|row| match row.kind.as_str() {
                "pathway_opened" => status(&row.opened).map(Step::Opened),
                _ => Some(Step::Moved {
                    from: status(&row.from)?,
                    to: status(&row.to)?,
                }),
            })
            .collect();
        let Some(steps) = steps else {
            wrong.push(format!(
                "{}: a status the domain does not know",
                first.pathway
            ));
            continue;
        };
        let in_time = timeline
            .windows(2)
            .all(|pair| pair.first().map(|a| a.occurred_at) <= pair.get(1).map(|b| b.occurred_at));
        if !in_time {
            wrong.push(format!(
                "{}: its sequence is not its time's order",
                first.pathway
            ));
        }
        match replay(steps) {
            Ok(reached) if reached.as_str() == first.current => {}
            Ok(reached) => wrong.push(format!(
                "{}: the timeline leads to {} but the pathway is {}",
                first.pathway,
                reached.as_str(),
                first.current
            )),
            Err(why) => wrong.push(format!("{}: {why}", first.pathway)),
        }
    }
    wrong
}
