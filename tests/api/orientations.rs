//! The orientation follow-up per facility, as a facility's software and a
//! social worker would use it: staff address an orientation to facilities;
//! each facility lists what is addressed to it, reports where the person
//! stands in the ANS codes (TRE_R357 / TRE_R358), and follows it in its
//! feed; nobody else learns of it.

use parcours::domain::Domain::Disability;
use parcours::domain::Role::{Admin, Supervisor};
use parcours::domain::facility_status::{REASON_SYSTEM, STATUS_SYSTEM};
use reqwest::Method;
use serde_json::{Value, json};

use crate::feed::feed_until;
use crate::support::fixtures::{open, person};
use crate::support::{Staff, TestApp, assert_problem, etag_of};

/// A facility (an organization with a FINESS number), created by an admin.
async fn facility(app: &TestApp, admin: &str, name: &str, finess: &str) -> String {
    let (organization, _) = app
        .post_ok(
            "/v1/organizations",
            admin,
            &json!({"kind": "facility", "name": name, "finess": finess}),
            201,
        )
        .await;
    organization["id"].as_str().unwrap().to_owned()
}

async fn decide(app: &TestApp, staff: &Staff, pathway: &str, kind: &str) -> String {
    let (decision, _) = app
        .post_ok(
            &format!("/v1/pathways/{pathway}/decisions"),
            &staff.token,
            &json!({
                "kind": kind,
                "authority": "cdaph",
                "qualification": "target",
                "label": "Orientation en IME",
                "decided_on": "2026-11-02",
            }),
            201,
        )
        .await;
    assert_eq!(decision["kind"], kind);
    decision["id"].as_str().unwrap().to_owned()
}

/// `POST /v1/facility-follow-ups/{id}/statuses` as a partner would send it.
async fn report(
    app: &TestApp,
    token: &str,
    follow_up: &str,
    etag: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    app.with_token(
        Method::POST,
        &format!("/v1/facility-follow-ups/{follow_up}/statuses"),
        token,
    )
    .header("if-match", etag)
    .header("idempotency-key", key)
    .json(body)
    .send()
    .await
    .unwrap()
}

fn status(code: &str, reason: Option<&str>, on: &str) -> Value {
    let mut body = json!({"status": {"system": STATUS_SYSTEM, "code": code}, "status_on": on});
    if let Some(reason) = reason {
        body["reason"] = json!({"system": REASON_SYSTEM, "code": reason});
    }
    body
}

#[tokio::test]
async fn a_facility_reads_the_orientation_addressed_to_it_and_reports_in_national_codes() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(Admin).await;
    let ime = facility(&app, &admin, "IME Les Écrins", "050000123").await;
    facility(&app, &admin, "ESAT du Buëch", "050000456").await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let someone = person(&app, &staff, "Orientée").await;
    let (pathway, _) = open(&app, &staff, &someone, Disability).await;
    let decision = decide(&app, &staff, &pathway, "orientation").await;

    let (addressed, etag) = app
        .post_ok(
            &format!("/v1/decisions/{decision}/facilities"),
            &staff.token,
            &json!({"organization_id": ime, "unit": "Semi-internat"}),
            201,
        )
        .await;
    let follow_up = addressed["id"].as_str().unwrap().to_owned();
    assert_eq!(addressed["finess"], "050000123");
    assert_eq!(addressed["status"], Value::Null);
    assert_eq!(addressed["outcome"], Value::Null);
    assert_eq!(etag, "\"v1\"");

    // Once per decision and facility, whatever the unit (the national SDO
    // model: the unit is a detail of the follow-up); only facilities; only
    // orientations.
    for unit in [json!("Semi-internat"), json!("Internat"), Value::Null] {
        let again = app
            .send_json(
                Method::POST,
                &format!("/v1/decisions/{decision}/facilities"),
                &staff.token,
                None,
                &json!({"organization_id": ime, "unit": unit}),
            )
            .await;
        assert_problem(again, 409).await;
    }
    let listed = app
        .get_json(
            &format!("/v1/decisions/{decision}/facilities"),
            &staff.token,
        )
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    let caf = app
        .get_json("/v1/organizations?limit=200", &staff.token)
        .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "CAF des Hautes-Alpes")
        .unwrap()["id"]
        .clone();
    let not_a_facility = app
        .send_json(
            Method::POST,
            &format!("/v1/decisions/{decision}/facilities"),
            &staff.token,
            None,
            &json!({"organization_id": caf}),
        )
        .await;
    let problem = assert_problem(not_a_facility, 422).await;
    assert_eq!(problem["errors"][0]["field"], "organization_id");
    let rejection = decide(&app, &staff, &pathway, "rejection").await;
    let rejected = app
        .send_json(
            Method::POST,
            &format!("/v1/decisions/{rejection}/facilities"),
            &staff.token,
            None,
            &json!({"organization_id": ime}),
        )
        .await;
    assert_problem(rejected, 409).await;

    let decisions = app
        .get_json(&format!("/v1/pathways/{pathway}/decisions"), &staff.token)
        .await;
    assert_eq!(decisions["items"][0]["without_solution"], true);
    // A rejection is no orientation: nothing to be without.
    assert_eq!(decisions["items"][1]["without_solution"], false);

    // The IME sees what is addressed to it, the ESAT nothing.
    let ime_token = app.partner_token("IME Les Écrins").await;
    let esat_token = app.partner_token("ESAT du Buëch").await;
    let listed = app.get_json("/v1/partner/orientations", &ime_token).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], follow_up.as_str());
    assert_eq!(items[0]["decision"]["label"], "Orientation en IME");
    assert_eq!(items[0]["decision"]["decided_on"], "2026-11-02");
    let text = listed.to_string();
    assert!(
        !text.contains("Orientée") && !text.contains("Camille"),
        "{text}"
    );
    let esat = app.get_json("/v1/partner/orientations", &esat_token).await;
    assert_eq!(esat["items"], json!([]));
    let path = format!("/v1/facility-follow-ups/{follow_up}");
    let unseen = app
        .with_token(Method::GET, &path, &esat_token)
        .send()
        .await
        .unwrap();
    assert_problem(unseen, 404).await;

    // A refusal needs its reason, a code outside the value set is refused
    // without being echoed (400, the field named), and the date is checked
    // against the decision (422).
    let read = app
        .with_token(Method::GET, &path, &ime_token)
        .send()
        .await
        .unwrap();
    let etag = etag_of(&read);
    let no_reason = report(
        &app,
        &ime_token,
        &follow_up,
        &etag,
        "orientation-k1-0001",
        &status("45", None, "2026-11-05"),
    )
    .await;
    let problem = assert_problem(no_reason, 400).await;
    assert_eq!(problem["errors"][0]["field"], "reason");
    let unknown = report(
        &app,
        &ime_token,
        &follow_up,
        &etag,
        "orientation-k2-0001",
        &status("9173", None, "2026-11-05"),
    )
    .await;
    let problem = assert_problem(unknown, 400).await;
    assert_eq!(problem["errors"][0]["field"], "status.code");
    assert!(!problem.to_string().contains("9173"), "{problem}");
    let early = report(
        &app,
        &ime_token,
        &follow_up,
        &etag,
        "orientation-k3-0001",
        &status("42", None, "2026-10-01"),
    )
    .await;
    let problem = assert_problem(early, 422).await;
    assert_eq!(problem["errors"][0]["field"], "status_on");
    let no_key = app
        .with_token(Method::POST, &format!("{path}/statuses"), &ime_token)
        .header("if-match", &etag)
        .json(&status("42", None, "2026-11-05"))
        .send()
        .await
        .unwrap();
    assert!(no_key.status().is_client_error(), "{}", no_key.status());

    // Waiting list, then admitted: each kept, the current one shown.
    let waiting = report(
        &app,
        &ime_token,
        &follow_up,
        &etag,
        "orientation-k4-0001",
        &status("42", None, "2026-11-05"),
    )
    .await;
    assert_eq!(waiting.status(), 200);
    let waiting_etag = etag_of(&waiting);
    let body: Value = waiting.json().await.unwrap();
    assert_eq!(body["status"]["code"], "42");
    assert_eq!(body["outcome"], "pending");
    let stale = report(
        &app,
        &ime_token,
        &follow_up,
        &etag,
        "orientation-k5-0001",
        &status("71", None, "2026-11-20"),
    )
    .await;
    assert_problem(stale, 412).await;
    let admitted = report(
        &app,
        &ime_token,
        &follow_up,
        &waiting_etag,
        "orientation-k6-0001",
        &status("71", None, "2026-11-20"),
    )
    .await;
    assert_eq!(admitted.status(), 200);
    // A retry of the same request is answered as the first time, not applied twice.
    let retried = report(
        &app,
        &ime_token,
        &follow_up,
        &waiting_etag,
        "orientation-k6-0001",
        &status("71", None, "2026-11-20"),
    )
    .await;
    assert_eq!(retried.status(), 200);
    let detail = app.get_json(&path, &ime_token).await;
    assert_eq!(detail["outcome"], "admits");
    assert_eq!(
        detail["status"]["display"],
        "Liste d'attente. Admis dans l'ESMS"
    );
    let history: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["42", "71"]);

    // Staff see it under the decision; a refusal with its reason is shown in full.
    let (addressed_esat, _) = app
        .post_ok(
            &format!("/v1/decisions/{decision}/facilities"),
            &staff.token,
            &json!({"organization_id": facility(&app, &admin, "MAS du Champsaur", "050000789").await}),
            201,
        )
        .await;
    let mas = addressed_esat["id"].as_str().unwrap();
    let refused = app
        .send_json(
            Method::POST,
            &format!("/v1/facility-follow-ups/{mas}/statuses"),
            &staff.token,
            Some("\"v1\""),
            &status("45", Some("113"), "2026-11-21"),
        )
        .await;
    assert_eq!(refused.status(), 200);
    let listed = app
        .get_json(
            &format!("/v1/decisions/{decision}/facilities"),
            &staff.token,
        )
        .await;
    let outcomes: Vec<(&str, &str)> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["finess"].as_str().unwrap(),
                f["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [("050000123", "admits"), ("050000789", "refuses")]
    );
    assert_eq!(
        listed["items"][1]["reason"]["display"],
        "Eloignement géographique"
    );

    let decisions = app
        .get_json(&format!("/v1/pathways/{pathway}/decisions"), &staff.token)
        .await;
    assert_eq!(decisions["items"][0]["without_solution"], false);

    // The IME's feed: the orientation and its own statuses, not the MAS's.
    let (events, _) = feed_until(&app, &ime_token, None, 3).await;
    let kinds: Vec<(&str, Option<&str>)> = events
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["facility_status"]["code"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("facility_notified", None),
            ("facility_status_changed", Some("42")),
            ("facility_status_changed", Some("71")),
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e["follow_up_id"] == follow_up.as_str())
    );

    // The person's file holds it all.
    let export = app
        .get_json(&format!("/v1/persons/{someone}/export"), &staff.token)
        .await;
    let facilities = &export["pathways"][0]["decisions"][0]["facilities"];
    assert_eq!(facilities.as_array().unwrap().len(), 2);
    assert_eq!(facilities[0]["statuses"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_rejection_is_counted_as_a_rejection_not_as_an_orientation() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let someone = person(&app, &staff, "Comptée").await;
    let (pathway, _) = open(&app, &staff, &someone, Disability).await;
    decide(&app, &staff, &pathway, "orientation").await;
    decide(&app, &staff, &pathway, "rejection").await;
    decide(&app, &staff, &pathway, "rejection").await;
    decide(&app, &staff, &pathway, "deferral").await;
    let indicators = app.get_json("/v1/indicators?year=2026", &staff.token).await;
    assert_eq!(
        indicators["domains"][0]["decisions"],
        json!({"target": 1, "alternative": 0, "rejection": 2, "deferral": 1})
    );
}

#[tokio::test]
async fn an_orientation_every_facility_refused_raises_an_alert_suggesting_a_critical_flag() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(Admin).await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let someone = person(&app, &staff, "Refusée").await;
    let (pathway, _) = open(&app, &staff, &someone, Disability).await;
    let decision = decide(&app, &staff, &pathway, "orientation").await;
    let mut follow_ups = Vec::new();
    for (name, finess) in [
        ("FAM du Gapençais", "050000111"),
        ("MAS de l'Embrunais", "050000222"),
    ] {
        let organization = facility(&app, &admin, name, finess).await;
        let (addressed, _) = app
            .post_ok(
                &format!("/v1/decisions/{decision}/facilities"),
                &staff.token,
                &json!({"organization_id": organization}),
                201,
            )
            .await;
        follow_ups.push(addressed["id"].as_str().unwrap().to_owned());
    }
    let refusals = |alerts: &Value| -> Vec<Value> {
        alerts["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "facilities_refused")
            .cloned()
            .collect()
    };
    let refuse = async |follow_up: &str, on: &str| {
        let response = app
            .send_json(
                Method::POST,
                &format!("/v1/facility-follow-ups/{follow_up}/statuses"),
                &staff.token,
                Some("\"v1\""),
                &status("46", Some("114"), on),
            )
            .await;
        assert_eq!(response.status(), 200);
    };
    // One refusal of two: the other facility may still admit.
    refuse(&follow_ups[0], "2026-11-10").await;
    let alerts = app.get_json("/v1/alerts", &staff.token).await;
    assert!(refusals(&alerts).is_empty(), "{alerts}");
    refuse(&follow_ups[1], "2026-11-12").await;
    let alerts = app.get_json("/v1/alerts", &staff.token).await;
    let raised = refusals(&alerts);
    assert_eq!(raised.len(), 1, "{alerts}");
    assert_eq!(raised[0]["subject_id"], decision.as_str());
    assert_eq!(raised[0]["pathway_id"], pathway.as_str());
    assert_eq!(raised[0]["due_on"], "2026-11-12");
    assert_eq!(raised[0]["suggests_critical"], true);

    // Flagged critical: the alert stays, the suggestion goes.
    let read = app
        .with_token(
            Method::GET,
            &format!("/v1/pathways/{pathway}"),
            &staff.token,
        )
        .send()
        .await
        .unwrap();
    let etag = etag_of(&read);
    let flagged = app
        .send_json(
            Method::PUT,
            &format!("/v1/pathways/{pathway}/critical"),
            &staff.token,
            Some(&etag),
            &json!({"level": "department", "reason": "Aucune place adaptée"}),
        )
        .await;
    assert_eq!(flagged.status(), 200, "{}", flagged.text().await.unwrap());
    let alerts = app.get_json("/v1/alerts", &staff.token).await;
    let raised = refusals(&alerts);
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0]["suggests_critical"], false);

    // Addressed to a third facility, the orientation may be answered again.
    let third = facility(&app, &admin, "IME du Queyras", "050000333").await;
    app.post_ok(
        &format!("/v1/decisions/{decision}/facilities"),
        &staff.token,
        &json!({"organization_id": third}),
        201,
    )
    .await;
    let alerts = app.get_json("/v1/alerts", &staff.token).await;
    assert!(refusals(&alerts).is_empty(), "{alerts}");
}

/// Per-facility outcomes on a small data set, against numbers counted by
/// hand: what each facility was addressed, admitted (days from the decision)
/// and refused (by the reason of its first refusal) during the year.
#[tokio::test]
async fn facility_outcomes_equal_the_numbers_counted_by_hand() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(Admin).await;
    let ime = facility(&app, &admin, "IME des Indicateurs", "050000401").await;
    let mas = facility(&app, &admin, "MAS des Indicateurs", "050000402").await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let address = async |decision: &str, organization: &str| -> String {
        let (follow_up, _) = app
            .post_ok(
                &format!("/v1/decisions/{decision}/facilities"),
                &staff.token,
                &json!({"organization_id": organization}),
                201,
            )
            .await;
        follow_up["id"].as_str().unwrap().to_owned()
    };
    let report_all = async |follow_up: &str, statuses: &[(&str, Option<&str>, &str)]| {
        for (version, (code, reason, on)) in statuses.iter().enumerate() {
            let response = app
                .send_json(
                    Method::POST,
                    &format!("/v1/facility-follow-ups/{follow_up}/statuses"),
                    &staff.token,
                    Some(&format!("\"v{}\"", version + 1)),
                    &status(code, *reason, on),
                )
                .await;
            assert_eq!(response.status(), 200, "{code} {on}");
        }
    };
    let decided = async |family: &str, on: &str| -> String {
        let someone = person(&app, &staff, family).await;
        let (pathway, _) = open(&app, &staff, &someone, Disability).await;
        let (decision, _) = app
            .post_ok(
                &format!("/v1/pathways/{pathway}/decisions"),
                &staff.token,
                &json!({"authority": "cdaph", "qualification": "target",
                        "label": "Orientation en IME", "decided_on": on}),
                201,
            )
            .await;
        decision["id"].as_str().unwrap().to_owned()
    };
    // 1: decided 2 March. The IME admits on 1 April (30 days), the person
    // enters on 1 May (the same admission); the MAS refuses for distance,
    // then confirms it (one refusal, reason 113).
    let first = decided("Premier", "2026-03-02").await;
    let f = address(&first, &ime).await;
    report_all(
        &f,
        &[
            ("42", None, "2026-03-10"),
            ("71", None, "2026-04-01"),
            ("47", None, "2026-05-01"),
        ],
    )
    .await;
    let f = address(&first, &mas).await;
    report_all(
        &f,
        &[
            ("45", Some("113"), "2026-03-20"),
            ("46", Some("113"), "2026-03-25"),
        ],
    )
    .await;
    // 2: decided 1 June. A trial at the IME from 11 June (10 days); an
    // inconclusive trial at the MAS (a refusal that takes no reason).
    let second = decided("Deuxième", "2026-06-01").await;
    let f = address(&second, &ime).await;
    report_all(&f, &[("43", None, "2026-06-11")]).await;
    let f = address(&second, &mas).await;
    report_all(&f, &[("44", None, "2026-06-05")]).await;
    // 3: decided 10 January, admitted by the IME on 30 January (20 days).
    let third = decided("Troisième", "2026-01-10").await;
    let f = address(&third, &ime).await;
    report_all(&f, &[("71", None, "2026-01-30")]).await;
    // 4: a decision addressed to the MAS, still waiting.
    let fourth = decided("Quatrième", "2026-09-01").await;
    let f = address(&fourth, &mas).await;
    report_all(&f, &[("42", None, "2026-09-15")]).await;

    let indicators = app
        .get_json("/v1/indicators?year=2026&domain=disability", &staff.token)
        .await;
    let facilities = &indicators["domains"][0]["facilities"];
    // IME: 30, 10 and 20 days: median 20, p90 20 + 0.8 × 10 = 28.
    assert_eq!(
        facilities,
        &json!([
            {"organization_id": ime, "finess": "050000401", "name": "IME des Indicateurs",
             "addressed": 3,
             "admitted": {"count": 3, "median_days": 20.0, "p90_days": 28.0},
             "refused_by_reason": {}},
            {"organization_id": mas, "finess": "050000402", "name": "MAS des Indicateurs",
             "addressed": 3,
             "admitted": {"count": 0, "median_days": null, "p90_days": null},
             "refused_by_reason": {"113": 1, "none": 1}},
        ]),
        "{facilities:#}"
    );
    let csv = app
        .with_token(
            Method::GET,
            "/v1/indicators?year=2026&domain=disability",
            &staff.token,
        )
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "2026,disability,facility,050000401.admitted,3",
        "2026,disability,facility,050000401.admitted_median_days,20",
        "2026,disability,facility,050000402.refused.113,1",
        "2026,disability,facility,050000402.refused.none,1",
    ] {
        assert!(csv.lines().any(|l| l == line), "{line} in\n{csv}");
    }
    // Another year: nothing happened then.
    let before = app
        .get_json("/v1/indicators?year=2025&domain=disability", &staff.token)
        .await;
    assert_eq!(before["domains"][0]["facilities"], json!([]));
}

/// Days spent in an alternative response while the target orientation was
/// pending, on three pathways counted by hand (the period: 2026 up to now).
#[tokio::test]
async fn time_in_an_alternative_response_while_the_target_is_pending() {
    use chrono::NaiveDate;
    let app = TestApp::spawn().await;
    let admin = app.token_for(Admin).await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let ime = facility(&app, &admin, "IME de l'Alternative", "050000501").await;
    let decide_on =
        async |pathway: &str, qualification: &str, on: &str, implemented: Option<&str>| {
            let mut body = json!({"authority": "cdaph", "qualification": qualification,
                              "label": "Orientation", "decided_on": on});
            if let Some(implemented) = implemented {
                body["implemented_on"] = json!(implemented);
            }
            let (decision, _) = app
                .post_ok(
                    &format!("/v1/pathways/{pathway}/decisions"),
                    &staff.token,
                    &body,
                    201,
                )
                .await;
            decision["id"].as_str().unwrap().to_owned()
        };
    let pathway_of = async |family: &str| {
        let someone = person(&app, &staff, family).await;
        open(&app, &staff, &someone, Disability).await.0
    };
    // 1: target pending since 1 February, alternative in effect from
    // 1 March: every day since, up to now.
    let first = pathway_of("Alternative").await;
    decide_on(&first, "target", "2026-02-01", None).await;
    decide_on(&first, "alternative", "2026-02-10", Some("2026-03-01")).await;
    // 2: alternative in effect from 1 February; the target decided on
    // 10 January is admitted by a facility on 10 June: 129 days.
    let second = pathway_of("Admise").await;
    let target = decide_on(&second, "target", "2026-01-10", None).await;
    decide_on(&second, "alternative", "2026-01-15", Some("2026-02-01")).await;
    let (follow_up, _) = app
        .post_ok(
            &format!("/v1/decisions/{target}/facilities"),
            &staff.token,
            &json!({"organization_id": ime}),
            201,
        )
        .await;
    let response = app
        .send_json(
            Method::POST,
            &format!(
                "/v1/facility-follow-ups/{}/statuses",
                follow_up["id"].as_str().unwrap()
            ),
            &staff.token,
            Some("\"v1\""),
            &status("71", None, "2026-06-10"),
        )
        .await;
    assert_eq!(response.status(), 200);
    // 3: since 2025, the target put into effect on 31 January 2026: the
    // period's 30 days only.
    let third = pathway_of("Ancienne").await;
    decide_on(&third, "target", "2025-06-01", Some("2026-01-31")).await;
    decide_on(&third, "alternative", "2025-08-01", Some("2025-09-01")).await;
    // 4: an alternative with no target: not a wait for one.
    let fourth = pathway_of("Seule").await;
    decide_on(&fourth, "alternative", "2026-04-01", Some("2026-04-15")).await;

    let today = chrono::Utc::now().date_naive();
    let end = today.min(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
    let first_days = (end - NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()).num_days() as f64;
    let mut days = [30.0, 129.0, first_days];
    days.sort_by(f64::total_cmp);
    let indicators = app
        .get_json("/v1/indicators?year=2026&domain=disability", &staff.token)
        .await;
    let p90 = days[1] + 0.8 * (days[2] - days[1]);
    assert_eq!(
        indicators["domains"][0]["alternative_while_target_pending"],
        json!({"count": 3, "median_days": days[1], "p90_days": (p90 * 10.0).round() / 10.0,
               "total_days": days.iter().sum::<f64>()}),
    );
}
