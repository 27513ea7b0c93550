//! Case-file fixtures shared by the test modules: a person, an open
//! pathway, a move of its status, through the API as a user would.

use parcours::domain::Domain;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Staff, TestApp, etag_of};

/// The id of the organization named `name` (seeded, or created by a test).
pub async fn organization(app: &TestApp, token: &str, name: &str) -> String {
    app.get_json("/v1/organizations?limit=200", token).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no organization {name}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A plan of `kind` in draft on `pathway`; returns its id.
pub async fn plan(app: &TestApp, staff: &Staff, pathway: &str, kind: &str) -> String {
    let (plan, _) = app
        .post_ok(
            &format!("/v1/pathways/{pathway}/plans"),
            &staff.token,
            &json!({ "kind": kind }),
            201,
        )
        .await;
    plan["id"].as_str().unwrap().to_owned()
}

/// A person of 05-GAP, recorded by `staff`.
pub async fn person(app: &TestApp, staff: &Staff, family: &str) -> String {
    let body = json!({
        "family_name": family,
        "given_names": "Camille",
        "birth_date": "1975-04-03",
        "commune_insee": "05061",
        "territory_id": app.territory("05-GAP").await,
    });
    let (person, _) = app
        .post_ok("/v1/persons?confirm_new=true", &staff.token, &body, 201)
        .await;
    person["id"].as_str().unwrap().to_owned()
}

/// Opens a pathway; returns its id and ETag.
pub async fn open(app: &TestApp, staff: &Staff, person: &str, domain: Domain) -> (String, String) {
    let (pathway, etag) = app
        .post_ok(
            "/v1/pathways",
            &staff.token,
            &json!({"person_id": person, "domain": domain, "reason": "Signalement MDPH"}),
            201,
        )
        .await;
    (pathway["id"].as_str().unwrap().to_owned(), etag)
}

/// Moves a pathway; asserts `expected` and returns the body and new ETag.
pub async fn transition(
    app: &TestApp,
    token: &str,
    id: &str,
    etag: &str,
    to: &str,
    closure_reason: Option<&str>,
    expected: u16,
) -> (Value, String) {
    let mut body = json!({"to": to, "reason": format!("vers {to}")});
    if let Some(reason) = closure_reason {
        body["closure_reason"] = json!(reason);
    }
    let response = app
        .send_json(
            Method::POST,
            &format!("/v1/pathways/{id}/transitions"),
            token,
            Some(etag),
            &body,
        )
        .await;
    let status = response.status().as_u16();
    let new_etag = etag_of(&response);
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, expected, "→ {to}: {body}");
    (body, new_etag)
}
