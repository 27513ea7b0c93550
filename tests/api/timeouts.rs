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

/// A long lock on one table (a migration holding `pathways`, say) starves
/// no request that never touches it: with the production waits (a lock
/// waited for 1 s, a connection for 3 s) and requests on pathways queuing
/// all along, person reads keep answering, and so does `/ready`.
#[tokio::test]
async fn a_long_lock_on_pathways_leaves_person_reads_and_readiness_alone() {
    let app = TestApp::spawn_with(
        |s| {
            s.database.pool_size = 16;
            s.database.timeout_ms = 3_000;
        },
        None,
    )
    .await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let someone = person(&app, &staff, "Verrouillée").await;
    let (pathway, _) = crate::support::fixtures::open(&app, &staff, &someone, Disability).await;

    let mut holder = app.db.connect().await;
    diesel::sql_query("BEGIN")
        .execute(&mut holder)
        .await
        .unwrap();
    diesel::sql_query("LOCK TABLE pathways IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .unwrap();
    let until = Instant::now() + Duration::from_secs(4);
    let get = |path: String| {
        let app = &app;
        let token = staff.token.clone();
        async move {
            let mut statuses = Vec::new();
            while Instant::now() < until {
                let response = app.with_token(Method::GET, &path, &token).send().await;
                statuses.push(response.map(|r| r.status().as_u16()).unwrap_or(0));
            }
            statuses
        }
    };
    let ready = async {
        let mut statuses = Vec::new();
        while Instant::now() < until {
            statuses.push(app.get("/ready").await.status().as_u16());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        statuses
    };
    let on_pathways = (0..16).map(|_| get(format!("/v1/pathways/{pathway}")));
    let on_persons = (0..4).map(|_| get(format!("/v1/persons/{someone}")));
    let (pathways, persons, ready) = tokio::join!(
        futures_util::future::join_all(on_pathways),
        futures_util::future::join_all(on_persons),
        ready
    );
    diesel::sql_query("COMMIT")
        .execute(&mut holder)
        .await
        .unwrap();

    let pathways: Vec<u16> = pathways.into_iter().flatten().collect();
    assert!(pathways.iter().all(|s| *s == 503), "{pathways:?}");
    let persons: Vec<u16> = persons.into_iter().flatten().collect();
    let answered = persons.iter().filter(|s| **s == 200).count();
    assert!(
        answered * 100 >= persons.len() * 95,
        "{answered} of {} person reads answered: {persons:?}",
        persons.len()
    );
    eprintln!(
        "during the lock: {answered} of {} person reads 2xx, /ready {:?}, {} pathway requests",
        persons.len(),
        ready,
        pathways.len()
    );
    assert!(
        !ready.is_empty() && ready.iter().all(|s| *s == 200),
        "{ready:?}"
    );
}
