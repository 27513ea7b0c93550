//! Indicators on a small data set built by hand for 2025, compared with the
//! numbers computed by hand below.

use diesel_async::AsyncPgConnection;
use parcours::domain::Domain::Disability;
use parcours::domain::Role::{Auditor, Supervisor};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::db::execute;
use crate::support::{TestApp, assert_problem};

/// A disability pathway of `territory` with its status history: each
/// period `(status, start, end)`, dates at midnight UTC.
async fn pathway(
    conn: &mut AsyncPgConnection,
    territory: Uuid,
    opened_on: &str,
    periods: &[(&str, &str, Option<&str>)],
    closure: Option<(&str, &str)>,
) -> Uuid {
    let person = Uuid::now_v7();
    let id = Uuid::now_v7();
    execute(
        conn,
        &format!(
            "INSERT INTO persons (id, family_name, given_names, birth_date, commune_insee, territory_id) \
             VALUES ('{person}', 'Témoin', 'Indicateur', '1970-01-01', '05061', '{territory}')"
        ),
    )
    .await;
    let (status, since, _) = periods.last().unwrap();
    let (closed_on, reason) = match closure {
        Some((on, reason)) => (format!("'{on}'"), format!("'{reason}'")),
        None => ("NULL".into(), "NULL".into()),
    };
    execute(
        conn,
        &format!(
            "INSERT INTO pathways (id, person_id, domain, territory_id, status, status_since, opened_on, closed_on, closure_reason) \
             VALUES ('{id}', '{person}', 'disability', '{territory}', '{status}', '{since}T00:00:00Z', '{opened_on}', {closed_on}, {reason})"
        ),
    )
    .await;
    for (status, start, end) in periods {
        let end = end.map_or("NULL".to_owned(), |e| format!("'{e}T00:00:00Z'"));
        execute(
            conn,
            &format!(
                "INSERT INTO pathway_status_periods (pathway_id, status, started_at, ended_at) \
                 VALUES ('{id}', '{status}', '{start}T00:00:00Z', {end})"
            ),
        )
        .await;
    }
    id
}

#[tokio::test]
async fn indicators_equal_the_numbers_counted_by_hand() {
    let app = TestApp::spawn().await;
    let gap = app.territory("05-GAP").await;
    let bri = app.territory("05-BRI").await;
    let coordinator = app
        .user(
            parcours::domain::Role::Coordinator,
            &["05-GAP"],
            &[Disability],
        )
        .await;
    let (client, _, _) = app.client("CAF des Hautes-Alpes").await;
    let mut conn = app.db.connect().await;
    let c = &mut conn;

    // A: opened 10 Jan, first solution 1 Mar (50 days), supported at the end.
    let a = pathway(
        c,
        gap,
        "2025-01-10",
        &[
            ("referred", "2025-01-10", Some("2025-02-01")),
            ("assessment", "2025-02-01", Some("2025-03-01")),
            ("supported", "2025-03-01", None),
        ],
        None,
    )
    .await;
    // B: without solution since 1 Apr: 275 days at the end of the year.
    let b = pathway(
        c,
        gap,
        "2025-03-01",
        &[
            ("referred", "2025-03-01", Some("2025-04-01")),
            ("without_solution", "2025-04-01", None),
        ],
        None,
    )
    .await;
    // C: solution on 1 Nov (153 days after opening), closed 1 Dec, target reached.
    let c_id = pathway(
        c,
        gap,
        "2025-06-01",
        &[
            ("referred", "2025-06-01", Some("2025-07-01")),
            ("without_solution", "2025-07-01", Some("2025-11-01")),
            ("supported", "2025-11-01", Some("2025-12-01")),
            ("closed", "2025-12-01", None),
        ],
        Some(("2025-12-01", "target_reached")),
    )
    .await;
    // D: opened in 2024, first solution 1 Feb 2025 (276 days), without
    // solution again since 1 Aug: 153 days at the end.
    let d = pathway(
        c,
        gap,
        "2024-05-01",
        &[
            ("referred", "2024-05-01", Some("2024-06-01")),
            ("without_solution", "2024-06-01", Some("2025-02-01")),
            ("supported", "2025-02-01", Some("2025-08-01")),
            ("without_solution", "2025-08-01", None),
        ],
        None,
    )
    .await;
    // E: solution in 2024 (not counted), closed 1 May 2025, moved away.
    pathway(
        c,
        gap,
        "2024-01-15",
        &[
            ("referred", "2024-01-15", Some("2024-03-01")),
            ("supported", "2024-03-01", Some("2025-05-01")),
            ("closed", "2025-05-01", None),
        ],
        Some(("2025-05-01", "moved_away")),
    )
    .await;
    // F: opened after the period: counted nowhere.
    let f = pathway(
        c,
        gap,
        "2026-01-05",
        &[("referred", "2026-01-05", None)],
        None,
    )
    .await;
    // G: another territory (Briançonnais), still `referred` at the end.
    let g = pathway(
        c,
        bri,
        "2025-09-01",
        &[("referred", "2025-09-01", None)],
        None,
    )
    .await;

    // Referrals received: A and G in 2025, F in 2026.
    for (pathway, at) in [(a, "2025-01-10"), (g, "2025-09-01"), (f, "2026-01-05")] {
        execute(c, &format!(
            "INSERT INTO referrals (client_id, organization_id, person_id, pathway_id, domain, reason, person_matched, pathway_opened, received_at, \
                 status, decided_at, territory_id, family_name, given_names, birth_date, commune_insee) \
             SELECT '{client}', cl.organization_id, p.person_id, p.id, 'disability', 'Signalement', false, true, '{at}T09:00:00Z', \
                 'accepted', '{at}T10:00:00Z', p.territory_id, pe.family_name, pe.given_names, pe.birth_date, pe.commune_insee \
             FROM pathways p JOIN persons pe ON pe.id = p.person_id, clients cl WHERE p.id = '{pathway}' AND cl.id = '{client}'"
        )).await;
    }
    // Decisions: one target and one alternative in 2025, one target in 2024.
    for (pathway, qualification, on) in [
        (a, "target", "2025-02-15"),
        (b, "alternative", "2025-05-01"),
        (d, "target", "2024-07-01"),
    ] {
        execute(
            c,
            &format!(
                "INSERT INTO decisions (pathway_id, authority, qualification, label, decided_on) \
             VALUES ('{pathway}', 'cdaph', '{qualification}', 'Orientation', '{on}')"
            ),
        )
        .await;
    }
    // Plans: A consented and active, review passed (overdue); C consented
    // and active; D consented in 2024 and ended in 2025.
    let coordinator = coordinator.id;
    execute(c, &format!(
        "INSERT INTO plans (pathway_id, kind, status, coordinator_id, consent_by, consented_on, activated_on, review_due, ended_on, end_reason) VALUES \
         ('{a}', 'pag', 'active', '{coordinator}', 'person', '2025-02-20', '2025-03-01', '2025-09-01', NULL, NULL), \
         ('{c_id}', 'pag', 'active', '{coordinator}', 'person', '2025-10-01', '2025-10-15', '2026-03-01', NULL, NULL), \
         ('{d}', 'pag', 'ended', '{coordinator}', 'person', '2024-07-01', '2024-07-10', '2025-06-01', '2025-10-01', 'objectives_met')"
    )).await;
    // GOS meetings: two in 2025, one in 2024.
    for (pathway, on) in [(a, "2025-02-10"), (b, "2025-06-15"), (b, "2024-12-20")] {
        execute(c, &format!(
            "INSERT INTO meetings (pathway_id, held_on, person_agreed, outcome) VALUES ('{pathway}', '{on}', true, 'Synthèse')"
        )).await;
    }
    // Critical flags: B regional (still at the end), D set then cleared,
    // A set only after the period.
    for (pathway, kind, level, at) in [
        (b, "critical_set", "regional", "2025-05-01"),
        (d, "critical_set", "department", "2025-03-01"),
        (d, "critical_cleared", "", "2025-09-01"),
        (a, "critical_set", "national", "2026-02-01"),
    ] {
        execute(
            c,
            &format!(
                "INSERT INTO pathway_events (pathway_id, kind, occurred_at, data) \
             VALUES ('{pathway}', '{kind}', '{at}T10:00:00Z', '{{\"level\": \"{level}\"}}')"
            ),
        )
        .await;
    }

    let auditor = app.token_for(Auditor).await;
    let all = app.get_json("/v1/indicators?year=2025", &auditor).await;
    assert_eq!(all["as_of"], "2026-01-01T00:00:00Z");
    let domains: Vec<&str> = all["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["domain"].as_str().unwrap())
        .collect();
    assert_eq!(domains, ["disability", "elderly", "childhood", "insertion"]);
    let disability = &all["domains"][0];
    let expected = json!({
        "domain": "disability",
        "opened_on": "2017-01-01",
        "opened_year": 2017,
        "referrals": 2,
        "pathways_opened": 4,
        // None of them continues another pathway.
        "continued_from": {
            "disability": {"count": 0, "without_gap": 0},
            "elderly": {"count": 0, "without_gap": 0},
            "childhood": {"count": 0, "without_gap": 0},
            "insertion": {"count": 0, "without_gap": 0}
        },
        "pathways_closed": 2,
        "closed_by_reason": {
            "target_reached": 1, "alternative_sustained": 0, "person_request": 0,
            "moved_away": 1, "deceased": 0, "no_longer_eligible": 0, "other": 0
        },
        "status_at_end": {
            "referred": 1, "assessment": 0, "orientation": 0,
            "without_solution": 2, "supported": 1, "closed": 2
        },
        // 275 and 153 days: median 214, p90 153 + 0.9 × 122 = 262.8.
        "without_solution": {"count": 2, "median_days": 214.0, "p90_days": 262.8, "total_days": 428.0},
        // 50, 153, 276 days: median 153, p90 153 + 0.8 × 123 = 251.4.
        // Ended during 2025: C's 123 days (July to November) and D's 245
        // (June 2024 to February 2025): median 184, p90 123 + 0.9 × 122.
        "without_solution_ended": {"count": 2, "median_days": 184.0, "p90_days": 232.8, "total_days": 368.0},
        // B's alternative decision was never put into effect: no days.
        "alternative_while_target_pending": {"count": 0, "median_days": null, "p90_days": null, "total_days": 0.0},
        "days_to_solution": {"count": 3, "median_days": 153.0, "p90_days": 251.4},
        "decisions": {"target": 1, "alternative": 1, "rejection": 0, "deferral": 0},
        "plans_consented": 2,
        "plans_active": 2,
        "overdue_reviews": 1,
        "meetings_held": 2,
        "critical_at_end": {"department": 0, "regional": 1, "national": 0},
        "facilities": [],
        // Commitments inserted without their timeline: none counted.
        "commitments": []
    });
    assert_eq!(disability, &expected, "{disability:#}");
    let elderly = &all["domains"][1];
    assert_eq!(elderly["opened_year"], 2018);
    assert_eq!(elderly["pathways_opened"], 0);
    assert_eq!(elderly["without_solution"]["median_days"], Value::Null);

    // A supervisor of the Gapençais does not count the Briançonnais.
    let supervisor = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let own = app
        .get_json("/v1/indicators?year=2025", &supervisor.token)
        .await;
    assert_eq!(own["domains"].as_array().unwrap().len(), 1);
    assert_eq!(own["domains"][0]["pathways_opened"], 3);
    assert_eq!(own["domains"][0]["referrals"], 1);
    assert_eq!(own["domains"][0]["status_at_end"]["referred"], 0);
    let response = app
        .with_token(
            Method::GET,
            &format!("/v1/indicators?year=2025&territory={bri}"),
            &supervisor.token,
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    // The auditor narrows to the Briançonnais and one domain.
    let briancon = app
        .get_json(
            &format!("/v1/indicators?year=2025&territory={bri}&domain=disability"),
            &auditor,
        )
        .await;
    assert_eq!(briancon["domains"].as_array().unwrap().len(), 1);
    assert_eq!(briancon["domains"][0]["pathways_opened"], 1);
    assert_eq!(briancon["domains"][0]["status_at_end"]["referred"], 1);

    // CSV: the same numbers, one per row.
    let csv = app
        .with_token(
            Method::GET,
            "/v1/indicators?year=2025&domain=disability",
            &auditor,
        )
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    assert!(
        text.starts_with("year,domain,indicator,key,value\n"),
        "{text}"
    );
    for line in [
        "2025,disability,pathways_opened,,4",
        "2025,disability,closed_by_reason,moved_away,1",
        "2025,disability,days_to_solution,median_days,153",
        "2025,disability,without_solution,p90_days,262.8",
        "2025,disability,critical_at_end,regional,1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }

    // Bad input says what to fix.
    for query in ["year=1999", "year=3000", "year=abc", "domain=pets"] {
        let response = app
            .with_token(Method::GET, &format!("/v1/indicators?{query}"), &auditor)
            .send()
            .await
            .unwrap();
        assert_problem(response, 400).await;
    }
}
