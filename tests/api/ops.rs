//! Health, readiness, metrics, request ids and security headers.

use diesel_async::RunQueryDsl;

use crate::support::TestApp;

#[tokio::test]
async fn health_answers_ok() {
    let app = TestApp::spawn().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));
}

#[tokio::test]
async fn ready_when_the_database_is_migrated() {
    let app = TestApp::spawn().await;
    let response = app.get("/ready").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(
        body["migrations"],
        parcours::db::migrations::expected_versions().len()
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        assert_eq!(app.get("/health").await.status(), 200);
    }
    assert_eq!(app.get("/v1/nothing-here/42").await.status(), 404);

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains(
            r#"parcours_http_requests_total{method="GET",route="/health",status="200"} 3"#
        ),
        "{text}"
    );
    // Unmatched paths share one label, so ids in URLs cannot explode the series.
    assert!(
        text.contains(
            r#"parcours_http_requests_total{method="GET",route="<unmatched>",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains("parcours_http_request_duration_seconds_bucket"));
    // Password hashing: its queue and its refusals.
    assert!(text.contains("parcours_password_queue_length 0"), "{text}");
    assert!(
        text.contains("parcours_password_queue_refused_total 0"),
        "{text}"
    );
    // The pools' 4, and the readiness check's own.
    assert!(
        text.contains(r#"parcours_db_pool_connections{state="max"} 5"#),
        "{text}"
    );
}

/// The value of an unlabelled (or fully labelled) metric.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

#[tokio::test]
async fn metrics_show_what_waits_behind_the_requests() {
    let app = TestApp::spawn().await;
    let mut conn = app.db.connect().await;
    // An endpoint with two deliveries not yet attempted (one for 90 s), one
    // failing and one dead, all due only tomorrow so the sender leaves them;
    // and a request holding an Idempotency-Key.
    diesel::sql_query(
        "WITH hook AS (
             INSERT INTO webhooks (organization_id, url, event_types, secret_ciphertext, created_by)
             SELECT id, 'https://partner.example/hook', '{referral_declined}', '\\x00', id
             FROM organizations LIMIT 1 RETURNING id),
         events AS (
             INSERT INTO pathway_events (kind, data)
             SELECT 'referral_declined', '{}' FROM generate_series(1, 4) RETURNING seq),
         numbered AS (SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM events)
         INSERT INTO webhook_deliveries
             (webhook_id, event_seq, event_kind, status, attempts, next_attempt_at, created_at)
         SELECT hook.id, seq, 'referral_declined',
                (CASE WHEN n = 4 THEN 'dead' ELSE 'pending' END)::delivery_status,
                CASE WHEN n >= 3 THEN 3 ELSE 0 END, now() + interval '1 day',
                now() - CASE WHEN n = 1 THEN interval '90 seconds' ELSE interval '0' END
         FROM numbered, hook",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query(
        "INSERT INTO idempotency_keys (subject_id, key, fingerprint, claim, claimed_until, expires_at)
         VALUES (uuid_generate_v7(), 'in-flight', '\\x00', uuid_generate_v7(),
                 now() + interval '1 minute', now() + interval '1 day')",
    )
    .execute(&mut conn)
    .await
    .unwrap();

    let text = app.get("/metrics").await.text().await.unwrap();
    assert_eq!(metric(&text, "parcours_backlog_measured"), 1.0);
    let deliveries = |state: &str| {
        metric(
            &text,
            &format!("parcours_webhook_deliveries{{state=\"{state}\"}}"),
        )
    };
    assert_eq!(
        (
            deliveries("pending"),
            deliveries("failing"),
            deliveries("dead")
        ),
        (2.0, 1.0, 1.0)
    );
    let oldest = metric(&text, "parcours_webhook_oldest_pending_seconds");
    assert!((90.0..120.0).contains(&oldest), "{oldest}");
    assert_eq!(metric(&text, "parcours_idempotency_keys_in_flight"), 1.0);
    assert!(metric(&text, "parcours_audit_unsealed_records") >= 0.0);
    assert!(metric(&text, "parcours_audit_unsealed_seconds") >= 0.0);
    // Process-wide (other tests' outages count too): present, and a count.
    assert!(metric(&text, "parcours_db_pool_unavailable_total") >= 0.0);
    let resident = metric(&text, "parcours_process_resident_memory_bytes");
    assert!(resident > 1_000_000.0, "{resident}");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/health", "/ready", "/no-such-route"] {
        let response = app.get(path).await;
        let headers = response.headers();
        let id = headers["x-request-id"].to_str().unwrap();
        assert!(
            uuid::Uuid::parse_str(id).is_ok(),
            "{path}: generated id {id}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(
            headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'",
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_sane_client_request_id_is_kept_and_a_hostile_one_replaced() {
    let app = TestApp::spawn().await;
    let kept = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "caf05-2026-11-28.0001")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "caf05-2026-11-28.0001");

    let hostile = app
        .client
        .get(app.url("/no-such-route"))
        .header("x-request-id", "x\"; DROP TABLE persons; --")
        .send()
        .await
        .unwrap();
    let id = hostile.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        uuid::Uuid::parse_str(&id).is_ok(),
        "replaced by a UUID: {id}"
    );
    let body = crate::support::assert_problem(hostile, 404).await;
    assert_eq!(body["instance"], format!("urn:request:{id}"));
}

#[tokio::test]
async fn docs_page_is_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let redirect = app.get("/docs").await;
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/docs/");

    let page = app.get("/docs/").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-initializer.js"), "{html}");
    assert!(
        !html.contains("https://"),
        "no asset from the internet: {html}"
    );

    // The page reads this server's document, not a default URL.
    let init = app.get("/docs/swagger-initializer.js").await;
    assert_eq!(init.status(), 200);
    assert!(init.text().await.unwrap().contains("\"/openapi.json\""));
    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);

    crate::support::assert_problem(app.get("/docs/no-such-file.js").await, 404).await;
}
