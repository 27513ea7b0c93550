//! Tokens that must be refused: each answers 401 `invalid_token`, never
//! anonymous access, never a 500.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use parcours::domain::Role;
use reqwest::Method;
use serde_json::Value;

use crate::support::{TestApp, claims_of};

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// Signs `claims` with the application's own key (read from its data folder).
fn sign_with_server_key(app: &TestApp, kid: &str, claims: &Value) -> String {
    let pem = std::fs::read(app.data_dir.path().join("jwt-signing-key.pem")).unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_pem(&pem).unwrap()).unwrap()
}

fn unsigned(header: Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

async fn assert_refused(app: &TestApp, token: &str, case: &str) {
    let response = app
        .with_token(Method::GET, "/v1/me", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "{case}");
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains("error=\"invalid_token\""),
        "{case}: {challenge}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "urn:parcours:problem:unauthorized", "{case}");
}

#[tokio::test]
async fn forged_altered_and_misdirected_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let genuine = app.token_for(Role::Supervisor).await;
    let kid = kid_of(&genuine);
    let claims = claims_of(&genuine);
    let now = chrono::Utc::now().timestamp();

    // The genuine token and one re-signed by us with unchanged claims pass:
    // the refusals below are due to what each case changes.
    for token in [genuine.clone(), sign_with_server_key(&app, &kid, &claims)] {
        let response = app
            .with_token(Method::GET, "/v1/me", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    let none = unsigned(
        serde_json::json!({"alg": "none", "typ": "JWT", "kid": kid}),
        &claims,
    );
    assert_refused(&app, &none, "alg none").await;

    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let public = URL_SAFE_NO_PAD
        .decode(jwks["keys"][0]["x"].as_str().unwrap())
        .unwrap();
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some(kid.clone());
    let confused = jsonwebtoken::encode(&hs, &claims, &EncodingKey::from_secret(&public)).unwrap();
    assert_refused(&app, &confused, "HS256 signed with the public key").await;

    let stranger = {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let pem = key.to_pkcs8_pem(Default::default()).unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("0123456789abcdef".to_owned());
        jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    assert_refused(&app, &stranger, "unknown kid").await;

    let with = |field: &str, value: Value| {
        let mut changed = claims.clone();
        changed[field] = value;
        sign_with_server_key(&app, &kid, &changed)
    };
    assert_refused(&app, &with("exp", (now - 120).into()), "expired").await;
    assert_refused(&app, &with("nbf", (now + 600).into()), "not yet valid").await;
    assert_refused(
        &app,
        &with("aud", "another-service".into()),
        "wrong audience",
    )
    .await;
    assert_refused(&app, &with("iss", "someone-else".into()), "wrong issuer").await;

    // Flip one byte of the payload: the signature no longer matches.
    let mut parts: Vec<String> = genuine.split('.').map(str::to_owned).collect();
    let mut payload = URL_SAFE_NO_PAD.decode(&parts[1]).unwrap();
    let at = payload.iter().position(|&b| b == b'r').unwrap();
    payload[at] = b's';
    parts[1] = URL_SAFE_NO_PAD.encode(payload);
    assert_refused(&app, &parts.join("."), "payload byte flipped").await;

    for garbage in ["", "abc", "a.b.c", "Bearer"] {
        assert_refused(&app, garbage, &format!("garbage {garbage:?}")).await;
    }
}

#[tokio::test]
async fn a_missing_token_is_a_challenge_not_anonymous_access() {
    let app = TestApp::spawn().await;
    let response = app.get("/v1/me").await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"parcours\""
    );
    let basic = app
        .client
        .get(app.url("/v1/territories"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
}
