//! The test harness: a fresh database per test and the real server on port 0.

pub mod db;

use actix_web::dev::ServerHandle;
use parcours::config::Settings;
use parcours::startup::{Application, ExtraRoutes};
use reqwest::header::HeaderMap;
use serde_json::Value;

pub use db::TestDatabase;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDatabase,
    handle: ServerHandle,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}, None).await
    }

    /// Starts the application after `configure` adjusted its settings, with
    /// optional extra routes inside its middleware.
    pub async fn spawn_with(
        configure: impl FnOnce(&mut Settings),
        extra: Option<ExtraRoutes>,
    ) -> Self {
        let db = TestDatabase::create().await;
        let mut settings = Settings::for_tests(db.url.clone());
        configure(&mut settings);
        let app = Application::build(settings, extra)
            .await
            .expect("the application builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            address,
            client,
            db,
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the database is dropped after (TestDatabase).
        drop(self.handle.stop(false));
    }
}

/// Asserts a response is an RFC 9457 problem naming this request, and returns it.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let headers: HeaderMap = response.headers().clone();
    assert_eq!(
        headers.get("content-type").unwrap(),
        "application/problem+json",
        "content type"
    );
    let request_id = headers
        .get("x-request-id")
        .expect("every response carries X-Request-Id")
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status, "status in body: {body}");
    assert_eq!(
        body["instance"],
        format!("urn:request:{request_id}"),
        "{body}"
    );
    for member in ["type", "title", "detail"] {
        assert!(
            body[member].as_str().is_some_and(|s| !s.is_empty()),
            "`{member}` missing in {body}"
        );
    }
    body
}
