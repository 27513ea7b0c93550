//! The database goes away: 503 problem with Retry-After, then recovery on its own.

use std::time::Duration;

use diesel::dsl::sql;
use diesel::sql_types::{Array, BigInt, Integer};
use diesel_async::RunQueryDsl;
use futures_util::future::join_all;
use parcours::domain::Domain::Disability;
use parcours::domain::Role::Supervisor;
use reqwest::Method;

use crate::support::eventually;
use crate::support::fixtures::{open, person};
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

/// Connections the database ended (a restart, an administrator's
/// `pg_terminate_backend`) are never handed to a request: a connection used
/// moments ago skips the test query, so its closing must be seen without one.
#[tokio::test]
async fn connections_the_database_ended_are_not_handed_out() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let person = person(&app, &staff, "Arnaud").await;
    let (id, _) = open(&app, &staff, &person, Disability).await;
    let path = format!("/v1/pathways/{id}");
    let read = || async {
        let response = app.with_token(Method::GET, &path, &staff.token).send();
        response.await.unwrap().status().as_u16()
    };
    // Several connections in the pool, each just used.
    let statuses = join_all((0..8).map(|_| read())).await;
    assert_eq!(statuses, [200; 8]);

    let mut admin = app.db.connect().await;
    let ended: Vec<i32> = diesel::select(sql::<Array<Integer>>(
        "(WITH here AS MATERIALIZED (SELECT pid FROM pg_stat_activity \
            WHERE datname = current_database() AND pid <> pg_backend_pid()) \
          SELECT coalesce(array_agg(pid), '{}') FROM here WHERE pg_terminate_backend(pid))",
    ))
    .get_result(&mut admin)
    .await
    .unwrap();
    assert!(ended.len() >= 2, "{ended:?}");
    // The ended backends are gone before the next request.
    {
        let admin = tokio::sync::Mutex::new(&mut admin);
        eventually(Duration::from_secs(2), || async {
            let left: i64 = diesel::select(
                sql::<BigInt>("(SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(")
                    .bind::<Array<Integer>, _>(&ended)
                    .sql("))"),
            )
            .get_result(&mut **admin.lock().await)
            .await
            .unwrap();
            (left == 0).then_some(())
        })
        .await;
    }

    for _ in 0..8 {
        assert_eq!(read().await, 200);
    }
}
