//! CORS for the configured front-end origins only.

use crate::support::TestApp;

const FRONT: &str = "https://rapt.hautes-alpes.example";

async fn app() -> TestApp {
    TestApp::spawn_with(|s| s.cors_origins = vec![FRONT.to_owned()], None).await
}

/// What a browser page at `origin` sends for a simple call.
async fn get_from(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .get(app.url("/health"))
        .header("origin", origin)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_configured_front_end_may_call_the_api() {
    let app = app().await;
    let response = get_from(&app, FRONT).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], FRONT);

    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/health"))
        .header("origin", FRONT)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    assert_eq!(preflight.headers()["access-control-allow-origin"], FRONT);
}

#[tokio::test]
async fn other_origins_get_no_cors_grant() {
    let app = app().await;
    let response = get_from(&app, "https://evil.example").await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn no_origin_is_allowed_by_default() {
    let app = TestApp::spawn().await;
    let response = get_from(&app, FRONT).await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}
