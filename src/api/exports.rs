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

use crate::audit::record::record;
use crate::audit::{Actor, AuditContext, Entry};
use crate::auth::Authorized;
use crate::auth::policy::ExportPseudonymised;
use crate::db::exports::{self, PathwayRow, Selection};
use crate::domain::enums::name_of;
use crate::domain::{
    AuditOutcome, ClosureReason, Domain, EscalationLevel, PathwayStatus, PlanKind, PlanStatus,
};
use crate::error::{ApiError, FieldError};
use crate::privacy::PersonalDataKeys;
use crate::startup::AppState;

/// Rows gathered before a chunk is sent.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks waiting for a slow client before reading pauses.
const CHUNKS_IN_FLIGHT: usize = 8;

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// Comma-separated, a header line first (`text/csv`).
    #[default]
    Csv,
    /// One JSON object per line (`application/x-ndjson`).
    Ndjson,
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
    pub from: Option<NaiveDate>,
    /// …and opened on or before this one.
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
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The rows, streamed.", content(
            (String = "text/csv", example = "person_ref,pathway_ref,birth_year,commune_insee,territory,domain,status,opened_on,closed_on,closure_reason,days_without_solution,plan_kind,plan_status,critical_level\n3f1c…,9a2e…,1978,05061,05-GAP,disability,supported,2024-03-01,,,41.5,pag,active,\n"),
            (PathwayExportRow = "application/x-ndjson"),
        )),
        (status = 400, response = crate::api::responses::Invalid),
        (status = 401, response = crate::api::responses::Unauthenticated),
        (status = 403, response = crate::api::responses::Forbidden),
    )
)]
#[get("/v1/exports/pathways")]
pub async fn pathways(
    caller: Authorized<ExportPseudonymised>,
    context: AuditContext,
    params: web::Query<ExportParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    if let (Some(from), Some(to)) = (p.from, p.to)
        && from > to
    {
        return Err(ApiError::invalid(
            "The period is empty.",
            vec![FieldError::new("to", "must not be before `from`")],
        ));
    }
    let format = p.format.unwrap_or_default();
    let selection = Selection {
        domain: p.domain,
        territory: p.territory,
        from: p.from,
        to: p.to,
    };
    let mut conn = state.pool.get().await?;
    let asked = serde_json::json!({
        "format": format_name(format), "domain": p.domain,
        "territory": p.territory, "from": p.from, "to": p.to,
    });
    let entry = Entry::new("export", AuditOutcome::Success)
        .on("pathway", None)
        .listing(asked, vec![]);
    record(
        &mut conn,
        &context,
        Actor::Principal(caller.principal()),
        entry,
    )
    .await?;

    let (sender, receiver) =
        tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_IN_FLIGHT);
    let state = state.clone();
    tokio::spawn(async move {
        let sent = async {
            let mut buffer = String::with_capacity(CHUNK_BYTES * 2);
            if let ExportFormat::Csv = format {
                buffer.push_str(CSV_HEADER);
            }
            let rows = exports::pathways(&mut conn, &selection).await?;
            futures_util::pin_mut!(rows);
            while let Some(row) = rows.next().await {
                let row = pseudonymise(row?, &state.privacy);
                match format {
                    ExportFormat::Csv => csv_line(&row, &mut buffer),
                    ExportFormat::Ndjson => {
                        buffer.push_str(&serde_json::to_string(&row)?);
                        buffer.push('\n');
                    }
                }
                if buffer.len() >= CHUNK_BYTES {
                    let chunk = Bytes::from(std::mem::take(&mut buffer));
                    if sender.send(Ok(chunk)).await.is_err() {
                        return anyhow::Ok(()); // the client went away
                    }
                }
            }
            if !buffer.is_empty() {
                let _ = sender.send(Ok(Bytes::from(buffer))).await;
            }
            anyhow::Ok(())
        };
        if let Err(error) = sent.await {
            tracing::error!(error = %error, "an export failed midway");
            // Cut the response, so that the client sees it incomplete.
            let _ = sender
                .send(Err(std::io::Error::other("the export failed midway")))
                .await;
        }
    });
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let content_type = match format {
        ExportFormat::Csv => "text/csv; charset=utf-8",
        ExportFormat::Ndjson => "application/x-ndjson",
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"parcours-pathways.{}\"",
                format_name(format)
            ),
        ))
        .streaming(body))
}

fn format_name(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Ndjson => "ndjson",
    }
}
