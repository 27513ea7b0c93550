//! The partners' change feed: minimal, scoped, resumable, and never
//! skipping the event of a transaction that commits late.

use diesel_async::RunQueryDsl;
use parcours::domain::Domain::Insertion;
use parcours::domain::Role::Supervisor;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::within;
use crate::support::{Staff, TestApp, etag_of};

/// Refers a person as `token` and has `staff` accept the referral;
/// returns the pathway id.
pub async fn refer(app: &TestApp, token: &str, staff: &Staff, family: &str) -> String {
    let response = app
        .with_token(Method::POST, "/v1/referrals", token)
        .header("idempotency-key", uuid::Uuid::now_v7().to_string())
        .json(&json!({
            "family_name": family, "given_names": "Jade", "birth_date": "1995-05-05",
            "commune_insee": "05061", "domain": "insertion", "reason": "RSA",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    assert_eq!(receipt["status"], "pending");
    let accepted = accept(app, staff, receipt["id"].as_str().unwrap(), &json!({})).await;
    accepted["pathway_id"].as_str().unwrap().to_owned()
}

/// `staff` accepts a referral; returns what the queue now says of it.
pub async fn accept(app: &TestApp, staff: &Staff, referral: &str, body: &Value) -> Value {
    let path = format!("/v1/referrals/{referral}/accept");
    app.post_ok(&path, &staff.token, body, 200).await.0
}

async fn feed(app: &TestApp, token: &str, after: Option<&str>) -> (Vec<Value>, Option<String>) {
    let path = match after {
        Some(cursor) => format!("/v1/feed?after={cursor}"),
        None => "/v1/feed".to_owned(),
    };
    let page = app.get_json(&path, token).await;
    (
        page["items"].as_array().unwrap().clone(),
        page["next_cursor"].as_str().map(str::to_owned),
    )
}

/// The feed once it holds `n` events: the horizon is the whole server's,
/// and another test's transaction may hold it back for a moment.
pub async fn feed_until(
    app: &TestApp,
    token: &str,
    after: Option<&str>,
    n: usize,
) -> (Vec<Value>, Option<String>) {
    let enough = within(std::time::Duration::from_secs(10), || async {
        let page = feed(app, token, after).await;
        (page.0.len() >= n).then_some(page)
    })
    .await;
    match enough {
        Some(page) => page,
        None => feed(app, token, after).await,
    }
}

pub async fn move_to(app: &TestApp, staff: &Staff, pathway: &str, to: &str) {
    let path = format!("/v1/pathways/{pathway}");
    let response = app
        .with_token(Method::GET, &path, &staff.token)
        .send()
        .await
        .unwrap();
    let etag = etag_of(&response);
    let response = app
        .send_json(
            Method::POST,
            &format!("{path}/transitions"),
            &staff.token,
            Some(&etag),
            &json!({"to": to, "reason": "Motif confidentiel du changement"}),
        )
        .await;
    assert_eq!(response.status(), 200);
}

/// The person of `pathway` objects to sharing with partners.
pub async fn object_to_sharing(app: &TestApp, staff: &Staff, pathway: &str) {
    let person = app
        .get_json(&format!("/v1/pathways/{pathway}"), &staff.token)
        .await["person_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/persons/{person}");
    let response = app
        .with_token(Method::GET, &path, &staff.token)
        .send()
        .await
        .unwrap();
    let etag = etag_of(&response);
    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &staff.token,
            Some(&etag),
            &json!({"sharing_objection": true}),
        )
        .await;
    assert_eq!(response.status(), 200);
}

fn kinds(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["kind"].as_str().unwrap(),
                e["status"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[tokio::test]
async fn a_partner_follows_its_pathways_in_minimal_terms_and_resumes() {
    let app = TestApp::spawn().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let msa = app.partner_token("MSA Alpes-Vaucluse").await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;
    let pathway = refer(&app, &caf, &staff, "Flux").await;

    let (first, cursor) = feed_until(&app, &caf, None, 2).await;
    assert_eq!(
        kinds(&first),
        ["pathway_opened:in_progress", "referral_accepted:"]
    );
    move_to(&app, &staff, &pathway, "assessment").await;
    move_to(&app, &staff, &pathway, "orientation").await;
    move_to(&app, &staff, &pathway, "without_solution").await;
    app.post_ok(
        &format!("/v1/pathways/{pathway}/notes"),
        &staff.token,
        &json!({"visibility": "team", "body": "Note interne"}),
        201,
    )
    .await;
    let (plan, _) = app
        .post_ok(
            &format!("/v1/pathways/{pathway}/plans"),
            &staff.token,
            &json!({"kind": "engagement_contract"}),
            201,
        )
        .await;
    let organizations = app
        .get_json("/v1/organizations?limit=200", &staff.token)
        .await;
    let id_of = |name: &str| {
        organizations["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .unwrap()["id"]
            .clone()
    };
    let plan_path = format!("/v1/plans/{}/commitments", plan["id"].as_str().unwrap());
    let (commitment, etag) = app
        .post_ok(
            &plan_path,
            &staff.token,
            &json!({"organization_id": id_of("CAF des Hautes-Alpes"), "description": "Versement RSA"}),
            201,
        )
        .await;
    app.post_ok(
        &plan_path,
        &staff.token,
        &json!({"organization_id": id_of("MSA Alpes-Vaucluse"), "description": "Autre partenaire"}),
        201,
    )
    .await;
    let response = app
        .send_json(
            Method::PATCH,
            &format!("/v1/commitments/{}", commitment["id"].as_str().unwrap()),
            &caf,
            Some(&etag),
            &json!({"status": "accepted"}),
        )
        .await;
    assert_eq!(response.status(), 200);

    // Resumed from the cursor: status changes and its own commitment only,
    // proposed then accepted.
    let (next, _) = feed_until(&app, &caf, cursor.as_deref(), 5).await;
    assert_eq!(
        kinds(&next),
        [
            "status_changed:in_progress",
            "status_changed:in_progress",
            "status_changed:without_solution",
            "commitment_added:",
            "commitment_updated:",
        ]
    );
    assert_eq!(next[3]["commitment_status"], "proposed");
    assert_eq!(next[4]["commitment_status"], "accepted");
    let text = Value::Array(next.clone()).to_string();
    assert!(
        !text.contains("confidentiel") && !text.contains("Note interne"),
        "{text}"
    );
    // From any event's cursor, the events after it.
    let (tail, _) = feed(&app, &caf, next[2]["cursor"].as_str()).await;
    assert_eq!(tail.len(), 2);
    // Nothing new: the same cursor comes back.
    let end = next[4]["cursor"].as_str().unwrap();
    let (none, same) = feed(&app, &caf, Some(end)).await;
    assert!(none.is_empty());
    assert_eq!(same.as_deref(), Some(end));
    // The MSA follows the pathway from its commitment on: nothing earlier,
    // nothing of the CAF's.
    let (msa_items, _) = feed_until(&app, &msa, None, 1).await;
    assert_eq!(kinds(&msa_items), ["commitment_added:"]);

    // Once the person objects to sharing, the pathway leaves the feed.
    object_to_sharing(&app, &staff, &pathway).await;
    let (hidden, _) = feed(&app, &caf, None).await;
    assert!(hidden.is_empty());
}

#[tokio::test]
async fn a_slow_transaction_is_not_skipped() {
    let app = TestApp::spawn().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;
    let pathway = refer(&app, &caf, &staff, "Lent").await;
    let other = refer(&app, &caf, &staff, "Rapide").await;
    let (_, cursor) = feed_until(&app, &caf, None, 4).await;

    // A transaction moves a pathway, writes its event and stays open…
    let mut slow = app.db.connect().await;
    diesel::sql_query("BEGIN").execute(&mut slow).await.unwrap();
    for statement in [
        "UPDATE pathways SET status = 'assessment' WHERE id = $1",
        "INSERT INTO pathway_events (pathway_id, kind, data) \
         VALUES ($1, 'status_changed', '{\"from\": \"referred\", \"to\": \"assessment\"}')",
    ] {
        diesel::sql_query(statement)
            .bind::<diesel::sql_types::Uuid, _>(pathway.parse::<uuid::Uuid>().unwrap())
            .execute(&mut slow)
            .await
            .unwrap();
    }
    // …while a later change commits (on another pathway: the open
    // transaction holds a key-share lock on the first one).
    move_to(&app, &staff, &other, "assessment").await;
    let (meanwhile, held) = feed(&app, &caf, cursor.as_deref()).await;
    assert!(
        meanwhile.is_empty(),
        "nothing passes the open transaction: {meanwhile:?}"
    );
    assert_eq!(held, cursor);

    diesel::sql_query("COMMIT")
        .execute(&mut slow)
        .await
        .unwrap();
    let (after, _) = feed_until(&app, &caf, held.as_deref(), 2).await;
    assert_eq!(
        after.len(),
        2,
        "the slow event, then the later one: {after:?}"
    );
}

#[tokio::test]
async fn the_feed_pages_within_the_bound_of_every_list() {
    let app = TestApp::spawn().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let ok = app
        .with_token(Method::GET, "/v1/feed?limit=200", &caf)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let response = app
        .with_token(Method::GET, "/v1/feed?limit=201", &caf)
        .send()
        .await
        .unwrap();
    let problem = crate::support::assert_problem(response, 400).await;
    assert_eq!(problem["errors"][0]["field"], "limit", "{problem}");
}
