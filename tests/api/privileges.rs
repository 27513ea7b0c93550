//! The API under its own database role (`parcours grant-api`): it serves
//! and audits case files, but cannot alter the audit trail or the
//! timelines, switch their triggers off, or change the schema.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use parcours::domain::Domain::Disability;
use parcours::domain::Role::{Auditor, Supervisor};
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::db::execute;

fn grant_api(app: &TestApp, role: &str) -> Value {
    app.command_json(&["grant-api", "--role", role])
}

#[tokio::test]
async fn the_api_role_serves_and_audits_but_cannot_alter_the_trail() {
    let mut app = TestApp::spawn().await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let auditor = app.token_for(Auditor).await;
    let role = format!("parcours_api_{}", uuid::Uuid::now_v7().simple());
    let mut owner = app.db.connect().await;
    execute(&mut owner, &format!("CREATE ROLE {role} LOGIN")).await;

    let report = grant_api(&app, &role);
    assert_eq!(
        report["append_only"],
        json!([
            "audit_chain",
            "audit_log",
            "audit_seals",
            "audit_verifications",
            "facility_statuses",
            "pathway_events"
        ])
    );
    assert_eq!(
        grant_api(&app, &role),
        report,
        "running it again changes nothing"
    );

    // An instance connected as the role migrates nothing, serves, audits.
    let mut as_role = url::Url::parse(&app.db.url).unwrap();
    as_role.set_username(&role).unwrap();
    let (address, handle) = app
        .another_instance_with(|settings| {
            settings.database.database_url = Some(as_role.to_string());
        })
        .await;
    let call = |method: reqwest::Method, path: &str, token: &str| {
        app.client
            .request(method, format!("{address}{path}"))
            .bearer_auth(token.to_owned())
    };
    let person: Value = call(
        reqwest::Method::POST,
        "/v1/persons?confirm_new=true",
        &staff.token,
    )
    .json(&json!({
        "family_name": "Restreint",
        "given_names": "Camille",
        "birth_date": "1975-04-03",
        "commune_insee": "05061",
        "territory_id": app.territory("05-GAP").await,
    }))
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let person = person["id"].as_str().expect("the person is created");
    let response = call(
        reqwest::Method::GET,
        &format!("/v1/persons/{person}"),
        &staff.token,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let reads = app
        .get_json(
            &format!("/v1/audit?resource_id={person}&action=read"),
            &auditor,
        )
        .await;
    assert_eq!(reads["items"].as_array().unwrap().len(), 1, "{reads}");

    // The role itself, as a compromised API would use it.
    let mut conn = AsyncPgConnection::establish(as_role.as_str())
        .await
        .unwrap();
    for (sql, refusal) in [
        ("UPDATE audit_log SET purpose = 'x'", "permission denied"),
        ("DELETE FROM audit_log", "permission denied"),
        ("TRUNCATE audit_log", "permission denied"),
        ("DELETE FROM audit_seals", "permission denied"),
        ("UPDATE pathway_events SET data = '{}'", "permission denied"),
        (
            "ALTER TABLE audit_log DISABLE TRIGGER append_only",
            "must be owner",
        ),
        ("CREATE TABLE shadow (id int)", "permission denied"),
        // The trail's months are reached through audit_log only.
        (
            "SELECT count(*) FROM audit_log_default",
            "permission denied",
        ),
        (
            "SELECT parcours_audit_log_add_month('2030-01-01')",
            "permission denied",
        ),
        (
            "DELETE FROM __diesel_schema_migrations",
            "permission denied",
        ),
    ] {
        let error = diesel::sql_query(sql)
            .execute(&mut conn)
            .await
            .expect_err(sql)
            .to_string();
        assert!(error.contains(refusal), "{sql}: {error}");
    }
    // What the API needs still works: appending to the trail, preparing
    // its months (a function that runs as the owner).
    execute(
        &mut conn,
        "INSERT INTO audit_log (actor_kind, action, outcome) VALUES ('system', 'probe', 'success')",
    )
    .await;
    execute(&mut conn, "SELECT parcours_audit_log_prepare_months()").await;

    drop(conn);
    handle.stop(true).await;
    execute(&mut owner, &format!("DROP OWNED BY {role}")).await;
    execute(&mut owner, &format!("DROP ROLE {role}")).await;
}
