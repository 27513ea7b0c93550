//! Referrals as a CAF client makes them: retried, concurrent, matched,
//! followed — and nothing more shown than the receipt.

use diesel_async::RunQueryDsl;
use parcours::domain::Domain::{Disability, Insertion};
use parcours::domain::Role::Supervisor;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem, etag_of};

fn referral(family: &str, number: &str) -> Value {
    json!({
        "family_name": family,
        "given_names": "Noémie",
        "birth_date": "1988-02-14",
        "commune_insee": "05061",
        "partner_number": number,
        "domain": "insertion",
        "reason": "Fin de droits, demande d'accompagnement",
        "contact": "Service social CAF 05 — 04 92 00 00 00",
    })
}

async fn refer(app: &TestApp, token: &str, key: &str, body: &Value) -> reqwest::Response {
    app.with_token(Method::POST, "/v1/referrals", token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn count(app: &TestApp, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.db.connect().await;
    diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result::<Count>(&mut conn)
        .await
        .unwrap()
        .n
}

#[tokio::test]
async fn a_referral_retried_and_repeated_opens_one_pathway() {
    let app = TestApp::spawn().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let body = referral("Perrin", "1234567");

    let first = refer(&app, &caf, "ref-1", &body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["status"], "in_progress");
    assert_eq!(first["service"], "Gapençais");
    assert!(
        first.get("person_id").is_none(),
        "no person data in a receipt"
    );
    // Retried three times, once concurrently: the same receipt.
    let (a, b) = tokio::join!(
        refer(&app, &caf, "ref-1", &body),
        refer(&app, &caf, "ref-1", &body)
    );
    let c = refer(&app, &caf, "ref-1", &body).await;
    for response in [a, b, c] {
        let status = response.status().as_u16();
        assert!(status == 201 || status == 409, "{status}");
        if status == 201 {
            assert_eq!(response.headers()["idempotent-replayed"], "true");
            let again: Value = response.json().await.unwrap();
            assert_eq!(again["id"], first["id"]);
        }
    }
    assert_eq!(count(&app, "referrals").await, 1);
    assert_eq!(count(&app, "pathways").await, 1);

    // Two new referrals of the same person at once (new keys): matched by
    // the CAF number and birth date, they join the open pathway.
    let (x, y) = tokio::join!(
        refer(&app, &caf, "ref-2", &body),
        refer(&app, &caf, "ref-3", &body)
    );
    assert_eq!(x.status(), 201);
    assert_eq!(y.status(), 201);
    assert_eq!(count(&app, "referrals").await, 3);
    assert_eq!(count(&app, "persons").await, 1);
    assert_eq!(count(&app, "pathways").await, 1);

    // The département sees the person, the referred pathway and the referral.
    let staff = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;
    let pathways = app.get_json("/v1/pathways", &staff.token).await;
    let pathway = &pathways["items"][0];
    assert_eq!(pathway["status"], "referred");
    let timeline = app
        .get_json(
            &format!("/v1/pathways/{}/timeline", pathway["id"].as_str().unwrap()),
            &staff.token,
        )
        .await;
    let kinds: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "pathway_opened",
            "referral_received",
            "referral_received",
            "referral_received"
        ]
    );
    let person = app
        .get_json(
            &format!("/v1/persons/{}", pathway["person_id"].as_str().unwrap()),
            &staff.token,
        )
        .await;
    assert_eq!(person["caf_number"], "1234567");

    // The receipt follows the pathway, in coarse terms.
    let path = format!("/v1/pathways/{}", pathway["id"].as_str().unwrap());
    for to in ["assessment", "orientation", "without_solution"] {
        let response = app
            .send_json(
                Method::POST,
                &format!("{path}/transitions"),
                &staff.token,
                Some(&current_etag(&app, &path, &staff.token).await),
                &json!({"to": to, "reason": "suivi"}),
            )
            .await;
        assert_eq!(response.status(), 200);
    }
    let receipt = app
        .get_json(
            &format!("/v1/referrals/{}", first["id"].as_str().unwrap()),
            &caf,
        )
        .await;
    assert_eq!(receipt["status"], "without_solution");
}

async fn current_etag(app: &TestApp, path: &str, token: &str) -> String {
    let response = app
        .with_token(Method::GET, path, token)
        .send()
        .await
        .unwrap();
    etag_of(&response)
}

#[tokio::test]
async fn partners_see_only_their_receipts_and_nothing_of_an_objection() {
    let app = TestApp::spawn().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let msa = app.partner_token("MSA Alpes-Vaucluse").await;
    let response = refer(&app, &caf, "k", &referral("Masson", "7654321")).await;
    let receipt: Value = response.json().await.unwrap();
    let path = format!("/v1/referrals/{}", receipt["id"].as_str().unwrap());
    let response = app
        .with_token(Method::GET, &path, &msa)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;

    // The person objects to sharing: the CAF keeps the bare receipt.
    let staff = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;
    let pathways = app.get_json("/v1/pathways", &staff.token).await;
    let person_path = format!(
        "/v1/persons/{}",
        pathways["items"][0]["person_id"].as_str().unwrap()
    );
    let response = app
        .with_token(Method::GET, &person_path, &staff.token)
        .send()
        .await
        .unwrap();
    let etag = etag_of(&response);
    let response = app
        .send_json(
            Method::PATCH,
            &person_path,
            &staff.token,
            Some(&etag),
            &json!({"sharing_objection": true}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let receipt = app.get_json(&path, &caf).await;
    assert_eq!(receipt["status"], "received");
    assert!(receipt["service"].is_null());
}

#[tokio::test]
async fn referrals_follow_the_rollout_and_the_communes_covered() {
    let app = TestApp::spawn().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let admin = app.token_for(parcours::domain::Role::Admin).await;
    let response = app
        .with_token(Method::GET, "/v1/domains/disability", &admin)
        .send()
        .await
        .unwrap();
    let etag = etag_of(&response);
    let response = app
        .send_json(
            Method::PUT,
            "/v1/domains/disability",
            &admin,
            Some(&etag),
            &json!({"opens_on": "2099-01-01"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let mut body = referral("Roche", "1111111");
    body["domain"] = json!(Disability);
    let response = refer(&app, &caf, "a", &body).await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["type"], "urn:parcours:problem:domain-not-open");

    let mut body = referral("Roche", "1111111");
    body["commune_insee"] = json!("75056");
    let response = refer(&app, &caf, "b", &body).await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "commune_insee");
    let response = refer(&app, &caf, "c", &json!({"domain": "insertion"})).await;
    assert_problem(response, 400).await;
    assert_eq!(count(&app, "persons").await, 0);
}
