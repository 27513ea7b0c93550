//! A read and its audit record in one statement, so one round trip:
//!
//! ```sql
//! WITH read AS (<the read>),
//!      logged AS (INSERT INTO audit_log (...) SELECT ... FROM read)
//! SELECT * FROM read
//! ```
//!
//! PostgreSQL runs a data-modifying `WITH` to completion whatever the outer
//! query reads, and the statement is atomic: rows come back only with their
//! record written, and a record that cannot be written fails the read.
//!
//! A page's size is written into the statement's text (`LIMIT 51`), not
//! bound: with `LIMIT $n` PostgreSQL's generic plan guesses a tenth of the
//! matching rows, costs it far above the custom plans, and so plans the
//! statement again on every call. Page sizes are bounded (`MAX_LIMIT`), so each
//! connection prepares a handful of such statements at most.

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Jsonb, Nullable, Text, Uuid as SqlUuid};

use crate::db::audit::NewRecord;
use crate::db::schema::sql_types::{AuditOutcome as SqlOutcome, Role as SqlRole};

/// What the record says of the rows read.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// One resource, named in the record: `success` if a row came back,
    /// `not_found` if none did (outside the caller's scope, or absent).
    One,
    /// A list: the record's outcome as given, and the distinct values of
    /// `id_column` in the first `returned` rows (a page query reads one row
    /// more, to know whether another page follows).
    List {
        id_column: &'static str,
        returned: i64,
    },
    /// One page of a list: as `List`, and the read takes `returned + 1`
    /// rows (to know whether another page follows), a limit written here.
    Page {
        id_column: &'static str,
        returned: i64,
    },
    /// The record as given, whatever the rows.
    Given,
}

/// `query` wrapped with its audit record; load it as `query` itself.
#[derive(Debug)]
pub struct Audited<'r, Q> {
    query: Q,
    /// `None`: the plain query, unrecorded.
    record: Option<&'r NewRecord>,
    shape: Shape,
}

/// Wraps a read query with the insert of its audit record.
pub trait AuditedDsl: Sized {
    /// The read of one resource (`record.resource_id`).
    fn audited_one(self, record: &NewRecord) -> Audited<'_, Self> {
        Audited {
            query: self,
            record: Some(record),
            shape: Shape::One,
        }
    }

    /// One row, as [`Self::audited_one`] with a record; without one, the
    /// plain query: a check (a parent's scope before a list that records
    /// itself, a write's own lookup), which records nothing.
    fn audited_one_if(self, record: Option<&NewRecord>) -> Audited<'_, Self> {
        Audited {
            query: self,
            record,
            shape: Shape::One,
        }
    }

    /// A list: the record keeps the values of `id_column` of the first
    /// `returned` rows.
    fn audited_list<'r>(
        self,
        record: &'r NewRecord,
        id_column: &'static str,
        returned: i64,
    ) -> Audited<'r, Self> {
        Audited {
            query: self,
            record: Some(record),
            shape: Shape::List {
                id_column,
                returned,
            },
        }
    }

    /// One page of a list: the read, without a limit of its own, takes at
    /// most `returned + 1` rows (the limit is written as a number, see the
    /// module's note), and the record keeps the values of `id_column` of
    /// the first `returned`.
    fn audited_page<'r>(
        self,
        record: &'r NewRecord,
        id_column: &'static str,
        returned: i64,
    ) -> Audited<'r, Self> {
        Audited {
            query: self,
            record: Some(record),
            shape: Shape::Page {
                id_column,
                returned,
            },
        }
    }

    /// The record as given (its outcome decided before the read).
    fn audited(self, record: &NewRecord) -> Audited<'_, Self> {
        Audited {
            query: self,
            record: Some(record),
            shape: Shape::Given,
        }
    }
}

impl<Q: Query> AuditedDsl for Q {}

impl<Q: Query> Query for Audited<'_, Q> {
    type SqlType = Q::SqlType;
}

impl<Q> QueryId for Audited<'_, Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Audited<'_, Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let Some(record) = self.record else {
            return self.query.walk_ast(out);
        };
        out.push_sql("WITH read AS (");
        self.query.walk_ast(out.reborrow())?;
        if let Shape::Page { returned, .. } = self.shape {
            // A number, never input: `returned` is an i64.
            out.push_sql(&format!(" LIMIT {}", returned.saturating_add(1)));
        }
        out.push_sql(
            "), logged AS (INSERT INTO audit_log (actor_kind, actor_id, actor_role, action, \
             resource_type, resource_id, query, request_id, source_address, user_agent, \
             purpose, outcome, result_ids) SELECT ",
        );
        out.push_bind_param::<Text, _>(&record.actor_kind)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<SqlUuid>, _>(&record.actor_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<SqlRole>, _>(&record.actor_role)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&record.action)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&record.resource_type)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<SqlUuid>, _>(&record.resource_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Jsonb>, _>(&record.query)?;
        for context in [
            &record.request_id,
            &record.source_address,
            &record.user_agent,
            &record.purpose,
        ] {
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Text>, _>(context)?;
        }
        match &self.shape {
            Shape::Given => {
                out.push_sql(", ");
                out.push_bind_param::<SqlOutcome, _>(&record.outcome)?;
                out.push_sql(", ");
                out.push_bind_param::<Nullable<Array<Nullable<SqlUuid>>>, _>(&record.result_ids)?;
            }
            Shape::One => out.push_sql(
                ", CASE WHEN EXISTS (SELECT 1 FROM read) THEN 'success'::audit_outcome \
                 ELSE 'not_found'::audit_outcome END, NULL::uuid[]",
            ),
            Shape::List {
                id_column,
                returned,
            }
            | Shape::Page {
                id_column,
                returned,
            } => {
                out.push_sql(", ");
                out.push_bind_param::<SqlOutcome, _>(&record.outcome)?;
                // Distinct ids in the order they were read.
                out.push_sql(
                    ", (SELECT coalesce(array_agg(id ORDER BY first), '{}') \
                     FROM (SELECT id, min(n) AS first FROM (SELECT ",
                );
                out.push_identifier(id_column)?;
                out.push_sql(" AS id, row_number() OVER () AS n FROM read LIMIT ");
                out.push_bind_param::<BigInt, _>(returned)?;
                out.push_sql(") page GROUP BY id) ids)");
            }
        }
        out.push_sql(") SELECT * FROM read");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use uuid::Uuid;

    use super::*;
    use crate::db::schema::pathways;
    use crate::domain::AuditOutcome;

    fn record() -> NewRecord {
        NewRecord {
            actor_kind: "user",
            actor_id: Some(Uuid::nil()),
            actor_role: None,
            action: "read",
            resource_type: Some("pathway"),
            resource_id: Some(Uuid::nil()),
            query: None,
            result_ids: None,
            outcome: AuditOutcome::Success,
            request_id: None,
            source_address: None,
            user_agent: None,
            purpose: None,
        }
    }

    #[test]
    fn the_read_and_its_record_are_one_statement_with_the_reads_binds_first() {
        let record = record();
        let query = pathways::table
            .filter(pathways::id.eq(Uuid::nil()))
            .select(pathways::id)
            .audited_one(&record);
        let sql = diesel::debug_query::<Pg, _>(&query).to_string();
        let (text, _binds) = sql.split_once(" -- binds:").unwrap();
        assert!(text.starts_with("WITH read AS (SELECT"), "{text}");
        assert!(text.contains("WHERE (\"pathways\".\"id\" = $1)"), "{text}");
        assert!(
            text.contains("INSERT INTO audit_log (actor_kind") && text.contains("SELECT $2, $3"),
            "{text}"
        );
        assert!(text.ends_with(") SELECT * FROM read"), "{text}");
        assert_eq!(text.matches(';').count(), 0, "{text}");
    }

    #[test]
    fn a_check_without_a_record_is_the_plain_query() {
        let plain = pathways::table
            .filter(pathways::id.eq(Uuid::nil()))
            .select(pathways::id);
        let checked = plain.audited_one_if(None);
        let recorded = record();
        let answered = plain.audited_one_if(Some(&recorded));
        let sql = |q: &dyn QueryFragment<Pg>| {
            let mut text = String::new();
            let mut builder = diesel::pg::PgQueryBuilder::default();
            q.to_sql(&mut builder, &Pg).unwrap();
            text.push_str(&diesel::query_builder::QueryBuilder::finish(builder));
            text
        };
        assert_eq!(sql(&checked), sql(&plain));
        assert!(
            sql(&answered).starts_with("WITH read AS ("),
            "{}",
            sql(&answered)
        );
    }

    #[test]
    fn a_page_writes_its_size_into_the_statement() {
        let record = record();
        let page = |size| {
            let query = pathways::table
                .select(pathways::id)
                .order(pathways::id)
                .into_boxed()
                .audited_page(&record, "id", size);
            diesel::debug_query::<Pg, _>(&query).to_string()
        };
        let fifty = page(50);
        assert!(
            fifty.starts_with(
                "WITH read AS (SELECT \"pathways\".\"id\" FROM \"pathways\" \
                 ORDER BY \"pathways\".\"id\" LIMIT 51), logged AS"
            ),
            "{fifty}"
        );
        assert!(fifty.contains("FROM read LIMIT $"), "{fifty}");
        assert!(
            fifty.ends_with("50]"),
            "the page size is the last bind: {fifty}"
        );
        // Another size is another statement (prepared apart), not a bind.
        let text = |sql: &str| sql.split_once(" -- binds:").unwrap().0.to_owned();
        assert_ne!(text(&page(10)), text(&fifty));
        assert_eq!(text(&page(50)), text(&fifty));
    }

    #[test]
    fn a_list_records_the_ids_of_the_page_only() {
        let record = record();
        let query = pathways::table
            .select(pathways::id)
            .limit(3)
            .audited_list(&record, "id", 2);
        let sql = diesel::debug_query::<Pg, _>(&query).to_string();
        assert!(sql.contains("FROM read LIMIT $"), "{sql}");
        assert!(sql.ends_with("2]"), "the page size is the last bind: {sql}");
    }
}
