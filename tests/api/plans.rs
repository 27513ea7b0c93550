//! Plans and commitments: kinds by domain, consent, review dates, one
//! active plan, and partners updating their own commitments only.

use chrono::{Days, Months, Utc};
use parcours::domain::Domain::{Disability, Elderly};
use parcours::domain::Role::{Coordinator, Partner, Supervisor};
use parcours::domain::{CommitmentStatus, PlanStatus};
use parcours::http::commitments::CommitmentView;
use parcours::http::plans::PlanView;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::fixtures::{open, organization, person};
use crate::support::{TestApp, assert_problem, etag_of, view};

async fn move_plan(
    app: &TestApp,
    token: &str,
    plan: &str,
    etag: &str,
    body: Value,
) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("/v1/plans/{plan}/transitions"),
        token,
        Some(etag),
        &body,
    )
    .await
}

#[tokio::test]
async fn plans_follow_their_domain_consent_and_review_rules() {
    let app = TestApp::spawn().await;
    let staff = app
        .staff(Coordinator, &["05-GAP"], &[Disability, Elderly])
        .await;
    let someone = person(&app, &staff, "Plan").await;
    let (disability, _) = open(&app, &staff, &someone, Disability).await;
    let (elderly, _) = open(&app, &staff, &someone, Elderly).await;

    let response = app
        .send_json(
            Method::POST,
            &format!("/v1/pathways/{disability}/plans"),
            &staff.token,
            None,
            &json!({"kind": "care_plan"}),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "kind");
    app.post_ok(
        &format!("/v1/pathways/{elderly}/plans"),
        &staff.token,
        &json!({"kind": "care_plan"}),
        201,
    )
    .await;

    let (plan, etag) = app
        .post_ok(
            &format!("/v1/pathways/{disability}/plans"),
            &staff.token,
            &json!({"kind": "pag"}),
            201,
        )
        .await;
    let id = plan["id"].as_str().unwrap();
    let started: PlanView = view(plan.clone());
    assert_eq!(started.status, PlanStatus::Draft);
    assert_eq!(started.coordinator_id, staff.user.id);

    // No activation without consent.
    let response = move_plan(&app, &staff.token, id, &etag, json!({"to": "active"})).await;
    let problem = assert_problem(response, 409).await;
    assert_eq!(problem["allowed"], json!(["proposed", "ended"]));
    let response = move_plan(&app, &staff.token, id, &etag, json!({"to": "proposed"})).await;
    let etag = etag_of(&response);
    let response = move_plan(&app, &staff.token, id, &etag, json!({"to": "consented"})).await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "consent");
    let today = Utc::now().date_naive();
    let response = move_plan(
        &app,
        &staff.token,
        id,
        &etag,
        json!({"to": "consented", "consent": {"by": "legal_representative", "given_on": today}}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let etag = etag_of(&response);

    // The review is due at most 12 months after activation.
    let too_late = today.checked_add_months(Months::new(12)).unwrap() + Days::new(1);
    let response = move_plan(
        &app,
        &staff.token,
        id,
        &etag,
        json!({"to": "active", "review_due": too_late}),
    )
    .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "review_due");
    let response = move_plan(&app, &staff.token, id, &etag, json!({"to": "active"})).await;
    assert_eq!(response.status(), 200);
    let etag = etag_of(&response);
    let active: PlanView = response.json().await.unwrap();
    assert_eq!(active.status, PlanStatus::Active);
    assert_eq!(
        active.review_due,
        today.checked_add_months(Months::new(12)),
        "defaults to the latest date allowed"
    );
    let response = app
        .send_json(
            Method::PATCH,
            &format!("/v1/plans/{id}"),
            &staff.token,
            Some(&etag),
            &json!({"review_due": too_late}),
        )
        .await;
    assert_problem(response, 422).await;

    // One active plan per pathway.
    let (second, second_etag) = app
        .post_ok(
            &format!("/v1/pathways/{disability}/plans"),
            &staff.token,
            &json!({"kind": "pag"}),
            201,
        )
        .await;
    let second = second["id"].as_str().unwrap();
    let mut etag2 = second_etag;
    for body in [
        json!({"to": "proposed"}),
        json!({"to": "consented", "consent": {"by": "person", "given_on": today}}),
    ] {
        let response = move_plan(&app, &staff.token, second, &etag2, body).await;
        assert_eq!(response.status(), 200);
        etag2 = etag_of(&response);
    }
    let response = move_plan(&app, &staff.token, second, &etag2, json!({"to": "active"})).await;
    let problem = assert_problem(response, 409).await;
    assert!(problem["detail"].as_str().unwrap().contains("active plan"));

    // Ending needs a coded reason, for a PAG a national one (TRE_R421);
    // then the second plan can start.
    let response = move_plan(&app, &staff.token, id, &etag, json!({"to": "ended"})).await;
    assert_problem(response, 422).await;
    let response = move_plan(
        &app,
        &staff.token,
        id,
        &etag,
        json!({"to": "ended", "end_reason": "replaced"}),
    )
    .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "end_reason");
    let response = move_plan(
        &app,
        &staff.token,
        id,
        &etag,
        json!({"to": "ended", "end_reason": "new_pag"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let ended: Value = response.json().await.unwrap();
    assert_eq!(
        ended["end_reason_code"],
        json!({"system": "https://smt.esante.gouv.fr/fhir/CodeSystem/tre-r421-motif-fin-pag",
               "code": "7", "display": "Elaboration d'un nouveau PAG"})
    );
    let response = move_plan(&app, &staff.token, second, &etag2, json!({"to": "active"})).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn partners_update_only_their_own_commitments() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let caf = app.token_for(Partner).await;
    let msa = app.partner_token("MSA Alpes-Vaucluse").await;
    let organizations = app
        .get_json("/v1/organizations?limit=200", &staff.token)
        .await;
    let caf_org = organizations["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "CAF des Hautes-Alpes")
        .unwrap()["id"]
        .clone();

    let mut commitments = Vec::new();
    for (family, objects) in [("Partage", false), ("Opposition", true)] {
        let someone = person(&app, &staff, family).await;
        if objects {
            let path = format!("/v1/persons/{someone}");
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
        let (pathway, _) = open(&app, &staff, &someone, Disability).await;
        let (plan, _) = app
            .post_ok(
                &format!("/v1/pathways/{pathway}/plans"),
                &staff.token,
                &json!({"kind": "pag"}),
                201,
            )
            .await;
        let (commitment, etag) = app
            .post_ok(
                &format!("/v1/plans/{}/commitments", plan["id"].as_str().unwrap()),
                &staff.token,
                &json!({"organization_id": caf_org, "description": "Versement de l'AEEH"}),
                201,
            )
            .await;
        commitments.push((commitment["id"].as_str().unwrap().to_owned(), etag));
    }
    let (shared, etag) = &commitments[0];
    let path = format!("/v1/commitments/{shared}");

    // The CAF sees and moves its commitment, status only.
    let read: CommitmentView = app.get_as(&path, &caf).await;
    assert_eq!(read.status, CommitmentStatus::Proposed);
    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &caf,
            Some(etag),
            &json!({"description": "autre chose"}),
        )
        .await;
    assert_problem(response, 403).await;
    // Proposed: it is carried out only once the CAF accepted it.
    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &caf,
            Some(etag),
            &json!({"status": "in_progress"}),
        )
        .await;
    let problem = assert_problem(response, 409).await;
    assert_eq!(
        problem["allowed"],
        json!(["accepted", "refused", "cancelled"])
    );
    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &caf,
            Some(etag),
            &json!({"status": "accepted"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["status"], "accepted");
    assert!(accepted["answered_at"].is_string());
    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &caf,
            Some("\"v2\""),
            &json!({"status": "in_progress"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let etag = etag_of(&response);
    // The MSA does not see it at all.
    let response = app
        .with_token(Method::GET, &path, &msa)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &msa,
            Some(&etag),
            &json!({"status": "breached"}),
        )
        .await;
    assert_problem(response, 404).await;
    // Nor does the CAF see anything of a person who objected to sharing.
    let (objected, objected_etag) = &commitments[1];
    let objected_path = format!("/v1/commitments/{objected}");
    let response = app
        .with_token(Method::GET, &objected_path, &caf)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    let response = app
        .send_json(
            Method::PATCH,
            &objected_path,
            &caf,
            Some(objected_etag),
            &json!({"status": "fulfilled"}),
        )
        .await;
    assert_problem(response, 404).await;

    // Staff see the partner's change.
    let read: CommitmentView = app.get_as(&path, &staff.token).await;
    assert_eq!(read.status, CommitmentStatus::InProgress);
}

/// A PAG as signed commitments: each is proposed to its organization, which
/// accepts it or refuses it with a reason; the plan is consented only once
/// every commitment still standing is accepted.
#[tokio::test]
async fn a_plan_is_consented_only_once_every_organization_accepted_its_commitment() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let someone = person(&app, &staff, "Engagée").await;
    let (pathway, _) = open(&app, &staff, &someone, Disability).await;
    let (plan, etag) = app
        .post_ok(
            &format!("/v1/pathways/{pathway}/plans"),
            &staff.token,
            &json!({"kind": "pag"}),
            201,
        )
        .await;
    let plan = plan["id"].as_str().unwrap().to_owned();
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
    let mut commitments = Vec::new();
    for (organization, description) in [
        ("CAF des Hautes-Alpes", "Maintien de l'AEEH"),
        ("MSA Alpes-Vaucluse", "Aide au répit"),
    ] {
        let (commitment, _) = app
            .post_ok(
                &format!("/v1/plans/{plan}/commitments"),
                &staff.token,
                &json!({"organization_id": id_of(organization), "description": description}),
                201,
            )
            .await;
        assert_eq!(commitment["status"], "proposed");
        assert_eq!(commitment["answered_at"], Value::Null);
        commitments.push(commitment["id"].as_str().unwrap().to_owned());
    }
    let patch = async |token: &str, id: &str, etag: &str, body: Value| {
        app.send_json(
            Method::PATCH,
            &format!("/v1/commitments/{id}"),
            token,
            Some(etag),
            &body,
        )
        .await
    };
    let consent = json!({"to": "consented", "consent": {"by": "person", "given_on": Utc::now().date_naive()}});
    let response = move_plan(&app, &staff.token, &plan, &etag, json!({"to": "proposed"})).await;
    let etag = etag_of(&response);

    // The CAF refuses: a reason is required, and only with a refusal.
    let response = patch(
        &caf,
        &commitments[0],
        "\"v1\"",
        json!({"status": "refused"}),
    )
    .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "refusal_reason");
    let response = patch(
        &caf,
        &commitments[0],
        "\"v1\"",
        json!({"status": "accepted", "refusal_reason": "no_capacity"}),
    )
    .await;
    assert_problem(response, 422).await;
    let response = patch(
        &caf,
        &commitments[0],
        "\"v1\"",
        json!({"status": "refused", "refusal_reason": "no_capacity"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let refused: CommitmentView = view(response.json().await.unwrap());
    assert_eq!(refused.status, CommitmentStatus::Refused);
    assert!(refused.answered_at.is_some());
    // A partner neither cancels nor proposes again: the referent does.
    let response = patch(
        &caf,
        &commitments[0],
        "\"v2\"",
        json!({"status": "proposed"}),
    )
    .await;
    assert_problem(response, 403).await;

    // Neither a refusal nor a proposal left unanswered lets the plan be consented.
    let response = move_plan(&app, &staff.token, &plan, &etag, consent.clone()).await;
    let problem = assert_problem(response, 409).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("2 commitment"),
        "{problem}"
    );
    // The problem names each one that holds the consent back.
    assert_eq!(
        problem["type"], "urn:parcours:problem:commitments-not-accepted",
        "{problem}"
    );
    let mut waiting: Vec<(String, String)> = problem["commitments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    waiting.sort();
    let mut expected = vec![
        (commitments[0].clone(), "refused".to_owned()),
        (commitments[1].clone(), "proposed".to_owned()),
    ];
    expected.sort();
    assert_eq!(waiting, expected);

    // The referent renegotiates: new terms are proposed again, and accepted.
    let response = patch(
        &staff.token,
        &commitments[0],
        "\"v2\"",
        json!({"description": "Maintien de l'AEEH, dossier déposé par la famille"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let renegotiated: Value = response.json().await.unwrap();
    assert_eq!(renegotiated["status"], "proposed");
    assert_eq!(renegotiated["refusal_reason"], Value::Null);
    let response = patch(
        &caf,
        &commitments[0],
        "\"v3\"",
        json!({"status": "accepted"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    // The MSA's is still only proposed; the referent cancels it (no longer needed).
    let response = move_plan(&app, &staff.token, &plan, &etag, consent.clone()).await;
    let problem = assert_problem(response, 409).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("1 commitment"),
        "{problem}"
    );
    let response = patch(
        &staff.token,
        &commitments[1],
        "\"v1\"",
        json!({"status": "cancelled"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let response = move_plan(&app, &staff.token, &plan, &etag, consent).await;
    assert_eq!(response.status(), 200);

    // An accepted commitment under way keeps its terms.
    let response = patch(
        &caf,
        &commitments[0],
        "\"v4\"",
        json!({"status": "in_progress"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let response = patch(
        &staff.token,
        &commitments[0],
        "\"v5\"",
        json!({"due_on": Utc::now().date_naive()}),
    )
    .await;
    assert_problem(response, 409).await;
    let response = patch(
        &caf,
        &commitments[0],
        "\"v5\"",
        json!({"status": "breached"}),
    )
    .await;
    assert_eq!(response.status(), 200);

    // A breached commitment does not keep the plan from being agreed to again.
    let plan_path = format!("/v1/plans/{plan}");
    let read = app
        .with_token(Method::GET, &plan_path, &staff.token)
        .send()
        .await
        .unwrap();
    let response = app
        .send_json(
            Method::PATCH,
            &plan_path,
            &staff.token,
            Some(&etag_of(&read)),
            &json!({"objectives": "Maintien des droits malgré la rupture"}),
        )
        .await;
    let changed: PlanView = view(response.json().await.unwrap());
    assert!(changed.needs_consent);
    let read = app
        .with_token(Method::GET, &plan_path, &staff.token)
        .send()
        .await
        .unwrap();
    let response = app
        .send_json(
            Method::POST,
            &format!("{plan_path}/consents"),
            &staff.token,
            Some(&etag_of(&read)),
            &json!({"by": "person", "given_on": Utc::now().date_naive()}),
        )
        .await;
    assert_eq!(response.status(), 200);

    // What each organization did, counted by hand: the CAF was proposed it
    // twice (again after new terms), refused once for capacity, accepted
    // once and broke it; the MSA was proposed one, cancelled unanswered.
    let indicators = app
        .get_json("/v1/indicators?domain=disability", &staff.token)
        .await;
    let by_name = |name: &str| {
        indicators["domains"][0]["commitments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .cloned()
            .unwrap()
    };
    let caf_row = by_name("CAF des Hautes-Alpes");
    assert_eq!(caf_row["proposed"], 2);
    assert_eq!(caf_row["accepted"], 1);
    assert_eq!(caf_row["refused_by_reason"], json!({"no_capacity": 1}));
    assert_eq!(caf_row["breached"], 1);
    let msa_row = by_name("MSA Alpes-Vaucluse");
    assert_eq!(
        (
            msa_row["proposed"].clone(),
            msa_row["accepted"].clone(),
            msa_row["breached"].clone()
        ),
        (json!(1), json!(0), json!(0))
    );
    assert_eq!(msa_row["refused_by_reason"], json!({}));
}

/// A consented plan is frozen: a change of content opens a new version the
/// person must agree to again, and every version agreed to stays readable.
#[tokio::test]
async fn a_change_after_consent_opens_a_new_version_that_needs_consent_again() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let msa = app.partner_token("MSA Alpes-Vaucluse").await;
    let someone = person(&app, &staff, "Versionnée").await;
    let (pathway, _) = open(&app, &staff, &someone, Disability).await;
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
    let (plan, etag) = app
        .post_ok(
            &format!("/v1/pathways/{pathway}/plans"),
            &staff.token,
            &json!({"kind": "pag", "objectives": "Scolarisation en ULIS"}),
            201,
        )
        .await;
    let plan = plan["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/plans/{plan}");
    let add = async |organization: &str, description: &str| -> String {
        let (commitment, _) = app
            .post_ok(
                &format!("{path}/commitments"),
                &staff.token,
                &json!({"organization_id": id_of(organization), "description": description}),
                201,
            )
            .await;
        commitment["id"].as_str().unwrap().to_owned()
    };
    let accept = async |token: &str, commitment: &str| {
        let response = app
            .send_json(
                Method::PATCH,
                &format!("/v1/commitments/{commitment}"),
                token,
                Some("\"v1\""),
                &json!({"status": "accepted"}),
            )
            .await;
        assert_eq!(response.status(), 200);
    };
    let today = Utc::now().date_naive();
    let first = add("CAF des Hautes-Alpes", "Maintien de l'AEEH").await;
    accept(&caf, &first).await;
    let response = move_plan(&app, &staff.token, &plan, &etag, json!({"to": "proposed"})).await;
    let etag = etag_of(&response);
    let consent = json!({"to": "consented", "consent": {"by": "person", "given_on": today}});
    let response = move_plan(&app, &staff.token, &plan, &etag, consent).await;
    let etag = etag_of(&response);
    let consented: PlanView = view(response.json().await.unwrap());
    assert_eq!(consented.version_number, 1);
    assert_eq!(consented.consented_version_number, Some(1));
    assert!(!consented.needs_consent);
    let response = move_plan(&app, &staff.token, &plan, &etag, json!({"to": "active"})).await;
    let etag = etag_of(&response);

    // New objectives and a new commitment: version 2, to be agreed again.
    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &staff.token,
            Some(&etag),
            &json!({"objectives": "Scolarisation en ULIS et accueil de loisirs"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let second = add("MSA Alpes-Vaucluse", "Aide au répit").await;
    let response = app
        .with_token(Method::GET, &path, &staff.token)
        .send()
        .await
        .unwrap();
    let etag = etag_of(&response);
    let changed: PlanView = view(response.json().await.unwrap());
    assert_eq!(changed.status, PlanStatus::Active);
    assert_eq!(
        (changed.version_number, changed.consented_version_number),
        (2, Some(1))
    );
    assert!(changed.needs_consent);
    assert_eq!(
        changed.pending_changes.as_deref(),
        Some(format!("objectives changed; commitment {second} added").as_str())
    );

    // Not before the MSA accepted its commitment.
    let again = json!({"by": "legal_representative", "given_on": today});
    let response = app
        .send_json(
            Method::POST,
            &format!("{path}/consents"),
            &staff.token,
            Some(&etag),
            &again,
        )
        .await;
    assert_problem(response, 409).await;
    accept(&msa, &second).await;
    let response = app
        .send_json(
            Method::POST,
            &format!("{path}/consents"),
            &staff.token,
            Some(&etag),
            &again,
        )
        .await;
    assert_eq!(response.status(), 200);
    let etag = etag_of(&response);
    let agreed: PlanView = view(response.json().await.unwrap());
    assert_eq!(agreed.consented_version_number, Some(2));
    assert!(!agreed.needs_consent && agreed.pending_changes.is_none());
    let response = app
        .send_json(
            Method::POST,
            &format!("{path}/consents"),
            &staff.token,
            Some(&etag),
            &again,
        )
        .await;
    assert_problem(response, 409).await;

    // Both versions, as each was agreed to.
    let versions = app
        .get_json(&format!("{path}/versions"), &staff.token)
        .await;
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["number"], 1);
    assert_eq!(versions[0]["objectives"], "Scolarisation en ULIS");
    assert_eq!(versions[0]["commitments"].as_array().unwrap().len(), 1);
    assert_eq!(
        versions[0]["consent"],
        json!({"by": "person", "given_on": today})
    );
    assert_eq!(versions[0]["changes"], Value::Null);
    assert_eq!(
        versions[1]["objectives"],
        "Scolarisation en ULIS et accueil de loisirs"
    );
    assert_eq!(versions[1]["commitments"].as_array().unwrap().len(), 2);
    assert_eq!(versions[1]["consent"]["by"], "legal_representative");
    assert!(versions[1]["changes"].as_str().unwrap().contains("added"));
    let timeline = app
        .get_json(&format!("/v1/pathways/{pathway}/timeline"), &staff.token)
        .await;
    assert!(
        timeline["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "plan_version_consented" && e["data"]["number"] == 2),
        "{timeline}"
    );
}

/// A proposal is answered by the organization it is addressed to. Staff
/// record an answer it gave another way only as such (`on_behalf_of`),
/// and the timeline, its feed and the audit trail say so.
#[tokio::test]
async fn only_the_organization_answers_unless_staff_record_its_answer_on_its_behalf() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let auditor = app.staff(parcours::domain::Role::Auditor, &[], &[]).await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let someone = person(&app, &staff, "Répondue").await;
    let (pathway, _) = open(&app, &staff, &someone, Disability).await;
    let plan = crate::support::fixtures::plan(&app, &staff, &pathway, "pag").await;
    let caf_id = organization(&app, &staff.token, "CAF des Hautes-Alpes").await;
    let (commitment, _) = app
        .post_ok(
            &format!("/v1/plans/{plan}/commitments"),
            &staff.token,
            &json!({"organization_id": caf_id, "description": "Maintien de l'AEEH"}),
            201,
        )
        .await;
    let path = format!("/v1/commitments/{}", commitment["id"].as_str().unwrap());
    let patch = async |token: &str, body: Value| {
        app.send_json(Method::PATCH, &path, token, Some("\"v1\""), &body)
            .await
    };
    let today = Utc::now().date_naive();

    // Staff cannot answer for the CAF as if it had.
    for status in ["accepted", "refused"] {
        let mut body = json!({"status": status});
        if status == "refused" {
            body["refusal_reason"] = json!("no_capacity");
        }
        let problem = assert_problem(patch(&staff.token, body).await, 403).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("on_behalf_of"),
            "{problem}"
        );
    }
    // On behalf of another organization, or with a date to come: refused.
    let msa_id = organization(&app, &staff.token, "MSA Alpes-Vaucluse").await;
    let on_behalf = |organization: &str, on: chrono::NaiveDate| {
        json!({"status": "accepted", "on_behalf_of": {
            "organization_id": organization, "received_via": "phone", "received_on": on}})
    };
    let problem = assert_problem(patch(&staff.token, on_behalf(&msa_id, today)).await, 422).await;
    assert_eq!(
        problem["errors"][0]["field"],
        "on_behalf_of.organization_id"
    );
    let tomorrow = today.succ_opt().unwrap();
    let problem =
        assert_problem(patch(&staff.token, on_behalf(&caf_id, tomorrow)).await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "on_behalf_of.received_on");
    // A partner answers as itself.
    let response = patch(&caf, on_behalf(&caf_id, today)).await;
    assert_problem(response, 403).await;

    // The CAF said yes on the phone: the referent records it as such.
    let response = patch(&staff.token, on_behalf(&caf_id, today)).await;
    assert_eq!(response.status(), 200);
    let answered: Value = response.json().await.unwrap();
    assert_eq!(answered["status"], "accepted");
    assert_eq!(answered["answered_by"], staff.user.id.to_string());
    assert_eq!(
        answered["answered_on_behalf_of"],
        json!({"organization_id": caf_id, "received_via": "phone", "received_on": today})
    );
    // The timeline says so.
    let timeline = app
        .get_json(&format!("/v1/pathways/{pathway}/timeline"), &staff.token)
        .await;
    let event = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "commitment_updated")
        .unwrap()
        .clone();
    assert_eq!(event["data"]["on_behalf_of"]["received_via"], "phone");
    assert_eq!(event["actor_id"], staff.user.id.to_string());
    // So does the CAF's feed.
    let (events, _) = crate::feed::feed_until(&app, &caf, None, 2).await;
    let updated = events
        .iter()
        .find(|e| e["kind"] == "commitment_updated")
        .unwrap();
    assert_eq!(updated["commitment_status"], "accepted");
    assert_eq!(updated["answer_received_via"], "phone");
    // And the audit trail, as an act of its own.
    let recorded = crate::support::eventually(std::time::Duration::from_secs(5), || async {
        let page = app
            .get_json("/v1/audit?action=record_answer", &auditor.token)
            .await;
        let items = page["items"].as_array().unwrap().clone();
        (!items.is_empty()).then_some(items)
    })
    .await;
    let succeeded: Vec<&Value> = recorded
        .iter()
        .filter(|r| r["outcome"] == "success")
        .collect();
    assert_eq!(succeeded.len(), 1, "{recorded:?}");
    assert_eq!(succeeded[0]["resource_id"], commitment["id"]);
}
