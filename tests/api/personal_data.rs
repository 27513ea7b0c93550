//! The personal-data registry (`parcours::db::personal_data`) is complete,
//! and the access log and the right of access see every read and write of
//! a person's file through it.

use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use parcours::db::personal_data::REGISTRY;
use parcours::domain::Domain::Disability;
use parcours::domain::Role::{Auditor, Coordinator, Supervisor};
use reqwest::Method;
use serde_json::json;

use parcours::http::subject_access::SubjectAccessDocument;

use crate::support::TestApp;
use crate::support::fixtures::{open, person};

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[tokio::test]
async fn every_table_that_links_to_a_person_is_in_the_registry() {
    let app = TestApp::spawn().await;
    let mut conn = app.db.connect().await;
    // Tables with a column naming a person, a pathway, a plan or a meeting,
    // or a foreign key to one of those tables.
    let linked: Vec<Name> = diesel::sql_query(
        "SELECT DISTINCT c.table_name::text AS name FROM information_schema.columns c \
         JOIN information_schema.tables t ON t.table_name = c.table_name \
              AND t.table_schema = c.table_schema AND t.table_type = 'BASE TABLE' \
         WHERE c.table_schema = 'public' \
           AND c.column_name IN ('person_id', 'pathway_id', 'plan_id', 'meeting_id') \
         UNION \
         SELECT conrelid::regclass::text FROM pg_constraint \
         WHERE contype = 'f' AND confrelid::regclass::text IN ('persons', 'pathways', 'plans', 'meetings') \
         UNION SELECT 'persons' ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let registered: Vec<&str> = REGISTRY.iter().map(|t| t.table).collect();
    let missing: Vec<&str> = linked
        .iter()
        .map(|n| n.name.as_str())
        .filter(|name| !registered.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "tables holding a person's data but missing from the registry: {missing:?}"
    );
    assert!(linked.len() >= 10, "{}", linked.len());
}

#[tokio::test]
async fn the_access_log_and_the_right_of_access_see_the_whole_file() {
    let app = TestApp::spawn().await;
    let supervisor = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let someone = person(&app, &supervisor, "Registre").await;
    let (pathway, _) = open(&app, &supervisor, &someone, Disability).await;
    let (plan, _) = app
        .post_ok(
            &format!("/v1/pathways/{pathway}/plans"),
            &supervisor.token,
            &json!({"kind": "pag"}),
            201,
        )
        .await;
    let plan = plan["id"].as_str().unwrap().to_owned();
    let organizations = app
        .get_json("/v1/organizations?limit=200", &supervisor.token)
        .await;
    let organization = organizations["items"][0]["id"].clone();
    let (commitment, _) = app
        .post_ok(
            &format!("/v1/plans/{plan}/commitments"),
            &supervisor.token,
            &json!({"organization_id": organization, "description": "Accueil de jour"}),
            201,
        )
        .await;
    let commitment = commitment["id"].as_str().unwrap().to_owned();
    let (note, _) = app
        .post_ok(
            &format!("/v1/pathways/{pathway}/notes"),
            &supervisor.token,
            &json!({"visibility": "team", "body": "Visite à domicile"}),
            201,
        )
        .await;
    let (decision, _) = app
        .post_ok(
            &format!("/v1/pathways/{pathway}/decisions"),
            &supervisor.token,
            &json!({"authority": "cdaph", "qualification": "target", "label": "SAVS",
                    "decided_on": "2025-01-15"}),
            201,
        )
        .await;

    let path = format!("/v1/pathways/{pathway}");
    let etag = app.etag(&path, &supervisor.token).await;
    let flagged = app
        .send_json(
            Method::PUT,
            &format!("{path}/critical"),
            &supervisor.token,
            Some(&etag),
            &json!({"level": "regional", "reason": "Sans solution"}),
        )
        .await;
    assert_eq!(flagged.status(), 200);
    let due_on = chrono::Utc::now().date_naive() + chrono::Duration::days(10);
    let (escalation, _) = app
        .post_ok(
            &format!("/v1/pathways/{pathway}/escalations"),
            &supervisor.token,
            &json!({"organization_id": organization, "summary": "Besoin d'une place en FAM",
                    "due_on": due_on}),
            201,
        )
        .await;
    let escalation = escalation["id"].as_str().unwrap().to_owned();

    // A colleague reads the plan, the commitment, the notes, the decisions
    // and the escalation.
    let colleague = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    for path in [
        format!("/v1/escalations/{escalation}"),
        format!("/v1/plans/{plan}"),
        format!("/v1/commitments/{commitment}"),
        format!("/v1/pathways/{pathway}/notes"),
        format!("/v1/pathways/{pathway}/decisions"),
    ] {
        let response = app
            .with_token(Method::GET, &path, &colleague.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }

    let auditor = app.token_for(Auditor).await;
    let log = app
        .get_json(
            &format!("/v1/persons/{someone}/access-log?limit=200"),
            &auditor,
        )
        .await;
    let items = log["items"].as_array().unwrap();
    let by_colleague: Vec<(String, String)> = items
        .iter()
        .filter(|r| r["actor_id"] == colleague.user.id.to_string())
        .map(|r| {
            (
                r["action"].as_str().unwrap_or_default().to_owned(),
                r["resource_type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("read", "plan"),
        ("read", "commitment"),
        ("list", "note"),
        ("list", "decision"),
        ("read", "escalation"),
    ] {
        assert!(
            by_colleague
                .iter()
                .any(|(a, t)| a == expected.0 && t == expected.1),
            "{expected:?} missing from {by_colleague:?}"
        );
    }
    // The writes of the file are there too.
    for id in [
        &plan,
        &escalation,
        &commitment,
        note["id"].as_str().unwrap(),
        decision["id"].as_str().unwrap(),
    ] {
        assert!(
            items
                .iter()
                .any(|r| r["resource_id"] == *id && r["action"] == "create"),
            "the creation of {id}"
        );
    }

    // The right of access lists the same records, each row as documented
    // (read through the document's schema: a member it lacks fails here).
    let (meeting, _) = app
        .post_ok(
            &format!("/v1/pathways/{pathway}/meetings"),
            &supervisor.token,
            &json!({"held_on": "2025-02-01", "organization_ids": [organization],
                    "user_ids": [], "person_agreed": true, "outcome": "Accueil de jour"}),
            201,
        )
        .await;
    let file: SubjectAccessDocument = app
        .get_as(&format!("/v1/persons/{someone}/export"), &supervisor.token)
        .await;
    let held = &file.pathways[0];
    assert_eq!(held.plans[0].id.to_string(), plan);
    assert_eq!(held.plans[0].commitments[0].id.to_string(), commitment);
    assert_eq!(held.notes[0].body, "Visite à domicile");
    assert_eq!(held.escalations[0].summary, "Besoin d'une place en FAM");
    assert_eq!(
        held.decisions[0].id.to_string(),
        decision["id"].as_str().unwrap()
    );
    assert_eq!(
        held.meetings[0].id.to_string(),
        meeting["id"].as_str().unwrap()
    );
    assert!(!held.status_history.is_empty() && !held.timeline.is_empty());
    let export = app
        .get_json(&format!("/v1/persons/{someone}/export"), &supervisor.token)
        .await;
    let accessed = export["access_log"].as_array().unwrap();
    for record in items {
        assert!(
            accessed.iter().any(|a| a["seq"] == record["seq"]),
            "record {} missing from the export",
            record["seq"]
        );
    }
}
