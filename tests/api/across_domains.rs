//! One person across domains (#16): staff see, strictly, that the person
//! is followed elsewhere; a pathway continues another, in any domain, and
//! both timelines show the link; partners learn nothing of either.

use parcours::domain::Domain::{Childhood, Disability, Insertion};
use parcours::domain::Role::{Auditor, Coordinator, Supervisor};
use parcours::http::pathways::{EventView, PathwayDetail};
use parcours::http::persons::OtherPathways;
use serde_json::{Value, json};

use crate::audit::records;
use crate::feed::{feed_until, refer};
use crate::support::fixtures::{open, person, transition};
use parcours::http::pagination::Page;

use crate::support::{TestApp, assert_problem};

async fn timeline(app: &TestApp, token: &str, pathway: &str) -> Vec<EventView> {
    let page: Page<EventView> = app
        .get_as(&format!("/v1/pathways/{pathway}/timeline"), token)
        .await;
    page.items
}

#[tokio::test]
async fn staff_see_where_else_a_person_is_followed_and_nothing_more() {
    let app = TestApp::spawn().await;
    let childhood = app.staff(Coordinator, &["05-GAP"], &[Childhood]).await;
    let disability = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let both = app
        .staff(Supervisor, &["05-GAP"], &[Childhood, Disability])
        .await;
    let elsewhere = app.staff(Coordinator, &["05-BRI"], &[Disability]).await;
    let auditor = app.token_for(Auditor).await;

    let child = person(&app, &childhood, "Ailleurs").await;
    let (ase, _) = open(&app, &childhood, &child, Childhood).await;
    let (mdph, _) = open(&app, &disability, &child, Disability).await;

    // The disability team sees the child-protection pathway exists, with
    // whom to call, and no more.
    let path = format!("/v1/persons/{child}/other-pathways");
    let seen = app.get_json(&path, &disability.token).await;
    let items = seen["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{seen}");
    let mut keys: Vec<&str> = items[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "domain",
            "opened_on",
            "pathway_id",
            "referent",
            "status",
            "status_since",
            "territory"
        ]
    );
    let shown: OtherPathways = crate::support::view(seen.clone());
    let other = &shown.items[0];
    assert_eq!(other.pathway_id.to_string(), ase);
    assert_eq!(other.domain, Childhood);
    assert_eq!(other.territory.id, app.territory("05-GAP").await);
    let referent = other.referent.as_ref().unwrap();
    assert_eq!(referent.email, childhood.user.email);
    assert_eq!(referent.name, "Test Coordinator");
    // Reading it stays refused: 404, as for any pathway out of scope.
    let response = app.get(&format!("/v1/pathways/{ase}")).await;
    assert_eq!(response.status(), 401);
    let response = app
        .with_token(
            reqwest::Method::GET,
            &format!("/v1/pathways/{ase}"),
            &disability.token,
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;

    // The other way round, and a supervisor of both domains sees nothing
    // "elsewhere": everything is in scope.
    let seen: OtherPathways = app.get_as(&path, &childhood.token).await;
    assert_eq!(seen.items.len(), 1);
    assert_eq!(seen.items[0].pathway_id.to_string(), mdph);
    let seen: OtherPathways = app.get_as(&path, &both.token).await;
    assert!(seen.items.is_empty());

    // A person of another territory is not found, and the look is recorded.
    let response = app
        .with_token(reqwest::Method::GET, &path, &elsewhere.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;

    // A closed pathway is no longer shown.
    let path_ase = format!("/v1/pathways/{ase}");
    let detail = app.get_json(&path_ase, &childhood.token).await;
    let etag = app.etag(&path_ase, &childhood.token).await;
    assert_eq!(detail["status"], "referred");
    transition(
        &app,
        &childhood.token,
        &ase,
        &etag,
        "closed",
        Some("moved_away"),
        200,
    )
    .await;
    let seen: OtherPathways = app.get_as(&path, &disability.token).await;
    assert!(seen.items.is_empty());

    // Each look is its own audit record, with the pathways it showed.
    let looks = records(&app, &auditor, "action=read_other_pathways").await;
    let by = |user: uuid::Uuid| -> Vec<&Value> {
        looks
            .iter()
            .filter(|r| r["actor_id"] == json!(user))
            .collect()
    };
    let mine = by(disability.user.id);
    assert_eq!(mine.len(), 2, "{looks:?}");
    assert!(mine.iter().all(|r| r["resource_id"] == json!(child)));
    let shown: Vec<&Value> = mine
        .iter()
        .filter_map(|r| r["result_ids"].as_array())
        .flatten()
        .collect();
    assert_eq!(shown, [&json!(ase)], "{mine:?}");
    let missed = by(elsewhere.user.id);
    assert_eq!(missed.len(), 1);
    assert_eq!(missed[0]["outcome"], "not_found");
}

#[tokio::test]
async fn a_pathway_continues_another_and_both_timelines_say_so() {
    let app = TestApp::spawn().await;
    let childhood = app.staff(Coordinator, &["05-GAP"], &[Childhood]).await;
    let disability = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let young = person(&app, &childhood, "Majeur").await;
    let (ase, _) = open(&app, &childhood, &young, Childhood).await;

    // At majority, the disability team opens the adult pathway as the
    // continuation of the child-protection one it cannot read.
    let (opened, _) = app
        .post_ok(
            "/v1/pathways",
            &disability.token,
            &json!({
                "person_id": young, "domain": "disability", "reason": "Majorité",
                "continues_from": ase, "continuation_reason": "age",
            }),
            201,
        )
        .await;
    let opened: PathwayDetail = crate::support::view(opened);
    assert_eq!(opened.pathway.continues_from.unwrap().to_string(), ase);
    let adult = opened.pathway.id.to_string();
    let read: PathwayDetail = app
        .get_as(&format!("/v1/pathways/{adult}"), &disability.token)
        .await;
    assert_eq!(
        read.pathway.continuation_reason,
        Some(parcours::domain::ContinuationReason::Age)
    );

    let first = &timeline(&app, &disability.token, &adult).await[0];
    assert_eq!(first.kind.as_str(), "pathway_opened");
    assert_eq!(first.data["continues_from"], json!(ase));
    assert_eq!(first.data["continuation_reason"], "age");
    let previous = timeline(&app, &childhood.token, &ase).await;
    let continued = previous.last().unwrap();
    assert_eq!(continued.kind.as_str(), "pathway_continued");
    assert_eq!(continued.actor_id, Some(disability.user.id));
    assert_eq!(continued.data["pathway_id"], json!(adult));
    assert_eq!(continued.data["domain"], "disability");
    assert_eq!(continued.data["reason"], "age");
}

#[tokio::test]
async fn a_continuation_names_a_pathway_of_the_same_person_opened_before() {
    let app = TestApp::spawn().await;
    let staff = app
        .staff(Supervisor, &["05-GAP"], &[Childhood, Disability])
        .await;
    let one = person(&app, &staff, "Premier").await;
    let other = person(&app, &staff, "Second").await;
    let (theirs, _) = open(&app, &staff, &other, Childhood).await;
    let (mine, _) = open(&app, &staff, &one, Childhood).await;
    let body = |continues_from: Value, extra: Value| {
        let mut body = json!({
            "person_id": one, "domain": "disability",
            "continues_from": continues_from, "continuation_reason": "change_of_situation",
        });
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    let refused = |problem: Value, field: &str| {
        let errors = problem["errors"].as_array().unwrap();
        assert!(
            errors.iter().any(|e| e["field"] == field),
            "{field}: {problem}"
        );
    };

    // Another person's pathway, or none: the same answer, naming the field.
    for continues_from in [json!(theirs), json!(uuid::Uuid::now_v7())] {
        let response = app
            .send_json(
                reqwest::Method::POST,
                "/v1/pathways",
                &staff.token,
                None,
                &body(continues_from, json!({})),
            )
            .await;
        refused(assert_problem(response, 422).await, "continues_from");
    }
    // A reason goes with a continuation, and only with one.
    let mut no_reason = body(json!(mine), json!({}));
    no_reason
        .as_object_mut()
        .unwrap()
        .remove("continuation_reason");
    let mut only_reason = body(json!(mine), json!({}));
    only_reason
        .as_object_mut()
        .unwrap()
        .remove("continues_from");
    for (sent, field) in [
        (no_reason, "continuation_reason"),
        (only_reason, "continuation_reason"),
        (
            body(json!(mine), json!({"continuation_reason": "birthday"})),
            "continuation_reason",
        ),
    ] {
        let response = app
            .send_json(
                reqwest::Method::POST,
                "/v1/pathways",
                &staff.token,
                None,
                &sent,
            )
            .await;
        refused(assert_problem(response, 400).await, field);
    }
    // Not opened before the pathway it continues (opened today).
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Days::new(1)).to_string();
    let response = app
        .send_json(
            reqwest::Method::POST,
            "/v1/pathways",
            &staff.token,
            None,
            &body(json!(mine), json!({"opened_on": yesterday})),
        )
        .await;
    refused(assert_problem(response, 422).await, "opened_on");
    // Nothing was opened by the refusals.
    let page: Page<Value> = app
        .get_as(&format!("/v1/pathways?person={one}"), &staff.token)
        .await;
    assert_eq!(page.items.len(), 1);

    // The same domain: once the first is closed.
    let etag = app
        .etag(&format!("/v1/pathways/{mine}"), &staff.token)
        .await;
    let same = json!({
        "person_id": one, "domain": "childhood",
        "continues_from": mine, "continuation_reason": "change_of_situation",
    });
    let response = app
        .send_json(
            reqwest::Method::POST,
            "/v1/pathways",
            &staff.token,
            None,
            &same,
        )
        .await;
    assert_problem(response, 409).await;
    transition(
        &app,
        &staff.token,
        &mine,
        &etag,
        "closed",
        Some("moved_away"),
        200,
    )
    .await;
    app.post_ok("/v1/pathways", &staff.token, &same, 201).await;
}

#[tokio::test]
async fn a_partner_hears_nothing_of_a_continuation_in_another_domain() {
    let app = TestApp::spawn().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let insertion = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;
    let disability = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let rsa = refer(&app, &caf, &insertion, "Suite").await;
    let (before, cursor) = feed_until(&app, &caf, None, 2).await;
    assert_eq!(before.len(), 2);
    let person = app
        .get_json(&format!("/v1/pathways/{rsa}"), &insertion.token)
        .await["person_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (opened, _) = app
        .post_ok(
            "/v1/pathways",
            &disability.token,
            &json!({
                "person_id": person, "domain": "disability",
                "continues_from": rsa, "continuation_reason": "change_of_situation",
            }),
            201,
        )
        .await;
    // The insertion timeline records the continuation; the CAF, which
    // follows that pathway, hears nothing of it nor of the new pathway.
    let events = timeline(&app, &insertion.token, &rsa).await;
    assert_eq!(events.last().unwrap().kind.as_str(), "pathway_continued");
    let (after, _) = feed_until(&app, &caf, cursor.as_deref(), 1).await;
    assert!(after.is_empty(), "{after:?}");
    let response = app
        .with_token(
            reqwest::Method::GET,
            &format!("/v1/partner/pathways/{}", opened["id"].as_str().unwrap()),
            &caf,
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
}

#[tokio::test]
async fn indicators_count_the_moves_between_domains_and_the_gaps() {
    let app = TestApp::spawn().await;
    let staff = app
        .staff(Supervisor, &["05-GAP"], &[Childhood, Disability])
        .await;
    let auditor = app.token_for(Auditor).await;
    let continue_in_disability = async |previous: &str, person: &str| {
        app.post_ok(
            "/v1/pathways",
            &staff.token,
            &json!({
                "person_id": person, "domain": "disability",
                "continues_from": previous, "continuation_reason": "age",
            }),
            201,
        )
        .await;
    };
    // One continues a pathway still open; one, a pathway closed the same
    // day; one, a pathway closed long before (a gap); one opens afresh.
    let mut previous = Vec::new();
    for family in ["Ouvert", "Relais", "Rupture", "Nouveau"] {
        let id = person(&app, &staff, family).await;
        let (pathway, _) = app
            .post_ok(
                "/v1/pathways",
                &staff.token,
                &json!({"person_id": id, "domain": "childhood", "opened_on": "2019-06-01"}),
                201,
            )
            .await;
        previous.push((id, pathway["id"].as_str().unwrap().to_owned()));
    }
    for (_, pathway) in &previous[1..3] {
        let etag = app
            .etag(&format!("/v1/pathways/{pathway}"), &staff.token)
            .await;
        let (_, etag) = transition(
            &app,
            &staff.token,
            pathway,
            &etag,
            "closed",
            Some("other"),
            200,
        )
        .await;
        assert!(!etag.is_empty());
    }
    // The third was closed at the start of 2024, as its history would say.
    let mut conn = app.db.connect().await;
    crate::support::db::execute(
        &mut conn,
        &format!(
            "UPDATE pathways SET closed_on = '2024-01-01' WHERE id = '{}'",
            previous[2].1
        ),
    )
    .await;
    for (person, pathway) in &previous[..3] {
        continue_in_disability(pathway, person).await;
    }
    open(&app, &staff, &previous[3].0, Disability).await;

    let report = app.get_json("/v1/indicators", &auditor).await;
    let domain = |name: &str| {
        report["domains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["domain"] == name)
            .unwrap()
            .clone()
    };
    let disability = domain("disability");
    assert_eq!(disability["pathways_opened"], 4, "{disability}");
    assert_eq!(
        disability["continued_from"]["childhood"],
        json!({"count": 3, "without_gap": 2})
    );
    for other in ["disability", "elderly", "insertion"] {
        assert_eq!(
            disability["continued_from"][other],
            json!({"count": 0, "without_gap": 0})
        );
    }
    assert_eq!(
        domain("childhood")["continued_from"]["childhood"],
        json!({"count": 0, "without_gap": 0})
    );
}
