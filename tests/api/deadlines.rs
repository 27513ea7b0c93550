//! Ages and legal deadlines as alerts (#16): the caseload shows each at
//! its time, with the days left; the département sets the rules.

use chrono::{Datelike, Days, Months, NaiveDate, Utc};
use parcours::domain::AlertRule;
use parcours::domain::Domain::{Childhood, Disability, Insertion};
use parcours::domain::Role::{Admin, Auditor, Coordinator};
use parcours::domain::deadlines;
use parcours::http::alert_rules::AlertRuleView;
use parcours::http::alerts::Alert;
use parcours::http::pagination::Page;
use reqwest::Method;
use serde_json::{Value, json};

use crate::audit::records;
use crate::support::{Staff, TestApp, assert_problem, etag_of};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A person of 05-GAP born on `birth_date`, with an open pathway in
/// `domain` followed by `staff`; returns the pathway.
async fn followed(app: &TestApp, staff: &Staff, birth_date: NaiveDate, domain: &str) -> String {
    let (person, _) = app
        .post_ok(
            "/v1/persons?confirm_new=true",
            &staff.token,
            &json!({
                "family_name": "Seuil", "given_names": "Noa", "birth_date": birth_date,
                "commune_insee": "05061", "territory_id": app.territory("05-GAP").await,
            }),
            201,
        )
        .await;
    let (pathway, _) = app
        .post_ok(
            "/v1/pathways",
            &staff.token,
            &json!({"person_id": person["id"], "domain": domain}),
            201,
        )
        .await;
    pathway["id"].as_str().unwrap().to_owned()
}

async fn alerts(app: &TestApp, staff: &Staff) -> Vec<Alert> {
    let page: Page<Value> = app.get_as("/v1/alerts?limit=200", &staff.token).await;
    page.items
        .into_iter()
        .map(crate::support::view::<Alert>)
        .collect()
}

/// (kind, due_on, days_left) of the alerts of `pathway`.
fn of(alerts: &[Alert], pathway: &str) -> Vec<(String, NaiveDate, i64)> {
    alerts
        .iter()
        .filter(|a| a.pathway_id.to_string() == pathway)
        .map(|a| (a.kind.as_str().to_owned(), a.due_on, a.days_left))
        .collect()
}

async fn set_rule(app: &TestApp, admin: &str, rule: &str, body: Value) -> reqwest::Response {
    let path = format!("/v1/alert-rules/{rule}");
    let etag = app.etag(&path, admin).await;
    app.send_json(Method::PUT, &path, admin, Some(&etag), &body)
        .await
}

/// Whether a rule's alert for `from` shows today, and when it is due, as
/// the rule's pure logic says (the SQL must agree with it).
fn expected(
    rule: AlertRule,
    months: u32,
    notice: u32,
    from: NaiveDate,
) -> Option<(NaiveDate, i64)> {
    let due = deadlines::due_on(from, months).unwrap();
    let counts_from = rule.counts_from().unwrap();
    let window = deadlines::window(counts_from, months, notice, today()).unwrap();
    window.shows(due).then(|| (due, (due - today()).num_days()))
}

#[tokio::test]
async fn ages_show_from_their_notice_on_with_the_days_left() {
    let app = TestApp::spawn().await;
    let staff = app
        .staff(Coordinator, &["05-GAP"], &[Childhood, Disability])
        .await;
    let t = today();
    // Born so that the birthday falls `days` from today.
    let born = |months: u32, days: i64| {
        let day = t.checked_add_signed(chrono::TimeDelta::days(days)).unwrap();
        day.checked_sub_months(Months::new(months)).unwrap()
    };
    // Majority (216 months) warns 90 days ahead and behind: the last day
    // of the notice on each side, and the day beyond; the birthday itself.
    // 60 in disability (720 months) warns 180 days ahead.
    let cases = [
        ("childhood", AlertRule::Majority, 216, 90, 90),
        ("childhood", AlertRule::Majority, 216, 90, 91),
        ("childhood", AlertRule::Majority, 216, 90, 0),
        ("childhood", AlertRule::Majority, 216, 90, -90),
        ("childhood", AlertRule::Majority, 216, 90, -91),
        ("disability", AlertRule::AgeBarrier, 720, 180, 10),
        ("disability", AlertRule::AgeBarrier, 720, 180, 181),
    ];
    let mut shown = 0;
    let mut pathways = Vec::new();
    for (domain, _, months, _, days) in cases {
        pathways.push(followed(&app, &staff, born(months, days), domain).await);
    }
    // The same age in another domain raises nothing.
    let elsewhere = followed(&app, &staff, born(216, 5), "disability").await;
    let found = alerts(&app, &staff).await;
    for ((_, rule, months, notice, days), pathway) in cases.into_iter().zip(&pathways) {
        let wanted: Vec<(String, NaiveDate, i64)> =
            expected(rule, months, notice, born(months, days))
                .map(|(due, left)| (rule.as_str().to_owned(), due, left))
                .into_iter()
                .collect();
        let got: Vec<_> = of(&found, pathway)
            .into_iter()
            .filter(|(kind, _, _)| kind == rule.as_str())
            .collect();
        assert_eq!(got, wanted, "{rule:?}, birthday in {days} days");
        shown += got.len();
    }
    // The boundaries as the rule says them, on an ordinary day.
    assert!(shown >= 4, "{found:?}");
    let on_the_day = &of(&found, &pathways[2])[0];
    assert_eq!((on_the_day.0.as_str(), on_the_day.2), ("majority", 0));
    assert_eq!(of(&found, &elsewhere), []);
    // Earliest first.
    let dues: Vec<NaiveDate> = found.iter().map(|a| a.due_on).collect();
    assert!(dues.is_sorted(), "{dues:?}");
}

#[tokio::test]
async fn born_on_29_february_a_child_comes_of_age_on_the_28th() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Childhood]).await;
    let admin = app.token_for(Admin).await;
    // The last 29 February at least 18 years ago; the 18th birthday falls
    // on the 28th when that year is common.
    let mut year = today().checked_sub_months(Months::new(216)).unwrap().year();
    let birth = loop {
        if let Some(day) = NaiveDate::from_ymd_opt(year, 2, 29) {
            break day;
        }
        year -= 1;
    };
    let birthday = birth.checked_add_months(Months::new(216)).unwrap();
    let pathway = followed(&app, &staff, birth, "childhood").await;
    // Wide enough a notice to see it, whenever the test runs.
    let notice = (today() - birthday).num_days().unsigned_abs() + 1;
    let response = set_rule(
        &app,
        &admin,
        "majority",
        json!({"months": 216, "notice_days": notice, "active": true}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let found = alerts(&app, &staff).await;
    let majority: Vec<_> = of(&found, &pathway)
        .into_iter()
        .filter(|(kind, _, _)| kind == "majority")
        .collect();
    assert_eq!(majority.len(), 1, "{found:?}");
    assert_eq!(majority[0].1, birthday);
    if (birth.year() + 18) % 4 != 0 {
        assert_eq!((birthday.month(), birthday.day()), (2, 28));
    }
}

#[tokio::test]
async fn deadlines_show_until_the_plan_is_consented() {
    let app = TestApp::spawn().await;
    let staff = app
        .staff(Coordinator, &["05-GAP"], &[Childhood, Insertion])
        .await;
    let t = today();
    // A child's pathway opened 3 months less 10 days ago: its PPE is due in
    // 10 days (notice 30); another opened 3 months less 31 days ago: not yet.
    let person = |family: &str| {
        let app = &app;
        let staff = &staff;
        let family = family.to_owned();
        async move {
            let (p, _) = app
                .post_ok(
                    "/v1/persons?confirm_new=true",
                    &staff.token,
                    &json!({
                        "family_name": family, "given_names": "Lou", "birth_date": "2015-05-05",
                        "commune_insee": "05061", "territory_id": app.territory("05-GAP").await,
                    }),
                    201,
                )
                .await;
            p["id"].as_str().unwrap().to_owned()
        }
    };
    let soon_on = t.checked_sub_months(Months::new(3)).unwrap() + Days::new(10);
    let later_on = t.checked_sub_months(Months::new(3)).unwrap() + Days::new(31);
    let mut pathways = Vec::new();
    for (family, on) in [("Bientot", soon_on), ("Plustard", later_on)] {
        let who = person(family).await;
        let (p, _) = app
            .post_ok(
                "/v1/pathways",
                &staff.token,
                &json!({"person_id": who, "domain": "childhood", "opened_on": on}),
                201,
            )
            .await;
        pathways.push(p["id"].as_str().unwrap().to_owned());
    }
    let due = soon_on.checked_add_months(Months::new(3)).unwrap();
    let found = alerts(&app, &staff).await;
    assert_eq!(
        of(&found, &pathways[0]),
        [("ppe_due".into(), due, (due - t).num_days())]
    );
    assert_eq!(of(&found, &pathways[1]), []);

    // The PPE drafted, then consented to: the deadline is met.
    let (plan, etag) = app
        .post_ok(
            &format!("/v1/pathways/{}/plans", pathways[0]),
            &staff.token,
            &json!({"kind": "ppe"}),
            201,
        )
        .await;
    let plan = plan["id"].as_str().unwrap().to_owned();
    let step = async |etag: &str, body: Value| {
        let response = app
            .send_json(
                Method::POST,
                &format!("/v1/plans/{plan}/transitions"),
                &staff.token,
                Some(etag),
                &body,
            )
            .await;
        assert_eq!(response.status(), 200);
        etag_of(&response)
    };
    let etag = step(&etag, json!({"to": "proposed"})).await;
    assert_eq!(
        of(&alerts(&app, &staff).await, &pathways[0]).len(),
        1,
        "a draft meets nothing"
    );
    step(
        &etag,
        json!({"to": "consented", "consent": {"by": "legal_representative", "given_on": t}}),
    )
    .await;
    assert_eq!(of(&alerts(&app, &staff).await, &pathways[0]), []);

    // Insertion: the engagement contract is due a month after the first
    // orientation (notice 15 days), overdue ones included.
    let adult = followed(
        &app,
        &staff,
        NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
        "insertion",
    )
    .await;
    let decided_on = t.checked_sub_months(Months::new(2)).unwrap();
    // Recorded out of order: the earlier decision, entered late, counts.
    for (on, label) in [(t, "Réorientation"), (decided_on, "Orientation sociale")] {
        app.post_ok(
            &format!("/v1/pathways/{adult}/decisions"),
            &staff.token,
            &json!({
                "authority": "department_president", "qualification": "target",
                "label": label, "decided_on": on,
            }),
            201,
        )
        .await;
    }
    let due = decided_on.checked_add_months(Months::new(1)).unwrap();
    let found = alerts(&app, &staff).await;
    assert_eq!(
        of(&found, &adult),
        [("engagement_contract_due".into(), due, (due - t).num_days())],
        "counted from the first orientation only"
    );
    let alert = found
        .iter()
        .find(|a| a.pathway_id.to_string() == adult)
        .unwrap();
    assert!(alert.overdue);
}

#[tokio::test]
async fn admins_set_the_rules_and_every_change_is_audited() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(Admin).await;
    let auditor = app.token_for(Auditor).await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let t = today();
    let turns_60 = followed(
        &app,
        &staff,
        t.checked_sub_months(Months::new(720)).unwrap() + Days::new(100),
        "disability",
    )
    .await;
    assert_eq!(of(&alerts(&app, &staff).await, &turns_60).len(), 1);

    let rules: Value = app.get_json("/v1/alert-rules", &staff.token).await;
    let rules: Vec<AlertRuleView> = serde_json::from_value(rules["items"].clone()).unwrap();
    assert_eq!(rules.len(), AlertRule::VALUES.len());
    let barrier = rules
        .iter()
        .find(|r| r.rule.as_str() == "age_barrier")
        .unwrap();
    assert_eq!(
        (barrier.domain, barrier.months, barrier.notice_days),
        (Some(Disability), Some(720), 180)
    );

    // Bad settings name their field; nothing changes.
    for (body, field, status) in [
        (
            json!({"months": 0, "notice_days": 10, "active": true}),
            "months",
            400,
        ),
        (
            json!({"months": 5000, "notice_days": 10, "active": true}),
            "months",
            400,
        ),
        (
            json!({"months": 720, "notice_days": 800, "active": true}),
            "notice_days",
            400,
        ),
        (
            json!({"months": 720, "notice_days": -1, "active": true}),
            "notice_days",
            400,
        ),
        (json!({"months": 720, "active": true}), "notice_days", 400),
    ] {
        let response = set_rule(&app, &admin, "age_barrier", body.clone()).await;
        let problem = assert_problem(response, status).await;
        assert!(
            problem["errors"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["field"] == field)),
            "{body}: {problem}"
        );
    }
    let response = app
        .send_json(
            Method::PUT,
            "/v1/alert-rules/age_barrier",
            &admin,
            Some("\"v99\""),
            &json!({"months": 720, "notice_days": 10, "active": true}),
        )
        .await;
    assert_problem(response, 412).await;
    // No such rule: the path is refused, the value not echoed.
    let response = app
        .with_token(Method::GET, "/v1/alert-rules/birthday", &admin)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 400).await;
    assert_eq!(problem["errors"][0]["field"], "path", "{problem}");
    assert!(!problem.to_string().contains("birthday"), "{problem}");

    // A shorter notice: the 60th birthday in 100 days no longer shows; off:
    // neither does anything of the rule.
    let response = set_rule(
        &app,
        &admin,
        "age_barrier",
        json!({"months": 720, "notice_days": 99, "active": true}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(of(&alerts(&app, &staff).await, &turns_60), []);
    let response = set_rule(
        &app,
        &admin,
        "age_barrier",
        json!({"months": 720, "notice_days": 100, "active": false}),
    )
    .await;
    let set: AlertRuleView = response.json().await.unwrap();
    assert!(!set.active);
    assert_eq!(of(&alerts(&app, &staff).await, &turns_60), []);

    // Both changes, and the stale one refused, are recorded.
    let records = records(&app, &auditor, "action=update&resource_type=alert_rule").await;
    let (changes, refused): (Vec<&Value>, Vec<&Value>) =
        records.iter().partition(|r| r["outcome"] == "success");
    assert_eq!(changes.len(), 2, "{records:?}");
    assert_eq!(refused.len(), 1, "{records:?}");
    let last = changes
        .iter()
        .find(|r| r["query"]["after"]["active"] == false)
        .unwrap();
    assert_eq!(last["query"]["before"]["notice_days"], 99);
    assert_eq!(last["query"]["after"]["notice_days"], 100);
    assert_eq!(last["query"]["after"]["rule"], "age_barrier");
}

/// The plan review and a decision's validity are rules of the same table:
/// their notice is the département's, and they count no months.
#[tokio::test]
async fn the_notice_of_plan_reviews_and_expiring_decisions_is_the_departments() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(Admin).await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let pathway = followed(
        &app,
        &staff,
        NaiveDate::from_ymd_opt(1980, 5, 1).unwrap(),
        "disability",
    )
    .await;
    app.post_ok(
        &format!("/v1/pathways/{pathway}/decisions"),
        &staff.token,
        &json!({"authority": "cdaph", "qualification": "target", "label": "SAVS",
                "decided_on": today(), "valid_until": today() + Days::new(45)}),
        201,
    )
    .await;
    let mut conn = app.db.connect().await;
    crate::support::db::execute(
        &mut conn,
        &format!(
            "INSERT INTO plans (pathway_id, kind, status, coordinator_id, consent_by, consented_on, \
                 consented_version_number, activated_on, review_due) \
             VALUES ('{pathway}', 'pag', 'active', '{}', 'person', current_date, 1, current_date, \
                 current_date + 20)",
            staff.user.id
        ),
    )
    .await;
    let kinds = async || -> Vec<(String, i64)> {
        let mut found: Vec<(String, i64)> = of(&alerts(&app, &staff).await, &pathway)
            .into_iter()
            .map(|(kind, _, left)| (kind, left))
            .collect();
        found.sort();
        found
    };
    // The defaults: 30 days before a review, 60 before the end of validity.
    assert_eq!(
        kinds().await,
        [
            ("decision_expiring".to_owned(), 45),
            ("plan_review".to_owned(), 20)
        ]
    );

    let rules: Vec<AlertRuleView> = serde_json::from_value(
        app.get_json("/v1/alert-rules", &staff.token).await["items"].clone(),
    )
    .unwrap();
    let review = rules
        .iter()
        .find(|r| r.rule == AlertRule::PlanReview)
        .unwrap();
    assert_eq!(
        (review.domain, review.months, review.notice_days),
        (None, None, 30)
    );
    assert_eq!(review.recorded_due.map(|d| d.as_str()), Some("review_due"));

    // A shorter notice, then the rule turned off: the alerts follow.
    let set = set_rule(
        &app,
        &admin,
        "decision_expiring",
        json!({"notice_days": 44, "active": true}),
    )
    .await;
    assert_eq!(set.status(), 200);
    assert_eq!(kinds().await, [("plan_review".to_owned(), 20)]);
    let set = set_rule(
        &app,
        &admin,
        "plan_review",
        json!({"notice_days": 30, "active": false}),
    )
    .await;
    assert_eq!(set.status(), 200);
    assert_eq!(kinds().await, []);
    let set = set_rule(
        &app,
        &admin,
        "decision_expiring",
        json!({"notice_days": 45, "active": true}),
    )
    .await;
    assert_eq!(set.status(), 200);
    assert_eq!(kinds().await, [("decision_expiring".to_owned(), 45)]);

    // They count no months; the others need theirs.
    for (rule, body) in [
        (
            "plan_review",
            json!({"months": 12, "notice_days": 30, "active": true}),
        ),
        ("majority", json!({"notice_days": 90, "active": true})),
    ] {
        let refused = set_rule(&app, &admin, rule, body).await;
        let problem = assert_problem(refused, 400).await;
        assert_eq!(problem["errors"][0]["field"], "months", "{rule}");
    }
}

#[tokio::test]
async fn a_caseload_holds_only_its_own_pathways_deadlines() {
    let app = TestApp::spawn().await;
    let mine = app.staff(Coordinator, &["05-GAP"], &[Childhood]).await;
    let colleague = app.staff(Coordinator, &["05-GAP"], &[Childhood]).await;
    let t = today();
    let pathway = followed(
        &app,
        &mine,
        t.checked_sub_months(Months::new(216)).unwrap() + Days::new(3),
        "childhood",
    )
    .await;
    assert_eq!(of(&alerts(&app, &mine).await, &pathway).len(), 1);
    assert_eq!(of(&alerts(&app, &colleague).await, &pathway), []);
}
