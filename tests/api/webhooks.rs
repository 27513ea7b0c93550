//! Webhooks as a CAF integrator meets them: a real HTTP receiver on this
//! machine, signatures checked independently, a receiver that goes down
//! and comes back, an API restarted mid-way, dead letters, two instances.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use parcours::config::Settings;
use parcours::domain::Domain::Insertion;
use parcours::domain::Role::{Admin, Coordinator, Supervisor};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::feed::{move_to, object_to_sharing, refer};
use crate::support::eventually;
use crate::support::{TestApp, assert_problem};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: i64,
    signature: String,
    body: Vec<u8>,
    answered: u16,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct Inbox {
    requests: Arc<Mutex<Vec<Received>>>,
    /// The status the receiver answers.
    status: Arc<AtomicU16>,
}

impl Inbox {
    fn all(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }

    fn accepted(&self) -> Vec<Received> {
        self.all()
            .into_iter()
            .filter(|r| (200..300).contains(&r.answered))
            .collect()
    }

    /// Waits up to 20 s until `n` requests were accepted.
    async fn accepted_at_least(&self, n: usize) -> Vec<Received> {
        eventually(Duration::from_secs(20), || async {
            let accepted = self.accepted();
            (accepted.len() >= n).then_some(accepted)
        })
        .await
    }
}

async fn receive(req: HttpRequest, body: web::Bytes, inbox: web::Data<Inbox>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let answered = inbox.status.load(Ordering::SeqCst);
    inbox.requests.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp").parse().unwrap_or_default(),
        signature: header("webhook-signature"),
        body: body.to_vec(),
        answered,
    });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(answered).unwrap()).finish()
}

/// A partner's endpoint on 127.0.0.1, which can go down and come back on
/// the same port.
struct Receiver {
    port: u16,
    inbox: Inbox,
    server: Option<ServerHandle>,
}

impl Receiver {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let inbox = Inbox::default();
        inbox.status.store(204, Ordering::SeqCst);
        let mut receiver = Self {
            port,
            inbox,
            server: None,
        };
        receiver.up();
        receiver
    }

    /// A receiver that is not listening yet.
    async fn down_from_the_start() -> Self {
        let mut receiver = Self::start().await;
        receiver.down().await;
        receiver
    }

    fn up(&mut self) {
        let inbox = self.inbox.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(inbox.clone()))
                .default_service(web::to(receive))
        })
        .workers(1)
        .bind(("127.0.0.1", self.port))
        .unwrap()
        .run();
        self.server = Some(server.handle());
        tokio::spawn(server);
    }

    async fn down(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop(false).await;
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/parcours", self.port)
    }
}

/// Checks a Standard Webhooks signature without the API's code: HMAC-SHA256
/// of `{id}.{timestamp}.{body}` under the secret's bytes, among the
/// space-separated `v1,` signatures.
fn signed_by(received: &Received, secret: &str) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", received.id, received.timestamp).as_bytes());
    mac.update(&received.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    received.signature.split(' ').any(|s| s == expected)
}

fn quick_retries(settings: &mut Settings) {
    settings.webhooks.retry_base_ms = 200;
    settings.webhooks.poll_ms = 50;
}

async fn register(app: &TestApp, token: &str, url: &str, types: &[&str]) -> (String, String) {
    let (webhook, _) = app
        .post_ok(
            "/v1/webhooks",
            token,
            &json!({"url": url, "event_types": types, "description": "Flux RAPT"}),
            201,
        )
        .await;
    (
        webhook["id"].as_str().unwrap().to_owned(),
        webhook["secret"].as_str().unwrap().to_owned(),
    )
}

/// A registration that may be refused: the response as it came.
async fn try_register(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.send_json(Method::POST, "/v1/webhooks", token, None, body)
        .await
}

async fn deliveries(app: &TestApp, token: &str, webhook: &str, query: &str) -> Vec<Value> {
    app.get_json(&format!("/v1/webhooks/{webhook}/deliveries{query}"), token)
        .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Waits up to 20 s until `check` holds for the webhook's deliveries.
async fn deliveries_until(
    app: &TestApp,
    token: &str,
    webhook: &str,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    eventually(Duration::from_secs(20), || async {
        let items = deliveries(app, token, webhook, "").await;
        check(&items).then_some(items)
    })
    .await
}

fn types_of(received: &[Received]) -> Vec<String> {
    let mut types: Vec<String> = received
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    types.sort();
    types
}

#[tokio::test]
async fn deliveries_are_signed_minimal_and_signed_twice_during_a_rotation() {
    let app = TestApp::spawn_with(quick_retries, None).await;
    let receiver = Receiver::start().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let msa = app.partner_token("MSA Alpes-Vaucluse").await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;
    let (webhook, secret) = register(
        &app,
        &caf,
        &receiver.url(),
        &["pathway_opened", "status_changed", "referral_accepted"],
    )
    .await;
    assert!(secret.starts_with("whsec_"));
    let shown = app.get_json(&format!("/v1/webhooks/{webhook}"), &caf).await;
    assert!(shown.get("secret").is_none(), "the secret is shown once");
    assert!(!shown.to_string().contains(&secret[6..]));

    let pathway = refer(&app, &caf, &staff, "Signé").await;
    move_to(&app, &staff, &pathway, "assessment").await;
    app.post_ok(
        &format!("/v1/pathways/{pathway}/notes"),
        &staff.token,
        &json!({"visibility": "team", "body": "Note interne"}),
        201,
    )
    .await;

    let received = receiver.inbox.accepted_at_least(3).await;
    assert_eq!(
        types_of(&received),
        ["pathway_opened", "referral_accepted", "status_changed"]
    );
    let now = chrono::Utc::now().timestamp();
    for r in &received {
        assert!(signed_by(r, &secret), "signature of {}", r.id);
        assert!((now - r.timestamp).abs() < 300, "fresh timestamp");
        let body = r.json();
        assert_eq!(body["data"]["pathway_id"], pathway.as_str());
        assert_eq!(body["data"]["kind"], body["type"]);
        let text = body.to_string();
        assert!(
            !text.contains("Signé") && !text.contains("Note interne"),
            "{text}"
        );
    }
    let mut ids: Vec<&str> = received.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "one webhook-id per delivery");
    // The receiver answers before the sender writes down the delivery.
    deliveries_until(&app, &caf, &webhook, |items| {
        items.iter().filter(|d| d["status"] == "delivered").count() == 3
    })
    .await;
    let listed = deliveries(&app, &caf, &webhook, "?status=delivered").await;
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|d| d["attempts"] == 1), "{listed:?}");

    // Rotation: the next delivery is signed by both secrets.
    let rotated = app
        .post_ok(
            &format!("/v1/webhooks/{webhook}/secret"),
            &caf,
            &json!({}),
            200,
        )
        .await
        .0;
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    move_to(&app, &staff, &pathway, "orientation").await;
    let received = receiver.inbox.accepted_at_least(4).await;
    let last = received
        .iter()
        .find(|r| !ids.contains(&r.id.as_str()))
        .unwrap();
    assert!(signed_by(last, &secret) && signed_by(last, &new_secret));
    assert_eq!(last.signature.split(' ').count(), 2);

    // Another partner sees nothing of this webhook.
    for (method, path) in [
        (Method::GET, format!("/v1/webhooks/{webhook}")),
        (Method::GET, format!("/v1/webhooks/{webhook}/deliveries")),
        (Method::DELETE, format!("/v1/webhooks/{webhook}")),
    ] {
        let response = app.with_token(method, &path, &msa).send().await.unwrap();
        assert_problem(response, 404).await;
    }
    let theirs = app.get_json("/v1/webhooks", &msa).await;
    assert!(theirs["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_everything_across_an_api_restart() {
    let mut app = TestApp::spawn_with(quick_retries, None).await;
    let mut receiver = Receiver::down_from_the_start().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;
    let (webhook, secret) = register(
        &app,
        &caf,
        &receiver.url(),
        &[
            "pathway_opened",
            "status_changed",
            "referral_accepted",
            "commitment_added",
            "commitment_updated",
        ],
    )
    .await;

    let pathway = refer(&app, &caf, &staff, "Patience").await;
    // Both events were tried and failed: the receiver is down. (An attempt
    // is counted when claimed, its error once the send gave up: wait for both.)
    let failed = deliveries_until(&app, &caf, &webhook, |items| {
        items.len() == 2
            && items
                .iter()
                .all(|d| d["attempts"].as_i64() >= Some(1) && d["last_error"].is_string())
    })
    .await;
    for d in &failed {
        assert_eq!(d["status"], "pending");
        // Usually "could not connect"; under a loaded test run the freed
        // port may be slow to refuse ("no answer within the timeout").
        assert!(
            d["last_error"].as_str().is_some_and(|e| !e.is_empty()),
            "{d}"
        );
        assert!(d["next_attempt_at"].is_string());
    }

    // The API restarts in the middle; one more change comes after.
    app.restart().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;
    move_to(&app, &staff, &pathway, "assessment").await;

    receiver.up();
    let received = receiver.inbox.accepted_at_least(3).await;
    assert_eq!(
        types_of(&received),
        ["pathway_opened", "referral_accepted", "status_changed"]
    );
    assert!(received.iter().all(|r| signed_by(r, &secret)));
    let settled = deliveries_until(&app, &caf, &webhook, |items| {
        items.len() == 3 && items.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    let retried = settled
        .iter()
        .filter(|d| d["attempts"].as_i64() >= Some(2))
        .count();
    assert!(retried >= 2, "the first two were retried: {settled:?}");
}

#[tokio::test]
async fn failing_deliveries_are_dead_lettered_then_sent_again_on_demand() {
    let app = TestApp::spawn_with(
        |settings| {
            quick_retries(settings);
            settings.webhooks.max_attempts = 3;
        },
        None,
    )
    .await;
    let receiver = Receiver::start().await;
    receiver.inbox.status.store(500, Ordering::SeqCst);
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;
    let (webhook, _) = register(&app, &caf, &receiver.url(), &["referral_accepted"]).await;
    refer(&app, &caf, &staff, "Refus").await;

    let dead = deliveries_until(&app, &caf, &webhook, |items| {
        items.len() == 1 && items[0]["status"] == "dead"
    })
    .await;
    assert_eq!(dead[0]["attempts"], 3);
    assert_eq!(dead[0]["last_response_status"], 500);
    assert!(dead[0]["next_attempt_at"].is_null());
    let attempts = receiver.inbox.all();
    assert_eq!(attempts.len(), 3, "exactly the allowed attempts");
    assert!(
        attempts.iter().all(|r| r.id == attempts[0].id),
        "one webhook-id"
    );
    assert_eq!(
        deliveries(&app, &caf, &webhook, "?status=dead").await.len(),
        1
    );

    // The endpoint is fixed; the dead letter is sent again on demand.
    receiver.inbox.status.store(200, Ordering::SeqCst);
    let id = dead[0]["id"].as_str().unwrap();
    let retry = format!("/v1/webhooks/{webhook}/deliveries/{id}/retry");
    let (queued, _) = app.post_ok(&retry, &caf, &json!({}), 200).await;
    assert_eq!(queued["status"], "pending");
    receiver.inbox.accepted_at_least(1).await;
    deliveries_until(&app, &caf, &webhook, |items| {
        items[0]["status"] == "delivered"
    })
    .await;
    // Only a dead letter can be retried.
    let response = app
        .with_token(Method::POST, &retry, &caf)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
}

#[tokio::test]
async fn two_instances_send_each_delivery_once() {
    let mut app = TestApp::spawn_with(quick_retries, None).await;
    let second = app.another_instance().await;
    let receiver = Receiver::start().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;
    register(
        &app,
        &caf,
        &receiver.url(),
        &["pathway_opened", "referral_accepted"],
    )
    .await;
    for family in ["Un", "Deux", "Trois", "Quatre", "Cinq", "Six"] {
        refer(&app, &caf, &staff, family).await;
    }
    receiver.inbox.accepted_at_least(12).await;
    // Give both instances time to (wrongly) send anything twice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = receiver.inbox.all();
    let mut ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((all.len(), ids.len()), (12, 12), "each delivery once");
    second.stop(true).await;
}

#[tokio::test]
async fn registration_is_checked_and_deleting_or_objecting_stops_deliveries() {
    let app = TestApp::spawn_with(quick_retries, None).await;
    let mut receiver = Receiver::down_from_the_start().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let admin = app.token_for(Admin).await;
    let coordinator = app.token_for(Coordinator).await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;

    for (body, field) in [
        (
            json!({"url": "http://caf.example.fr/hooks", "event_types": ["status_changed"]}),
            "url",
        ),
        (
            json!({"url": "ftp://caf.example.fr/", "event_types": ["status_changed"]}),
            "url",
        ),
        (
            json!({"url": receiver.url(), "event_types": []}),
            "event_types",
        ),
    ] {
        let response = try_register(&app, &caf, &body).await;
        let problem = assert_problem(response, 400).await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let response = try_register(
        &app,
        &caf,
        &json!({"url": receiver.url(), "event_types": ["note_added"]}),
    )
    .await;
    assert_problem(response, 400).await;
    let response = try_register(
        &app,
        &coordinator,
        &json!({"url": receiver.url(), "event_types": ["status_changed"]}),
    )
    .await;
    assert_problem(response, 403).await;
    let response = try_register(
        &app,
        &admin,
        &json!({"url": receiver.url(), "event_types": ["status_changed"]}),
    )
    .await;
    assert_problem(response, 422).await;

    // The admin registers one for the CAF; the CAF sees it among its own.
    let organizations = app.get_json("/v1/organizations?limit=200", &admin).await;
    let caf_id = organizations["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "CAF des Hautes-Alpes")
        .unwrap()["id"]
        .clone();
    let (for_caf, _) = app
        .post_ok(
            "/v1/webhooks",
            &admin,
            &json!({"url": receiver.url(), "event_types": ["status_changed"], "organization_id": caf_id}),
            201,
        )
        .await;
    // One webhook per URL: a retried registration is told where the first is.
    let response = try_register(
        &app,
        &caf,
        &json!({"url": receiver.url(), "event_types": ["status_changed"]}),
    )
    .await;
    let problem = assert_problem(response, 409).await;
    let first = for_caf["id"].as_str().unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("/v1/webhooks/{first}/secret")),
        "{problem}"
    );
    let own_url = format!("{}/own", receiver.url().trim_end_matches('/'));
    let (own, _) = register(&app, &caf, &own_url, &["status_changed"]).await;
    let listed = app.get_json("/v1/webhooks", &caf).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);

    // Deleted: pending deliveries are cancelled, nothing more is queued.
    let pathway = refer(&app, &caf, &staff, "Objection").await;
    move_to(&app, &staff, &pathway, "assessment").await;
    deliveries_until(&app, &caf, &own, |items| items.len() == 1).await;
    let id = for_caf["id"].as_str().unwrap();
    let response = app
        .with_token(Method::DELETE, &format!("/v1/webhooks/{id}"), &caf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let gone = deliveries_until(&app, &caf, id, |items| {
        items.len() == 1 && items[0]["status"] == "cancelled"
    })
    .await;
    assert_eq!(gone.len(), 1);
    assert_eq!(
        app.get_json(&format!("/v1/webhooks/{id}"), &caf).await["active"],
        false
    );
    // Once deleted, its URL can be registered again (and is deleted again,
    // so that the rest of the test counts one webhook).
    let (again, _) = register(&app, &caf, &receiver.url(), &["status_changed"]).await;
    let response = app
        .with_token(Method::DELETE, &format!("/v1/webhooks/{again}"), &caf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    // The person objects while a delivery waits: it is never sent.
    object_to_sharing(&app, &staff, &pathway).await;
    move_to(&app, &staff, &pathway, "orientation").await;
    receiver.up();
    deliveries_until(&app, &caf, &own, |items| {
        items.len() == 1 && items[0]["status"] == "cancelled"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        receiver.inbox.accepted().is_empty(),
        "nothing after an objection"
    );
    assert_eq!(deliveries(&app, &caf, id, "").await.len(), 1);
}

/// A facility's software is told of the orientations addressed to it and of
/// their statuses, signed, as its feed says; another facility hears nothing.
#[tokio::test]
async fn a_facility_receives_its_orientations_and_their_statuses() {
    use parcours::domain::Domain::Disability;
    use parcours::domain::facility_status::STATUS_SYSTEM;
    let app = TestApp::spawn_with(quick_retries, None).await;
    let receiver = Receiver::start().await;
    let other = Receiver::start().await;
    let admin = app.token_for(Admin).await;
    let mut facilities = Vec::new();
    for (name, finess) in [
        ("IME des Crêtes", "050000601"),
        ("MAS des Crêtes", "050000602"),
    ] {
        let (organization, _) = app
            .post_ok(
                "/v1/organizations",
                &admin,
                &json!({"kind": "facility", "name": name, "finess": finess}),
                201,
            )
            .await;
        facilities.push(organization["id"].as_str().unwrap().to_owned());
    }
    let ime = app.partner_token("IME des Crêtes").await;
    let mas = app.partner_token("MAS des Crêtes").await;
    let types = ["facility_notified", "facility_status_changed"];
    let (_, secret) = register(&app, &ime, &receiver.url(), &types).await;
    register(&app, &mas, &other.url(), &types).await;

    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let someone = crate::support::fixtures::person(&app, &staff, "Avertie").await;
    let (pathway, _) = crate::support::fixtures::open(&app, &staff, &someone, Disability).await;
    let (decision, _) = app
        .post_ok(
            &format!("/v1/pathways/{pathway}/decisions"),
            &staff.token,
            &json!({"authority": "cdaph", "qualification": "target",
                    "label": "Orientation en IME", "decided_on": "2026-11-02"}),
            201,
        )
        .await;
    let (follow_up, _) = app
        .post_ok(
            &format!(
                "/v1/decisions/{}/facilities",
                decision["id"].as_str().unwrap()
            ),
            &staff.token,
            &json!({"organization_id": facilities[0]}),
            201,
        )
        .await;
    let follow_up = follow_up["id"].as_str().unwrap();
    let response = app
        .send_json(
            Method::POST,
            &format!("/v1/facility-follow-ups/{follow_up}/statuses"),
            &staff.token,
            Some("\"v1\""),
            &json!({"status": {"system": STATUS_SYSTEM, "code": "42"}, "status_on": "2026-11-10"}),
        )
        .await;
    assert_eq!(response.status(), 200);

    let received = receiver.inbox.accepted_at_least(2).await;
    assert_eq!(
        types_of(&received),
        ["facility_notified", "facility_status_changed"]
    );
    for delivery in &received {
        assert!(signed_by(delivery, &secret));
        assert_eq!(delivery.json()["data"]["follow_up_id"], follow_up);
        assert!(!String::from_utf8_lossy(&delivery.body).contains("Avertie"));
    }
    let changed = received
        .iter()
        .find(|r| r.json()["type"] == "facility_status_changed")
        .unwrap();
    assert_eq!(changed.json()["data"]["facility_status"]["code"], "42");
    // The MAS was addressed nothing: nothing reached it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(other.inbox.accepted().is_empty());
}
