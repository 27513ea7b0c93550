//! The test harness: a fresh database per test and the real server on port 0.

pub mod db;
pub mod fixtures;
pub mod tamper;
pub mod timelines;

use actix_web::dev::ServerHandle;
use parcours::auth::passwords::PasswordHasherPool;
use parcours::config::Settings;
use parcours::domain::{Domain, Role};
use parcours::http::middleware::metrics::Metrics;
use parcours::server::{Application, ExtraRoutes};
use parcours::services::accounts::{self, CreateClient, CreateUser};
use reqwest::header::HeaderMap;
use serde_json::Value;

pub use db::TestDatabase;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDatabase,
    handle: ServerHandle,
    served: tokio::task::JoinHandle<anyhow::Result<()>>,
    /// What each server this app started answered (see [`Drop`]).
    metrics: Vec<actix_web::web::Data<Metrics>>,
    settings: Settings,
    extra: Option<ExtraRoutes>,
    /// Holds the generated signing key (`jwt-signing-key.pem`); deleted with the app.
    pub data_dir: tempfile::TempDir,
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
        let data_dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_tests(db.url.clone(), data_dir.path().to_owned());
        configure(&mut settings);
        let (address, handle, served, metrics) = start(settings.clone(), extra).await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            address,
            client,
            db,
            handle,
            served,
            metrics: vec![metrics],
            settings,
            extra,
            data_dir,
        }
    }

    /// Stops the server as SIGTERM would (requests and webhook attempts in
    /// flight finish), then starts a new one on the same database and keys.
    pub async fn restart(&mut self) {
        self.handle.stop(true).await;
        (&mut self.served).await.unwrap().unwrap();
        let (address, handle, served, metrics) = start(self.settings.clone(), self.extra).await;
        self.address = address;
        self.handle = handle;
        self.served = served;
        self.metrics.push(metrics);
    }

    /// Another instance of the API on the same database (as behind a load
    /// balancer); it stops when the handle is dropped or stopped.
    pub async fn another_instance(&mut self) -> ServerHandle {
        let (_, handle, _, metrics) = start(self.settings.clone(), self.extra).await;
        self.metrics.push(metrics);
        handle
    }

    /// Another instance whose settings `configure` adjusted; its address
    /// and handle.
    pub async fn another_instance_with(
        &mut self,
        configure: impl FnOnce(&mut Settings),
    ) -> (String, ServerHandle) {
        let mut settings = self.settings.clone();
        configure(&mut settings);
        let (address, handle, _, metrics) = start(settings, self.extra).await;
        self.metrics.push(metrics);
        (address, handle)
    }

    /// Runs `parcours <args>` on this app's database and data folder.
    pub fn command(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_parcours"))
            .args(args)
            .env("DATABASE_URL", &self.db.url)
            .env("PARCOURS_DATA_DIR", self.data_dir.path())
            .env("PARCOURS_LOG", "error")
            .output()
            .unwrap()
    }

    /// [`Self::command`], which must succeed; its JSON report.
    pub fn command_json(&self, args: &[&str]) -> Value {
        let output = self.command(args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }
}

async fn start(
    settings: Settings,
    extra: Option<ExtraRoutes>,
) -> (
    String,
    ServerHandle,
    tokio::task::JoinHandle<anyhow::Result<()>>,
    actix_web::web::Data<Metrics>,
) {
    let app = Application::build(settings, extra)
        .await
        .expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let (handle, metrics) = (app.handle(), app.metrics());
    (
        address,
        handle,
        tokio::spawn(app.run_until_stopped()),
        metrics,
    )
}

/// The answers among `answered` (route, method, status) that the document
/// does not list for their operation.
pub fn undocumented(answered: &[(String, String, String)]) -> Vec<String> {
    let doc = serde_json::to_value(parcours::http::openapi()).unwrap();
    let mut undocumented = Vec::new();
    for (route, method, status) in answered {
        let operation = &doc["paths"][route][method.to_lowercase()];
        if !operation.is_null() && operation["responses"].get(status).is_none() {
            undocumented.push(format!("{method} {route} answered {status}"));
        }
    }
    undocumented
}

/// Every test ends by checking that each status its servers answered is
/// documented for that operation (counted by the servers as `/metrics`
/// serves them): a test cannot forget it. Routes outside the document
/// (`<unmatched>`, a test's own extra routes) are left aside; a test that
/// already failed is not failed twice.
impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the database is dropped after (TestDatabase).
        drop(self.handle.stop(false));
        if std::thread::panicking() {
            return;
        }
        let answered: Vec<_> = self.metrics.iter().flat_map(|m| m.answered()).collect();
        let undocumented = undocumented(&answered);
        assert!(
            undocumented.is_empty(),
            "answers the document does not list:\n{}",
            undocumented.join("\n")
        );
        let unreplayable = unreplayable_timelines(self.db.url.clone());
        assert!(
            unreplayable.is_empty(),
            "timelines the state machine could not have written:\n{}",
            unreplayable.join("\n")
        );
    }
}

/// The timelines of the test's database that do not replay; none when the
/// database is gone (the outage tests drop it).
fn unreplayable_timelines(url: String) -> Vec<String> {
    db::on_own_runtime(async move {
        use diesel_async::AsyncConnection;
        let mut conn = diesel_async::AsyncPgConnection::establish(&url)
            .await
            .ok()?;
        Some(timelines::unreplayable(&mut conn).await)
    })
    .ok()
    .flatten()
    .unwrap_or_default()
}

/// A staff user made for a test, with its password.
pub struct TestUser {
    pub id: uuid::Uuid,
    pub email: String,
    pub password: String,
}

impl TestApp {
    /// Creates a staff user directly in the database (as `parcours create-user` does).
    pub async fn user(&self, role: Role, territory_codes: &[&str], domains: &[Domain]) -> TestUser {
        let mut conn = self.db.connect().await;
        let territories = territory_ids(&mut conn, territory_codes).await;
        let email = format!("{}@hautes-alpes.example", uuid::Uuid::now_v7().simple());
        let password = "cheval agrafe pile correcte".to_owned();
        let input = CreateUser {
            email: email.clone(),
            display_name: format!("Test {role:?}"),
            role,
            territories,
            domains: domains.to_vec(),
            password: Some(password.clone()),
        };
        let (user, _, _) =
            accounts::create_user_as_operator(&mut conn, &test_hasher(), input, false)
                .await
                .unwrap();
        TestUser {
            id: user.id,
            email,
            password,
        }
    }

    /// A partner client of the organization named `organization`, with its secret.
    pub async fn client(&self, organization: &str) -> (uuid::Uuid, String, String) {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use parcours::db::schema::organizations;
        let mut conn = self.db.connect().await;
        let organization_id: uuid::Uuid = organizations::table
            .filter(organizations::name.eq(organization))
            .select(organizations::id)
            .first(&mut conn)
            .await
            .unwrap();
        let client_id = format!("test-{}", uuid::Uuid::now_v7().simple());
        let input = CreateClient {
            client_id: client_id.clone(),
            name: "Test client".into(),
            organization_id,
        };
        let (client, secret) = accounts::create_client_as_operator(&mut conn, input)
            .await
            .unwrap();
        (client.id, client_id, secret)
    }

    /// `POST /v1/auth/token` as a form.
    pub async fn token_request(&self, form: &[(&str, &str)]) -> reqwest::Response {
        let body = serde_urlencoded::to_string(form).unwrap();
        self.client
            .post(self.url("/v1/auth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Logs `user` in; returns the token response.
    pub async fn login(&self, user: &TestUser) -> Value {
        let response = self
            .token_request(&[
                ("grant_type", "password"),
                ("username", &user.email),
                ("password", &user.password),
            ])
            .await;
        assert_eq!(response.status(), 200, "login of {}", user.email);
        response.json().await.unwrap()
    }

    /// An access token for a new user of `role` (territory 05-GAP, domain disability),
    /// or for a new CAF client when `role` is partner.
    pub async fn token_for(&self, role: Role) -> String {
        if role == Role::Partner {
            return self.partner_token("CAF des Hautes-Alpes").await;
        }
        let user = self.user(role, &["05-GAP"], &[Domain::Disability]).await;
        self.login(&user).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// An access token for a new partner client of `organization`.
    pub async fn partner_token(&self, organization: &str) -> String {
        let (_, client_id, secret) = self.client(organization).await;
        let response = self
            .token_request(&[
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", &secret),
            ])
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// `GET path` with a bearer token, as JSON.
    /// A successful GET, read as the view the API documents for it.
    pub async fn get_as<T: serde::de::DeserializeOwned>(&self, path: &str, token: &str) -> T {
        view(self.get_json(path, token).await)
    }

    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let response = self
            .with_token(reqwest::Method::GET, path, token)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// A request with a bearer token.
    pub fn with_token(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
    }
}

/// A response body read as the view the API documents for it.
pub fn view<T: serde::de::DeserializeOwned>(body: Value) -> T {
    serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("not a {}: {e}: {body}", std::any::type_name::<T>()))
}

/// The claims of a JWT, read without checking its signature.
pub fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The hashing the test settings use (cheap Argon2id parameters).
pub fn test_hasher() -> PasswordHasherPool {
    let settings = Settings::for_tests(String::new(), "./var".into());
    PasswordHasherPool::new(&settings.auth).unwrap()
}

async fn territory_ids(
    conn: &mut diesel_async::AsyncPgConnection,
    codes: &[&str],
) -> Vec<uuid::Uuid> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use parcours::db::schema::territories;
    territories::table
        .filter(territories::code.eq_any(codes))
        .select(territories::id)
        .load(conn)
        .await
        .unwrap()
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
    // Its type is one of the catalogue, with its title and one of its statuses.
    let kind = parcours::http::problem_types::ALL
        .iter()
        .find(|k| body["type"] == k.uri())
        .unwrap_or_else(|| panic!("a type outside the catalogue: {body}"));
    assert_eq!(body["title"], kind.title, "{body}");
    assert!(
        kind.status.contains(&status.to_string()),
        "{status} for {body}"
    );
    body
}

/// A logged-in staff user and their access token.
pub struct Staff {
    pub user: TestUser,
    pub token: String,
}

impl TestApp {
    /// A staff user of `role` in these territories and domains, logged in.
    pub async fn staff(&self, role: Role, territories: &[&str], domains: &[Domain]) -> Staff {
        let user = self.user(role, territories, domains).await;
        let token = self.login(&user).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        Staff { user, token }
    }

    /// The id of a territory by its code (seeded: 05-GAP, 05-BRI, …).
    pub async fn territory(&self, code: &str) -> uuid::Uuid {
        let mut conn = self.db.connect().await;
        territory_ids(&mut conn, &[code]).await[0]
    }

    /// Sends `body` as JSON with a bearer token (and `If-Match` when given).
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        if_match: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut request = self.with_token(method, path, token).json(body);
        if let Some(etag) = if_match {
            request = request.header("if-match", etag);
        }
        request.send().await.unwrap()
    }

    /// The ETag of what `GET path` answers, asserting it is found.
    pub async fn etag(&self, path: &str, token: &str) -> String {
        let response = self
            .with_token(reqwest::Method::GET, path, token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        etag_of(&response)
    }

    /// `POST path` with JSON; asserts `expected` and returns the body and ETag.
    /// `POST /v1/persons/search` with `criteria` (identifiers go in a body).
    pub async fn search_persons(&self, token: &str, criteria: &Value) -> Value {
        let (found, _) = self
            .post_ok("/v1/persons/search", token, criteria, 200)
            .await;
        found
    }

    pub async fn post_ok(
        &self,
        path: &str,
        token: &str,
        body: &Value,
        expected: u16,
    ) -> (Value, String) {
        let response = self
            .send_json(reqwest::Method::POST, path, token, None, body)
            .await;
        let status = response.status().as_u16();
        let etag = etag_of(&response);
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, expected, "POST {path}: {body}");
        (body, etag)
    }
}

/// The ETag header of a response, or an empty string.
pub fn etag_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// A valid NIR built from its first 13 digits (the key is computed).
pub fn nir(body: &str) -> String {
    let n: u64 = body.parse().unwrap();
    format!("{body}{:02}", 97 - n % 97)
}

/// Polls `attempt` every 50 ms until it gives a value, for at most
/// `timeout` (then the test fails): for what a test waits to see happen in
/// the background.
pub async fn eventually<T, F, Fut>(timeout: std::time::Duration, attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    within(timeout, attempt)
        .await
        .unwrap_or_else(|| panic!("still not so after {timeout:?}"))
}

/// As [`eventually`], but `None` once `timeout` passed: for a test that
/// also waits to see that something does not happen.
pub async fn within<T, F, Fut>(timeout: std::time::Duration, mut attempt: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(value) = attempt().await {
            return Some(value);
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
