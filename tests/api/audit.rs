//! The audit trail: reads, refusals and logins recorded with their actor;
//! searches with what was asked and returned; tampering detected.

use std::time::Duration;

use diesel_async::RunQueryDsl;
use parcours::domain::Domain::Disability;
use parcours::domain::Role::{Auditor, Coordinator, Supervisor};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::db::execute;
use crate::support::fixtures::{open, person};
use crate::support::tamper;
use crate::support::{TestApp, assert_problem, nir};
use crate::support::{eventually, within};

pub(crate) async fn records(app: &TestApp, auditor: &str, query: &str) -> Vec<Value> {
    app.get_json(&format!("/v1/audit?limit=200&{query}"), auditor)
        .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// The records once there are at least `n` (up to 5 s).
async fn records_until(app: &TestApp, auditor: &str, query: &str, n: usize) -> Vec<Value> {
    let enough = within(Duration::from_secs(5), || async {
        let found = records(app, auditor, query).await;
        (found.len() >= n).then_some(found)
    })
    .await;
    match enough {
        Some(found) => found,
        None => records(app, auditor, query).await,
    }
}

#[tokio::test]
async fn reads_refusals_and_logins_are_recorded_with_their_actor() {
    let app = TestApp::spawn().await;
    let auditor = app.token_for(Auditor).await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let who = person(&app, &staff, "Audité").await;
    let (pathway, _) = open(&app, &staff, &who, Disability).await;
    let path = format!("/v1/pathways/{pathway}");

    let response = app
        .with_token(Method::GET, &path, &staff.token)
        .header("x-purpose", "Préparation de la commission")
        .header("x-request-id", "req-audit-1")
        .header("user-agent", "front-rapt/2.1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let reads = records(
        &app,
        &auditor,
        &format!("resource_id={pathway}&action=read"),
    )
    .await;
    assert_eq!(reads.len(), 1, "exactly one record: {reads:?}");
    let read = &reads[0];
    assert_eq!(read["actor_id"], staff.user.id.to_string());
    assert_eq!(read["actor_kind"], "user");
    assert_eq!(read["actor_role"], "supervisor");
    assert_eq!(read["resource_type"], "pathway");
    assert_eq!(read["outcome"], "success");
    assert_eq!(read["request_id"], "req-audit-1");
    assert_eq!(read["purpose"], "Préparation de la commission");
    assert_eq!(read["user_agent"], "front-rapt/2.1");
    assert_eq!(read["source_address"], "127.0.0.1");

    // Out of scope: 404, recorded as such.
    let elsewhere = app.staff(Coordinator, &["05-BRI"], &[Disability]).await;
    let response = app
        .with_token(Method::GET, &path, &elsewhere.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    // A partner is refused by the policy: recorded with what it tried.
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let response = app
        .with_token(Method::GET, &path, &caf)
        .send()
        .await
        .unwrap();
    assert_problem(response, 403).await;
    // A forged token: recorded without an actor.
    let response = app
        .with_token(Method::GET, &path, "not.a.token")
        .send()
        .await
        .unwrap();
    assert_problem(response, 401).await;

    let reads = records(
        &app,
        &auditor,
        &format!("resource_id={pathway}&action=read"),
    )
    .await;
    assert_eq!(reads.len(), 2);
    assert_eq!(reads[1]["actor_id"], elsewhere.user.id.to_string());
    assert_eq!(reads[1]["outcome"], "not_found");
    // Refusals are recorded beside the answer, not before it.
    let denied = records_until(&app, &auditor, "action=authorize", 1).await;
    let denied = denied
        .iter()
        .find(|r| r["query"]["route"] == "/v1/pathways/{id}")
        .expect("the refusal is recorded");
    assert_eq!(denied["actor_kind"], "client");
    assert_eq!(denied["actor_role"], "partner");
    assert_eq!(denied["outcome"], "denied");
    assert_eq!(denied["query"]["method"], "GET");
    let refused = records_until(&app, &auditor, "action=token_refused", 1).await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["actor_kind"], "anonymous");

    // Logins, failed and successful.
    let response = app
        .token_request(&[
            ("grant_type", "password"),
            ("username", &staff.user.email),
            ("password", "pas le bon mot de passe"),
        ])
        .await;
    assert_eq!(response.status(), 400);
    let logins = records(&app, &auditor, "action=login").await;
    assert!(
        logins
            .iter()
            .any(|r| r["outcome"] == "denied" && r["actor_kind"] == "anonymous")
    );
    assert!(logins.iter().any(|r| r["outcome"] == "success"
        && r["actor_id"] == staff.user.id.to_string()
        && r["query"]["grant_type"] == "password"));

    // The supervisor reads who touched the person's file; auditors too.
    let log = app
        .get_json(&format!("/v1/persons/{who}/access-log"), &staff.token)
        .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.iter().filter(|a| **a == "read").count() >= 2,
        "{actions:?}"
    );
    let response = app
        .with_token(
            Method::GET,
            &format!("/v1/persons/{who}/access-log"),
            &elsewhere.token,
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 403).await;
    let other_supervisor = app.staff(Supervisor, &["05-BRI"], &[Disability]).await;
    let response = app
        .with_token(
            Method::GET,
            &format!("/v1/persons/{who}/access-log"),
            &other_supervisor.token,
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    app.get_json(&format!("/v1/persons/{who}/access-log"), &auditor)
        .await;
}

#[tokio::test]
async fn a_search_records_what_was_asked_and_returned_but_never_a_nir() {
    let app = TestApp::spawn().await;
    let auditor = app.token_for(Auditor).await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let found = person(&app, &staff, "Cherché").await;
    let result = app
        .search_persons(&staff.token, &json!({ "q": "cherche" }))
        .await;
    assert_eq!(result["items"][0]["id"], found.as_str());
    let number = nir("1850578006084");
    app.search_persons(&staff.token, &json!({ "nir": number }))
        .await;

    app.search_persons(&staff.token, &json!({ "caf_number": "1234567" }))
        .await;

    let searches = records(&app, &auditor, "action=search&resource_type=person").await;
    assert_eq!(searches.len(), 3);
    let name_ref = searches[0]["query"]["q_ref"].as_str().unwrap();
    assert_eq!(name_ref.len(), 32, "a keyed hash, not the name");
    assert_eq!(searches[0]["result_ids"], json!([found]));
    assert_eq!(searches[1]["query"]["nir"], true);
    assert!(searches[1]["query"]["q_ref"].is_null());
    // The auditor finds a search by naming its term, however it is spelt;
    // the term names a person, so it goes in a body.
    let searched = |term: &str| {
        let (app, auditor, term) = (&app, auditor.clone(), term.to_owned());
        async move {
            let (page, _) = app
                .post_ok(
                    "/v1/audit/search?limit=200",
                    &auditor,
                    &json!({ "searched": term }),
                    200,
                )
                .await;
            page["items"].as_array().unwrap().clone()
        }
    };
    let by_name = searched("CHERCHÉ").await;
    assert_eq!(by_name.len(), 1, "{by_name:?}");
    assert_eq!(by_name[0]["seq"], searches[0]["seq"]);
    let by_number = searched("1234567").await;
    assert_eq!(by_number.len(), 1);
    assert_eq!(by_number[0]["seq"], searches[2]["seq"]);
    assert!(searched("ailleurs").await.is_empty());
    // A term longer than any name a search accepts is refused, and says so;
    // in a URL, any term is refused.
    let long = json!({ "searched": "a".repeat(201) });
    let response = app
        .send_json(Method::POST, "/v1/audit/search", &auditor, None, &long)
        .await;
    let problem = assert_problem(response, 400).await;
    assert_eq!(problem["errors"][0]["field"], "searched", "{problem}");
    let response = app
        .with_token(Method::GET, "/v1/audit?searched=cherche", &auditor)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 400).await;
    assert_eq!(problem["errors"][0]["field"], "searched", "{problem}");
    assert!(!problem.to_string().contains("cherche"), "{problem}");

    // Nothing looked for is in the trail in clear, whoever reads it.
    let mut conn = app.db.connect().await;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let clear: Count = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM audit_log WHERE audit_log::text ILIKE ANY \
         (ARRAY['%cherch%', '%1234567%', '%1850578006084%', '%{number}%'])"
    ))
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(clear.n, 0);
}

#[tokio::test]
async fn a_page_records_the_ids_it_returned_and_no_more() {
    let app = TestApp::spawn().await;
    let auditor = app.token_for(Auditor).await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let mut opened = Vec::new();
    for family in ["Premier", "Deuxième", "Troisième"] {
        let who = person(&app, &staff, family).await;
        opened.push(open(&app, &staff, &who, Disability).await.0);
    }
    opened.sort();

    // The list reads one row more than it shows, to know a page follows;
    // that row is not in the record.
    let first = app.get_json("/v1/pathways?limit=2", &staff.token).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get_json(
            &format!("/v1/pathways?limit=2&cursor={cursor}"),
            &staff.token,
        )
        .await;
    let shown = |page: &Value| -> Vec<Value> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].clone())
            .collect()
    };
    assert_eq!(
        shown(&first),
        json!(opened[..2]).as_array().unwrap().clone()
    );
    assert_eq!(shown(&second), vec![json!(opened[2])]);
    // Out of the caller's scope, the list is empty and says so.
    let elsewhere = app.staff(Supervisor, &["05-BRI"], &[Disability]).await;
    let empty = app.get_json("/v1/pathways", &elsewhere.token).await;
    assert_eq!(empty["items"], json!([]));

    let lists = records(&app, &auditor, "action=list&resource_type=pathway").await;
    assert_eq!(lists.len(), 3, "{lists:?}");
    assert_eq!(lists[0]["result_ids"], json!(shown(&first)));
    assert_eq!(lists[1]["result_ids"], json!(shown(&second)));
    assert_eq!(lists[1]["query"]["after"], json!(opened[1]));
    assert_eq!(lists[2]["result_ids"], json!([]));
    assert_eq!(lists[2]["actor_id"], elsewhere.user.id.to_string());
    assert!(lists.iter().all(|r| r["outcome"] == "success"));
}

#[tokio::test]
async fn a_read_that_cannot_be_recorded_is_not_answered() {
    let app = TestApp::spawn().await;
    let auditor = app.token_for(Auditor).await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let who = person(&app, &staff, "Tracé").await;
    let (pathway, _) = open(&app, &staff, &who, Disability).await;

    // The audit store refuses reads' records (a full disk, a revoked
    // privilege): the read itself must fail with it.
    let mut conn = app.db.connect().await;
    execute(
        &mut conn,
        "CREATE FUNCTION refuse_read_records() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.action IN ('read', 'list', 'search') THEN \
           RAISE EXCEPTION 'audit store unavailable'; END IF; RETURN NEW; END $$",
    )
    .await;
    execute(
        &mut conn,
        "CREATE TRIGGER refuse_read_records BEFORE INSERT ON audit_log \
         FOR EACH ROW EXECUTE FUNCTION refuse_read_records()",
    )
    .await;
    for (method, path) in [
        (Method::GET, format!("/v1/pathways/{pathway}")),
        (Method::GET, format!("/v1/persons/{who}")),
        (Method::GET, "/v1/pathways".to_owned()),
        (Method::POST, "/v1/persons/search".to_owned()),
    ] {
        let response = app
            .with_token(method, &path, &staff.token)
            .json(&json!({ "q": "trace" }))
            .send()
            .await
            .unwrap();
        let body = assert_problem(response, 500).await.to_string();
        assert!(
            !body.contains("Camille") && !body.contains("Trac") && !body.contains("referred"),
            "{path} answered something of the file: {body}"
        );
    }

    execute(&mut conn, "DROP TRIGGER refuse_read_records ON audit_log").await;
    app.get_json(&format!("/v1/pathways/{pathway}"), &staff.token)
        .await;
    // Only the read that was answered is in the trail.
    let reads = records(
        &app,
        &auditor,
        &format!("resource_id={pathway}&action=read"),
    )
    .await;
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(reads[0]["outcome"], "success");
}

/// The verification once everything written so far is sealed.
async fn verified_when_sealed(app: &TestApp, auditor: &str) -> Value {
    eventually(Duration::from_secs(20), || async {
        let report = app.get_json("/v1/audit/verify", auditor).await;
        // The verification's own record is the only one not yet sealed.
        let sealed =
            report["records_pending"].as_i64() <= Some(1) && report["seals"].as_i64() > Some(0);
        sealed.then_some(report)
    })
    .await
}

const FULL: &str = "/v1/audit/verify?full=true";

fn verify_with_the_cli(app: &TestApp, full: bool) -> (bool, Value) {
    let output = if full {
        app.command(&["audit", "verify", "--full"])
    } else {
        app.command(&["audit", "verify"])
    };
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    (output.status.success(), report)
}

#[tokio::test]
async fn tampering_with_the_trail_is_detected_and_named() {
    let app = TestApp::spawn().await;
    let auditor = app.token_for(Auditor).await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let who = person(&app, &staff, "Scellé").await;
    let (pathway, _) = open(&app, &staff, &who, Disability).await;
    for _ in 0..3 {
        app.get_json(&format!("/v1/pathways/{pathway}"), &staff.token)
            .await;
    }
    let report = verified_when_sealed(&app, &auditor).await;
    assert_eq!(report["intact"], true, "{report}");
    assert!(report["records_sealed"].as_i64().unwrap() >= 4);
    let reads = records(
        &app,
        &auditor,
        &format!("resource_id={pathway}&action=read"),
    )
    .await;
    let (first, second) = (
        reads[0]["seq"].as_i64().unwrap(),
        reads[1]["seq"].as_i64().unwrap(),
    );

    let mut conn = app.db.connect().await;
    // The database refuses changes outright.
    for refused in [
        format!("UPDATE audit_log SET purpose = 'x' WHERE seq = {first}"),
        format!("DELETE FROM audit_log WHERE seq = {first}"),
        "TRUNCATE audit_log".to_owned(),
    ] {
        assert!(
            diesel::sql_query(&refused)
                .execute(&mut conn)
                .await
                .is_err(),
            "{refused}"
        );
    }

    // A superuser alters a record behind the trigger's back (after a
    // verification found it intact: only a full one looks at it again).
    tamper::append_only(&mut conn, false).await;
    tamper::set_purpose(&mut conn, first, Some("Contrôle")).await;
    let report = app.get_json(FULL, &auditor).await;
    assert_eq!(report["intact"], false);
    assert_eq!(report["problem"]["kind"], "altered");
    assert_eq!(report["problem"]["record_seq"], first);
    let (ok, cli) = verify_with_the_cli(&app, true);
    assert!(!ok, "the command fails on a tampered trail");
    assert_eq!(cli["problem"]["record_seq"], first);
    tamper::set_purpose(&mut conn, first, None).await;
    assert_eq!(app.get_json(FULL, &auditor).await["intact"], true);
    assert!(verify_with_the_cli(&app, true).0);

    // … removes one.
    execute(
        &mut conn,
        &format!("CREATE TABLE saved AS SELECT * FROM audit_log WHERE seq = {second}"),
    )
    .await;
    execute(
        &mut conn,
        &format!("DELETE FROM audit_log WHERE seq = {second}"),
    )
    .await;
    let report = app.get_json(FULL, &auditor).await;
    assert_eq!(report["problem"]["kind"], "removed");
    assert_eq!(report["problem"]["record_seq"], second);
    execute(
        &mut conn,
        "INSERT INTO audit_log OVERRIDING SYSTEM VALUE SELECT * FROM saved",
    )
    .await;
    assert_eq!(app.get_json(FULL, &auditor).await["intact"], true);

    // … slips one in among the sealed records.
    tamper::slip_in_beside(&mut conn, first).await;
    tamper::append_only(&mut conn, true).await;
    let report = app.get_json(FULL, &auditor).await;
    assert_eq!(report["problem"]["kind"], "inserted");
    assert_eq!(report["problem"]["record_seq"], tamper::SLIPPED_IN);
}

#[tokio::test]
async fn writes_and_admin_changes_are_recorded_with_their_outcome() {
    let app = TestApp::spawn().await;
    let auditor = app.token_for(Auditor).await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let who = person(&app, &staff, "Écrit").await;
    let (pathway, etag) = open(&app, &staff, &who, Disability).await;
    let path = format!("/v1/pathways/{pathway}/transitions");
    let body = json!({"to": "assessment", "reason": "Évaluation"});
    let stale = app
        .send_json(Method::POST, &path, &staff.token, Some("\"v999\""), &body)
        .await;
    assert_eq!(stale.status(), 412);
    let moved = app
        .send_json(Method::POST, &path, &staff.token, Some(&etag), &body)
        .await;
    assert_eq!(moved.status(), 200);

    let created = records(&app, &auditor, "action=create").await;
    assert!(
        created
            .iter()
            .any(|r| r["resource_type"] == "person" && r["resource_id"] == who.as_str())
    );
    assert!(
        created
            .iter()
            .any(|r| r["resource_type"] == "pathway" && r["resource_id"] == pathway.as_str())
    );
    let moves = records(&app, &auditor, "action=transition").await;
    let outcomes: Vec<&str> = moves
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["invalid", "success"]);
    assert!(moves.iter().all(|r| r["resource_id"] == pathway.as_str()));

    // An admin change names its author.
    let admin = app.token_for(parcours::domain::Role::Admin).await;
    let territory = app
        .post_ok(
            "/v1/territories",
            &admin,
            &json!({"code": "05-QUE", "name": "Queyras"}),
            201,
        )
        .await
        .0;
    let changes = records(&app, &auditor, "resource_type=territory").await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["action"], "create");
    assert_eq!(changes[0]["resource_id"], territory["id"]);
    assert_eq!(changes[0]["actor_role"], "admin");
}

#[tokio::test]
async fn a_person_gets_everything_held_about_them_through_a_supervisor() {
    let app = TestApp::spawn().await;
    let auditor = app.token_for(Auditor).await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let number = nir("1850578006084");
    let (created, _) = app
        .post_ok(
            "/v1/persons?confirm_new=true",
            &staff.token,
            &json!({
                "family_name": "Accès", "given_names": "Droit", "birth_date": "1985-05-12",
                "commune_insee": "05061", "territory_id": app.territory("05-GAP").await,
                "nir": number,
            }),
            201,
        )
        .await;
    let who = created["id"].as_str().unwrap().to_owned();
    let (pathway, _) = open(&app, &staff, &who, Disability).await;
    app.post_ok(
        &format!("/v1/pathways/{pathway}/notes"),
        &staff.token,
        &json!({"visibility": "restricted", "body": "Entretien du 3 mars"}),
        201,
    )
    .await;

    let file = app
        .get_json(&format!("/v1/persons/{who}/export"), &staff.token)
        .await;
    assert_eq!(file["person"]["family_name"], "Accès");
    assert_eq!(file["person"]["nir"], "1 85 05 ** *** *** 91");
    assert!(file["person"].get("nir_ciphertext").is_none());
    assert!(!file.to_string().contains(&number));
    let pathways = file["pathways"].as_array().unwrap();
    assert_eq!(pathways.len(), 1);
    assert_eq!(pathways[0]["id"], pathway.as_str());
    assert_eq!(pathways[0]["notes"][0]["body"], "Entretien du 3 mars");
    assert_eq!(pathways[0]["status_history"][0]["status"], "referred");
    assert!(!pathways[0]["timeline"].as_array().unwrap().is_empty());
    assert!(!file["access_log"].as_array().unwrap().is_empty());
    assert_eq!(
        records(&app, &auditor, "action=subject_access").await.len(),
        1
    );

    let coordinator = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let response = app
        .with_token(
            Method::GET,
            &format!("/v1/persons/{who}/export"),
            &coordinator.token,
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 403).await;
    let elsewhere = app.staff(Supervisor, &["05-BRI"], &[Disability]).await;
    let response = app
        .with_token(
            Method::GET,
            &format!("/v1/persons/{who}/export"),
            &elsewhere.token,
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
}

/// A refused admin change is recorded with its outcome, as a refused change
/// to a case file is: the same ceremony writes both.
#[tokio::test]
async fn a_refused_admin_change_is_recorded_with_its_outcome() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(parcours::domain::Role::Admin).await;
    let auditor = app.token_for(Auditor).await;
    let territory = app.territory("05-GAP").await;
    let stale = app
        .send_json(
            Method::PATCH,
            &format!("/v1/territories/{territory}"),
            &admin,
            Some("\"v999\""),
            &json!({ "name": "Gap et environs" }),
        )
        .await;
    assert_problem(stale, 412).await;
    let found = records_until(&app, &auditor, "action=update&resource_type=territory", 1).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["outcome"], "invalid");
    assert_eq!(found[0]["resource_id"], json!(territory));
    let name: Value = app
        .get_json(&format!("/v1/territories/{territory}"), &admin)
        .await;
    assert_ne!(name["name"], "Gap et environs", "nothing changed");
}
