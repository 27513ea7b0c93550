//! Keys rotate without logging anyone out, and every instance learns of a
//! deactivation.

use std::time::Duration;

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePublicKey};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use parcours::auth::keys::write_new_key;
use parcours::config::Settings;
use parcours::domain::{Domain, Role};
use parcours::server::Application;
use reqwest::Method;
use serde_json::Value;

use crate::support::eventually;
use crate::support::{TestApp, claims_of};

#[tokio::test]
async fn tokens_of_a_retired_key_stay_valid_while_it_is_configured() {
    let keys = tempfile::tempdir().unwrap();
    let old = keys.path().join("old.pem");
    let new = keys.path().join("new.pem");
    write_new_key(&old).unwrap();
    write_new_key(&new).unwrap();
    let old_private = std::fs::read_to_string(&old).unwrap();
    let old_public = keys.path().join("old.pub.pem");
    let signing = ed25519_dalek::SigningKey::from_pkcs8_pem(&old_private).unwrap();
    let public_pem = signing
        .verifying_key()
        .to_public_key_pem(Default::default())
        .unwrap();
    std::fs::write(&old_public, public_pem).unwrap();

    let (new_key, old_public_key) = (new.clone(), old_public.clone());
    let app = TestApp::spawn_with(
        move |s| {
            s.auth.signing_key_file = Some(new_key);
            s.auth.verify_key_files = vec![old_public_key];
        },
        None,
    )
    .await;
    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let kids: Vec<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kids.len(), 2, "the new key and the retired one: {jwks}");

    // A token the previous deployment signed with the old key.
    let fresh = app.token_for(Role::Coordinator).await;
    let claims = claims_of(&fresh);
    let new_kid = jsonwebtoken::decode_header(&fresh).unwrap().kid.unwrap();
    let old_kid = kids.iter().find(|k| **k != new_kid).unwrap().clone();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(old_kid);
    let old_token = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_ed_pem(old_private.as_bytes()).unwrap(),
    )
    .unwrap();
    let response = app
        .with_token(Method::GET, "/v1/me", &old_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "a token of the retired key still works"
    );

    // Once the old key is no longer configured, its tokens are refused.
    let without_old = TestApp::spawn_with(move |s| s.auth.signing_key_file = Some(new), None).await;
    let token = without_old.token_for(Role::Coordinator).await;
    let response = without_old
        .with_token(Method::GET, "/v1/me", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = without_old
        .with_token(Method::GET, "/v1/me", &old_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("unknown key"),
        "{body}"
    );
}

#[tokio::test]
async fn a_deactivation_reaches_another_instance_within_a_second() {
    let app = TestApp::spawn().await;
    // A second instance on the same database, with the same signing key.
    let mut settings = Settings::for_tests(app.db.url.clone(), app.data_dir.path().to_owned());
    settings.workers = 1;
    let other = Application::build(settings, None).await.unwrap();
    let other_address = format!("http://127.0.0.1:{}", other.port());
    let other_handle = other.handle();
    tokio::spawn(other.run_until_stopped());

    let admin = app.token_for(Role::Admin).await;
    let user = app
        .user(Role::Coordinator, &["05-GAP"], &[Domain::Disability])
        .await;
    let access = app.login(&user).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me_on_other = || {
        app.client
            .get(format!("{other_address}/v1/me"))
            .bearer_auth(&access)
            .send()
    };
    assert_eq!(me_on_other().await.unwrap().status(), 200);

    let path = format!("/v1/users/{}", user.id);
    let etag = app
        .with_token(Method::GET, &path, &admin)
        .send()
        .await
        .unwrap()
        .headers()["etag"]
        .clone();
    let response = app
        .with_token(Method::PATCH, &path, &admin)
        .header("if-match", etag)
        .json(&serde_json::json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // The other instance refuses the token within its standing's refresh.
    eventually(Duration::from_millis(1500), || async {
        (me_on_other().await.unwrap().status() == 401).then_some(())
    })
    .await;
    drop(other_handle.stop(false));
}
