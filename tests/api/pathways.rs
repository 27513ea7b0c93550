//! Pathways: rollout, the one-open rule, the state machine, referent
//! rights, critical flag, status history, timeline, scope, concurrency.

use parcours::domain::Domain::{self, Childhood, Disability, Elderly, Insertion};
use parcours::domain::Role::{Coordinator, Supervisor};
use parcours::domain::{ClosureReason, EscalationLevel, EventKind, PathwayStatus};
use parcours::http::pagination::Page;
use parcours::http::pathways::{EventView, PathwayDetail, PathwayView};
use reqwest::Method;
use serde_json::json;

use crate::support::fixtures::{open, person, transition};
use crate::support::{TestApp, assert_problem, etag_of, view};

const EVERY_DOMAIN: [Domain; 4] = [Disability, Elderly, Childhood, Insertion];

#[tokio::test]
async fn a_pathway_moves_through_its_statuses_with_a_history_and_a_timeline() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &EVERY_DOMAIN).await;
    let person = person(&app, &staff, "Arnaud").await;
    let (id, etag) = open(&app, &staff, &person, Insertion).await;
    let read: PathwayDetail = app
        .get_as(&format!("/v1/pathways/{id}"), &staff.token)
        .await;
    assert_eq!(read.pathway.status, PathwayStatus::Referred);
    assert_eq!(
        read.pathway.referent_id,
        Some(staff.user.id),
        "the coordinator follows it"
    );

    let mut etag = etag;
    for to in ["assessment", "orientation", "without_solution", "supported"] {
        (_, etag) = transition(&app, &staff.token, &id, &etag, to, None, 200).await;
    }
    let (closed, etag) = transition(
        &app,
        &staff.token,
        &id,
        &etag,
        "closed",
        Some("target_reached"),
        200,
    )
    .await;
    // A read (one statement with its record and the history) gives the
    // history the write returned, to the microsecond.
    let read = app
        .get_json(&format!("/v1/pathways/{id}"), &staff.token)
        .await;
    assert_eq!(read["status_history"], closed["status_history"]);
    assert_eq!(read["status_history"].as_array().unwrap().len(), 6);
    let closed: PathwayDetail = view(closed);
    assert_eq!(closed.pathway.status, PathwayStatus::Closed);
    assert_eq!(
        closed.pathway.closure_reason,
        Some(ClosureReason::TargetReached)
    );
    let opened_on = closed.pathway.opened_on;
    assert!(closed.pathway.closed_on.is_some_and(|d| d >= opened_on));
    let statuses: Vec<PathwayStatus> = closed.status_history.iter().map(|p| p.status).collect();
    assert_eq!(statuses, PathwayStatus::VALUES, "every status, in order");
    let history = &closed.status_history;
    for pair in history.windows(2) {
        assert_eq!(
            pair[0].end,
            Some(pair[1].start),
            "periods follow each other"
        );
    }
    assert_eq!(history.last().unwrap().end, None);
    assert_eq!(closed.days_without_solution, 0.0);

    let timeline: Page<EventView> = app
        .get_as(&format!("/v1/pathways/{id}/timeline?limit=4"), &staff.token)
        .await;
    let kinds: Vec<EventKind> = timeline.items.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::PathwayOpened,
            EventKind::StatusChanged,
            EventKind::StatusChanged,
            EventKind::StatusChanged
        ]
    );
    assert_eq!(timeline.items[1].data["from"], "referred");
    assert_eq!(timeline.items[1].data["to"], "assessment");
    let cursor = timeline.next_cursor.expect("a next page");
    let rest: Page<EventView> = app
        .get_as(
            &format!("/v1/pathways/{id}/timeline?limit=4&cursor={cursor}"),
            &staff.token,
        )
        .await;
    assert_eq!(rest.items.len(), 2);
    assert_eq!(rest.items[1].data["closure_reason"], "target_reached");
    assert_eq!(rest.next_cursor, None);

    // Closed is final; a new pathway can now be opened in the domain.
    let (problem, _) = transition(&app, &staff.token, &id, &etag, "assessment", None, 409).await;
    assert_eq!(
        problem["allowed"],
        json!(null),
        "nothing is allowed from closed: {problem}"
    );
    open(&app, &staff, &person, Insertion).await;
}

#[tokio::test]
async fn every_forbidden_transition_is_refused_with_the_allowed_ones() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let person = person(&app, &staff, "Blanc").await;
    let (id, mut etag) = open(&app, &staff, &person, Disability).await;
    // The path to each status, and what each status forbids.
    let forbidden: &[(&str, &[&str], &[&str])] = &[
        (
            "referred",
            &["orientation", "without_solution", "supported", "referred"],
            &["assessment", "closed"],
        ),
        (
            "assessment",
            &["referred", "without_solution", "supported", "assessment"],
            &["orientation", "closed"],
        ),
        (
            "orientation",
            &["referred", "assessment", "orientation"],
            &["supported", "without_solution", "closed"],
        ),
        (
            "without_solution",
            &["referred", "assessment", "orientation", "without_solution"],
            &["supported", "closed"],
        ),
        (
            "supported",
            &["referred", "assessment", "supported"],
            &["orientation", "without_solution", "closed"],
        ),
    ];
    let path = ["assessment", "orientation", "without_solution", "supported"];
    for (step, (status, refused, allowed)) in forbidden.iter().enumerate() {
        for to in *refused {
            let (problem, _) = transition(&app, &staff.token, &id, &etag, to, None, 409).await;
            assert_eq!(problem["type"], "urn:parcours:problem:forbidden-transition");
            let listed: Vec<&str> = problem["allowed"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            assert_eq!(&listed, allowed, "from {status}");
        }
        if let Some(next) = path.get(step) {
            (_, etag) = transition(&app, &staff.token, &id, &etag, next, None, 200).await;
        }
    }
    // Closing needs a coded reason; other moves take none.
    let (problem, _) = transition(&app, &staff.token, &id, &etag, "closed", None, 422).await;
    assert_eq!(problem["errors"][0]["field"], "closure_reason");
    let (problem, _) = transition(
        &app,
        &staff.token,
        &id,
        &etag,
        "orientation",
        Some("deceased"),
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "closure_reason");
}

#[tokio::test]
async fn one_open_pathway_per_person_and_domain() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &EVERY_DOMAIN).await;
    let person = person(&app, &staff, "Chevalier").await;
    let (first, _) = open(&app, &staff, &person, Elderly).await;
    let response = app
        .send_json(
            Method::POST,
            "/v1/pathways",
            &staff.token,
            None,
            &json!({"person_id": person, "domain": "elderly"}),
        )
        .await;
    let problem = assert_problem(response, 409).await;
    assert!(
        problem["detail"].as_str().unwrap().contains(&first),
        "{problem}"
    );
    // Another domain is fine.
    open(&app, &staff, &person, Childhood).await;
}

#[tokio::test]
async fn a_domain_refuses_pathways_before_its_opening_date() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(parcours::domain::Role::Admin).await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Childhood]).await;
    let person = person(&app, &staff, "Dumas").await;
    let calendar = app
        .with_token(Method::GET, "/v1/domains/childhood", &admin)
        .send()
        .await
        .unwrap();
    let etag = etag_of(&calendar);
    let response = app
        .send_json(
            Method::PUT,
            "/v1/domains/childhood",
            &admin,
            Some(&etag),
            &json!({"opens_on": "2099-01-01"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let etag = etag_of(&response);

    let response = app
        .send_json(
            Method::POST,
            "/v1/pathways",
            &staff.token,
            None,
            &json!({"person_id": person, "domain": "childhood"}),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["type"], "urn:parcours:problem:domain-not-open");
    assert_eq!(problem["opens_on"], "2099-01-01");
    assert!(problem["detail"].as_str().unwrap().contains("2099-01-01"));

    let response = app
        .send_json(
            Method::PUT,
            "/v1/domains/childhood",
            &admin,
            Some(&etag),
            &json!({"opens_on": "2019-01-01"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    // Open again, but a pathway dated before the opening is still refused.
    let response = app
        .send_json(
            Method::POST,
            "/v1/pathways",
            &staff.token,
            None,
            &json!({"person_id": person, "domain": "childhood", "opened_on": "2018-12-31"}),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["opens_on"], "2019-01-01");
    open(&app, &staff, &person, Childhood).await;
}

#[tokio::test]
async fn coordinators_steer_only_the_pathways_they_follow() {
    let app = TestApp::spawn().await;
    let referent = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let colleague = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let supervisor = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let person = person(&app, &referent, "Fabre").await;
    let (id, etag) = open(&app, &referent, &person, Disability).await;

    // The colleague on duty records a move, and the timeline says who did;
    // closing it, flagging it or reassigning it stays with its referent
    // and supervisors.
    app.get_json(&format!("/v1/pathways/{id}"), &colleague.token)
        .await;
    let (_, etag) = transition(&app, &colleague.token, &id, &etag, "assessment", None, 200).await;
    let timeline = app
        .get_json(&format!("/v1/pathways/{id}/timeline"), &referent.token)
        .await;
    let moved = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "status_changed")
        .unwrap();
    assert_eq!(moved["actor_id"], colleague.user.id.to_string(), "{moved}");
    let (problem, _) = transition(
        &app,
        &colleague.token,
        &id,
        &etag,
        "closed",
        Some("person_request"),
        403,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("referent"));
    let response = app
        .send_json(
            Method::PUT,
            &format!("/v1/pathways/{id}/critical"),
            &colleague.token,
            Some(&etag),
            &json!({"level": "department", "reason": "Rupture de prise en charge"}),
        )
        .await;
    assert_problem(response, 403).await;
    let response = app
        .send_json(
            Method::PATCH,
            &format!("/v1/pathways/{id}"),
            &colleague.token,
            Some(&etag),
            &json!({"referent_id": colleague.user.id}),
        )
        .await;
    assert_problem(response, 403).await;

    // The supervisor hands it over; now the colleague steers it.
    let response = app
        .send_json(
            Method::PATCH,
            &format!("/v1/pathways/{id}"),
            &supervisor.token,
            Some(&etag),
            &json!({"referent_id": colleague.user.id}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let etag = etag_of(&response);
    transition(
        &app,
        &referent.token,
        &id,
        &etag,
        "closed",
        Some("person_request"),
        403,
    )
    .await;
    let (_, etag) = transition(&app, &colleague.token, &id, &etag, "orientation", None, 200).await;
    // A referent must work in the pathway's territory and domain.
    let elsewhere = app.staff(Coordinator, &["05-BRI"], &[Disability]).await;
    let response = app
        .send_json(
            Method::PATCH,
            &format!("/v1/pathways/{id}"),
            &supervisor.token,
            Some(&etag),
            &json!({"referent_id": elsewhere.user.id}),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "referent_id");
}

#[tokio::test]
async fn critical_situations_are_flagged_escalated_and_cleared() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let person = person(&app, &staff, "Garnier").await;
    let (id, etag) = open(&app, &staff, &person, Disability).await;
    let path = format!("/v1/pathways/{id}/critical");
    let response = app
        .send_json(
            Method::PUT,
            &path,
            &staff.token,
            Some(&etag),
            &json!({"level": "department", "reason": "Sortie d'IME sans relais"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let etag = etag_of(&response);
    let flagged: PathwayView = response.json().await.unwrap();
    let critical = flagged.critical.expect("flagged critical");
    assert_eq!(critical.level, EscalationLevel::Department);
    assert_eq!(critical.reason, "Sortie d'IME sans relais");

    let response = app
        .send_json(
            Method::PUT,
            &path,
            &staff.token,
            Some(&etag),
            &json!({"level": "regional", "reason": "Aucune place dans le département"}),
        )
        .await;
    let etag = etag_of(&response);
    let escalated: PathwayView = response.json().await.unwrap();
    let escalation = escalated.critical.expect("still critical");
    assert_eq!(escalation.level, EscalationLevel::Regional);
    assert_eq!(
        escalation.since, critical.since,
        "escalating keeps the date"
    );

    let listed: Page<PathwayView> = app.get_as("/v1/pathways?critical=true", &staff.token).await;
    let listed: Vec<_> = listed.items.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(listed, std::slice::from_ref(&id));

    let response = app
        .send_json(
            Method::DELETE,
            &path,
            &staff.token,
            Some(&etag),
            &json!({"reason": "Place trouvée en MAS"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let cleared: PathwayView = response.json().await.unwrap();
    assert!(cleared.critical.is_none());
    let listed: Page<PathwayView> = app.get_as("/v1/pathways?critical=true", &staff.token).await;
    assert!(listed.items.is_empty());
    let timeline: Page<EventView> = app
        .get_as(&format!("/v1/pathways/{id}/timeline"), &staff.token)
        .await;
    let kinds: Vec<EventKind> = timeline.items.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::PathwayOpened,
            EventKind::CriticalSet,
            EventKind::CriticalSet,
            EventKind::CriticalCleared
        ]
    );
}

#[tokio::test]
async fn out_of_scope_pathways_are_absent_everywhere() {
    let app = TestApp::spawn().await;
    let gap = app
        .staff(Coordinator, &["05-GAP"], &[Disability, Elderly])
        .await;
    let person = person(&app, &gap, "Henry").await;
    let (id, etag) = open(&app, &gap, &person, Elderly).await;
    // Same territory, another domain; another territory, same domain.
    let other_domain = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let other_territory = app.staff(Supervisor, &["05-BRI"], &[Elderly]).await;
    for outsider in [&other_domain, &other_territory] {
        for path in [
            format!("/v1/pathways/{id}"),
            format!("/v1/pathways/{id}/timeline"),
        ] {
            let response = app
                .with_token(Method::GET, &path, &outsider.token)
                .send()
                .await
                .unwrap();
            assert_problem(response, 404).await;
        }
        let list: Page<PathwayView> = app.get_as("/v1/pathways", &outsider.token).await;
        assert!(list.items.is_empty());
        let list: Page<PathwayView> = app
            .get_as(&format!("/v1/pathways?person={person}"), &outsider.token)
            .await;
        assert!(list.items.is_empty());
        transition(&app, &outsider.token, &id, &etag, "assessment", None, 404).await;
        let response = app
            .send_json(
                Method::PUT,
                &format!("/v1/pathways/{id}/critical"),
                &outsider.token,
                Some(&etag),
                &json!({"level": "national", "reason": "x"}),
            )
            .await;
        assert_problem(response, 404).await;
    }
    // Opening outside one's domains is refused too.
    let response = app
        .send_json(
            Method::POST,
            "/v1/pathways",
            &gap.token,
            None,
            &json!({"person_id": person, "domain": "insertion"}),
        )
        .await;
    let problem = assert_problem(response, 400).await;
    assert_eq!(problem["errors"][0]["field"], "domain");
}

#[tokio::test]
async fn lists_filter_and_paginate_in_a_stable_order() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Supervisor, &["05-GAP"], &EVERY_DOMAIN).await;
    let mut ids = Vec::new();
    for (n, domain) in EVERY_DOMAIN.iter().enumerate() {
        let person = person(&app, &staff, &format!("Liste{n}")).await;
        ids.push(open(&app, &staff, &person, *domain).await);
    }
    let (first, etag) = &ids[0];
    transition(&app, &staff.token, first, etag, "assessment", None, 200).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/pathways?limit=3&cursor={c}"),
            None => "/v1/pathways?limit=3".to_owned(),
        };
        let page: Page<PathwayView> = app.get_as(&path, &staff.token).await;
        seen.extend(page.items.iter().map(|p| p.id.to_string()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let expected: Vec<String> = ids.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(seen, expected);

    let territory = app.territory("05-GAP").await;
    let filtered: Page<PathwayView> = app
        .get_as(
            &format!("/v1/pathways?territory={territory}&status=referred"),
            &staff.token,
        )
        .await;
    assert_eq!(filtered.items.len(), 3);
    assert!(
        filtered
            .items
            .iter()
            .all(|p| p.status == PathwayStatus::Referred)
    );
    let by_domain: Page<PathwayView> = app
        .get_as("/v1/pathways?domain=elderly", &staff.token)
        .await;
    let by_domain: Vec<_> = by_domain
        .items
        .iter()
        .map(|p| (p.id.to_string(), p.domain))
        .collect();
    assert_eq!(by_domain, [(ids[1].0.clone(), Elderly)]);
    let none: Page<PathwayView> = app
        .get_as("/v1/pathways?opened_to=2000-01-01", &staff.token)
        .await;
    assert!(none.items.is_empty());
    let response = app
        .with_token(Method::GET, "/v1/pathways?status=lost", &staff.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 400).await;
}

#[tokio::test]
async fn two_clients_changing_one_pathway_never_lose_an_update() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let person = person(&app, &staff, "Concurrent").await;
    let (id, etag) = open(&app, &staff, &person, Disability).await;
    let path = format!("/v1/pathways/{id}/transitions");
    let response = app
        .send_json(
            Method::POST,
            &path,
            &staff.token,
            None,
            &json!({"to": "assessment", "reason": "sans version"}),
        )
        .await;
    assert_problem(response, 428).await;
    // Both moves are allowed from `referred`; both were read at version 1.
    let assess = json!({"to": "assessment", "reason": "évaluation"});
    let close = json!({"to": "closed", "reason": "déménagement", "closure_reason": "moved_away"});
    let (a, b) = tokio::join!(
        app.send_json(Method::POST, &path, &staff.token, Some(&etag), &assess),
        app.send_json(Method::POST, &path, &staff.token, Some(&etag), &close),
    );
    let (a, b) = (a.status().as_u16(), b.status().as_u16());
    let mut statuses = [a, b];
    statuses.sort();
    assert_eq!(
        statuses,
        [200, 412],
        "one lands, the other is told it is stale"
    );
    let winner = if a == 200 { "assessment" } else { "closed" };
    let read = app
        .get_json(&format!("/v1/pathways/{id}"), &staff.token)
        .await;
    assert_eq!(read["status"], winner);
    assert_eq!(read["status_history"].as_array().unwrap().len(), 2);
}
