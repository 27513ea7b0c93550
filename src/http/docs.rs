//! The contract: the OpenAPI document and an interactive page (Swagger UI)
//! served from the binary, so it works without internet access.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

use crate::http::error::{ApiError, ProblemDetails};

/// The generated document, serialized once at start-up.
pub struct OpenApiJson(pub String);

/// Swagger UI's configuration: it reads the document from `/openapi.json`.
pub struct DocsConfig(pub Arc<utoipa_swagger_ui::Config<'static>>);

impl DocsConfig {
    pub fn new() -> Self {
        Self(Arc::new(utoipa_swagger_ui::Config::from("/openapi.json")))
    }
}

impl Default for DocsConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Swagger UI needs its own scripts and styles (inline styles included) and
/// nothing from elsewhere.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/// This document: every operation, schema, error and security scheme of the API.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document.",
        body = Object, content_type = "application/json"))
)]
#[get("/openapi.json")]
pub async fn openapi_json(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}

/// The interactive documentation page (Swagger UI).
#[utoipa::path(
    tag = "operations",
    responses((status = 308, description = "Redirects to `/docs/`, the page itself.",
        headers(("Location" = String, description = "`/docs/`"))))
)]
#[get("/docs")]
pub async fn docs_root() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// A file of the documentation page: `index.html` for an empty name, then
/// the scripts and styles it loads.
#[utoipa::path(
    tag = "operations",
    params(("file" = String, Path, description = "File of the page; empty for `index.html`.")),
    responses(
        (status = 200, description = "The file.", body = String, content_type = "text/html"),
        (status = 404, description = "No such file.", body = ProblemDetails,
            content_type = "application/problem+json")
    )
)]
#[get("/docs/{file:.*}")]
pub async fn docs_file(
    file: web::Path<String>,
    config: web::Data<DocsConfig>,
) -> Result<HttpResponse, ApiError> {
    let served = utoipa_swagger_ui::serve(&file, config.0.clone())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("serving Swagger UI: {e}")))?;
    let Some(served) = served else {
        return Err(ApiError::not_found(
            "No such file in the documentation page.",
        ));
    };
    let mut response = HttpResponse::Ok();
    response
        .content_type(served.content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, DOCS_CSP))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"));
    if served.gzpipped {
        response.insert_header((header::CONTENT_ENCODING, "gzip"));
    }
    Ok(response.body(served.bytes.into_owned()))
}
