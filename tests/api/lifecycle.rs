//! One pathway per domain, walked through its whole life as a social
//! worker would, checking the timeline, the status history and the alerts
//! along the way.

use chrono::{Days, Utc};
use parcours::domain::Domain::{self, Childhood, Disability, Elderly, Insertion};
use parcours::domain::EventKind;
use parcours::domain::Role::Coordinator;
use parcours::http::pagination::Page;
use parcours::http::pathways::EventView;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::fixtures::{open, organization, person, transition};
use crate::support::{Staff, TestApp, etag_of};

fn in_days(days: u64) -> String {
    (Utc::now().date_naive() + Days::new(days)).to_string()
}

async fn alerts(app: &TestApp, staff: &Staff) -> Vec<(String, Option<bool>)> {
    let page = app.get_json("/v1/alerts", &staff.token).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_owned(),
                a["overdue"].as_bool(),
            )
        })
        .collect()
}

/// A month passes in `without_solution`: the status period started 40 days ago.
async fn forty_days_pass_without_solution(app: &TestApp, pathway: &str) {
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.connect().await;
    for statement in [
        "UPDATE pathways SET status_since = now() - interval '40 days' WHERE id = $1",
        "UPDATE pathway_status_periods SET started_at = now() - interval '40 days' \
         WHERE pathway_id = $1 AND ended_at IS NULL",
    ] {
        diesel::sql_query(statement)
            .bind::<diesel::sql_types::Uuid, _>(pathway.parse::<uuid::Uuid>().unwrap())
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

async fn walk(domain: Domain) {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[domain]).await;
    let person = person(&app, &staff, "Parcours").await;

    // Referral → assessment → orientation, with the orientation decision.
    let (id, etag) = open(&app, &staff, &person, domain).await;
    let base = format!("/v1/pathways/{id}");
    assert!(alerts(&app, &staff).await.is_empty(), "nothing to do yet");
    let (_, etag) = transition(&app, &staff.token, &id, &etag, "assessment", None, 200).await;
    let (_, etag) = transition(&app, &staff.token, &id, &etag, "orientation", None, 200).await;
    app.post_ok(
        &format!("{base}/decisions"),
        &staff.token,
        &json!({
            "authority": "department_president",
            "qualification": "target",
            "label": "Accueil en établissement spécialisé",
            "decided_on": Utc::now().date_naive(),
            "valid_until": in_days(45),
        }),
        201,
    )
    .await;
    assert_eq!(
        alerts(&app, &staff).await,
        [("decision_expiring".to_owned(), Some(false))]
    );

    // No place: without solution, for more than a month.
    let (_, _) = transition(
        &app,
        &staff.token,
        &id,
        &etag,
        "without_solution",
        None,
        200,
    )
    .await;
    forty_days_pass_without_solution(&app, &id).await;
    let response = app
        .with_token(Method::GET, &base, &staff.token)
        .send()
        .await
        .unwrap();
    let etag = etag_of(&response);
    let read: Value = response.json().await.unwrap();
    assert_eq!(read["days_without_solution"], 40.0);
    let kinds: Vec<String> = alerts(&app, &staff)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        kinds,
        ["without_solution", "decision_expiring"],
        "most urgent first"
    );

    // A PAG is drafted, proposed, agreed and activated, with commitments.
    let (plan, plan_etag) = app
        .post_ok(
            &format!("{base}/plans"),
            &staff.token,
            &json!({"kind": "pag", "objectives": "Réponse alternative en attendant une place"}),
            201,
        )
        .await;
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    let plan_path = format!("/v1/plans/{plan_id}");
    let move_plan = |etag: String, body: Value| {
        let path = format!("{plan_path}/transitions");
        let app = &app;
        let token = staff.token.clone();
        async move {
            let response = app
                .send_json(Method::POST, &path, &token, Some(&etag), &body)
                .await;
            let status = response.status().as_u16();
            let etag = etag_of(&response);
            let body: Value = response.json().await.unwrap();
            assert_eq!(status, 200, "{body}");
            (body, etag)
        }
    };
    let (_, plan_etag) = move_plan(plan_etag, json!({"to": "proposed"})).await;
    let (consented, plan_etag) = move_plan(
        plan_etag,
        json!({"to": "consented", "consent": {"by": "person", "given_on": Utc::now().date_naive()}}),
    )
    .await;
    assert_eq!(consented["consent"]["by"], "person");
    let (active, _) = move_plan(
        plan_etag,
        json!({"to": "active", "review_due": in_days(20)}),
    )
    .await;
    assert_eq!(active["status"], "active");
    let caf = organization(&app, &staff.token, "CAF des Hautes-Alpes").await;
    let (commitment, _) = app
        .post_ok(
            &format!("{plan_path}/commitments"),
            &staff.token,
            &json!({"organization_id": caf, "description": "Maintien des droits", "frequency": "mensuel", "due_on": in_days(60)}),
            201,
        )
        .await;
    assert_eq!(commitment["status"], "proposed");
    let commitments = app
        .get_json(&format!("{plan_path}/commitments"), &staff.token)
        .await;
    assert_eq!(commitments["items"].as_array().unwrap().len(), 1);
    let kinds: Vec<String> = alerts(&app, &staff)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        kinds,
        ["without_solution", "plan_review", "decision_expiring"]
    );

    // The GOS meets and the person agrees.
    let (meeting, _) = app
        .post_ok(
            &format!("{base}/meetings"),
            &staff.token,
            &json!({
                "held_on": Utc::now().date_naive(),
                "organization_ids": [caf],
                "user_ids": [staff.user.id],
                "person_agreed": true,
                "outcome": "Accueil de jour trois jours par semaine",
            }),
            201,
        )
        .await;
    assert_eq!(meeting["organization_ids"], json!([caf]));

    // A solution is in place: the without-solution alert goes.
    let (supported, etag) =
        transition(&app, &staff.token, &id, &etag, "supported", None, 200).await;
    assert_eq!(supported["days_without_solution"], 40.0);
    let kinds: Vec<String> = alerts(&app, &staff)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(kinds, ["plan_review", "decision_expiring"]);

    // Closed with a reason: no alert is left.
    let (closed, _) = transition(
        &app,
        &staff.token,
        &id,
        &etag,
        "closed",
        Some("alternative_sustained"),
        200,
    )
    .await;
    assert_eq!(closed["closure_reason"], "alternative_sustained");
    assert!(alerts(&app, &staff).await.is_empty());
    let statuses: Vec<&str> = closed["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "referred",
            "assessment",
            "orientation",
            "without_solution",
            "supported",
            "closed"
        ]
    );

    // Read as the document says an event is: each holds its kind's payload.
    let timeline: Page<EventView> = app.get_as(&format!("{base}/timeline"), &staff.token).await;
    let events: Vec<String> = timeline
        .items
        .iter()
        .map(|e| match e.kind {
            EventKind::StatusChanged => format!("→{}", e.data["to"].as_str().unwrap()),
            EventKind::PlanStatusChanged => format!("plan→{}", e.data["to"].as_str().unwrap()),
            other => other.as_str().to_owned(),
        })
        .collect();
    assert_eq!(
        events,
        [
            "pathway_opened",
            "→assessment",
            "→orientation",
            "decision_recorded",
            "→without_solution",
            "plan_created",
            "plan→proposed",
            "plan→consented",
            "plan→active",
            "commitment_added",
            "meeting_held",
            "→supported",
            "→closed",
        ]
    );
    // Every event names who caused it.
    for event in &timeline.items {
        assert_eq!(event.actor_id, Some(staff.user.id));
    }
}

#[tokio::test]
async fn a_disability_pathway_from_referral_to_closure() {
    walk(Disability).await;
}

#[tokio::test]
async fn an_elderly_pathway_from_referral_to_closure() {
    walk(Elderly).await;
}

#[tokio::test]
async fn a_childhood_pathway_from_referral_to_closure() {
    walk(Childhood).await;
}

#[tokio::test]
async fn an_insertion_pathway_from_referral_to_closure() {
    walk(Insertion).await;
}
