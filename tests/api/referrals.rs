//! Referrals as a CAF client makes them and as the département triages
//! them: a receipt tells nothing of what the département knew, and the
//! partner follows a pathway only once its referral is accepted, from then on.

use diesel_async::RunQueryDsl;
use parcours::domain::Domain::{Childhood, Disability, Insertion};
use parcours::domain::Role::{Coordinator, Supervisor};
use reqwest::Method;
use serde_json::{Value, json};

use parcours::http::subject_access::SubjectAccessDocument;

use crate::feed::{accept, feed_until};
use crate::support::fixtures::transition;
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

async fn refer_ok(app: &TestApp, token: &str, body: &Value) -> Value {
    let response = refer(app, token, &uuid::Uuid::now_v7().to_string(), body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
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

/// The receipt's fields but its identity and time.
fn shape(receipt: &Value) -> Value {
    let mut receipt = receipt.clone();
    let object = receipt.as_object_mut().unwrap();
    object.remove("id");
    object.remove("received_at");
    receipt
}

#[tokio::test]
async fn a_receipt_tells_nothing_of_a_file_the_partner_was_never_given() {
    let app = TestApp::spawn().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Childhood]).await;

    // A child followed by child protection, without solution for a while.
    let (child, _) = app
        .post_ok(
            "/v1/persons?confirm_new=true",
            &staff.token,
            &json!({"family_name": "Lambert", "given_names": "Théo", "birth_date": "2012-06-01",
                    "commune_insee": "05061", "territory_id": app.territory("05-GAP").await}),
            201,
        )
        .await;
    let (opened, mut etag) = app
        .post_ok(
            "/v1/pathways",
            &staff.token,
            &json!({"person_id": child["id"], "domain": Childhood, "opened_on": "2019-03-01",
                    "reason": "Information préoccupante"}),
            201,
        )
        .await;
    let pathway = opened["id"].as_str().unwrap().to_owned();
    for to in ["assessment", "orientation", "without_solution"] {
        etag = transition(&app, &staff.token, &pathway, &etag, to, None, 200)
            .await
            .1;
    }

    // The CAF knows the name and the birth date, and refers the child.
    let mut body = json!({
        "family_name": "Lambert", "given_names": "Théo", "birth_date": "2012-06-01",
        "commune_insee": "05061", "domain": "childhood", "reason": "Signalement",
    });
    let known = refer_ok(&app, &caf, &body).await;
    body["family_name"] = json!("Inconnu");
    let unknown = refer_ok(&app, &caf, &body).await;
    // Both receipts say the same thing: received, nothing else.
    assert_eq!(shape(&known), shape(&unknown));
    assert_eq!(
        shape(&known),
        json!({"domain": "childhood", "status": "pending", "decided_at": null,
               "decline_reason": null, "pathway_id": null})
    );
    let read = app
        .get_json(
            &format!("/v1/referrals/{}", known["id"].as_str().unwrap()),
            &caf,
        )
        .await;
    assert_eq!(shape(&read), shape(&known));
    // Nothing entered its scope: no pathway, no feed.
    let response = app
        .with_token(
            Method::GET,
            &format!("/v1/partner/pathways/{pathway}"),
            &caf,
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    let feed = app.get_json("/v1/feed", &caf).await;
    assert_eq!(feed["items"], json!([]));
    assert_eq!(
        count(&app, "persons").await,
        1,
        "no person made by a referral"
    );

    // The département accepts it into the open pathway: the CAF follows it
    // from now on, and sees nothing of what came before.
    let accepted = accept(&app, &staff, known["id"].as_str().unwrap(), &json!({})).await;
    assert_eq!(accepted["pathway_id"], pathway.as_str());
    assert_eq!(accepted["person_matched"], true);
    assert_eq!(accepted["pathway_opened"], false);
    let read = app
        .get_json(
            &format!("/v1/referrals/{}", known["id"].as_str().unwrap()),
            &caf,
        )
        .await;
    assert_eq!(read["status"], "accepted");
    assert_eq!(read["pathway_id"], pathway.as_str());
    // The child's file, as the right of access hands it over, holds the
    // referral as recorded (read through its documented schema).
    let child_id = child["id"].as_str().unwrap();
    let file: SubjectAccessDocument = app
        .get_as(&format!("/v1/persons/{child_id}/export"), &staff.token)
        .await;
    assert_eq!(file.referrals.len(), 1);
    assert_eq!(
        file.referrals[0].id.to_string(),
        known["id"].as_str().unwrap()
    );
    assert_eq!(file.referrals[0].reason, "Signalement");
    let view = app
        .get_json(&format!("/v1/partner/pathways/{pathway}"), &caf)
        .await;
    assert_eq!(view["status"], "without_solution");
    assert!(
        view["opened_on"].is_null(),
        "opened before it was given: {view}"
    );
    assert_eq!(view["status_since"], view["followed_since"]);
    let (items, _) = feed_until(&app, &caf, None, 1).await;
    let kinds: Vec<&str> = items.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["referral_accepted"],
        "no history replayed: {items:?}"
    );
    assert_eq!(items[0]["referral_id"], known["id"]);
    // The staff's timeline shows the acceptance.
    let timeline = app
        .get_json(&format!("/v1/pathways/{pathway}/timeline"), &staff.token)
        .await;
    let last = timeline["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["kind"], "referral_accepted");
}

#[tokio::test]
async fn retried_and_concurrent_referrals_make_one_person_and_one_pathway() {
    let app = TestApp::spawn().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let body = referral("Perrin", "1234567");

    let first = refer(&app, &caf, "ref-1", &body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["status"], "pending");
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
    assert_eq!(
        count(&app, "pathways").await,
        0,
        "nothing opened before triage"
    );

    // Two more referrals of the same person (new keys): queued.
    let second = refer_ok(&app, &caf, &body).await;
    let third = refer_ok(&app, &caf, &body).await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;
    let queue = app
        .get_json("/v1/referrals?status=pending", &staff.token)
        .await;
    let ids: Vec<&Value> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&first["id"], &second["id"], &third["id"]]);
    assert_eq!(queue["items"][0]["family_name"], "Perrin");
    assert_eq!(queue["items"][0]["partner_number"], "1234567");

    // Two staff accept two of them at once: one person, one pathway.
    let nothing = json!({});
    let (x, y) = tokio::join!(
        accept(&app, &staff, first["id"].as_str().unwrap(), &nothing),
        accept(&app, &staff, second["id"].as_str().unwrap(), &nothing)
    );
    assert_eq!(x["pathway_id"], y["pathway_id"]);
    accept(&app, &staff, third["id"].as_str().unwrap(), &json!({})).await;
    assert_eq!(count(&app, "persons").await, 1);
    assert_eq!(count(&app, "pathways").await, 1);
    let pending = app
        .get_json("/v1/referrals?status=pending", &staff.token)
        .await;
    assert_eq!(pending["items"], json!([]));
    // Accepting again is refused: it was decided.
    let response = app
        .send_json(
            Method::POST,
            &format!("/v1/referrals/{}/accept", first["id"].as_str().unwrap()),
            &staff.token,
            None,
            &json!({}),
        )
        .await;
    assert_problem(response, 409).await;

    let pathway = x["pathway_id"].as_str().unwrap();
    let timeline = app
        .get_json(&format!("/v1/pathways/{pathway}/timeline"), &staff.token)
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
            "referral_accepted",
            "referral_accepted",
            "referral_accepted"
        ]
    );
    let person = app
        .get_json(
            &format!("/v1/persons/{}", x["person_id"].as_str().unwrap()),
            &staff.token,
        )
        .await;
    assert_eq!(person["caf_number"], "1234567");
}

#[tokio::test]
async fn a_declined_referral_opens_nothing_and_tells_the_partner_why() {
    let app = TestApp::spawn().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Insertion]).await;
    let receipt = refer_ok(&app, &caf, &referral("Vidal", "2222222")).await;
    let id = receipt["id"].as_str().unwrap();
    let (declined, _) = app
        .post_ok(
            &format!("/v1/referrals/{id}/decline"),
            &staff.token,
            &json!({"reason": "already_supported", "comment": "Suivie par le CCAS de Gap"}),
            200,
        )
        .await;
    assert_eq!(declined["status"], "declined");
    let read = app.get_json(&format!("/v1/referrals/{id}"), &caf).await;
    assert_eq!(read["status"], "declined");
    assert_eq!(read["decline_reason"], "already_supported");
    assert!(
        !read.to_string().contains("CCAS"),
        "the comment stays: {read}"
    );
    let (items, _) = feed_until(&app, &caf, None, 1).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["kind"], "referral_declined");
    assert_eq!(items[0]["referral_id"], id);
    assert_eq!(items[0]["decline_reason"], "already_supported");
    assert!(items[0]["pathway_id"].is_null());
    assert_eq!(count(&app, "persons").await, 0);
    assert_eq!(count(&app, "pathways").await, 0);
    // Decided once: accepting or declining again is a conflict.
    for action in ["accept", "decline"] {
        let response = app
            .send_json(
                Method::POST,
                &format!("/v1/referrals/{id}/{action}"),
                &staff.token,
                None,
                &json!({"reason": "other"}),
            )
            .await;
        let status = response.status().as_u16();
        assert!(status == 409 || status == 400, "{action}: {status}");
    }
    // A reason outside the list is a 400 naming the field.
    let other = refer_ok(&app, &caf, &referral("Vidal", "2222222")).await;
    let response = app
        .send_json(
            Method::POST,
            &format!("/v1/referrals/{}/decline", other["id"].as_str().unwrap()),
            &staff.token,
            None,
            &json!({"reason": "bof"}),
        )
        .await;
    let problem = assert_problem(response, 400).await;
    assert_eq!(problem["errors"][0]["field"], "reason");
}

#[tokio::test]
async fn the_queue_is_the_territorys_and_a_coordinator_can_take_the_file() {
    let app = TestApp::spawn().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let receipt = refer_ok(&app, &caf, &referral("Garnier", "3333333")).await;
    let id = receipt["id"].as_str().unwrap();

    // Staff of another territory, or of another domain, see nothing of it.
    for outsider in [
        app.staff(Supervisor, &["05-BRI"], &[Insertion]).await,
        app.staff(Coordinator, &["05-GAP"], &[Disability]).await,
    ] {
        let queue = app.get_json("/v1/referrals", &outsider.token).await;
        assert_eq!(queue["items"], json!([]));
        let response = app
            .send_json(
                Method::POST,
                &format!("/v1/referrals/{id}/accept"),
                &outsider.token,
                None,
                &json!({}),
            )
            .await;
        assert_problem(response, 404).await;
    }

    // A coordinator of the territory takes it as referent and moves it on
    // at once, without waiting for a supervisor.
    let coordinator = app.staff(Coordinator, &["05-GAP"], &[Insertion]).await;
    let queue = app
        .get_json(
            "/v1/referrals?status=pending&domain=insertion",
            &coordinator.token,
        )
        .await;
    assert_eq!(queue["items"][0]["id"], id);
    let accepted = accept(&app, &coordinator, id, &json!({"take_as_referent": true})).await;
    let pathway = accepted["pathway_id"].as_str().unwrap();
    let path = format!("/v1/pathways/{pathway}");
    let response = app
        .with_token(Method::GET, &path, &coordinator.token)
        .send()
        .await
        .unwrap();
    let etag = etag_of(&response);
    let read: Value = response.json().await.unwrap();
    assert_eq!(read["referent_id"], coordinator.user.id.to_string());
    transition(
        &app,
        &coordinator.token,
        pathway,
        &etag,
        "assessment",
        None,
        200,
    )
    .await;
}

#[tokio::test]
async fn a_second_partner_adds_its_number_and_never_overwrites_one() {
    let app = TestApp::spawn().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let msa = app.partner_token("MSA Alpes-Vaucluse").await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;
    let first = refer_ok(&app, &caf, &referral("Bonnet", "4444444")).await;
    let first = accept(&app, &staff, first["id"].as_str().unwrap(), &json!({})).await;
    // The MSA refers the same person by name and birth date, with its number.
    let by_msa = refer_ok(&app, &msa, &referral("Bonnet", "MSA123456")).await;
    let by_msa = accept(&app, &staff, by_msa["id"].as_str().unwrap(), &json!({})).await;
    assert_eq!(by_msa["person_id"], first["person_id"]);
    assert_eq!(by_msa["partner_number_differs"], false);
    let person_path = format!("/v1/persons/{}", first["person_id"].as_str().unwrap());
    let person = app.get_json(&person_path, &staff.token).await;
    assert_eq!(person["caf_number"], "4444444");
    assert_eq!(person["msa_number"], "MSA123456");
    // The MSA's next referral matches by its number, whatever the name.
    let again = refer_ok(&app, &msa, &referral("Bonet-Durand", "MSA123456")).await;
    let again = accept(&app, &staff, again["id"].as_str().unwrap(), &json!({})).await;
    assert_eq!(again["person_id"], first["person_id"]);
    // A different CAF number for her is kept on the referral, not the person.
    let mut body = referral("Bonnet", "5555555");
    body["given_names"] = json!("Noémie");
    let other = refer_ok(&app, &caf, &body).await;
    let other = accept(&app, &staff, other["id"].as_str().unwrap(), &json!({})).await;
    assert_eq!(other["person_id"], first["person_id"]);
    assert_eq!(other["partner_number_differs"], true);
    let person = app.get_json(&person_path, &staff.token).await;
    assert_eq!(person["caf_number"], "4444444");
}

#[tokio::test]
async fn partners_see_only_their_receipts_and_nothing_of_an_objection() {
    let app = TestApp::spawn().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let msa = app.partner_token("MSA Alpes-Vaucluse").await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;
    let receipt = refer_ok(&app, &caf, &referral("Masson", "7654321")).await;
    let path = format!("/v1/referrals/{}", receipt["id"].as_str().unwrap());
    let response = app
        .with_token(Method::GET, &path, &msa)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    // Partners do not see the queue.
    let response = app
        .with_token(Method::GET, "/v1/referrals", &caf)
        .send()
        .await
        .unwrap();
    assert_problem(response, 403).await;

    let accepted = accept(&app, &staff, receipt["id"].as_str().unwrap(), &json!({})).await;
    let pathway = accepted["pathway_id"].as_str().unwrap().to_owned();
    crate::feed::object_to_sharing(&app, &staff, &pathway).await;
    // The person objects to sharing: the CAF keeps a bare receipt.
    let receipt = app.get_json(&path, &caf).await;
    assert_eq!(receipt["status"], "accepted");
    assert!(receipt["pathway_id"].is_null());
    let response = app
        .with_token(
            Method::GET,
            &format!("/v1/partner/pathways/{pathway}"),
            &caf,
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
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
    assert_eq!(count(&app, "referrals").await, 0);
}
