//! The rollout calendar: the Hautes-Alpes defaults, and an admin moving a
//! domain's opening date into the future and back.

use parcours::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem};

#[tokio::test]
async fn every_role_reads_the_hautes_alpes_calendar() {
    let app = TestApp::spawn().await;
    let token = app.token_for(Role::Partner).await;
    let calendar: Value = app.get_json("/v1/domains", &token).await;
    let rows: Vec<(String, String, i64, bool)> = calendar["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["domain"].as_str().unwrap().to_owned(),
                d["opens_on"].as_str().unwrap().to_owned(),
                d["rollout_year"].as_i64().unwrap(),
                d["open"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("disability".to_owned(), "2017-01-01".to_owned(), 2017, true),
            ("elderly".to_owned(), "2018-01-01".to_owned(), 2018, true),
            ("childhood".to_owned(), "2019-01-01".to_owned(), 2019, true),
            ("insertion".to_owned(), "2020-01-01".to_owned(), 2020, true),
        ]
    );
    assert_problem(
        app.with_token(Method::GET, "/v1/domains/health", &token)
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
}

#[tokio::test]
async fn an_admin_moves_a_domain_into_the_future_and_back() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(Role::Admin).await;
    let read = app
        .with_token(Method::GET, "/v1/domains/insertion", &admin)
        .send()
        .await
        .unwrap();
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();

    let without = app
        .with_token(Method::PUT, "/v1/domains/insertion", &admin)
        .json(&json!({"opens_on": "2099-01-01"}))
        .send()
        .await
        .unwrap();
    assert_problem(without, 428).await;

    let moved = app
        .with_token(Method::PUT, "/v1/domains/insertion", &admin)
        .header("if-match", &etag)
        .json(&json!({"opens_on": "2099-01-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    let new_etag = moved.headers()["etag"].to_str().unwrap().to_owned();
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(moved["open"], false);
    assert_eq!(moved["rollout_year"], 2099);

    let stale = app
        .with_token(Method::PUT, "/v1/domains/insertion", &admin)
        .header("if-match", &etag)
        .json(&json!({"opens_on": "2020-01-01"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412).await;

    let back = app
        .with_token(Method::PUT, "/v1/domains/insertion", &admin)
        .header("if-match", &new_etag)
        .json(&json!({"opens_on": "2020-01-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 200);
    let calendar: Value = app.get_json("/v1/domains", &admin).await;
    let insertion = calendar["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == "insertion")
        .unwrap();
    assert_eq!(insertion["open"], true);
    assert_eq!(insertion["opens_on"], "2020-01-01");

    // Not a date: refused before any version check.
    let nonsense = app
        .with_token(Method::PUT, "/v1/domains/insertion", &admin)
        .json(&json!({"opens_on": "2020-02-30"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_problem(nonsense, 400).await["errors"][0]["field"],
        "opens_on"
    );
}
