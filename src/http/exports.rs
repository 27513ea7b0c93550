//! `/v1/exports/pathways`: pseudonymised pathways for auditors, streamed as
//! rows are read (CSV or NDJSON), so memory stays flat whatever the size.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use bytes::Bytes;
use chrono::NaiveDate;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::Entry;
use crate::audit::record;
use crate::auth::policy::ExportPseudonymised;
use crate::db::exports::{self, PathwayRow, Selection};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::enums::name_of;
use crate::domain::values;
use crate::domain::{
    AuditOutcome, ClosureReason, Domain, EscalationLevel, PathwayStatus, PlanKind, PlanStatus,
};
use crate::http::caller::Authorized;
use crate::http::error::{ApiError, FieldError};
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::privacy::PersonalDataKeys;

/// Rows gathered before a chunk is sent.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks waiting for a slow client before reading pauses.
const CHUNKS_IN_FLIGHT: usize = 8;

closed_set! {
    /// How an export is written.
    pub enum ExportFormat {
        /// Comma-separated, a header line first (`text/csv`).
        Csv => "csv",
        /// One JSON object per line (`application/x-ndjson`).
        Ndjson => "ndjson",
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `csv` (default) or `ndjson`.
    pub format: Option<ExportFormat>,
    pub domain: Option<Domain>,
    /// A territory's id.
    pub territory: Option<Uuid>,
    /// Pathways still open on or after this day…
    #[serde(default, deserialize_with = "values::optional_date")]
    pub from: Option<NaiveDate>,
    /// …and opened on or before this one.
    #[serde(default, deserialize_with = "values::optional_date")]
    pub to: Option<NaiveDate>,
}

/// One pathway, pseudonymised: nothing names the person or lets anyone go
/// back to them — no name, NIR, CAF/MSA number, address or note.
#[derive(Debug, Serialize, ToSchema)]
pub struct PathwayExportRow {
    /// The person, as a keyed hash (HMAC-SHA256 under the export key, 32
    /// hex characters): the same person has the same reference in every
    /// export, so rows link across exports and domains; without the key
    /// nobody can go back to the person.
    pub person_ref: String,
    /// The pathway, as a keyed hash in the same way.
    pub pathway_ref: String,
    /// The person's year of birth (never the full date).
    pub birth_year: i32,
    /// INSEE code of the person's commune of residence.
    pub commune_insee: String,
    /// Code of the territory (département service) that follows the pathway.
    pub territory: String,
    pub domain: Domain,
    /// Status now: `referred`, `assessment`, `orientation`,
    /// `without_solution`, `supported` or `closed`.
    pub status: PathwayStatus,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub closure_reason: Option<ClosureReason>,
    /// Days spent `without_solution` over the whole pathway, up to now (one
    /// decimal).
    pub days_without_solution: f64,
    /// The latest support plan's kind and status, if any.
    pub plan_kind: Option<PlanKind>,
    pub plan_status: Option<PlanStatus>,
    /// Escalation level while the situation is flagged critical.
    pub critical_level: Option<EscalationLevel>,
}

const CSV_HEADER: &str = "person_ref,pathway_ref,birth_year,commune_insee,territory,domain,status,\
opened_on,closed_on,closure_reason,days_without_solution,plan_kind,plan_status,critical_level\n";

fn pseudonymise(row: PathwayRow, keys: &PersonalDataKeys) -> PathwayExportRow {
    PathwayExportRow {
        person_ref: keys.pseudonym("person", row.person_id),
        pathway_ref: keys.pseudonym("pathway", row.pathway_id),
        birth_year: row.birth_year,
        commune_insee: row.commune_insee,
        territory: row.territory,
        domain: row.domain,
        status: row.status,
        opened_on: row.opened_on,
        closed_on: row.closed_on,
        closure_reason: row.closure_reason,
        days_without_solution: (row.days_without_solution * 10.0).round() / 10.0,
        plan_kind: row.plan_kind,
        plan_status: row.plan_status,
        critical_level: row.critical_level,
    }
}

/// Every value is a code, a number or a date: none holds a comma, a quote
/// or a line break, so none needs quoting.
fn csv_line(row: &PathwayExportRow, out: &mut String) {
    use std::fmt::Write;
    let opt = |v: Option<String>| v.unwrap_or_default();
    let _ = writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        row.person_ref,
        row.pathway_ref,
        row.birth_year,
        row.commune_insee,
        row.territory,
        name_of(&row.domain),
        name_of(&row.status),
        row.opened_on,
        opt(row.closed_on.map(|d| d.to_string())),
        opt(row.closure_reason.map(|r| name_of(&r))),
        row.days_without_solution,
        opt(row.plan_kind.map(|k| name_of(&k))),
        opt(row.plan_status.map(|s| name_of(&s))),
        opt(row.critical_level.map(|l| name_of(&l))),
    );
}

/// Export pathways, pseudonymised (auditors). The response starts at once
/// and is streamed as the database sends rows; memory stays flat whatever
/// the size. Each export is audited with its parameters. Columns: see
/// `PathwayExportRow` (the CSV header names them in the same order).
#[utoipa::path(
    tag = "audit",
    params(ExportParams),
    responses(
        (status = 200, description = "The rows, streamed.", content(
            (String = "text/csv", example = "person_ref,pathway_ref,birth_year,commune_insee,territory,domain,status,opened_on,closed_on,closure_reason,days_without_solution,plan_kind,plan_status,critical_level\n3f1c…,9a2e…,1978,05061,05-GAP,disability,supported,2024-03-01,,,41.5,pag,active,\n"),
            (PathwayExportRow = "application/x-ndjson"),
        )),
    )
)]
#[get("/pathways")]
pub async fn pathways(
    caller: Authorized<ExportPseudonymised>,
    params: Query<ExportParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    check_period(p.from, p.to)?;
    let format = p.format.unwrap_or(ExportFormat::Csv);
    let selection = Selection {
        domain: p.domain,
        territory: p.territory,
        from: p.from,
        to: p.to,
    };
    let mut conn = caller.conn().await?;
    let asked = serde_json::json!({
        "format": format_name(format), "domain": p.domain,
        "territory": p.territory, "from": p.from, "to": p.to,
    });
    let entry = Entry::new(AuditAction::Export, AuditOutcome::Success)
        .on(AuditTarget::Pathway, None)
        .listing(asked, vec![]);
    record::by(&mut conn, caller.acting(), entry).await?;

    let (mut out, body) = channel(format, CSV_HEADER);
    let keys = state.clone();
    tokio::spawn(async move {
        let produced = async {
            let rows = exports::pathways(&mut conn, &selection).await?;
            let view = |row| pseudonymise(row, &keys.privacy);
            drain(rows, &mut out, format, view, csv_line).await
        };
        let produced = produced.await;
        out.finish(produced).await;
    });
    Ok(response(format, "parcours-pathways", body))
}

/// 400 for a period that ends before it starts.
fn check_period<T: PartialOrd>(from: Option<T>, to: Option<T>) -> Result<(), ApiError> {
    match (from, to) {
        (Some(from), Some(to)) if from > to => Err(ApiError::invalid(
            "The period is empty.",
            vec![FieldError::new("to", "must not be before `from`")],
        )),
        _ => Ok(()),
    }
}

/// Writes every row of `rows`, as `view` shows it, until the client goes.
async fn drain<R, T: Serialize>(
    rows: impl futures_util::Stream<Item = diesel::QueryResult<R>>,
    out: &mut Chunks,
    format: ExportFormat,
    view: impl Fn(R) -> T,
    csv: fn(&T, &mut String),
) -> anyhow::Result<()> {
    futures_util::pin_mut!(rows);
    while let Some(row) = rows.next().await {
        let row = view(row?);
        let alive = match format {
            ExportFormat::Csv => out.push(|line| csv(&row, line)).await,
            ExportFormat::Ndjson => out.push_json(&row).await?,
        };
        if !alive {
            break;
        }
    }
    Ok(())
}

/// Lines gathered into chunks for a streamed response, through a bounded
/// channel: reading waits for a slow client, so memory stays flat.
pub struct Chunks {
    sender: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buffer: String,
}

/// The producing end, and the body of the response.
fn channel(
    format: ExportFormat,
    csv_header: &str,
) -> (
    Chunks,
    impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + 'static,
) {
    let (sender, receiver) = tokio::sync::mpsc::channel(CHUNKS_IN_FLIGHT);
    let mut buffer = String::with_capacity(CHUNK_BYTES * 2);
    if let ExportFormat::Csv = format {
        buffer.push_str(csv_header);
    }
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    (Chunks { sender, buffer }, body)
}

impl Chunks {
    /// Appends what `write` writes; `false` once the client has gone.
    async fn push(&mut self, write: impl FnOnce(&mut String)) -> bool {
        write(&mut self.buffer);
        if self.buffer.len() < CHUNK_BYTES {
            return true;
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buffer));
        self.sender.send(Ok(chunk)).await.is_ok()
    }

    async fn push_json(&mut self, row: &impl Serialize) -> serde_json::Result<bool> {
        let json = serde_json::to_string(row)?;
        Ok(self
            .push(|line| {
                line.push_str(&json);
                line.push('\n');
            })
            .await)
    }

    /// Sends the rest; after a failure, cuts the response instead, so that
    /// the client sees it incomplete rather than short.
    async fn finish(self, produced: anyhow::Result<()>) {
        match produced {
            Ok(()) if !self.buffer.is_empty() => {
                let _ = self.sender.send(Ok(Bytes::from(self.buffer))).await;
            }
            Ok(()) => {}
            Err(error) => {
                tracing::error!(error = %error, "an export failed midway");
                let _ = self
                    .sender
                    .send(Err(std::io::Error::other("the export failed midway")))
                    .await;
            }
        }
    }
}

fn response(
    format: ExportFormat,
    name: &str,
    body: impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + 'static,
) -> HttpResponse {
    let content_type = match format {
        ExportFormat::Csv => "text/csv; charset=utf-8",
        ExportFormat::Ndjson => "application/x-ndjson",
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{}\"", format_name(format)),
        ))
        .streaming(body)
}

fn format_name(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Ndjson => "ndjson",
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditExportParams {
    /// `csv` (default) or `ndjson`.
    pub format: Option<ExportFormat>,
    /// From this instant (included).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Up to this instant (excluded).
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// One audit record, as exported: who did what to which (pseudonymised)
/// resource, and how it ended. The search terms, the ids returned, the
/// source address, the user agent and the free-text purpose stay in the
/// trail (`GET /v1/audit`): they may name someone.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditExportRow {
    /// The record's place in the trail.
    pub seq: i64,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    #[schema(value_type = crate::domain::audit::ActorKind)]
    pub actor_kind: String,
    /// The staff user or partner client who acted.
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<crate::domain::Role>,
    /// `read`, `list`, `search`, `create`, `update`, `transition`, `login`,
    /// `authorize`, `token_refused`, `export`, `anonymise`, …
    pub action: String,
    /// `person`, `pathway`, `plan`, `note`, `user`, …
    pub resource_type: Option<String>,
    /// The resource as a keyed hash: for `person` and `pathway`, the same
    /// value as `person_ref` and `pathway_ref` in the pathways export.
    pub resource_ref: Option<String>,
    /// For a list or search: how many records it returned.
    pub result_count: i32,
    pub outcome: AuditOutcome,
    /// The request's `X-Request-Id`.
    pub request_id: Option<String>,
}

const AUDIT_CSV_HEADER: &str = "seq,occurred_at,actor_kind,actor_id,actor_role,action,\
resource_type,resource_ref,result_count,outcome,request_id\n";

fn audit_row(row: exports::AuditRow, keys: &PersonalDataKeys) -> AuditExportRow {
    let resource_ref = match (&row.resource_type, row.resource_id) {
        (Some(kind), Some(id)) => Some(keys.pseudonym(kind, id)),
        _ => None,
    };
    AuditExportRow {
        seq: row.seq,
        occurred_at: row.occurred_at,
        actor_kind: row.actor_kind,
        actor_id: row.actor_id,
        actor_role: row.actor_role,
        action: row.action,
        resource_type: row.resource_type,
        resource_ref,
        result_count: row.result_count,
        outcome: row.outcome,
        request_id: row.request_id,
    }
}

/// Actions and request ids are our own tokens: no comma, quote or line
/// break (request ids are checked on the way in).
fn audit_csv_line(row: &AuditExportRow, out: &mut String) {
    use std::fmt::Write;
    let opt = |v: Option<String>| v.unwrap_or_default();
    let _ = writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{}",
        row.seq,
        row.occurred_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        row.actor_kind,
        opt(row.actor_id.map(|id| id.to_string())),
        opt(row.actor_role.map(|r| name_of(&r))),
        row.action,
        opt(row.resource_type.clone()),
        opt(row.resource_ref.clone()),
        row.result_count,
        name_of(&row.outcome),
        opt(row.request_id.clone()),
    );
}

/// Export the audit trail (auditors), oldest first, streamed like the
/// pathways export; resources appear as keyed hashes. Audited.
#[utoipa::path(
    tag = "audit",
    params(AuditExportParams),
    responses(
        (status = 200, description = "The records, streamed.", content(
            (String = "text/csv", example = "seq,occurred_at,actor_kind,actor_id,actor_role,action,resource_type,resource_ref,result_count,outcome,request_id\n"),
            (AuditExportRow = "application/x-ndjson"),
        )),
    )
)]
#[get("/audit")]
pub async fn audit(
    caller: Authorized<ExportPseudonymised>,
    params: Query<AuditExportParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    check_period(p.from, p.to)?;
    let format = p.format.unwrap_or(ExportFormat::Csv);
    let mut conn = caller.conn().await?;
    let asked = serde_json::json!({ "format": format_name(format), "from": p.from, "to": p.to });
    let entry = Entry::new(AuditAction::Export, AuditOutcome::Success)
        .on(AuditTarget::Audit, None)
        .listing(asked, vec![]);
    record::by(&mut conn, caller.acting(), entry).await?;
    let (mut out, body) = channel(format, AUDIT_CSV_HEADER);
    let keys = state.clone();
    tokio::spawn(async move {
        let produced = async {
            let rows = exports::audit(&mut conn, p.from, p.to).await?;
            let view = |row| audit_row(row, &keys.privacy);
            drain(rows, &mut out, format, view, audit_csv_line).await
        };
        let produced = produced.await;
        out.finish(produced).await;
    });
    Ok(response(format, "parcours-audit", body))
}
