//! The audit trail kept by month: every month's partition is append-only,
//! a period reads only its months, and a verification starts from the
//! last intact one.

use std::time::Duration;

use chrono::{Datelike, Months, Utc};
use diesel::sql_types::{BigInt, Bool, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use parcours::domain::Domain::Disability;
use parcours::domain::Role::{Auditor, Supervisor};
use parcours::jobs::seal::SEALING_LOCK;
use reqwest::Method;
use serde_json::Value;

use crate::support::TestApp;
use crate::support::db::execute;
use crate::support::eventually;
use crate::support::fixtures::{open, person};
use crate::support::tamper;

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct Seq {
    #[diesel(sql_type = BigInt)]
    seq: i64,
}

#[derive(diesel::QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

async fn partitions(conn: &mut diesel_async::AsyncPgConnection) -> Vec<String> {
    diesel::sql_query(
        "SELECT c.relname::text AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'audit_log'::regclass ORDER BY 1",
    )
    .load::<Name>(conn)
    .await
    .unwrap()
    .into_iter()
    .map(|n| n.name)
    .collect()
}

fn month_name(months_ahead: u32) -> String {
    let day = Utc::now().date_naive().with_day(1).unwrap() + Months::new(months_ahead);
    format!("audit_log_{}", day.format("%Y_%m"))
}

#[tokio::test]
async fn each_month_of_the_trail_is_a_partition_of_its_own_and_append_only() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let auditor = app.token_for(Auditor).await;
    let who = person(&app, &staff, "Mensuel").await;
    let (pathway, _) = open(&app, &staff, &who, Disability).await;
    app.get_json(&format!("/v1/pathways/{pathway}"), &staff.token)
        .await;
    let mut conn = app.db.connect().await;

    // The server prepared this month and the next two at start.
    let names = partitions(&mut conn).await;
    for ahead in 0..3 {
        assert!(names.contains(&month_name(ahead)), "{names:?}");
    }
    assert!(names.contains(&"audit_log_default".to_owned()));
    // The read just recorded is in this month's partition.
    let read: Name = diesel::sql_query(
        "SELECT tableoid::regclass::text AS name FROM audit_log \
         WHERE action = 'read' AND resource_id = $1::uuid",
    )
    .bind::<Text, _>(&pathway)
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(read.name, month_name(0));

    // No partition can be emptied, on its own or through the table, nor
    // its records changed (an empty month has no row to refuse).
    let this_month = month_name(0);
    let mut refused: Vec<String> = names.iter().map(|n| format!("TRUNCATE {n}")).collect();
    refused.extend(["audit_log", this_month.as_str()].iter().flat_map(|t| {
        [
            format!("UPDATE {t} SET purpose = 'x'"),
            format!("DELETE FROM {t}"),
        ]
    }));
    refused.push("TRUNCATE audit_log".to_owned());
    for sql in &refused {
        let error = diesel::sql_query(sql)
            .execute(&mut conn)
            .await
            .expect_err(sql);
        assert!(error.to_string().contains("append-only"), "{sql}: {error}");
    }
    let kept: Vec<Name> = diesel::sql_query(
        "SELECT tableoid::regclass::text AS name FROM audit_log WHERE resource_id = $1::uuid",
    )
    .bind::<Text, _>(&pathway)
    .load(&mut conn)
    .await
    .unwrap();
    assert!(!kept.is_empty());

    // A record of a month nobody prepared is kept (in the default
    // partition), readable, and that month then stays there.
    let later = Utc::now() + chrono::Duration::days(200);
    execute(
        &mut conn,
        &format!(
            "INSERT INTO audit_log (occurred_at, actor_kind, action, outcome, purpose) \
             VALUES ('{}', 'system', 'purge', 'success', 'Plus tard')",
            later.to_rfc3339()
        ),
    )
    .await;
    let added: Flag = diesel::sql_query("SELECT parcours_audit_log_add_month($1::date) AS flag")
        .bind::<Timestamptz, _>(later)
        .get_result(&mut conn)
        .await
        .unwrap();
    assert!(!added.flag, "its rows would have had to move");
    let found = app
        .get_json(
            &format!(
                "/v1/audit?action=purge&from={}",
                (later - chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ")
            ),
            &auditor,
        )
        .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["items"][0]["purpose"], "Plus tard");
}

#[tokio::test]
async fn a_period_of_the_trail_reads_only_its_months() {
    let app = TestApp::spawn().await;
    let auditor = app.token_for(Auditor).await;
    let mut conn = app.db.connect().await;
    execute(
        &mut conn,
        "SELECT parcours_audit_log_add_month('2026-09-01'), parcours_audit_log_add_month('2026-10-01')",
    )
    .await;
    execute(
        &mut conn,
        "INSERT INTO audit_log (occurred_at, actor_kind, action, outcome) VALUES \
         ('2026-09-03T10:00:00Z', 'system', 'purge', 'success'), \
         ('2026-09-30T23:59:59Z', 'system', 'purge', 'success'), \
         ('2026-10-01T00:00:00Z', 'system', 'purge', 'success')",
    )
    .await;
    let response = app
        .with_token(
            Method::GET,
            "/v1/exports/audit?format=csv&from=2026-09-01T00:00:00Z&to=2026-10-01T00:00:00Z",
            &auditor,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csv = response.text().await.unwrap();
    let days: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| &l.split(',').nth(1).unwrap()[..10])
        .collect();
    assert_eq!(days, ["2026-09-03", "2026-09-30"], "{csv}");

    // What PostgreSQL reads for that period: September's partition only.
    #[derive(diesel::QueryableByName)]
    struct Plan {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }
    let from = chrono::DateTime::parse_from_rfc3339("2026-09-01T00:00:00Z").unwrap();
    let to = chrono::DateTime::parse_from_rfc3339("2026-10-01T00:00:00Z").unwrap();
    let plan: Vec<Plan> = diesel::sql_query(format!(
        "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {}",
        parcours::db::exports::AUDIT_SQL
    ))
    .bind::<diesel::sql_types::Nullable<Timestamptz>, _>(Some(from.with_timezone(&Utc)))
    .bind::<diesel::sql_types::Nullable<Timestamptz>, _>(Some(to.with_timezone(&Utc)))
    .load(&mut conn)
    .await
    .unwrap();
    let plan: String = plan.into_iter().map(|p| p.line + "\n").collect();
    let read: Vec<String> = partitions(&mut conn)
        .await
        .into_iter()
        .filter(|name| plan.contains(&format!(" on {name}")))
        .collect();
    assert_eq!(read, ["audit_log_2026_09"], "{plan}");
}

async fn sealed(conn: &mut diesel_async::AsyncPgConnection, seq: i64) {
    let conn = tokio::sync::Mutex::new(conn);
    eventually(Duration::from_secs(10), || async {
        let mut conn = conn.lock().await;
        let linked: Flag = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM audit_chain WHERE record_seq = $1) AS flag",
        )
        .bind::<BigInt, _>(seq)
        .get_result(&mut **conn)
        .await
        .unwrap();
        linked.flag.then_some(())
    })
    .await;
}

async fn last_read(app: &TestApp, auditor: &str, pathway: &str) -> i64 {
    let found =
        crate::audit::records(app, auditor, &format!("action=read&resource_id={pathway}")).await;
    found.last().unwrap()["seq"].as_i64().unwrap()
}

async fn read_and_seal(app: &TestApp, token: &str, auditor: &str, pathway: &str) -> i64 {
    app.get_json(&format!("/v1/pathways/{pathway}"), token)
        .await;
    let seq = last_read(app, auditor, pathway).await;
    sealed(&mut app.db.connect().await, seq).await;
    seq
}

#[tokio::test]
async fn a_verification_starts_from_the_last_intact_one_and_a_full_one_from_the_first_record() {
    let app = TestApp::spawn().await;
    let auditor = app.token_for(Auditor).await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let who = person(&app, &staff, "Incrément").await;
    let (pathway, _) = open(&app, &staff, &who, Disability).await;
    let old = read_and_seal(&app, &staff.token, &auditor, &pathway).await;

    let first: Value = app.get_json("/v1/audit/verify", &auditor).await;
    assert_eq!(first["intact"], true, "{first}");
    assert_eq!(
        first["full"], true,
        "no verification before: from the start"
    );
    assert_eq!(first["from_position"], 0);
    let sealed_then = first["records_sealed"].as_i64().unwrap();
    assert_eq!(first["records_checked"], sealed_then);

    let new = read_and_seal(&app, &staff.token, &auditor, &pathway).await;
    let second: Value = app.get_json("/v1/audit/verify", &auditor).await;
    assert_eq!(second["intact"], true, "{second}");
    assert_eq!(second["full"], false);
    assert_eq!(second["from_position"], sealed_then);
    let checked = second["records_checked"].as_i64().unwrap();
    assert!(
        checked >= 1 && checked < second["records_sealed"].as_i64().unwrap(),
        "{second}"
    );
    assert_eq!(
        second["records_sealed"].as_i64().unwrap(),
        sealed_then + checked
    );

    // A record sealed since the last verification, altered: found.
    let newer = read_and_seal(&app, &staff.token, &auditor, &pathway).await;
    let mut conn = app.db.connect().await;
    tamper::append_only(&mut conn, false).await;
    tamper::set_purpose(&mut conn, newer, Some("Contrôle")).await;
    let report = app.get_json("/v1/audit/verify", &auditor).await;
    assert_eq!(report["problem"]["kind"], "altered", "{report}");
    assert_eq!(report["problem"]["record_seq"], newer);
    // A failed verification is no starting point: the next one still
    // checks that record.
    let output = app.command(&["audit", "verify"]);
    assert!(!output.status.success());
    tamper::set_purpose(&mut conn, newer, None).await;
    assert_eq!(
        app.get_json("/v1/audit/verify", &auditor).await["intact"],
        true
    );

    // One altered before the last intact verification: only a full one
    // recomputes it.
    tamper::set_purpose(&mut conn, old, Some("Contrôle")).await;
    assert_eq!(
        app.get_json("/v1/audit/verify", &auditor).await["intact"],
        true
    );
    let full = app.get_json("/v1/audit/verify?full=true", &auditor).await;
    assert_eq!(full["full"], true);
    assert_eq!(full["problem"]["record_seq"], old, "{full}");
    let output = app.command(&["audit", "verify", "--full"]);
    assert!(!output.status.success());
    tamper::set_purpose(&mut conn, old, None).await;

    // A record slipped in among sealed ones is found from the last one.
    tamper::slip_in_beside(&mut conn, new).await;
    tamper::append_only(&mut conn, true).await;
    let report = app.get_json("/v1/audit/verify", &auditor).await;
    assert_eq!(report["full"], false);
    assert_eq!(report["problem"]["kind"], "inserted", "{report}");
    assert_eq!(report["problem"]["record_seq"], tamper::SLIPPED_IN);

    // Unknown parameters are refused, not ignored.
    let response = app
        .with_token(Method::GET, "/v1/audit/verify?ful=true", &auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

/// Copies of the last seal, `copies` of them (as many seals closing the
/// same link), the sealer kept out meanwhile; with `forged`, the copies'
/// signature has its first byte changed.
async fn copy_last_seal(conn: &mut diesel_async::AsyncPgConnection, copies: i64, forged: bool) {
    let signature = if forged {
        "set_byte(signature, 0, get_byte(signature, 0) # 1)"
    } else {
        "signature"
    };
    execute(
        conn,
        &format!(
            "DO $$ BEGIN \
             PERFORM pg_advisory_xact_lock(hashtext('{SEALING_LOCK}')); \
             INSERT INTO audit_seals (upto_position, upto_txid, upto_seq, horizon, hash, \
                 signature, key_id, sealed_at) \
             SELECT upto_position, upto_txid, upto_seq, horizon, hash, {signature}, key_id, sealed_at \
             FROM audit_seals, generate_series(1, {copies}) \
             WHERE id = (SELECT max(id) FROM audit_seals); \
             END $$"
        ),
    )
    .await;
}

#[tokio::test]
async fn a_verification_reads_the_seals_a_page_at_a_time_and_checks_every_one() {
    let app = TestApp::spawn().await;
    let auditor = app.token_for(Auditor).await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let who = person(&app, &staff, "Pagination").await;
    let (pathway, _) = open(&app, &staff, &who, Disability).await;
    read_and_seal(&app, &staff.token, &auditor, &pathway).await;
    let mut conn = app.db.connect().await;

    // More seals than a page (1 000): every one is read and checked.
    copy_last_seal(&mut conn, 1_100, false).await;
    let report = app.get_json("/v1/audit/verify?full=true", &auditor).await;
    assert_eq!(report["intact"], true, "{report}");
    let sealed: Seq =
        diesel::sql_query("SELECT count(*) AS seq FROM audit_seals WHERE upto_position <= $1")
            .bind::<BigInt, _>(report["records_sealed"].as_i64().unwrap())
            .get_result(&mut conn)
            .await
            .unwrap();
    assert!(sealed.seq > 1_100);
    assert_eq!(report["seals"], sealed.seq, "{report}");

    // A forged one on the second page is found and named.
    copy_last_seal(&mut conn, 1, true).await;
    let forged: Seq = diesel::sql_query("SELECT max(id) AS seq FROM audit_seals")
        .get_result(&mut conn)
        .await
        .unwrap();
    copy_last_seal(&mut conn, 50, false).await;
    let report = app.get_json("/v1/audit/verify?full=true", &auditor).await;
    assert_eq!(report["intact"], false, "{report}");
    assert_eq!(report["problem"]["kind"], "bad_seal", "{report}");
    assert_eq!(report["problem"]["seal_id"], forged.seq, "{report}");
}
