//! Accounts and reference data, managed by admins.

use parcours::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem};

async fn count_users(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.connect().await;
    parcours::db::schema::users::table
        .count()
        .get_result(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_database_has_reference_data_and_no_account() {
    let app = TestApp::spawn().await;
    assert_eq!(count_users(&app).await, 0);
    let token = app.token_for(Role::Coordinator).await;
    let territories: Value = app.get_json("/v1/territories", &token).await;
    let codes: Vec<&str> = territories["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"05-GAP") && codes.contains(&"05-BRI"),
        "{codes:?}"
    );
    let organizations: Value = app.get_json("/v1/organizations?kind=caf", &token).await;
    assert_eq!(organizations["items"][0]["name"], "CAF des Hautes-Alpes");
    assert_eq!(organizations["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_admin_creates_a_user_whose_one_time_password_is_shown_once() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(Role::Admin).await;
    let territories: Value = app.get_json("/v1/territories", &admin).await;
    let gap = territories["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "05-GAP")
        .unwrap()["id"]
        .clone();

    let created = app
        .with_token(Method::POST, "/v1/users", &admin)
        .json(
            &json!({"email": "Claire.Dubois@hautes-alpes.example", "display_name": "Claire Dubois",
                      "role": "coordinator", "territories": [gap], "domains": ["childhood"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = created.json().await.unwrap();
    let password = body["one_time_password"].as_str().unwrap().to_owned();
    assert_eq!(password.len(), 20);

    let read: Value = app.get_json(&location, &admin).await;
    assert_eq!(read["email"], "Claire.Dubois@hautes-alpes.example");
    assert_eq!(read["territories"], json!([gap]));
    assert!(read.get("one_time_password").is_none() && read.get("password_hash").is_none());

    let login = app
        .token_request(&[
            ("grant_type", "password"),
            ("username", "claire.dubois@hautes-alpes.example"),
            ("password", &password),
        ])
        .await;
    assert_eq!(login.status(), 200);

    let duplicate = app
        .with_token(Method::POST, "/v1/users", &admin)
        .json(&json!({"email": "claire.dubois@HAUTES-ALPES.example", "display_name": "X", "role": "auditor"}))
        .send()
        .await
        .unwrap();
    assert_problem(duplicate, 409).await;
}

#[tokio::test]
async fn user_input_is_checked_field_by_field() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(Role::Admin).await;
    let invalid = app
        .with_token(Method::POST, "/v1/users", &admin)
        .json(&json!({"email": "not-an-email", "display_name": " ", "role": "partner", "password": "motdepasse123"}))
        .send()
        .await
        .unwrap();
    let body = assert_problem(invalid, 400).await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["email", "display_name", "role", "password"],
        "{body}"
    );

    let unknown_territory = app
        .with_token(Method::POST, "/v1/users", &admin)
        .json(
            &json!({"email": "a@b.fr", "display_name": "A", "role": "coordinator",
                      "territories": [uuid::Uuid::now_v7()]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_problem(unknown_territory, 422).await["errors"][0]["field"],
        "territories"
    );
    assert_eq!(
        count_users(&app).await,
        1,
        "only the admin: nothing half-written"
    );
}

#[tokio::test]
async fn changes_need_the_current_etag() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(Role::Admin).await;
    let user = app.user(Role::Auditor, &[], &[]).await;
    let path = format!("/v1/users/{}", user.id);
    let read = app
        .with_token(Method::GET, &path, &admin)
        .send()
        .await
        .unwrap();
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();

    let without = app
        .with_token(Method::PATCH, &path, &admin)
        .json(&json!({"display_name": "A"}))
        .send()
        .await
        .unwrap();
    assert_problem(without, 428).await;

    let first = app
        .with_token(Method::PATCH, &path, &admin)
        .header("if-match", &etag)
        .json(&json!({"display_name": "First"}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_ne!(first.headers()["etag"].to_str().unwrap(), etag);

    // A second writer who read the same version loses nothing silently: 412.
    let second = app
        .with_token(Method::PATCH, &path, &admin)
        .header("if-match", &etag)
        .json(&json!({"display_name": "Second"}))
        .send()
        .await
        .unwrap();
    assert_problem(second, 412).await;
    let now: Value = app.get_json(&path, &admin).await;
    assert_eq!(now["display_name"], "First");

    // An unknown territory is named, and nothing of the change is kept.
    let current = app
        .with_token(Method::GET, &path, &admin)
        .send()
        .await
        .unwrap();
    let etag = current.headers()["etag"].to_str().unwrap().to_owned();
    let unknown = app
        .with_token(Method::PATCH, &path, &admin)
        .header("if-match", &etag)
        .json(&json!({"display_name": "Third", "territories": [uuid::Uuid::now_v7()]}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(unknown, 422).await;
    assert_eq!(problem["errors"][0]["field"], "territories");
    let now: Value = app.get_json(&path, &admin).await;
    assert_eq!(now["display_name"], "First");
}

#[tokio::test]
async fn a_client_secret_is_shown_once_and_rotates() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(Role::Admin).await;
    let organizations: Value = app.get_json("/v1/organizations?kind=msa", &admin).await;
    let msa = organizations["items"][0]["id"].clone();
    let created = app
        .with_token(Method::POST, "/v1/clients", &admin)
        .json(&json!({"client_id": "msa-alpes-vaucluse", "name": "MSA — signalements", "organization_id": msa}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap();

    let read: Value = app.get_json(&format!("/v1/clients/{id}"), &admin).await;
    assert!(read.get("client_secret").is_none(), "{read}");

    let rotated: Value = app
        .with_token(Method::POST, &format!("/v1/clients/{id}/secret"), &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let old = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", "msa-alpes-vaucluse"),
            ("client_secret", &secret),
        ])
        .await;
    assert_problem(old, 401).await;
    let new = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", "msa-alpes-vaucluse"),
            ("client_secret", new_secret),
        ])
        .await;
    assert_eq!(new.status(), 200);
}

#[tokio::test]
async fn admins_write_reference_data() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(Role::Admin).await;
    let created = app
        .with_token(Method::POST, "/v1/territories", &admin)
        .json(&json!({"code": "05-QUE", "name": "Queyras"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let renamed = app
        .with_token(Method::PATCH, &location, &admin)
        .header("if-match", etag)
        .json(&json!({"name": "Queyras – Guillestrois"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    let duplicate = app
        .with_token(Method::POST, "/v1/territories", &admin)
        .json(&json!({"code": "05-QUE", "name": "Encore"}))
        .send()
        .await
        .unwrap();
    assert_problem(duplicate, 409).await;

    let facility = app
        .with_token(Method::POST, "/v1/organizations", &admin)
        .json(&json!({"kind": "facility", "name": "IME Les Écrins", "finess": "050000123", "siret": "123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_problem(facility, 400).await["errors"][0]["field"],
        "siret"
    );
}
