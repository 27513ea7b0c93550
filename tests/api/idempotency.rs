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
        "commune_insee": "05023",
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

#[tokio::test]
async fn a_retry_while_the_first_request_runs_is_told_to_wait() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let person = body(&app, "EnCours").await;
    // The first request has claimed the key and not answered yet.
    let bytes = serde_json::to_vec(&person).unwrap();
    let mut digest = Sha256::new();
    digest.update("POST");
    digest.update([0]);
    digest.update("/v1/persons");
    digest.update([0]);
    digest.update(&bytes);
    let mut conn = app.db.connect().await;
    diesel::sql_query(
        "INSERT INTO idempotency_keys (subject_id, key, fingerprint, expires_at) \
         VALUES ($1, 'running', $2, now() + interval '1 hour')",
    )
    .bind::<diesel::sql_types::Uuid, _>(staff.user.id)
    .bind::<diesel::sql_types::Bytea, _>(digest.finalize().to_vec())
    .execute(&mut conn)
    .await
    .unwrap();
    let response = app
        .with_token(Method::POST, "/v1/persons", &staff.token)
        .header("idempotency-key", "running")
        .header("content-type", "application/json")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_problem(response, 409).await;
    assert_eq!(persons(&app).await, 0);
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
