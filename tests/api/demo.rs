//! `parcours seed-demo`: plausible, consistent and deterministic data.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use parcours::config::Settings;
use parcours::demo::{SeedDemoArgs, seed_demo};
use parcours::domain::Domain::{Childhood, Disability, Elderly, Insertion};
use parcours::domain::EventKind;
use parcours::domain::Role::Supervisor;
use parcours::domain::events::EventData;

use crate::support::{TestApp, TestDatabase};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Digest {
    #[diesel(sql_type = Text)]
    digest: String,
}

async fn seed(url: &str, data_dir: &std::path::Path, persons: u32) {
    let args = SeedDemoArgs {
        persons,
        seed: 7,
        batch: 150,
        settings: Settings::for_tests(url.to_owned(), data_dir.to_owned()),
    };
    seed_demo(args).await.unwrap();
}

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    let mut conn = db.connect().await;
    diesel::sql_query(sql)
        .get_result::<Count>(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

#[tokio::test]
async fn demo_data_follows_the_rules_and_shows_in_the_api() {
    let app = TestApp::spawn().await;
    seed(&app.db.url, app.data_dir.path(), 400).await;
    let db = &app.db;
    assert_eq!(count(db, "SELECT count(*) AS n FROM persons").await, 400);
    // Never before the domain opened; every status and plan stage present.
    assert_eq!(
        count(
            db,
            "SELECT count(*) AS n FROM pathways p JOIN domain_calendar c USING (domain) \
             WHERE p.opened_on < c.opens_on"
        )
        .await,
        0
    );
    assert_eq!(
        count(db, "SELECT count(DISTINCT status) AS n FROM pathways").await,
        6
    );
    assert_eq!(
        count(db, "SELECT count(DISTINCT domain) AS n FROM pathways").await,
        4
    );
    assert_eq!(
        count(db, "SELECT count(DISTINCT status) AS n FROM plans").await,
        5
    );
    // Status periods follow each other and the last one is the current status.
    assert_eq!(
        count(
            db,
            "SELECT count(*) AS n FROM pathways p JOIN pathway_status_periods s \
             ON s.pathway_id = p.id AND s.ended_at IS NULL WHERE s.status <> p.status"
        )
        .await,
        0
    );
    assert!(
        count(
            db,
            "SELECT count(*) AS n FROM pathways WHERE critical_level IS NOT NULL"
        )
        .await
            > 0
    );
    assert!(
        count(
            db,
            "SELECT count(*) AS n FROM plans WHERE status = 'active' AND review_due < current_date"
        )
        .await
            > 0
    );

    // Some pathways continue another of their person, never one opened
    // after them, and the one continued records it in its timeline.
    assert!(
        count(
            db,
            "SELECT count(*) AS n FROM pathways WHERE continues_from IS NOT NULL"
        )
        .await
            > 0
    );
    assert_eq!(
        count(
            db,
            "SELECT count(*) AS n FROM pathways p JOIN pathways previous \
             ON previous.id = p.continues_from WHERE p.opened_on < previous.opened_on \
             OR NOT EXISTS (SELECT 1 FROM pathway_events e WHERE e.pathway_id = previous.id \
                 AND e.kind = 'pathway_continued' AND e.data->>'pathway_id' = p.id::text)"
        )
        .await,
        0
    );

    // Orientations reach facilities, which answer in every way they do; each
    // follow-up's current status is its last reported one, none before its
    // decision, and its version counts them.
    for (label, sql) in [
        (
            "admitted",
            "SELECT count(*) AS n FROM facility_follow_ups WHERE status = '47'",
        ),
        (
            "waiting",
            "SELECT count(*) AS n FROM facility_follow_ups WHERE status = '42'",
        ),
        (
            "refused",
            "SELECT count(*) AS n FROM facility_follow_ups WHERE status = '45' AND reason IS NOT NULL",
        ),
        (
            "rejections",
            "SELECT count(*) AS n FROM decisions WHERE kind = 'rejection'",
        ),
        (
            "refused commitments",
            "SELECT count(*) AS n FROM commitments WHERE status = 'refused'",
        ),
        ("plan versions", "SELECT count(*) AS n FROM plan_versions"),
        (
            "plans awaiting a new consent",
            "SELECT count(*) AS n FROM plans WHERE version_number > consented_version_number",
        ),
    ] {
        assert!(count(db, sql).await > 0, "{label}");
    }
    assert_eq!(
        count(
            db,
            "SELECT count(*) AS n FROM facility_follow_ups f \
             JOIN decisions d ON d.id = f.decision_id \
             WHERE f.status_on < d.decided_on OR d.kind <> 'orientation' \
                OR f.version <> 1 + (SELECT count(*) FROM facility_statuses s \
                                     WHERE s.follow_up_id = f.id) \
                OR f.status <> (SELECT s.status FROM facility_statuses s \
                                WHERE s.follow_up_id = f.id ORDER BY s.id DESC LIMIT 1)"
        )
        .await,
        0
    );
    // A plan is consented only once every commitment standing is accepted,
    // and each consented plan has the version its person agreed to.
    assert_eq!(
        count(
            db,
            "SELECT count(*) AS n FROM plans pl JOIN commitments c ON c.plan_id = pl.id \
             WHERE pl.consented_on IS NOT NULL AND c.status IN ('proposed', 'refused')"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            db,
            "SELECT count(*) AS n FROM plans pl WHERE pl.consented_on IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM plan_versions v WHERE v.plan_id = pl.id)"
        )
        .await,
        0
    );
    for row in [
        "SELECT count(*) AS n FROM facility_statuses s1 JOIN facility_statuses s2 \
         ON s2.follow_up_id = s1.follow_up_id AND s2.id > s1.id WHERE s2.status_on < s1.status_on",
    ] {
        assert_eq!(count(db, row).await, 0, "statuses in date order");
    }

    // Every event is recorded as the API records it: its kind's payload.
    #[derive(QueryableByName)]
    struct Stored {
        #[diesel(sql_type = Text)]
        kind: String,
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        data: serde_json::Value,
    }
    let mut conn = db.connect().await;
    let events: Vec<Stored> = diesel::sql_query("SELECT kind::text, data FROM pathway_events")
        .load(&mut conn)
        .await
        .unwrap();
    assert!(events.len() > 400, "{}", events.len());
    for event in events {
        let kind = EventKind::parse(&event.kind).unwrap();
        let parsed = EventData::parse(kind, event.data.clone());
        assert!(
            parsed.is_ok(),
            "{}: {} {parsed:?}",
            kind.as_str(),
            event.data
        );
    }

    // A supervisor of the whole département sees them, alerts included.
    let codes = ["05-GAP", "05-BRI", "05-EMB", "05-BUE", "05-CHA"];
    let staff = app
        .staff(
            Supervisor,
            &codes,
            &[Disability, Elderly, Childhood, Insertion],
        )
        .await;
    let alerts = app.get_json("/v1/alerts?limit=200", &staff.token).await;
    let kinds: Vec<&str> = alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "plan_review",
        "without_solution",
        "critical",
        "facilities_refused",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    // Some persons are near an age threshold of their domain, and some
    // child's projects are late.
    let ages = [
        "majority_interview",
        "majority",
        "young_adult_end",
        "creton_age",
        "age_barrier",
    ];
    assert!(
        kinds.iter().filter(|k| ages.contains(k)).count() >= 3,
        "ages in {kinds:?}"
    );
    assert!(kinds.contains(&"ppe_due"), "{kinds:?}");
    // Escalations still awaited after their day, GOS whose time passed.
    for kind in ["escalation_overdue", "meeting_to_record"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    // Paging through the alerts gives the same list, in the same order.
    let all = alerts["items"].as_array().unwrap().clone();
    assert!(all.len() < 200 && all.len() > 10, "{}", all.len());
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/alerts?limit=4&cursor={c}"),
            None => "/v1/alerts?limit=4".to_owned(),
        };
        let page = app.get_json(&path, &staff.token).await;
        paged.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, all);
    let dues: Vec<&str> = all.iter().map(|a| a["due_on"].as_str().unwrap()).collect();
    assert!(dues.windows(2).all(|w| w[0] <= w[1]), "earliest due first");
    let with_nir = app.get_json("/v1/persons?limit=200", &staff.token).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["nir"].as_str().map(str::to_owned))
        .collect::<Vec<_>>();
    assert!(!with_nir.is_empty());
    for nir in with_nir {
        assert!(nir.contains("** *** ***"), "masked and readable: {nir}");
    }
}

#[tokio::test]
async fn the_same_seed_gives_the_same_case_files() {
    let mut digests = Vec::new();
    for _ in 0..2 {
        let db = TestDatabase::create().await;
        let data_dir = tempfile::tempdir().unwrap();
        seed(&db.url, data_dir.path(), 120).await;
        let mut conn = db.connect().await;
        let digest: Digest = diesel::sql_query(
            "SELECT md5(string_agg(p.id::text || p.family_name || p.birth_date || w.id \
                 || w.status || w.opened_on, ',' ORDER BY w.id)) AS digest \
             FROM pathways w JOIN persons p ON p.id = w.person_id",
        )
        .get_result(&mut conn)
        .await
        .unwrap();
        digests.push(digest.digest);
    }
    assert_eq!(digests[0], digests[1]);
}
