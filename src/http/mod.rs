//! HTTP resources, one module each. Handlers stay thin: parse, authorize,
//! call one query function, respond.

pub mod alert_rules;
pub mod alerts;
pub mod audit;
pub mod audit_context;
pub mod auth;
pub mod caller;
pub mod caseload_transfers;
pub mod clients;
pub mod commitments;
pub mod communes;
pub mod decisions;
pub mod docs;
pub mod domains;
pub mod escalations;
pub mod etag;
pub mod exports;
pub mod extract;
pub mod facility_follow_ups;
pub mod feed;
pub mod indicators;
pub mod meetings;
pub mod notes;
pub mod ops;
pub mod organizations;
pub mod pagination;
pub mod partner_pathways;
pub mod pathways;
pub mod persons;
pub mod plans;
pub mod problem_types;
pub mod referrals;
pub mod request_id;
pub mod responses;
pub mod territories;
pub mod timeline;
pub mod users;
pub mod webhooks;

pub mod error;
pub mod middleware;
pub mod state;
pub mod subject_access;

use actix_web::App;
use utoipa::openapi::OpenApi;
use utoipa::{Modify, OpenApi as _};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::scope::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::http::error::{FieldError, ProblemDetails};

/// Every route of the API. The OpenAPI document is collected from here, so a
/// route cannot exist without being documented.
///
/// Routes are grouped in scopes, one per collection (`/v1/pathways`), and a
/// handler's attribute holds its path within its scope. actix-web tries
/// routes one after the other, with a regular expression for each path that
/// has a parameter, whereas a scope's prefix is compared as text: a read
/// runs the expressions of its own collection only.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(ops::health)
        .service(ops::ready)
        .service(ops::metrics)
        .service(docs::openapi_json)
        .service(docs::docs_root)
        .service(docs::docs_file)
        .service(auth::jwks)
        .service(scope("/v1/auth").service(auth::token).service(auth::revoke))
        .service(
            scope("/v1/me")
                .service(auth::me)
                .service(auth::change_password),
        )
        .service(
            scope("/v1/domains")
                .service(domains::list)
                .service(domains::read)
                .service(domains::reschedule),
        )
        .service(
            scope("/v1/alert-rules")
                .service(alert_rules::list)
                .service(alert_rules::read)
                .service(alert_rules::set),
        )
        .service(
            scope("/v1/territories")
                .service(territories::list)
                .service(territories::create)
                .service(territories::read)
                .service(territories::update),
        )
        .service(
            scope("/v1/communes")
                .service(communes::list)
                .service(communes::read)
                .service(communes::move_to_territory),
        )
        .service(
            scope("/v1/organizations")
                .service(organizations::list)
                .service(organizations::create)
                .service(organizations::read)
                .service(organizations::update),
        )
        .service(
            scope("/v1/users")
                .service(users::list)
                .service(users::create)
                .service(users::read)
                .service(users::update)
                .service(users::reset_password),
        )
        .service(
            scope("/v1/clients")
                .service(clients::list)
                .service(clients::create)
                .service(clients::read)
                .service(clients::update)
                .service(clients::rotate_secret),
        )
        .service(
            scope("/v1/persons")
                .service(persons::search)
                .service(persons::search_by_body)
                .service(persons::create)
                .service(persons::read)
                .service(persons::update)
                .service(persons::duplicates)
                .service(persons::other_pathways)
                .service(audit::access_log)
                .service(audit::person_file),
        )
        .service(
            scope("/v1/pathways")
                .service(pathways::list)
                .service(pathways::create)
                .service(pathways::read)
                .service(pathways::update)
                .service(pathways::transition)
                .service(pathways::set_critical)
                .service(pathways::clear_critical)
                .service(pathways::timeline)
                .service(decisions::list)
                .service(decisions::create)
                .service(plans::list)
                .service(plans::create)
                .service(meetings::list)
                .service(meetings::create)
                .service(notes::list)
                .service(notes::create)
                .service(escalations::send)
                .service(escalations::of_pathway),
        )
        .service(scope("/v1/caseload-transfers").service(caseload_transfers::transfer))
        .service(
            scope("/v1/decisions")
                .service(facility_follow_ups::address)
                .service(facility_follow_ups::of_decision),
        )
        .service(
            scope("/v1/facility-follow-ups")
                .service(facility_follow_ups::read)
                .service(facility_follow_ups::report),
        )
        .service(
            scope("/v1/plans")
                .service(plans::read)
                .service(plans::update)
                .service(plans::transition)
                .service(plans::consent)
                .service(plans::versions)
                .service(commitments::list)
                .service(commitments::create),
        )
        .service(
            scope("/v1/commitments")
                .service(commitments::read)
                .service(commitments::update),
        )
        .service(
            scope("/v1/meetings")
                .service(meetings::read)
                .service(meetings::transition),
        )
        .service(scope("/v1/alerts").service(alerts::list))
        .service(
            scope("/v1/referrals")
                .service(referrals::create)
                .service(referrals::queue)
                .service(referrals::read)
                .service(referrals::accept)
                .service(referrals::decline),
        )
        .service(scope("/v1/feed").service(feed::read))
        .service(
            scope("/v1/partner")
                .service(partner_pathways::list)
                .service(partner_pathways::read)
                .service(facility_follow_ups::addressed_to_me),
        )
        .service(
            scope("/v1/escalations")
                .service(escalations::list)
                .service(escalations::read)
                .service(escalations::transition),
        )
        .service(
            scope("/v1/webhooks")
                .service(webhooks::create)
                .service(webhooks::list)
                .service(webhooks::read)
                .service(webhooks::remove)
                .service(webhooks::rotate_secret)
                .service(webhooks::deliveries)
                .service(webhooks::retry),
        )
        .service(scope("/v1/indicators").service(indicators::read))
        .service(
            scope("/v1/audit")
                .service(audit::search)
                .service(audit::search_by_body)
                .service(audit::verify),
        )
        .service(
            scope("/v1/exports")
                .service(exports::pathways)
                .service(exports::audit),
        );
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "parcours",
        description = "Case-management API for the « Réponse accompagnée pour tous » (RAPT) \
            approach: each person's support pathway across disability, the elderly, childhood \
            and insertion.\n\nEvery error is an RFC 9457 `application/problem+json` document \
            (`ProblemDetails`) whose `instance` names the request (`X-Request-Id`); \
            `ProblemDetails.type` lists every problem type with what to do about it. That \
            includes requests the HTTP parser refuses before any operation sees them: a \
            header holding a NUL (400 `validation`), a request line over 65 534 bytes (414 \
            `uri-too-long`), more than 96 headers or a head over 128 KiB (431 \
            `headers-too-large`); the connection is then closed.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2")
    ),
    servers((url = "/", description = "The server that serves this document.")),
    components(
        schemas(
            ProblemDetails,
            FieldError,
            crate::services::partner_events::WebhookPayload,
            crate::http::exports::ExportFormat
        ),
        responses(
            responses::Invalid, responses::Unauthenticated, responses::Forbidden,
            responses::NotFound, responses::Conflict, responses::Stale,
            responses::Unprocessable, responses::IfMatchRequired, responses::TooMany,
            responses::Unavailable, responses::UnsupportedMediaType,
            responses::UnprocessableOrKeyReused
        )
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "operations", description = "Health, readiness, metrics and this documentation."),
        (name = "auth", description = "Tokens for staff users and partner clients, and the caller's identity."),
        (name = "reference data", description = "Territories and organizations: read by every role, written by admins."),
        (name = "accounts", description = "Staff users and partner clients (admins only)."),
        (name = "persons", description = "The people the département follows: identity, partner numbers, masked NIR, search and duplicates. Staff of the person's territory."),
        (name = "pathways", description = "One person's support in one domain: status machine, referent, critical flag, timeline. Staff of its territory and domain; decisions, GOS meetings and notes live under a pathway."),
        (name = "referrals", description = "Partners (CAF, MSA) refer a person; the staff of the commune's territory accept or decline each referral. A receipt says only `pending` (received, not yet triaged), `accepted` or `declined`; the partner follows the pathway from its acceptance on."),
        (name = "partners", description = "What partner clients follow: the minimal view of the pathways they referred or hold a commitment in, the change feed, and webhooks.\n\nA webhook receives `POST` requests whose body is a `WebhookPayload` (`{type, timestamp, data}`, `data` being a `FeedEvent`), signed per Standard Webhooks: headers `webhook-id` (the delivery id, the same on every attempt), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of {webhook-id}.{webhook-timestamp}.{body}>` with the bytes of the `whsec_` secret; several space-separated during a rotation). Answer 2xx to acknowledge; anything else, or no answer within 10 s, is retried with exponential backoff, then dead-lettered."),
        (name = "audit", description = "The audit trail: every login, token refusal, refused authorization, read, list, search and write of case files, and admin change; append-only, chained by hash and sealed with Ed25519. Send `X-Purpose` to record why you access a file."),
        (name = "indicators", description = "RAPT indicators per domain and year, for auditors (the whole département) and supervisors (their territories and domains): no personal data, only counts and durations."),
        (name = "plans", description = "Support plans (PAG, care plan, PPE, engagement contract) and the commitments organizations make in them."),
        (name = "escalations", description = "Critical situations escalated, not just labelled: the referent or a supervisor of a pathway flagged critical sends its situation to a named organization (the ARS, the national support cell) with a short summary written for it — never the person's name, notes or history — and the day an answer is due. The recipient's partner clients list what was sent to them (`GET /v1/escalations`), follow the pathway in their feed and webhooks (`escalation_sent`, `escalation_status_changed`), acknowledge and answer with `If-Match` and an `Idempotency-Key`; staff may record what a recipient without a client said. An answer still awaited after its day is an `escalation_overdue` alert; the département closes the escalation with why."),
        (name = "orientations", description = "The follow-up of an orientation in each facility it is addressed to, in the national codes of the ANS (statuses JDV_J252 of TRE_R357, reasons JDV_J251 of TRE_R358, which status takes which reason: ASS_A32). Staff address an orientation to facilities (organizations with a FINESS number); a facility's partner client lists what is addressed to it (`GET /v1/partner/orientations`), reads a follow-up for its `ETag`, and reports each status with `If-Match` and an `Idempotency-Key`, as the guide « suivi des décisions d'orientation » has facilities do.")
    )
)]
struct ApiDoc;

/// How to get a token, as tools read it: an OAuth 2.0 scheme whose flows
/// are the token endpoint's grants (Swagger UI's "Authorize" logs in with
/// them), and the plain `bearer` scheme for a token obtained elsewhere.
struct BearerScheme;

/// The token endpoint, relative to the server.
const TOKEN_URL: &str = "/v1/auth/token";

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut OpenApi) {
        use utoipa::openapi::security::{
            ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes,
            SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [
                    Flow::Password(Password::with_refresh_url(
                        TOKEN_URL,
                        Scopes::new(),
                        TOKEN_URL,
                    )),
                    Flow::ClientCredentials(ClientCredentials::new(TOKEN_URL, Scopes::new())),
                ],
                "Staff log in with the `password` grant (e-mail and password) and keep their \
                 session with `grant_type=refresh_token` (single-use refresh tokens); partner \
                 clients use `client_credentials` (client id and secret, in the body or as \
                 HTTP Basic). Either way the answer's `access_token` is an EdDSA-signed JWT, \
                 valid 15 minutes, sent as `Authorization: Bearer <token>`. No scopes: what a \
                 token may do is its account's role, territories and domains.",
            )),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An EdDSA-signed access token from `POST /v1/auth/token`, valid 15 minutes.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The paths that need no token: probes, the documentation, the public
/// keys and the token endpoints. Every other operation is documented as
/// secured by a bearer token, and its handler takes `Authorized<…>`.
const PUBLIC_PATHS: &[&str] = &[
    "/health",
    "/ready",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/{file}",
    "/.well-known/jwks.json",
    "/v1/auth/token",
    "/v1/auth/revoke",
];

/// Failures every operation can answer, documented once. Applied after the
/// routes are collected (a derive `modifiers` would run before).
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::schema::{KnownFormat, Schema, SchemaFormat};
        use utoipa::openapi::security::SecurityRequirement;
        use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    crate::http::error::PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name(
                            "ProblemDetails",
                        )))
                        .build(),
                )
                .build()
        };
        // The problem types: every `type` an error body can carry.
        if let Some(RefOr::T(Schema::Object(details))) = openapi
            .components
            .as_mut()
            .and_then(|c| c.schemas.get_mut("ProblemDetails"))
        {
            use utoipa::openapi::{ObjectBuilder, Type};
            let uris = crate::http::problem_types::ALL
                .iter()
                .map(|kind| kind.uri());
            let kind = ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(uris))
                .description(Some(crate::http::problem_types::described()))
                .build();
            details
                .properties
                .insert("type".to_owned(), RefOr::T(Schema::Object(kind)));
        }
        // The state machines, written from the rules themselves.
        for (path, table) in [
            (
                "/v1/pathways/{id}/transitions",
                moves_table(
                    crate::domain::PathwayStatus::VALUES,
                    crate::domain::pathway::allowed_next,
                    |s| s.as_str(),
                ),
            ),
            (
                "/v1/plans/{id}/transitions",
                moves_table(
                    crate::domain::PlanStatus::VALUES,
                    crate::domain::plan::allowed_next,
                    |s| s.as_str(),
                ),
            ),
        ] {
            if let Some(post) = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|i| i.post.as_mut())
            {
                let described = post.description.get_or_insert_with(String::new);
                if !described.is_empty() {
                    described.push_str("\n\n");
                }
                described.push_str("The moves the state machine allows:\n\n");
                described.push_str(&table);
            }
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            if let Some(post) = item.post.as_mut()
                && crate::http::middleware::idempotency::covers(path)
            {
                post.parameters
                    .get_or_insert_with(Vec::new)
                    .push(utoipa::openapi::RefOr::T(idempotency_key_parameter()));
                let responses = &mut post.responses.responses;
                responses.entry("303".to_owned()).or_insert_with(|| {
                    RefOr::T(
                        ResponseBuilder::new()
                            .description(
                                "A retry with the same `Idempotency-Key` of a request that \
                                 completed but whose response was lost: `Location` names its \
                                 outcome (`Idempotent-Replayed: true`).",
                            )
                            .build(),
                    )
                });
                responses.entry("409".to_owned()).or_insert_with(|| {
                    RefOr::T(problem(
                        "`idempotency-in-progress`: a request with this Idempotency-Key is \
                         still running; send it again after `Retry-After`.",
                    ))
                });
                // A reused key is 422 beside the operation's own rules.
                responses.insert(
                    "422".to_owned(),
                    RefOr::Ref(utoipa::openapi::Ref::from_response_name(
                        "UnprocessableOrKeyReused",
                    )),
                );
            }
            let public = PUBLIC_PATHS.contains(&path.as_str());
            for (method, operation) in operations_mut(item) {
                // Unique by construction (one operation per method and
                // path): handler names repeat from one resource to another.
                operation.operation_id = Some(operation_id(method, path));
                // Secured unless listed public: a new route fails closed,
                // in the document as at the door (`Authorized<…>`).
                if public {
                    // Said outright: no token needed.
                    operation.security = Some(Vec::new());
                } else {
                    // Either scheme: the same token, obtained by a flow or given.
                    operation.security = Some(vec![
                        SecurityRequirement::new("oauth2", Vec::<String>::new()),
                        SecurityRequirement::new("bearer", Vec::<String>::new()),
                    ]);
                }
                let secured = !public;
                // A uuid in the path names a record, which answers 404
                // when absent or outside the caller's scope.
                let names_a_record = operation.parameters.iter().flatten().any(|p| match p {
                    RefOr::T(p) => {
                        p.parameter_in == ParameterIn::Path
                            && matches!(&p.schema, Some(RefOr::T(Schema::Object(o)))
                                if o.format == Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                    }
                    RefOr::Ref(_) => false,
                });
                let if_match = operation.parameters.iter().flatten().any(|p| match p {
                    RefOr::T(p) => p.name == "If-Match",
                    RefOr::Ref(_) => false,
                });
                if secured {
                    operation
                        .parameters
                        .get_or_insert_with(Vec::new)
                        .push(utoipa::openapi::RefOr::T(purpose_parameter()));
                }
                let responses = &mut operation.responses.responses;
                let shared =
                    |name: &str| RefOr::Ref(utoipa::openapi::Ref::from_response_name(name));
                // Every secured operation can refuse a token (401) and a
                // role, or a holder of a one-time password (403); every
                // one that takes `IfMatch` answers 428 and 412, and 503
                // while the database is unreachable. Every
                // operation can refuse its input: a path segment, a query
                // string or a header (`X-Purpose`) that does not parse.
                responses
                    .entry("400".to_owned())
                    .or_insert_with(|| shared("Invalid"));
                if secured {
                    responses
                        .entry("401".to_owned())
                        .or_insert_with(|| shared("Unauthenticated"));
                    responses
                        .entry("403".to_owned())
                        .or_insert_with(|| shared("Forbidden"));
                    // Every secured operation reads or records through the
                    // database, and says so when it cannot reach it.
                    responses
                        .entry("503".to_owned())
                        .or_insert_with(|| shared("Unavailable"));
                }
                if operation.request_body.is_some() {
                    responses
                        .entry("415".to_owned())
                        .or_insert_with(|| shared("UnsupportedMediaType"));
                }
                if names_a_record {
                    responses
                        .entry("404".to_owned())
                        .or_insert_with(|| shared("NotFound"));
                }
                if if_match {
                    responses
                        .entry("412".to_owned())
                        .or_insert_with(|| shared("Stale"));
                    responses
                        .entry("428".to_owned())
                        .or_insert_with(|| shared("IfMatchRequired"));
                }
                responses.entry("500".to_owned()).or_insert_with(|| {
                    RefOr::T(problem(
                        "Unexpected error. The cause is logged under the request id, never sent.",
                    ))
                });
            }
        }
    }
}

/// A state machine as a Markdown table: each status, and where it may go.
fn moves_table<S: Copy>(
    all: &[S],
    next: fn(S) -> &'static [S],
    name: fn(S) -> &'static str,
) -> String {
    let mut table = String::from("| from | may move to |\n|---|---|\n");
    for &from in all {
        let to: Vec<String> = next(from)
            .iter()
            .map(|&s| format!("`{}`", name(s)))
            .collect();
        let to = if to.is_empty() {
            "— (final)".to_owned()
        } else {
            to.join(", ")
        };
        table.push_str(&format!("| `{}` | {to} |\n", name(from)));
    }
    table
}

/// `X-Purpose`, documented on every operation that needs a token.
fn purpose_parameter() -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};
    ParameterBuilder::new()
        .name("X-Purpose")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Why you access this (UTF-8 text, up to 500 characters, e.g. « préparation de la \
             commission »): stored with the request's audit records, shown to auditors and in \
             the person's access log.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(500)),
        ))
        .build()
}

/// `Idempotency-Key`, documented on every POST that takes one.
fn idempotency_key_parameter() -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "A unique value per request (a UUID, say), sent again unchanged when retrying: the \
             retry gets the first response, marked `Idempotent-Replayed: true`, instead of \
             creating a second record. Required for partner clients (400 without). The same \
             key with another request is 422; while the first request runs, 409 \
             `idempotency-in-progress` with `Retry-After`. A request that died frees its key \
             within a minute (`PARCOURS_IDEMPOTENCY_LEASE_SECS`): the retry then runs, or, if \
             the first one had completed, answers 303 with the outcome's `Location`. Kept 24 h \
             by default (`PARCOURS_IDEMPOTENCY_TTL_SECS`).",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255)),
        ))
        .build()
}

/// The HTTP methods a documented path answers, in a fixed order (the
/// fallback service lists them in `Allow`).
pub fn methods_of(item: &utoipa::openapi::PathItem) -> Vec<&'static str> {
    [
        ("GET", item.get.is_some()),
        ("PUT", item.put.is_some()),
        ("POST", item.post.is_some()),
        ("DELETE", item.delete.is_some()),
        ("PATCH", item.patch.is_some()),
        ("HEAD", item.head.is_some()),
        ("OPTIONS", item.options.is_some()),
        ("TRACE", item.trace.is_some()),
    ]
    .into_iter()
    .filter_map(|(method, present)| present.then_some(method))
    .collect()
}

fn operations_mut(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = (&'static str, &mut utoipa::openapi::path::Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
        ("head", item.head.as_mut()),
        ("options", item.options.as_mut()),
        ("trace", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|o| (method, o)))
}

/// `get /v1/pathways/{id}/plans` → `get_pathways_by_id_plans`.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_owned();
    for segment in path.split('/').filter(|s| !s.is_empty() && *s != "v1") {
        id.push('_');
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(parameter) => {
                id.push_str("by_");
                id.push_str(parameter);
            }
            None => id.extend(
                segment
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
            ),
        }
    }
    id
}

/// The OpenAPI document of this build, as `parcours openapi` prints it.
pub fn openapi() -> OpenApi {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    CommonResponses.modify(&mut doc);
    doc
}

/// The document as committed in `openapi/openapi.json`.
pub fn openapi_json() -> anyhow::Result<String> {
    Ok(openapi().to_pretty_json()? + "\n")
}
