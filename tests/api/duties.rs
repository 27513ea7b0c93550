//! Separation of duties and live accounts: an admin cannot change its own
//! account nor move one between administration, case work and audit; a
//! one-time password only lets its holder set a new one; an account change
//! or a revoked login reaches live tokens, on every instance, within a second.

use std::time::{Duration, Instant};

use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use parcours::domain::Domain::{Disability, Insertion};
use parcours::domain::Role::{Admin, Coordinator, Supervisor};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::eventually;
use crate::support::fixtures::{open, person};
use crate::support::{Staff, TestApp, TestUser, assert_problem};

async fn patch_user(
    app: &TestApp,
    admin: &str,
    user: uuid::Uuid,
    body: Value,
) -> reqwest::Response {
    let path = format!("/v1/users/{user}");
    let etag = app.etag(&path, admin).await;
    app.send_json(Method::PATCH, &path, admin, Some(&etag), &body)
        .await
}

async fn token_of(app: &TestApp, user: &TestUser) -> String {
    app.login(user).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Polls `path` with `token` until it answers `status`; how long it took.
async fn until_status(app: &TestApp, path: &str, token: &str, status: u16) -> Duration {
    let started = Instant::now();
    eventually(Duration::from_secs(5), || async {
        let response = app
            .with_token(Method::GET, path, token)
            .send()
            .await
            .unwrap();
        (response.status().as_u16() == status).then_some(())
    })
    .await;
    started.elapsed()
}

#[derive(diesel::QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

async fn audit_lines(app: &TestApp, action: &str, user: uuid::Uuid) -> Vec<String> {
    let mut conn = app.db.connect().await;
    diesel::sql_query(
        "SELECT outcome::text || ' ' || coalesce(query::text, '') AS line FROM audit_log \
         WHERE action = $1 AND resource_type = 'user' AND resource_id = $2 ORDER BY seq",
    )
    .bind::<Text, _>(action)
    .bind::<diesel::sql_types::Uuid, _>(user)
    .load::<Line>(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .map(|l| l.line)
    .collect()
}

#[tokio::test]
async fn an_admin_cannot_change_itself_nor_move_an_account_across_duties() {
    let app = TestApp::spawn().await;
    let admin = app.user(Admin, &[], &[]).await;
    let admin_token = token_of(&app, &admin).await;

    // Itself: neither its role nor its password.
    let response = patch_user(&app, &admin_token, admin.id, json!({"role": "supervisor"})).await;
    assert_problem(response, 403).await;
    let response = patch_user(&app, &admin_token, admin.id, json!({"territories": []})).await;
    assert_problem(response, 403).await;
    let response = app
        .send_json(
            Method::POST,
            &format!("/v1/users/{}/password", admin.id),
            &admin_token,
            None,
            &json!({}),
        )
        .await;
    assert_problem(response, 403).await;
    let me = app.get_json("/v1/me", &admin_token).await;
    assert_eq!(me["role"], "admin");
    assert_eq!(
        audit_lines(&app, "update", admin.id).await,
        ["denied ", "denied "],
        "refusals are recorded"
    );

    // Another account moves within case work, never out of it.
    let worker = app.user(Coordinator, &["05-GAP"], &[Insertion]).await;
    for role in ["admin", "auditor"] {
        let response = patch_user(&app, &admin_token, worker.id, json!({"role": role})).await;
        let problem = assert_problem(response, 422).await;
        assert_eq!(problem["errors"][0]["field"], "role");
    }
    let response = patch_user(
        &app,
        &admin_token,
        worker.id,
        json!({"role": "supervisor", "territories": [app.territory("05-BRI").await]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let lines = audit_lines(&app, "update", worker.id).await;
    let changed = lines.iter().find(|l| l.starts_with("success")).unwrap();
    let recorded: Value = serde_json::from_str(changed.trim_start_matches("success ")).unwrap();
    assert_eq!(recorded["before"]["role"], "coordinator");
    assert_eq!(recorded["after"]["role"], "supervisor");
    assert_eq!(
        recorded["before"]["territories"],
        json!([app.territory("05-GAP").await])
    );
    assert_eq!(
        recorded["after"]["territories"],
        json!([app.territory("05-BRI").await])
    );
}

#[tokio::test]
async fn a_one_time_password_only_lets_its_holder_set_a_new_one() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(Admin).await;
    let (created, _) = app
        .post_ok(
            "/v1/users",
            &admin,
            &json!({"email": "lea.roux@hautes-alpes.example", "display_name": "Léa Roux",
                    "role": "coordinator", "territories": [app.territory("05-GAP").await],
                    "domains": ["insertion"]}),
            201,
        )
        .await;
    let id: uuid::Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let mut user = TestUser {
        id,
        email: "lea.roux@hautes-alpes.example".to_owned(),
        password: created["one_time_password"].as_str().unwrap().to_owned(),
    };
    let pending = token_of(&app, &user).await;
    // Nothing but the password change answers that login.
    for path in ["/v1/me", "/v1/pathways", "/v1/referrals"] {
        let response = app
            .with_token(Method::GET, path, &pending)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 403).await;
        assert_eq!(
            problem["type"], "urn:parcours:problem:password-change-required",
            "{path}"
        );
    }
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let response = app
        .send_json(
            Method::POST,
            "/v1/me/password",
            &pending,
            None,
            &change(&user.password, "court"),
        )
        .await;
    let problem = assert_problem(response, 400).await;
    assert_eq!(problem["errors"][0]["field"], "new_password");
    let response = app
        .send_json(
            Method::POST,
            "/v1/me/password",
            &pending,
            None,
            &change(
                "pas le bon mot de passe",
                "une phrase assez longue et à elle",
            ),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "current_password");
    let response = app
        .send_json(
            Method::POST,
            "/v1/me/password",
            &pending,
            None,
            &change(&user.password, "une phrase assez longue et à elle"),
        )
        .await;
    assert_eq!(response.status(), 204);
    // That login has ended; the one-time password no longer logs in.
    until_status(&app, "/v1/me", &pending, 401).await;
    let response = app
        .token_request(&[
            ("grant_type", "password"),
            ("username", &user.email),
            ("password", &user.password),
        ])
        .await;
    assert_eq!(response.status(), 400);
    user.password = "une phrase assez longue et à elle".to_owned();
    let own = token_of(&app, &user).await;
    let me = app.get_json("/v1/me", &own).await;
    assert_eq!(me["id"], id.to_string());
    assert_eq!(audit_lines(&app, "change_password", id).await.len(), 2);

    // An admin's reset ends every login and hands out a new one-time password.
    let (reset, _) = app
        .post_ok(&format!("/v1/users/{id}/password"), &admin, &json!({}), 200)
        .await;
    until_status(&app, "/v1/me", &own, 401).await;
    user.password = reset["one_time_password"].as_str().unwrap().to_owned();
    let pending = token_of(&app, &user).await;
    let response = app
        .with_token(Method::GET, "/v1/me", &pending)
        .send()
        .await
        .unwrap();
    assert_problem(response, 403).await;
}

/// A supervisor of 05-GAP (insertion) with a pathway there; its token.
async fn reader(app: &TestApp) -> (Staff, String) {
    let staff = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;
    let someone = person(app, &staff, "Vivant").await;
    let (pathway, _) = open(app, &staff, &someone, Insertion).await;
    (staff, format!("/v1/pathways/{pathway}"))
}

#[tokio::test]
async fn account_changes_reach_live_tokens_on_every_instance_within_a_second() {
    let mut app = TestApp::spawn().await;
    let (other, _handle) = app.another_instance_with(|_| {}).await;
    let admin = app.token_for(Admin).await;
    let (staff, pathway) = reader(&app).await;
    let on_other = |path: &str| format!("{other}{path}");
    assert_eq!(
        app.get_json(&pathway, &staff.token).await["status"],
        "referred"
    );

    // Moved to another territory: the pathway is out of scope at once.
    let response = patch_user(
        &app,
        &admin,
        staff.user.id,
        json!({"territories": [app.territory("05-BRI").await]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let moved = until_status(&app, &pathway, &staff.token, 404).await;
    eprintln!("territory change applied to a live token after {moved:?}");
    assert!(moved < Duration::from_secs(1), "took {moved:?}");
    let response = app
        .client
        .get(on_other(&pathway))
        .bearer_auth(&staff.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "the other instance knows it too");

    // Back in the territory but out of the domain: 404 again.
    let response = patch_user(
        &app,
        &admin,
        staff.user.id,
        json!({"territories": [app.territory("05-GAP").await], "domains": ["disability"]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let list = until_status(&app, "/v1/pathways?domain=insertion", &staff.token, 200).await;
    assert!(list < Duration::from_secs(1));
    let response = app
        .with_token(Method::GET, &pathway, &staff.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    let me = app.get_json("/v1/me", &staff.token).await;
    assert_eq!(me["domains"], json!([Disability]));
}

#[tokio::test]
async fn a_revoked_login_stops_its_access_tokens_within_a_second() {
    let mut app = TestApp::spawn().await;
    let (other, _handle) = app.another_instance_with(|_| {}).await;
    let user = app.user(Supervisor, &["05-GAP"], &[Insertion]).await;
    let first = app.login(&user).await;
    let second = app.login(&user).await;
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(
        app.get_json("/v1/me", access).await["id"],
        user.id.to_string()
    );
    let response = app
        .client
        .post(app.url("/v1/auth/revoke"))
        .form(&[("token", first["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let revoked = until_status(&app, "/v1/me", access, 401).await;
    eprintln!("revoked login refused after {revoked:?}");
    assert!(revoked < Duration::from_secs(1), "took {revoked:?}");
    let response = app
        .client
        .get(format!("{other}/v1/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "on the other instance too");
    // The other login of the same account is untouched.
    let still = second["access_token"].as_str().unwrap();
    assert_eq!(
        app.get_json("/v1/me", still).await["id"],
        user.id.to_string()
    );
}
