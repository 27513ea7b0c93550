//! GOS meetings convened, then held, as a referent and the partners invited
//! would live them: the referent convenes a GOS with the person's prior
//! agreement, for the plan it is to build; the invited CAF hears of it in
//! its feed (and nobody else does); a GOS whose time passed without its
//! outcome is an alert; it is then recorded held, or called off.

use parcours::domain::Domain::Disability;
use parcours::domain::Role::{Coordinator, Supervisor};
use reqwest::Method;
use serde_json::{Value, json};

use crate::feed::feed_until;
use crate::support::fixtures::{open, organization, person, transition};
use crate::support::{Staff, TestApp, assert_problem, etag_of};

const CAF: &str = "CAF des Hautes-Alpes";

fn in_hours(hours: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(hours)).to_rfc3339()
}

async fn convene(app: &TestApp, staff: &Staff, pathway: &str, body: &Value) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("/v1/pathways/{pathway}/meetings"),
        &staff.token,
        None,
        body,
    )
    .await
}

async fn move_meeting(
    app: &TestApp,
    staff: &Staff,
    id: &str,
    etag: &str,
    body: &Value,
) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("/v1/meetings/{id}/transitions"),
        &staff.token,
        Some(etag),
        body,
    )
    .await
}

fn alerts_of_kind(alerts: &Value, kind: &str) -> Vec<String> {
    alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == kind)
        .map(|a| a["subject_id"].as_str().unwrap().to_owned())
        .collect()
}

/// A pathway of 05-GAP with a PAG in draft; returns (pathway, plan).
async fn pathway_with_plan(app: &TestApp, staff: &Staff, family: &str) -> (String, String) {
    let someone = person(app, staff, family).await;
    let (pathway, _) = open(app, staff, &someone, Disability).await;
    let plan = crate::support::fixtures::plan(app, staff, &pathway, "pag").await;
    (pathway, plan)
}

#[tokio::test]
async fn a_gos_is_convened_with_its_invitees_then_held_for_the_plan_it_builds() {
    let app = TestApp::spawn().await;
    let referent = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let colleague = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let caf = organization(&app, &referent.token, CAF).await;
    let (pathway, plan) = pathway_with_plan(&app, &referent, "Convoquée").await;
    let (other_pathway, other_plan) = pathway_with_plan(&app, &referent, "Autre").await;
    let caf_token = app.partner_token(CAF).await;
    let msa_token = app.partner_token("MSA Alpes-Vaucluse").await;
    let planned_at = in_hours(72);
    let body = json!({
        "planned_at": planned_at, "organization_ids": [caf], "user_ids": [colleague.user.id],
        "person_agreed": true, "plan_id": plan,
    });

    // Each field says what to fix.
    let mut without_agreement = body.clone();
    without_agreement["person_agreed"] = json!(false);
    let mut in_the_past = body.clone();
    in_the_past["planned_at"] = json!(in_hours(-2));
    let mut both = body.clone();
    both["held_on"] = json!("2026-01-05");
    let mut neither = body.clone();
    neither.as_object_mut().unwrap().remove("planned_at");
    for (field, bad) in [
        ("person_agreed", without_agreement),
        ("planned_at", in_the_past),
        ("planned_at", both),
        ("held_on", neither),
    ] {
        let refused = convene(&app, &referent, &pathway, &bad).await;
        let problem = assert_problem(refused, 400).await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let mut another_plan = body.clone();
    another_plan["plan_id"] = json!(other_plan);
    let refused = convene(&app, &referent, &pathway, &another_plan).await;
    let problem = assert_problem(refused, 422).await;
    assert_eq!(problem["errors"][0]["field"], "plan_id");
    assert!(!other_pathway.is_empty());

    let convened = convene(&app, &referent, &pathway, &body).await;
    assert_eq!(convened.status(), 201);
    assert_eq!(etag_of(&convened), "\"v1\"");
    let location = convened.headers()["location"].to_str().unwrap().to_owned();
    let convened: Value = convened.json().await.unwrap();
    let id = convened["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/v1/meetings/{id}"));
    assert_eq!(convened["status"], "planned");
    assert_eq!(convened["plan_id"], plan.as_str());
    assert_eq!(convened["organization_ids"], json!([caf]));
    assert_eq!(convened["held_on"], Value::Null);
    assert_eq!(convened["outcome"], Value::Null);

    // The CAF is invited through its feed and follows the pathway; the MSA
    // hears nothing.
    let (events, _) = feed_until(&app, &caf_token, None, 1).await;
    assert_eq!(events[0]["kind"], "meeting_planned");
    assert_eq!(events[0]["meeting_id"], id.as_str());
    let announced: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(events[0]["meeting_planned_at"].clone()).unwrap();
    let asked: chrono::DateTime<chrono::Utc> = planned_at.parse().unwrap();
    assert_eq!(announced.timestamp(), asked.timestamp());
    let followed = app
        .with_token(
            Method::GET,
            &format!("/v1/partner/pathways/{pathway}"),
            &caf_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(followed.status(), 200);
    let (msa_events, _) = feed_until(&app, &msa_token, None, 0).await;
    assert_eq!(msa_events, Vec::<Value>::new());

    // Its time passed without an outcome: an alert of the referent.
    assert_eq!(
        alerts_of_kind(
            &app.get_json("/v1/alerts", &referent.token).await,
            "meeting_to_record"
        ),
        Vec::<String>::new()
    );
    let mut conn = app.db.connect().await;
    crate::support::db::execute(
        &mut conn,
        &format!("UPDATE meetings SET planned_at = now() - interval '1 day' WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(
        alerts_of_kind(
            &app.get_json("/v1/alerts", &referent.token).await,
            "meeting_to_record"
        ),
        [id.as_str()]
    );

    // Recorded held: outcome and agreement required; the invitees took part.
    let path = format!("/v1/meetings/{id}");
    let etag = app.etag(&path, &referent.token).await;
    let incomplete = move_meeting(
        &app,
        &referent,
        &id,
        &etag,
        &json!({"to": "held", "held_on": "2026-01-05"}),
    )
    .await;
    let problem = assert_problem(incomplete, 400).await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["outcome", "person_agreed"]);
    let today = chrono::Utc::now().date_naive().to_string();
    let held = move_meeting(
        &app,
        &referent,
        &id,
        &etag,
        &json!({"to": "held", "held_on": today, "person_agreed": true,
                "outcome": "PAG proposé : accueil de jour et SAVS"}),
    )
    .await;
    assert_eq!(held.status(), 200);
    assert_eq!(etag_of(&held), "\"v2\"");
    let held: Value = held.json().await.unwrap();
    assert_eq!(held["status"], "held");
    assert_eq!(held["held_on"], today.as_str());
    assert_eq!(held["organization_ids"], json!([caf]));
    assert_eq!(held["user_ids"], json!([colleague.user.id]));
    assert_eq!(
        alerts_of_kind(
            &app.get_json("/v1/alerts", &referent.token).await,
            "meeting_to_record"
        ),
        Vec::<String>::new()
    );
    let again = move_meeting(
        &app,
        &referent,
        &id,
        "\"v2\"",
        &json!({"to": "cancelled", "reason": "Doublon"}),
    )
    .await;
    assert_problem(again, 409).await;

    // The CAF learns it was held, not what was said.
    let (events, _) = feed_until(&app, &caf_token, None, 2).await;
    assert_eq!(events[1]["kind"], "meeting_held");
    assert!(!serde_json::to_string(&events).unwrap().contains("SAVS"));
    // The timeline and the list tell both steps.
    let timeline = app
        .get_json(&format!("/v1/pathways/{pathway}/timeline"), &referent.token)
        .await;
    let kinds: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .filter(|k| k.starts_with("meeting"))
        .collect();
    assert_eq!(kinds, ["meeting_planned", "meeting_held"]);
    let listed = app
        .get_json(&format!("/v1/pathways/{pathway}/meetings"), &referent.token)
        .await;
    assert_eq!(listed["items"][0]["plan_id"], plan.as_str());
    assert_eq!(listed["items"][0]["status"], "held");
}

#[tokio::test]
async fn a_convened_gos_is_called_off_with_why_and_its_invitees_hear_of_it() {
    let app = TestApp::spawn().await;
    let supervisor = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let caf = organization(&app, &supervisor.token, CAF).await;
    let (pathway, _) = pathway_with_plan(&app, &supervisor, "Annulée").await;
    let caf_token = app.partner_token(CAF).await;
    let convened = convene(
        &app,
        &supervisor,
        &pathway,
        &json!({"planned_at": in_hours(24), "organization_ids": [caf], "person_agreed": true}),
    )
    .await;
    assert_eq!(convened.status(), 201);
    let id = convened.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let no_reason = move_meeting(
        &app,
        &supervisor,
        &id,
        "\"v1\"",
        &json!({"to": "cancelled"}),
    )
    .await;
    let problem = assert_problem(no_reason, 400).await;
    assert_eq!(problem["errors"][0]["field"], "reason");
    let with_outcome = move_meeting(
        &app,
        &supervisor,
        &id,
        "\"v1\"",
        &json!({"to": "cancelled", "reason": "Hospitalisation", "outcome": "x"}),
    )
    .await;
    assert_problem(with_outcome, 400).await;
    let cancelled = move_meeting(
        &app,
        &supervisor,
        &id,
        "\"v1\"",
        &json!({"to": "cancelled", "reason": "Hospitalisation de la personne"}),
    )
    .await;
    assert_eq!(cancelled.status(), 200);
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancel_reason"], "Hospitalisation de la personne");
    let held = move_meeting(
        &app,
        &supervisor,
        &id,
        "\"v2\"",
        &json!({"to": "held", "held_on": "2026-01-05", "person_agreed": true, "outcome": "x"}),
    )
    .await;
    assert_problem(held, 409).await;
    let (events, _) = feed_until(&app, &caf_token, None, 2).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["meeting_planned", "meeting_cancelled"]);
    assert!(
        !serde_json::to_string(&events)
            .unwrap()
            .contains("Hospitalisation")
    );

    // A meeting recorded once held, as before, is held from the start.
    let (recorded, etag) = app
        .post_ok(
            &format!("/v1/pathways/{pathway}/meetings"),
            &supervisor.token,
            &json!({"held_on": "2026-01-05", "person_agreed": true, "outcome": "Synthèse"}),
            201,
        )
        .await;
    assert_eq!(recorded["status"], "held");
    assert_eq!(recorded["planned_at"], Value::Null);
    let moved = move_meeting(
        &app,
        &supervisor,
        recorded["id"].as_str().unwrap(),
        &etag,
        &json!({"to": "cancelled", "reason": "Erreur"}),
    )
    .await;
    assert_problem(moved, 409).await;

    // Once the pathway is closed, a GOS still planned is called off, not held.
    let convened = convene(
        &app,
        &supervisor,
        &pathway,
        &json!({"planned_at": in_hours(48), "person_agreed": true}),
    )
    .await;
    let id = convened.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let etag = app
        .etag(&format!("/v1/pathways/{pathway}"), &supervisor.token)
        .await;
    transition(
        &app,
        &supervisor.token,
        &pathway,
        &etag,
        "closed",
        Some("moved_away"),
        200,
    )
    .await;
    let held = move_meeting(
        &app,
        &supervisor,
        &id,
        "\"v1\"",
        &json!({"to": "held", "held_on": "2026-01-05", "person_agreed": true, "outcome": "x"}),
    )
    .await;
    assert_problem(held, 409).await;
    let cancelled = move_meeting(
        &app,
        &supervisor,
        &id,
        "\"v1\"",
        &json!({"to": "cancelled", "reason": "Parcours clos : déménagement"}),
    )
    .await;
    assert_eq!(cancelled.status(), 200);
}
