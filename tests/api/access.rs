//! The route × role matrix: every documented route, called by every role,
//! answers as docs/DOMAIN.md says of the roles. A route missing from the table below fails
//! the test, so no route ships without an access decision.

use parcours::domain::Role;
use parcours::domain::Role::{Admin, Auditor, Coordinator, Partner, Supervisor};
use reqwest::Method;

use crate::support::TestApp;
use crate::support::eventually;

#[derive(Debug, Clone, Copy)]
enum Access {
    /// No token needed (operations, token endpoints, public keys).
    Public,
    /// These roles get past authorization; every other role gets 403.
    Roles(&'static [Role]),
}

const EVERY_ROLE: &[Role] = &[Admin, Supervisor, Coordinator, Partner, Auditor];
const ADMIN: &[Role] = &[Admin];
const CASEWORK: &[Role] = &[Supervisor, Coordinator];
const SUPERVISOR: &[Role] = &[Supervisor];

fn expected(method: &str, path: &str) -> Option<Access> {
    use Access::{Public, Roles};
    Some(match (method, path) {
        ("GET", "/health" | "/ready" | "/metrics" | "/openapi.json" | "/docs" | "/docs/{file}") => {
            Public
        }
        ("GET", "/.well-known/jwks.json") => Public,
        ("POST", "/v1/auth/token" | "/v1/auth/revoke") => Public,
        ("GET", "/v1/me") => Roles(EVERY_ROLE),
        ("POST", "/v1/me/password") => Roles(&[Admin, Supervisor, Coordinator, Auditor]),
        ("GET", "/v1/territories" | "/v1/territories/{id}") => Roles(EVERY_ROLE),
        ("GET", "/v1/communes" | "/v1/communes/{insee}") => Roles(EVERY_ROLE),
        ("PUT", "/v1/communes/{insee}/territory") => Roles(ADMIN),
        ("GET", "/v1/domains" | "/v1/domains/{domain}") => Roles(EVERY_ROLE),
        ("PUT", "/v1/domains/{domain}") => Roles(ADMIN),
        ("GET", "/v1/alert-rules" | "/v1/alert-rules/{rule}") => Roles(EVERY_ROLE),
        ("PUT", "/v1/alert-rules/{rule}") => Roles(ADMIN),
        ("GET", "/v1/organizations" | "/v1/organizations/{id}") => Roles(EVERY_ROLE),
        ("POST", "/v1/territories" | "/v1/organizations") => Roles(ADMIN),
        ("PATCH", "/v1/territories/{id}" | "/v1/organizations/{id}") => Roles(ADMIN),
        ("GET", "/v1/users" | "/v1/users/{id}" | "/v1/clients" | "/v1/clients/{id}") => {
            Roles(ADMIN)
        }
        (
            "POST",
            "/v1/users" | "/v1/clients" | "/v1/users/{id}/password" | "/v1/clients/{id}/secret",
        ) => Roles(ADMIN),
        ("PATCH", "/v1/users/{id}" | "/v1/clients/{id}") => Roles(ADMIN),
        ("GET" | "POST", "/v1/persons") => Roles(CASEWORK),
        ("POST", "/v1/persons/search") => Roles(CASEWORK),
        ("GET" | "PATCH", "/v1/persons/{id}") => Roles(CASEWORK),
        ("GET", "/v1/persons/{id}/duplicates" | "/v1/persons/{id}/other-pathways") => {
            Roles(CASEWORK)
        }
        ("GET" | "POST", "/v1/pathways") => Roles(CASEWORK),
        ("GET", "/v1/pathways/{id}" | "/v1/pathways/{id}/timeline") => Roles(CASEWORK),
        ("PATCH", "/v1/pathways/{id}") => Roles(SUPERVISOR),
        ("POST", "/v1/caseload-transfers") => Roles(SUPERVISOR),
        ("POST", "/v1/pathways/{id}/transitions") => Roles(CASEWORK),
        ("PUT" | "DELETE", "/v1/pathways/{id}/critical") => Roles(CASEWORK),
        (
            "GET" | "POST",
            "/v1/pathways/{id}/decisions"
            | "/v1/pathways/{id}/plans"
            | "/v1/pathways/{id}/meetings"
            | "/v1/pathways/{id}/notes"
            | "/v1/plans/{id}/commitments",
        ) => Roles(CASEWORK),
        ("GET" | "PATCH", "/v1/plans/{id}") => Roles(CASEWORK),
        ("POST", "/v1/plans/{id}/transitions" | "/v1/plans/{id}/consents") => Roles(CASEWORK),
        ("GET", "/v1/plans/{id}/versions") => Roles(CASEWORK),
        ("GET" | "PATCH", "/v1/commitments/{id}") => Roles(&[Supervisor, Coordinator, Partner]),
        ("GET" | "POST", "/v1/decisions/{id}/facilities") => Roles(CASEWORK),
        ("GET" | "POST", "/v1/pathways/{id}/escalations") => Roles(CASEWORK),
        ("GET", "/v1/meetings/{id}") | ("POST", "/v1/meetings/{id}/transitions") => Roles(CASEWORK),
        ("GET", "/v1/escalations" | "/v1/escalations/{id}")
        | ("POST", "/v1/escalations/{id}/transitions") => {
            Roles(&[Supervisor, Coordinator, Partner])
        }
        ("GET", "/v1/facility-follow-ups/{id}")
        | ("POST", "/v1/facility-follow-ups/{id}/statuses") => {
            Roles(&[Supervisor, Coordinator, Partner])
        }
        ("GET", "/v1/partner/orientations") => Roles(&[Partner]),
        ("GET", "/v1/alerts") => Roles(CASEWORK),
        ("POST", "/v1/referrals") | ("GET", "/v1/referrals/{id}" | "/v1/feed") => Roles(&[Partner]),
        ("GET", "/v1/referrals") => Roles(CASEWORK),
        ("POST", "/v1/referrals/{id}/accept" | "/v1/referrals/{id}/decline") => Roles(CASEWORK),
        ("GET", "/v1/indicators") => Roles(&[Supervisor, Auditor]),
        (
            "GET",
            "/v1/audit" | "/v1/audit/verify" | "/v1/exports/pathways" | "/v1/exports/audit",
        ) => Roles(&[Auditor]),
        ("POST", "/v1/audit/search") => Roles(&[Auditor]),
        ("GET", "/v1/persons/{id}/access-log") => Roles(&[Supervisor, Auditor]),
        ("GET", "/v1/persons/{id}/export") => Roles(SUPERVISOR),
        ("GET", "/v1/partner/pathways" | "/v1/partner/pathways/{id}") => Roles(&[Partner]),
        ("GET" | "POST", "/v1/webhooks")
        | ("GET" | "DELETE", "/v1/webhooks/{id}")
        | ("POST", "/v1/webhooks/{id}/secret")
        | ("GET", "/v1/webhooks/{id}/deliveries")
        | ("POST", "/v1/webhooks/{id}/deliveries/{delivery_id}/retry") => Roles(&[Admin, Partner]),
        _ => return None,
    })
}

/// Every (method, path) of the OpenAPI document, with `{…}` filled in.
fn routes() -> Vec<(String, String, String)> {
    let doc = serde_json::to_value(parcours::http::openapi()).unwrap();
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .replace("{id}", &uuid::Uuid::now_v7().to_string())
                .replace("{delivery_id}", &uuid::Uuid::now_v7().to_string())
                .replace("{file}", "index.html")
                .replace("{domain}", "childhood")
                .replace("{rule}", "majority")
                .replace("{insee}", "05061");
            routes.push((method.to_uppercase(), path.clone(), concrete));
        }
    }
    routes
}

/// Calls a route; returns the status and the request id it was sent with.
async fn call(app: &TestApp, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let request_id = format!("matrix-{}", uuid::Uuid::now_v7().simple());
    let mut request = app
        .client
        .request(method.clone(), app.url(path))
        .header("x-request-id", &request_id);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if method == Method::POST {
        // Partners must send one; this matrix is about authorization.
        request = request.header("idempotency-key", uuid::Uuid::now_v7().to_string());
    }
    if method == Method::POST || method == Method::PATCH || method == Method::PUT {
        request = request
            .header("content-type", "application/json")
            .body("{}");
    }
    let status = request.send().await.unwrap().status().as_u16();
    (status, request_id)
}

/// Routes that read personal data: each call writes an audit record.
fn reads_personal_data(method: &str, path: &str) -> bool {
    method == "GET"
        && [
            "/v1/persons",
            "/v1/pathways",
            "/v1/plans",
            "/v1/commitments",
            "/v1/alerts",
            "/v1/referrals",
            "/v1/feed",
            "/v1/partner/",
        ]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

async fn audited(app: &TestApp, request_id: &str) -> bool {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.connect().await;
    let found: Count =
        diesel::sql_query("SELECT count(*) AS n FROM audit_log WHERE request_id = $1")
            .bind::<diesel::sql_types::Text, _>(request_id)
            .get_result(&mut conn)
            .await
            .unwrap();
    found.n > 0
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_policy_says() {
    let app = TestApp::spawn().await;
    let mut tokens = Vec::new();
    for role in [Admin, Supervisor, Coordinator, Partner, Auditor] {
        tokens.push((role, app.token_for(role).await));
    }
    let mut protected = 0;
    let mut refusals = Vec::new();
    for (method, path, concrete) in routes() {
        let access = expected(&method, &path)
            .unwrap_or_else(|| panic!("{method} {path} has no entry in the access matrix"));
        let Access::Roles(allowed) = access else {
            continue;
        };
        protected += 1;
        let (anonymous, _) = call(&app, &method, &concrete, None).await;
        assert_eq!(anonymous, 401, "{method} {path} without a token");
        for (role, token) in &tokens {
            let (status, request_id) = call(&app, &method, &concrete, Some(token)).await;
            if allowed.contains(role) {
                assert!(
                    status != 401 && status != 403,
                    "{method} {path} as {role:?}: allowed, got {status}"
                );
                // A read of personal data answers only once it is recorded.
                if reads_personal_data(&method, &path) && status < 500 {
                    assert!(
                        audited(&app, &request_id).await,
                        "{method} {path} as {role:?} ({status}) left no audit record"
                    );
                }
            } else {
                assert_eq!(status, 403, "{method} {path} as {role:?}: refused");
                refusals.push(format!("{method} {path} as {role:?} ({request_id})"));
            }
        }
    }
    assert!(protected > 0, "the document lists protected routes");
    // Every refusal is recorded too (beside the answer, so give it a moment).
    for refusal in refusals {
        let request_id = refusal.rsplit('(').next().unwrap().trim_end_matches(')');
        let five_seconds = std::time::Duration::from_secs(5);
        eventually(five_seconds, || async {
            audited(&app, request_id).await.then_some(())
        })
        .await;
    }
}

/// The document's `security` says what the door does: an operation that
/// needs a token declares the OAuth 2.0 flows or a bearer token, a public
/// one declares none.
#[test]
fn the_document_secures_exactly_the_routes_that_need_a_token() {
    let doc = serde_json::to_value(parcours::http::openapi()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            let access = expected(&method, path)
                .unwrap_or_else(|| panic!("{method} {path} has no entry in the access matrix"));
            let schemes: Vec<&str> = operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_object()?.keys().next().map(String::as_str))
                .collect();
            let declared = schemes == ["oauth2", "bearer"];
            assert_eq!(
                declared,
                matches!(access, Access::Roles(_)),
                "{method} {path}: documented security against the matrix"
            );
        }
    }
}

/// A body in a media type the operation does not read is 415 (before the
/// body is read), as the document says, for a role that may call it.
#[tokio::test]
async fn every_body_taking_operation_refuses_another_media_type_as_documented() {
    let app = TestApp::spawn().await;
    let mut tokens = Vec::new();
    for role in EVERY_ROLE {
        tokens.push((*role, app.token_for(*role).await));
    }
    let doc = serde_json::to_value(parcours::http::openapi()).unwrap();
    let mut checked = 0;
    for (method, path, concrete) in routes() {
        let operation = &doc["paths"][&path][method.to_lowercase()];
        if operation.get("requestBody").is_none() {
            continue;
        }
        assert!(
            operation["responses"].get("415").is_some(),
            "{method} {path} takes a body but documents no 415"
        );
        let token = match expected(&method, &path) {
            Some(Access::Roles(allowed)) => tokens
                .iter()
                .find(|(role, _)| allowed.contains(role))
                .map(|(_, token)| Some(token.as_str()))
                .unwrap(),
            _ => None,
        };
        let mut request = app
            .client
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                app.url(&concrete),
            )
            .header("content-type", "text/plain")
            .header("idempotency-key", uuid::Uuid::now_v7().to_string())
            .body("{}");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let status = request.send().await.unwrap().status().as_u16();
        assert_eq!(status, 415, "{method} {path} with a text/plain body");
        checked += 1;
    }
    assert!(checked >= 20, "{checked} operations take a body");
}
