//! The database goes away: 503 problem with Retry-After, then recovery on its own.

use crate::support::{TestApp, assert_problem};

#[tokio::test]
async fn ready_answers_503_while_the_database_is_gone_and_recovers() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/ready").await.status(), 200);

    app.db.drop_now().await;
    let response = app.get("/ready").await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0);
    let body = assert_problem(response, 503).await;
    assert_eq!(body["type"], "urn:parcours:problem:unavailable");
    // Liveness does not depend on the database, nor do the metrics: they
    // say the backlog could not be read, and count the requests refused.
    assert_eq!(app.get("/health").await.status(), 200);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("parcours_backlog_measured 0"), "{metrics}");
    let refused = metrics
        .lines()
        .find_map(|l| l.strip_prefix("parcours_db_pool_unavailable_total "))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap();
    assert!(refused >= 1, "{refused}");

    app.db.recreate().await;
    let response = app.get("/ready").await;
    assert_eq!(response.status(), 200, "recovered without a restart");
}
