//! Logging in, refreshing, revoking, lockout, rate limits and deactivation.

use std::time::Duration;

use parcours::domain::{Domain, Role};
use reqwest::Method;
use serde_json::Value;

use crate::support::eventually;
use crate::support::{TestApp, assert_problem};

#[tokio::test]
async fn a_staff_user_logs_in_with_a_form_or_json_and_sees_who_they_are() {
    let app = TestApp::spawn().await;
    let user = app
        .user(
            Role::Coordinator,
            &["05-GAP", "05-BRI"],
            &[Domain::Disability, Domain::Elderly],
        )
        .await;

    let tokens = app.login(&user).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(
        tokens["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("pcr_")
    );

    let json = app
        .client
        .post(app.url("/v1/auth/token"))
        .json(&serde_json::json!({"grant_type": "password", "username": user.email.to_uppercase(), "password": user.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 200, "JSON body, e-mail in another case");

    let me: Value = app
        .get_json("/v1/me", tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me["id"], user.id.to_string());
    assert_eq!(me["kind"], "user");
    assert_eq!(me["role"], "coordinator");
    assert_eq!(me["login"], user.email);
    assert_eq!(me["territories"].as_array().unwrap().len(), 2);
    assert_eq!(me["domains"], serde_json::json!(["disability", "elderly"]));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let user = app.user(Role::Supervisor, &[], &[]).await;
    let wrong = app
        .token_request(&[
            ("grant_type", "password"),
            ("username", &user.email),
            ("password", "not the password"),
        ])
        .await;
    let wrong = assert_problem(wrong, 400).await;
    let unknown = app
        .token_request(&[
            ("grant_type", "password"),
            ("username", "nobody@hautes-alpes.example"),
            ("password", "whatever it is"),
        ])
        .await;
    let unknown = assert_problem(unknown, 400).await;
    assert_eq!(wrong["error"], "invalid_grant");
    assert_eq!(wrong["detail"], unknown["detail"]);
    assert_eq!(wrong["error"], unknown["error"]);

    let unsupported = app.token_request(&[("grant_type", "implicit")]).await;
    assert_eq!(
        assert_problem(unsupported, 400).await["error"],
        "unsupported_grant_type"
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_login() {
    let app = TestApp::spawn().await;
    let user = app
        .user(Role::Coordinator, &["05-GAP"], &[Domain::Disability])
        .await;
    let first = app.login(&user).await;
    let first_refresh = first["refresh_token"].as_str().unwrap();

    let second = app
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", first_refresh),
        ])
        .await;
    assert_eq!(second.status(), 200);
    let second: Value = second.json().await.unwrap();
    let second_refresh = second["refresh_token"].as_str().unwrap();
    assert_ne!(first_refresh, second_refresh, "rotated");

    // Someone replays the spent token: refused, and the live one dies with it.
    let replay = app
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", first_refresh),
        ])
        .await;
    let replay = assert_problem(replay, 400).await;
    assert!(
        replay["detail"].as_str().unwrap().contains("already used"),
        "{replay}"
    );
    let after = app
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", second_refresh),
        ])
        .await;
    assert_eq!(assert_problem(after, 400).await["error"], "invalid_grant");

    // Another login is a new family, unaffected.
    let other = app.login(&user).await;
    let ok = app
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", other["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(ok.status(), 200);
}

/// `POST /v1/auth/revoke` of `token`, as a form (RFC 7009); its status.
async fn revoke(app: &TestApp, token: &str) -> u16 {
    app.client
        .post(app.url("/v1/auth/revoke"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_revoked_refresh_token_no_longer_works() {
    let app = TestApp::spawn().await;
    let user = app.user(Role::Auditor, &[], &[]).await;
    let tokens = app.login(&user).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(revoke(&app, refresh).await, 200);
    let refused = app
        .token_request(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .await;
    assert_problem(refused, 400).await;
}

/// RFC 7009 with an access token: the login behind it ends, its refresh
/// token and its access tokens alike; another login goes on.
#[tokio::test]
async fn revoking_an_access_token_ends_its_login() {
    let app = TestApp::spawn().await;
    let user = app.user(Role::Auditor, &[], &[]).await;
    let tokens = app.login(&user).await;
    let other = app.login(&user).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let me = |token: String| {
        let app = &app;
        async move {
            app.with_token(Method::GET, "/v1/me", &token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(me(access.to_owned()).await, 200);
    assert_eq!(revoke(&app, access).await, 200);
    let refused = app
        .token_request(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .await;
    assert_eq!(assert_problem(refused, 400).await["error"], "invalid_grant");
    crate::support::eventually(std::time::Duration::from_secs(3), || async {
        (me(access.to_owned()).await == 401).then_some(())
    })
    .await;
    let still = other["access_token"].as_str().unwrap().to_owned();
    assert_eq!(me(still).await, 200, "another login is not ended");
}

/// A password login of `name` from `client` (bound to one source address).
async fn login_from(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(app.url("/v1/auth/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", name),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

fn client_from(address: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(address))
        .build()
        .unwrap()
}

/// Status, problem without its instance, and whether it says when to retry.
async fn answer(response: reqwest::Response) -> (u16, bool, Value) {
    let status = response.status().as_u16();
    let retry = response.headers().contains_key("retry-after");
    let mut body: Value = response.json().await.unwrap();
    body.as_object_mut().unwrap().remove("instance");
    (status, retry, body)
}

#[tokio::test]
async fn known_and_unknown_names_are_answered_alike_at_every_attempt() {
    let app = TestApp::spawn().await;
    let user = app.user(Role::Coordinator, &[], &[]).await;
    let client = client_from([127, 0, 0, 1]);
    for attempt in 1..=7 {
        let known = answer(login_from(&app, &client, &user.email, "wrong password").await).await;
        let unknown = answer(
            login_from(
                &app,
                &client,
                "nobody@hautes-alpes.example",
                "wrong password",
            )
            .await,
        )
        .await;
        assert_eq!(known, unknown, "attempt {attempt}");
        let expected = if attempt <= 5 { 400 } else { 429 };
        assert_eq!(known.0, expected, "attempt {attempt}: {:?}", known.2);
        assert_eq!(known.1, expected == 429);
        assert!(!known.2.to_string().contains("locked"), "{:?}", known.2);
    }
    // Slowed down from here, even with the right password.
    let right = login_from(&app, &client, &user.email, &user.password).await;
    let retry: u64 = right.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=120).contains(&retry), "{retry}");
    assert_problem(right, 429).await;
}

#[tokio::test]
async fn failures_from_elsewhere_never_lock_the_owner_out() {
    let app = TestApp::spawn().await;
    let user = app.user(Role::Coordinator, &[], &[]).await;
    let attacker = client_from([127, 0, 0, 2]);
    for _ in 0..8 {
        login_from(&app, &attacker, &user.email, "wrong password").await;
    }
    let blocked = login_from(&app, &attacker, &user.email, &user.password).await;
    assert_problem(blocked, 429).await;
    // The owner, at their own desk, logs in as usual.
    let owner = client_from([127, 0, 0, 1]);
    let response = login_from(&app, &owner, &user.email, &user.password).await;
    assert_eq!(response.status(), 200);
    // No counter holds the name or the address in clear.
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.connect().await;
    let rows: Count = diesel::sql_query("SELECT count(*) AS n FROM login_throttle")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert!(rows.n >= 2);
}

#[tokio::test]
async fn each_address_has_a_token_rate_limit() {
    let app = TestApp::spawn_with(|s| s.auth.token_rate_per_minute = 3, None).await;
    for _ in 0..3 {
        let response = app
            .token_request(&[
                ("grant_type", "password"),
                ("username", "x@y.fr"),
                ("password", "p"),
            ])
            .await;
        assert_eq!(response.status(), 400);
    }
    let limited = app
        .token_request(&[
            ("grant_type", "password"),
            ("username", "x@y.fr"),
            ("password", "p"),
        ])
        .await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429).await;
}

#[tokio::test]
async fn partner_clients_use_client_credentials_by_body_or_basic() {
    let app = TestApp::spawn().await;
    let (_, client_id, secret) = app.client("MSA Alpes-Vaucluse").await;
    let by_body = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ])
        .await;
    assert_eq!(by_body.status(), 200);
    let body: Value = by_body.json().await.unwrap();
    assert!(
        body.get("refresh_token").is_none(),
        "clients get no refresh token"
    );

    let by_basic = app
        .client
        .post(app.url("/v1/auth/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(by_basic.status(), 200);
    let token: Value = by_basic.json().await.unwrap();
    let me: Value = app
        .get_json("/v1/me", token["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me["kind"], "client");
    assert_eq!(me["role"], "partner");
    assert!(me["organization"].is_string());

    let wrong = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", "pcs_wrong"),
        ])
        .await;
    assert_eq!(assert_problem(wrong, 401).await["error"], "invalid_client");
}

/// Polls `GET /v1/me` until it answers `status`, for at most `limit`.
async fn me_becomes(app: &TestApp, token: &str, status: u16, limit: Duration) -> Duration {
    let started = std::time::Instant::now();
    eventually(limit, || async {
        let response = app
            .with_token(Method::GET, "/v1/me", token)
            .send()
            .await
            .unwrap();
        (response.status().as_u16() == status).then_some(())
    })
    .await;
    started.elapsed()
}

#[tokio::test]
async fn deactivating_a_user_stops_their_tokens_within_a_second() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(Role::Admin).await;
    let user = app
        .user(Role::Coordinator, &["05-GAP"], &[Domain::Disability])
        .await;
    let tokens = app.login(&user).await;
    let access = tokens["access_token"].as_str().unwrap();
    me_becomes(&app, access, 200, Duration::from_secs(1)).await;

    let current = app
        .with_token(Method::GET, &format!("/v1/users/{}", user.id), &admin)
        .send()
        .await
        .unwrap();
    let etag = current.headers()["etag"].to_str().unwrap().to_owned();
    let deactivated = app
        .with_token(Method::PATCH, &format!("/v1/users/{}", user.id), &admin)
        .header("if-match", etag)
        .json(&serde_json::json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(deactivated.status(), 200);

    let took = me_becomes(&app, access, 401, Duration::from_millis(1500)).await;
    assert!(took < Duration::from_millis(1500), "refused after {took:?}");
    let refused = app
        .with_token(Method::GET, "/v1/me", access)
        .send()
        .await
        .unwrap();
    assert!(
        refused.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let refresh = app
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_problem(refresh, 400).await;
    let login = app
        .token_request(&[
            ("grant_type", "password"),
            ("username", &user.email),
            ("password", &user.password),
        ])
        .await;
    assert_problem(login, 400).await;
}

#[tokio::test]
async fn deactivating_a_client_stops_its_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(Role::Admin).await;
    let (id, client_id, secret) = app.client("CAF des Hautes-Alpes").await;
    let token: Value = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ])
        .await
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().unwrap();
    me_becomes(&app, access, 200, Duration::from_secs(1)).await;
    let current = app
        .with_token(Method::GET, &format!("/v1/clients/{id}"), &admin)
        .send()
        .await
        .unwrap();
    let etag = current.headers()["etag"].to_str().unwrap().to_owned();
    let response = app
        .with_token(Method::PATCH, &format!("/v1/clients/{id}"), &admin)
        .header("if-match", etag)
        .json(&serde_json::json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    me_becomes(&app, access, 401, Duration::from_millis(1500)).await;
    let again = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ])
        .await;
    assert_problem(again, 401).await;
}

/// Swagger UI's "Authorize" (the document's OAuth 2.0 flows) sends a form
/// with an empty `scope` and the client's credentials as HTTP Basic — for
/// the password flow, an empty pair. Both flows log in as sent.
#[tokio::test]
async fn the_documented_flows_log_in_as_swagger_ui_sends_them() {
    use base64::Engine;
    let app = TestApp::spawn().await;
    let basic = |id: &str, secret: &str| {
        let pair = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        format!("Basic {pair}")
    };
    let doc = serde_json::to_value(parcours::http::openapi()).unwrap();
    let flows = &doc["components"]["securitySchemes"]["oauth2"]["flows"];
    let token_url = flows["password"]["tokenUrl"].as_str().unwrap();
    assert_eq!(flows["clientCredentials"]["tokenUrl"], token_url);

    let user = app.user(Role::Coordinator, &["05-GAP"], &[]).await;
    let form = serde_urlencoded::to_string([
        ("grant_type", "password"),
        ("scope", ""),
        ("username", user.email.as_str()),
        ("password", user.password.as_str()),
    ])
    .unwrap();
    let staff = app
        .client
        .post(app.url(token_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", basic("", ""))
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(staff.status(), 200);
    let staff: Value = staff.json().await.unwrap();
    assert!(staff["refresh_token"].is_string(), "staff keep a session");

    let (_, client_id, secret) = app.client("CAF des Hautes-Alpes").await;
    let partner = app
        .client
        .post(app.url(token_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", basic(&client_id, &secret))
        .body("grant_type=client_credentials&scope=")
        .send()
        .await
        .unwrap();
    assert_eq!(partner.status(), 200);
    let partner: Value = partner.json().await.unwrap();
    let me = app
        .get_json("/v1/me", partner["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me["role"], "partner");
}
