//! Notes: team notes for the pathway's professionals, restricted ones for
//! their author and supervisors.

use parcours::domain::Domain::Disability;
use parcours::domain::Role::{Coordinator, Supervisor};
use reqwest::Method;
use serde_json::json;

use crate::support::fixtures::{open, person};
use crate::support::{TestApp, assert_problem};

#[tokio::test]
async fn restricted_notes_reach_only_their_author_and_supervisors() {
    let app = TestApp::spawn().await;
    let author = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let colleague = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let supervisor = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let elsewhere = app.staff(Supervisor, &["05-BRI"], &[Disability]).await;
    let someone = person(&app, &author, "Notes").await;
    let (pathway, _) = open(&app, &author, &someone, Disability).await;
    let path = format!("/v1/pathways/{pathway}/notes");
    app.post_ok(
        &path,
        &author.token,
        &json!({"visibility": "team", "body": "Visite à domicile faite."}),
        201,
    )
    .await;
    app.post_ok(
        &path,
        &author.token,
        &json!({"visibility": "restricted", "body": "Violences suspectées, signalement en cours."}),
        201,
    )
    .await;
    let bodies = |page: serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["body"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(bodies(app.get_json(&path, &author.token).await).len(), 2);
    assert_eq!(
        bodies(app.get_json(&path, &supervisor.token).await).len(),
        2
    );
    assert_eq!(
        bodies(app.get_json(&path, &colleague.token).await),
        ["Visite à domicile faite."]
    );
    let response = app
        .with_token(Method::GET, &path, &elsewhere.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    // The timeline says a note was added, never what it says.
    let timeline = app
        .get_json(
            &format!("/v1/pathways/{pathway}/timeline"),
            &colleague.token,
        )
        .await;
    assert!(!timeline.to_string().contains("Violences"), "{timeline}");
    // An empty note is refused.
    let response = app
        .send_json(
            Method::POST,
            &path,
            &author.token,
            None,
            &json!({"visibility": "team", "body": "  "}),
        )
        .await;
    let problem = assert_problem(response, 400).await;
    assert_eq!(problem["errors"][0]["field"], "body");
}
