//! Idempotency-Key: a retried creation is answered from the first one.

use diesel_async::RunQueryDsl;
use parcours::domain::Domain::Disability;
use parcours::domain::Role::{Auditor, Coordinator, Partner};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{Staff, TestApp, assert_problem};

async fn create(app: &TestApp, staff: &Staff, key: &str, body: &Value) -> reqwest::Response {
    app.with_token(Method::POST, "/v1/persons", &staff.token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn persons(app: &TestApp) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.db.connect().await;
    diesel::sql_query("SELECT count(*) AS n FROM persons")
        .get_result::<Count>(&mut conn)
        .await
        .unwrap()
        .n
}

async fn body(app: &TestApp, family: &str) -> Value {
    json!({
        "family_name": family,
        "given_names": "Inès",
        "birth_date": "2001-09-09",
        "commune_insee": "05061",
        "territory_id": app.territory("05-GAP").await,
    })
}

#[tokio::test]
async fn a_retry_gets_the_first_response_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let person = body(&app, "Idem").await;
    let first = create(&app, &staff, "\"k-1\"", &person).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();
    for _ in 0..3 {
        let again = create(&app, &staff, "\"k-1\"", &person).await;
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.headers()["location"], location);
        assert_eq!(again.headers()["etag"], "\"v1\"");
        let again: Value = again.json().await.unwrap();
        assert_eq!(again, first);
    }
    assert_eq!(persons(&app).await, 1);
    // Each replay showed the person again: each is in the audit trail.
    let auditor = app.token_for(Auditor).await;
    let replays = app.get_json("/v1/audit?action=replay", &auditor).await;
    let replays = replays["items"].as_array().unwrap();
    assert_eq!(replays.len(), 3, "{replays:?}");
    for replay in replays {
        assert_eq!(replay["actor_id"], staff.user.id.to_string());
        assert_eq!(replay["resource_id"], first["id"]);
        assert_eq!(replay["query"]["path"], "/v1/persons");
    }

    // The same key for another request is refused; a new key creates.
    let other = body(&app, "Autre").await;
    let response = create(&app, &staff, "\"k-1\"", &other).await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
    let response = create(&app, &staff, "k-2", &other).await;
    assert_eq!(response.status(), 201);
    assert_eq!(persons(&app).await, 2);
    // Keys belong to their caller: a colleague's "k-1" is another key.
    let colleague = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let response = create(&app, &colleague, "\"k-1\"", &body(&app, "Tiers").await).await;
    assert_eq!(response.status(), 201);
    let response = create(&app, &staff, "not a key", &other).await;
    assert_problem(response, 400).await;
}

#[tokio::test]
async fn concurrent_retries_create_one_record() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let person = body(&app, "Concurrence").await;
    let (a, b, c) = tokio::join!(
        create(&app, &staff, "same", &person),
        create(&app, &staff, "same", &person),
        create(&app, &staff, "same", &person),
    );
    let statuses = [
        a.status().as_u16(),
        b.status().as_u16(),
        c.status().as_u16(),
    ];
    assert!(statuses.contains(&201), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(persons(&app).await, 1);
}

/// The fingerprint the API keeps of a POST of `bytes` to `path`.
fn fingerprint(path: &str, bytes: &[u8]) -> Vec<u8> {
    let mut digest = Sha256::new();
    digest.update("POST");
    digest.update([0]);
    digest.update(path);
    digest.update([0]);
    digest.update(bytes);
    digest.finalize().to_vec()
}

/// What a request that claimed `key` and then died (`kill -9`, the
/// database gone) leaves behind: a claim whose lease ends `lease_secs`
/// from now, nothing committed, nothing stored.
async fn left_claim(app: &TestApp, subject: uuid::Uuid, key: &str, bytes: &[u8], lease_secs: i32) {
    let mut conn = app.db.connect().await;
    diesel::sql_query(
        "INSERT INTO idempotency_keys (subject_id, key, fingerprint, expires_at, claimed_until) \
         VALUES ($1, $2, $3, now() + interval '1 hour', now() + make_interval(secs => $4))",
    )
    .bind::<diesel::sql_types::Uuid, _>(subject)
    .bind::<diesel::sql_types::Text, _>(key)
    .bind::<diesel::sql_types::Bytea, _>(fingerprint("/v1/persons", bytes))
    .bind::<diesel::sql_types::Integer, _>(lease_secs)
    .execute(&mut conn)
    .await
    .unwrap();
}

/// The POST again, its 303 not followed (to read where it points).
async fn retry_unredirected(
    app: &TestApp,
    token: &str,
    key: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    post_with(&client, app, token, key, bytes).await
}

async fn post_bytes(app: &TestApp, token: &str, key: &str, bytes: &[u8]) -> reqwest::Response {
    post_with(&app.client, app, token, key, bytes).await
}

async fn post_with(
    client: &reqwest::Client,
    app: &TestApp,
    token: &str,
    key: &str,
    bytes: &[u8],
) -> reqwest::Response {
    client
        .post(app.url("/v1/persons"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .header("content-type", "application/json")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
}

/// 409 `idempotency-in-progress`, to retry within the 30 s lease left.
async fn told_to_wait(response: reqwest::Response) {
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let problem = assert_problem(response, 409).await;
    assert_eq!(
        problem["type"],
        "urn:parcours:problem:idempotency-in-progress"
    );
}

#[tokio::test]
async fn a_retry_while_the_first_request_runs_is_told_to_wait() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let bytes = serde_json::to_vec(&body(&app, "EnCours").await).unwrap();
    // The first request holds the key for 30 s more and has not answered.
    left_claim(&app, staff.user.id, "running", &bytes, 30).await;
    let response = post_bytes(&app, &staff.token, "running", &bytes).await;
    told_to_wait(response).await;
    assert_eq!(persons(&app).await, 0);
}

#[tokio::test]
async fn a_key_left_by_a_request_that_died_is_taken_over_by_its_retry() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let bytes = serde_json::to_vec(&body(&app, "Relance").await).unwrap();
    // Its lease ran out a second ago: the request that held it is gone.
    left_claim(&app, staff.user.id, "orphan", &bytes, -1).await;
    let response = post_bytes(&app, &staff.token, "orphan", &bytes).await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().get("idempotent-replayed").is_none());
    let created: Value = response.json().await.unwrap();
    // And from now on it is answered as any other key.
    let again = post_bytes(&app, &staff.token, "orphan", &bytes).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], created["id"]);
    assert_eq!(persons(&app).await, 1);
}

/// Between the commit and the stored response the first request is still
/// answering: a retry then waits (409), and is sent to the outcome (303)
/// only once that request is done.
#[tokio::test]
async fn a_retry_between_the_commit_and_the_stored_response_waits_for_it() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let bytes = serde_json::to_vec(&body(&app, "Entre").await).unwrap();
    left_claim(&app, staff.user.id, "between", &bytes, 30).await;
    let mut conn = app.db.connect().await;
    let commit = "UPDATE idempotency_keys SET committed_at = now(), resource_type = 'person', \
                  resource_id = gen_random_uuid() WHERE key = 'between'";
    crate::support::db::execute(&mut conn, commit).await;
    let response = post_bytes(&app, &staff.token, "between", &bytes).await;
    told_to_wait(response).await;
    // The holder is gone (its lease ran out): the retry learns the outcome.
    let expire = "UPDATE idempotency_keys SET claimed_until = now() - interval '1 second' \
                  WHERE key = 'between'";
    crate::support::db::execute(&mut conn, expire).await;
    let retry = retry_unredirected(&app, &staff.token, "between", &bytes).await;
    assert_eq!(retry.status(), 303);
    assert_eq!(persons(&app).await, 0, "no second change");
}

#[tokio::test]
async fn a_committed_write_whose_response_was_lost_sends_its_retry_to_the_outcome() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let bytes = serde_json::to_vec(&body(&app, "Perdue").await).unwrap();
    // Storing responses fails (the database went away just after the commit).
    let mut conn = app.db.connect().await;
    crate::support::db::execute(
        &mut conn,
        "CREATE FUNCTION refuse_store() RETURNS trigger AS $$ BEGIN \
             RAISE EXCEPTION 'storage unavailable'; END $$ LANGUAGE plpgsql",
    )
    .await;
    crate::support::db::execute(
        &mut conn,
        "CREATE TRIGGER refuse_store BEFORE UPDATE OF status ON idempotency_keys \
             FOR EACH ROW EXECUTE FUNCTION refuse_store()",
    )
    .await;
    let first = post_bytes(&app, &staff.token, "lost", &bytes).await;
    assert_eq!(first.status(), 201);
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    // The retry learns the committed outcome instead of a 409 or a second person.
    let retry = retry_unredirected(&app, &staff.token, "lost", &bytes).await;
    assert_eq!(retry.status(), 303);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.headers()["location"], location.as_str());
    let person = app.get_json(&location, &staff.token).await;
    assert_eq!(person["family_name"], "Perdue");
    assert_eq!(persons(&app).await, 1);
}

fn panicking_routes(cfg: &mut actix_web::web::ServiceConfig) {
    // Under a prefix the Idempotency-Key covers, as a real handler would
    // be, but outside the `/v1/persons` scope, which answers every path
    // under it (404 or 405 for those it does not know).
    cfg.route(
        "/v1/persons-test-panic",
        actix_web::web::post().to(|| async {
            let digits: Vec<u8> = Vec::new();
            #[allow(clippy::indexing_slicing)]
            let first = digits[0];
            actix_web::HttpResponse::Ok().body(first.to_string())
        }),
    );
}

#[tokio::test]
async fn a_panic_answers_a_problem_and_frees_the_key() {
    let app = TestApp::spawn_with(|_| {}, Some(panicking_routes)).await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    for _ in 0..2 {
        let response = app
            .with_token(Method::POST, "/v1/persons-test-panic", &staff.token)
            .header("idempotency-key", "boom")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        // Each time the handler runs again (the key was released) and fails
        // the same way: never an empty reply, never a stuck 409.
        let problem = assert_problem(response, 500).await;
        assert_eq!(problem["type"], "urn:parcours:problem:internal");
        assert!(!problem.to_string().contains("index out of bounds"));
    }
    // The server still answers.
    assert_eq!(app.get("/health").await.status(), 200);
}

#[tokio::test]
async fn partners_must_send_a_key() {
    let app = TestApp::spawn().await;
    let partner = app.token_for(Partner).await;
    let response = app
        .with_token(Method::POST, "/v1/pathways", &partner)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 400).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key")
    );
}

/// Every POST of the document either takes an `Idempotency-Key` or is
/// named here with why not: a new route that changes case files cannot
/// forget it (a partner's retry would then apply it twice).
#[test]
fn every_post_takes_a_key_or_says_why_not() {
    use parcours::http::middleware::idempotency::covers;
    const WITHOUT_KEY: &[(&str, &str)] = &[
        (
            "/v1/auth/token",
            "a token request: repeating it is harmless",
        ),
        ("/v1/auth/revoke", "revoking twice revokes once"),
        (
            "/v1/me/password",
            "a password change is the caller's own, by a person",
        ),
        ("/v1/users", "accounts: admins, by hand"),
        ("/v1/users/{id}/password", "accounts: admins, by hand"),
        ("/v1/clients", "accounts: admins, by hand"),
        ("/v1/clients/{id}/secret", "accounts: admins, by hand"),
        ("/v1/territories", "reference data: admins, by hand"),
        ("/v1/organizations", "reference data: admins, by hand"),
        (
            "/v1/webhooks",
            "one per URL: a retry is refused as a duplicate",
        ),
        (
            "/v1/webhooks/{id}/secret",
            "a rotation: a retry rotates again, both secrets shown",
        ),
        (
            "/v1/webhooks/{id}/deliveries/{delivery_id}/retry",
            "a retry of a delivery is itself a retry",
        ),
        ("/v1/persons/search", "a search in a body: changes nothing"),
        (
            "/v1/caseload-transfers",
            "a second transfer finds nothing left to move",
        ),
        ("/v1/audit/search", "a search in a body: changes nothing"),
    ];
    let doc = serde_json::to_value(parcours::http::openapi()).unwrap();
    let mut unclassified = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if item.get("post").is_none() {
            continue;
        }
        let exempt = WITHOUT_KEY.iter().any(|(p, _)| p == path);
        let concrete = path.replace("{id}", "0").replace("{delivery_id}", "0");
        if covers(&concrete) == exempt {
            unclassified.push(path.clone());
        }
    }
    assert!(unclassified.is_empty(), "classify: {unclassified:?}");
}

/// A request that answered 503 ("retry the request") with nothing
/// committed frees its key as soon as the database lets it, even when it
/// could not at the moment it answered: the retry the API invited runs.
#[tokio::test]
async fn a_retry_invited_by_a_503_runs_once_the_database_is_back() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let bytes = serde_json::to_vec(&body(&app, "Relancee").await).unwrap();
    let mut conn = app.db.connect().await;
    // The write fails as a lost connection or a serialization failure
    // does (503), and the key cannot be settled at that moment either.
    for statement in [
        "CREATE FUNCTION fail_retryably() RETURNS trigger AS $$ BEGIN \
             RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001'; \
         END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER fail_retryably BEFORE INSERT ON persons \
             FOR EACH ROW EXECUTE FUNCTION fail_retryably()",
        "CREATE FUNCTION refuse_settle() RETURNS trigger AS $$ BEGIN \
             RAISE EXCEPTION 'database away'; \
         END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_settle BEFORE UPDATE OR DELETE ON idempotency_keys \
             FOR EACH ROW EXECUTE FUNCTION refuse_settle()",
    ] {
        crate::support::db::execute(&mut conn, statement).await;
    }
    let response = post_bytes(&app, &staff.token, "after-503", &bytes).await;
    assert_problem(response, 503).await;
    // The database is back.
    for statement in [
        "DROP TRIGGER fail_retryably ON persons",
        "DROP TRIGGER refuse_settle ON idempotency_keys",
    ] {
        crate::support::db::execute(&mut conn, statement).await;
    }
    let started = std::time::Instant::now();
    let created = crate::support::eventually(std::time::Duration::from_secs(5), || async {
        let response = post_bytes(&app, &staff.token, "after-503", &bytes).await;
        (response.status() == 201).then_some(response)
    })
    .await;
    assert!(created.headers().get("idempotent-replayed").is_none());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "the retry waited {:?}",
        started.elapsed()
    );
    assert_eq!(persons(&app).await, 1);
}
