//! The pathways export: one row per pathway, with what auditors may see of
//! its person (birth year, commune) and nothing that names them. Streamed
//! from the server as it is read.

use chrono::NaiveDate;
use diesel::QueryableByName;
use diesel::sql_types::{Date, Double, Integer, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::Stream;
use uuid::Uuid;

use crate::db::schema::sql_types::{
    ClosureReason as SqlClosureReason, Domain as SqlDomain, EscalationLevel as SqlEscalationLevel,
    PathwayStatus as SqlPathwayStatus, PlanKind as SqlPlanKind, PlanStatus as SqlPlanStatus,
};
use crate::domain::{ClosureReason, Domain, EscalationLevel, PathwayStatus, PlanKind, PlanStatus};

#[derive(Debug, Clone, QueryableByName)]
pub struct PathwayRow {
    #[diesel(sql_type = SqlUuid)]
    pub pathway_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub person_id: Uuid,
    #[diesel(sql_type = Integer)]
    pub birth_year: i32,
    #[diesel(sql_type = Text)]
    pub commune_insee: String,
    #[diesel(sql_type = Text)]
    pub territory: String,
    #[diesel(sql_type = SqlDomain)]
    pub domain: Domain,
    #[diesel(sql_type = SqlPathwayStatus)]
    pub status: PathwayStatus,
    #[diesel(sql_type = Date)]
    pub opened_on: NaiveDate,
    #[diesel(sql_type = Nullable<Date>)]
    pub closed_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<SqlClosureReason>)]
    pub closure_reason: Option<ClosureReason>,
    #[diesel(sql_type = Double)]
    pub days_without_solution: f64,
    #[diesel(sql_type = Nullable<SqlPlanKind>)]
    pub plan_kind: Option<PlanKind>,
    #[diesel(sql_type = Nullable<SqlPlanStatus>)]
    pub plan_status: Option<PlanStatus>,
    #[diesel(sql_type = Nullable<SqlEscalationLevel>)]
    pub critical_level: Option<EscalationLevel>,
}

/// Which pathways: in a domain, a territory, active at some point between
/// `from` and `to` (opened on or before `to`, not closed before `from`).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub domain: Option<Domain>,
    pub territory: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The statement, shared with `bench/export.sh` (which runs it through
/// `psql \\copy` as the reference).
pub const SQL: &str = include_str!("exports_pathways.sql");

/// The rows, as the server sends them.
pub async fn pathways<'conn>(
    conn: &'conn mut AsyncPgConnection,
    selection: &Selection,
) -> diesel::QueryResult<impl Stream<Item = diesel::QueryResult<PathwayRow>> + Send + 'conn> {
    diesel::sql_query(SQL)
        .bind::<Nullable<SqlDomain>, _>(selection.domain)
        .bind::<Nullable<SqlUuid>, _>(selection.territory)
        .bind::<Nullable<Date>, _>(selection.from)
        .bind::<Nullable<Date>, _>(selection.to)
        .load_stream::<PathwayRow>(conn)
        .await
}

#[derive(Debug, Clone, QueryableByName)]
pub struct AuditRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub seq: i64,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    #[diesel(sql_type = Text)]
    pub actor_kind: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub actor_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<crate::db::schema::sql_types::Role>)]
    pub actor_role: Option<crate::domain::Role>,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub resource_type: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub resource_id: Option<Uuid>,
    #[diesel(sql_type = Integer)]
    pub result_count: i32,
    #[diesel(sql_type = crate::db::schema::sql_types::AuditOutcome)]
    pub outcome: crate::domain::AuditOutcome,
    #[diesel(sql_type = Nullable<Text>)]
    pub request_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub purpose: Option<String>,
}

/// The audit export's statement: the bounds are plain comparisons of the
/// partition key, so that PostgreSQL reads only the months between them.
pub const AUDIT_SQL: &str = "\
SELECT seq, occurred_at, actor_kind, actor_id, actor_role, action, resource_type, resource_id,
       coalesce(cardinality(result_ids), 0) AS result_count, outcome, request_id, purpose
FROM audit_log
WHERE occurred_at >= coalesce($1::timestamptz, '-infinity')
  AND occurred_at < coalesce($2::timestamptz, 'infinity')
ORDER BY seq";

/// Audit records between two instants, oldest first, as the server sends them.
pub async fn audit<'conn>(
    conn: &'conn mut AsyncPgConnection,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
) -> diesel::QueryResult<impl Stream<Item = diesel::QueryResult<AuditRow>> + Send + 'conn> {
    use diesel::sql_types::Timestamptz;
    diesel::sql_query(AUDIT_SQL)
        .bind::<Nullable<Timestamptz>, _>(from)
        .bind::<Nullable<Timestamptz>, _>(to)
        .load_stream::<AuditRow>(conn)
        .await
}
