//! `/v1/pathways/{id}/notes`: professionals' notes. `team` notes are read by
//! the pathway's professionals, `restricted` ones by their author and
//! supervisors; partners never read notes.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::policy::WorkOnCases;
use crate::db::notes::{self, Note};
use crate::domain::NoteVisibility;
use crate::domain::audit::AuditTarget;
use crate::domain::validation::Checks;
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::pathways::listing_under_pathway;
use crate::services;

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteView {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub author_id: Uuid,
    pub visibility: NoteVisibility,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<Note> for NoteView {
    fn from(n: Note) -> Self {
        Self {
            id: n.id,
            pathway_id: n.pathway_id,
            author_id: n.author_id,
            visibility: n.visibility,
            body: n.body,
            created_at: n.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNote {
    pub visibility: NoteVisibility,
    /// Up to 20 000 characters.
    pub body: String,
}

/// Write a note on an open pathway.
#[utoipa::path(
    tag = "pathways",
    request_body = CreateNote,
    responses(
        (status = 201, description = "Written.", body = NoteView),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[post("/{id}/notes")]
pub async fn create(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<CreateNote>,
) -> Result<HttpResponse, ApiError> {
    let mut checks = Checks::new();
    let text = checks.text("body", &body.0.body, 20_000);
    checks.finish()?;
    let visibility = body.0.visibility;
    let mut conn = caller.conn().await?;
    let note =
        services::pathway_records::add_note(&mut conn, caller.acting(), *id, visibility, &text)
            .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/v1/pathways/{}/notes", note.pathway_id),
        ))
        .json(NoteView::from(note)))
}

/// The notes of a pathway you may read, oldest first.
#[utoipa::path(
    tag = "pathways",
    params(PageParams),
    responses(
        (status = 200, description = "Team notes, and the restricted ones you may read.", body = Page<NoteView>),
    )
)]
#[get("/{id}/notes")]
pub async fn list(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<NoteView>>, ApiError> {
    let page = page.validate()?;
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let (pathway, record) =
        listing_under_pathway(&mut conn, caller.audit(), who, *id, AuditTarget::Note).await?;
    let rows = notes::readable(&mut conn, who, pathway.id, page, &record).await?;
    let views = rows.into_iter().map(NoteView::from).collect();
    Ok(web::Json(Page::from_rows(views, page, |n| n.id)))
}
