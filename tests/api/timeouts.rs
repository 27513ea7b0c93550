//! Bounded database waits: while a table is locked, the requests that need
//! it answer 503 with Retry-After after the lock timeout, and the routes
//! that do not touch it keep answering.

use std::time::{Duration, Instant};

use diesel_async::RunQueryDsl;
use parcours::domain::Domain::Disability;
use parcours::domain::Role::Coordinator;
use reqwest::Method;

use crate::support::fixtures::person;
use crate::support::{TestApp, assert_problem};

#[tokio::test]
async fn a_locked_table_stalls_only_the_requests_that_need_it() {
    let app = TestApp::spawn_with(
        |s| {
            s.database.pool_size = 2;
            s.database.lock_timeout_ms = 300;
        },
        None,
    )
    .await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    person(&app, &staff, "Verrou").await;

    // Someone holds the persons table (a long migration, a stuck session).
    let mut holder = app.db.connect().await;
    diesel::sql_query("BEGIN")
        .execute(&mut holder)
        .await
        .unwrap();
    diesel::sql_query("LOCK TABLE persons IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .unwrap();

    let search = || async {
        app.with_token(Method::POST, "/v1/persons/search", &staff.token)
            .json(&serde_json::json!({ "q": "verrou" }))
            .send()
            .await
            .unwrap()
    };
    let started = Instant::now();
    let (a, b, c, d) = tokio::join!(search(), search(), search(), search());
    for response in [a, b, c, d] {
        assert!(response.headers().contains_key("retry-after"));
        assert_problem(response, 503).await;
    }
    // Four requests on two connections, each given up after 0.3 s.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // Meanwhile a route that does not touch persons answers at once.
    let started = Instant::now();
    let (searching, territories) = tokio::join!(
        search(),
        app.with_token(Method::GET, "/v1/territories", &staff.token)
            .send()
    );
    assert_eq!(territories.unwrap().status(), 200);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_problem(searching, 503).await;

    diesel::sql_query("COMMIT")
        .execute(&mut holder)
        .await
        .unwrap();
    assert_eq!(search().await.status(), 200, "it recovers by itself");
}
