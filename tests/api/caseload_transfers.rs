//! A supervisor hands a referent's caseload to another (#16): a dry run
//! first, then one call, one audit record, an event in each timeline.

use parcours::domain::Domain::{Childhood, Disability};
use parcours::domain::Role::{Auditor, Coordinator, Supervisor};
use parcours::http::caseload_transfers::CaseloadTransfer;
use parcours::http::pathways::PathwayDetail;
use serde_json::{Value, json};

use crate::audit::records;
use crate::support::fixtures::{open, person, transition};
use crate::support::{TestApp, assert_problem, view};

async fn referent_of(app: &TestApp, token: &str, pathway: &str) -> (Option<uuid::Uuid>, i32) {
    let read: PathwayDetail = app.get_as(&format!("/v1/pathways/{pathway}"), token).await;
    let events = app
        .get_json(&format!("/v1/pathways/{pathway}/timeline"), token)
        .await;
    let n = events["items"].as_array().unwrap().len();
    (read.pathway.referent_id, i32::try_from(n).unwrap())
}

#[tokio::test]
async fn a_caseload_moves_in_one_call_after_a_dry_run() {
    let app = TestApp::spawn().await;
    let supervisor = app
        .staff(Supervisor, &["05-GAP"], &[Disability, Childhood])
        .await;
    let leaving = app
        .staff(Coordinator, &["05-GAP"], &[Disability, Childhood])
        .await;
    let arriving = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let elsewhere = app.staff(Supervisor, &["05-BRI"], &[Disability]).await;
    let auditor = app.token_for(Auditor).await;

    let someone = person(&app, &leaving, "Relève").await;
    let other = person(&app, &leaving, "Suite").await;
    let (first, _) = open(&app, &leaving, &someone, Disability).await;
    let (second, _) = open(&app, &leaving, &other, Disability).await;
    let (child, _) = open(&app, &leaving, &someone, Childhood).await;
    let third = person(&app, &leaving, "Fermé").await;
    let (closed, etag) = open(&app, &leaving, &third, Disability).await;
    transition(
        &app,
        &leaving.token,
        &closed,
        &etag,
        "closed",
        Some("other"),
        200,
    )
    .await;
    let before = referent_of(&app, &supervisor.token, &first).await;

    let body = |dry_run: bool| {
        json!({
            "from_referent_id": leaving.user.id, "to_referent_id": arriving.user.id,
            "dry_run": dry_run,
        })
    };
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    let ids = |ids: &[uuid::Uuid]| ids.iter().map(ToString::to_string).collect::<Vec<_>>();

    // The dry run says what would move; nothing does.
    let (dry, _) = app
        .post_ok(
            "/v1/caseload-transfers",
            &supervisor.token,
            &body(true),
            200,
        )
        .await;
    let dry: CaseloadTransfer = view(dry);
    assert!(dry.dry_run);
    assert_eq!(
        sorted(ids(&dry.moved)),
        sorted(vec![first.clone(), second.clone()])
    );
    assert_eq!(
        ids(&dry.left),
        [child.as_str()],
        "the newcomer does not work in childhood"
    );
    assert_eq!(referent_of(&app, &supervisor.token, &first).await, before);

    let (done, _) = app
        .post_ok(
            "/v1/caseload-transfers",
            &supervisor.token,
            &body(false),
            200,
        )
        .await;
    let done: CaseloadTransfer = view(done);
    assert_eq!(sorted(ids(&done.moved)), sorted(ids(&dry.moved)));
    for pathway in [&first, &second] {
        let (referent, events) = referent_of(&app, &supervisor.token, pathway).await;
        assert_eq!(referent, Some(arriving.user.id));
        let timeline = app
            .get_json(
                &format!("/v1/pathways/{pathway}/timeline"),
                &supervisor.token,
            )
            .await;
        let last = &timeline["items"][usize::try_from(events - 1).unwrap()];
        assert_eq!(last["kind"], "referent_assigned");
        assert_eq!(
            last["data"],
            json!({"from": leaving.user.id, "to": arriving.user.id})
        );
    }
    let (kept, _) = referent_of(&app, &supervisor.token, &child).await;
    assert_eq!(kept, Some(leaving.user.id));
    let (closed_referent, _) = referent_of(&app, &supervisor.token, &closed).await;
    assert_eq!(
        closed_referent,
        Some(leaving.user.id),
        "a closed pathway stays"
    );
    // The newcomer's caseload now holds them.
    let page = app
        .get_json(
            &format!("/v1/pathways?referent={}", arriving.user.id),
            &arriving.token,
        )
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);

    // One record names every pathway moved; the dry run is a list.
    let moves = records(
        &app,
        &auditor,
        "action=assign_referent&resource_type=pathway",
    )
    .await;
    assert_eq!(moves.len(), 1, "{moves:?}");
    let recorded: Vec<String> = moves[0]["result_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sorted(recorded), sorted(ids(&done.moved)));
    assert_eq!(moves[0]["query"]["dry_run"], false);

    // Again: nothing left to move. Outside one's scope: nothing either.
    let (again, _) = app
        .post_ok(
            "/v1/caseload-transfers",
            &supervisor.token,
            &body(false),
            200,
        )
        .await;
    let again: CaseloadTransfer = view(again);
    assert!(again.moved.is_empty());
    assert_eq!(ids(&again.left), [child.as_str()]);
    let (outside, _) = app
        .post_ok(
            "/v1/caseload-transfers",
            &elsewhere.token,
            &json!({"from_referent_id": arriving.user.id, "to_referent_id": leaving.user.id}),
            200,
        )
        .await;
    let outside: CaseloadTransfer = view(outside);
    assert!(outside.moved.is_empty() && outside.left.is_empty());

    // A domain at a time.
    let (childhood, _) = app
        .post_ok(
            "/v1/caseload-transfers",
            &supervisor.token,
            &json!({
                "from_referent_id": leaving.user.id, "to_referent_id": supervisor.user.id,
                "domain": "childhood",
            }),
            200,
        )
        .await;
    assert_eq!(childhood["moved"], json!([child]));
}

#[tokio::test]
async fn a_transfer_names_what_to_fix() {
    let app = TestApp::spawn().await;
    let supervisor = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let id = supervisor.user.id;
    for (body, field) in [
        (
            json!({"from_referent_id": id, "to_referent_id": id}),
            "to_referent_id",
        ),
        (json!({"to_referent_id": id}), "from_referent_id"),
        (
            json!({"from_referent_id": id, "to_referent_id": uuid::Uuid::now_v7(), "domain": "leisure"}),
            "domain",
        ),
    ] {
        let response = app
            .send_json(
                reqwest::Method::POST,
                "/v1/caseload-transfers",
                &supervisor.token,
                None,
                &body,
            )
            .await;
        let problem: Value = assert_problem(response, 400).await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
}
