//! Parse, don't validate: every input the fuzzer found crashing a worker,
//! reaching PostgreSQL unchecked or echoed back is a 400 (or 415, 422)
//! problem naming the field, and nothing is written.

use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use parcours::domain::Domain::{Disability, Insertion};
use parcours::domain::Role::Coordinator;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::fixtures::{open, person};
use crate::support::{Staff, TestApp, assert_problem, nir};

async fn person_body(app: &TestApp) -> Value {
    json!({
        "family_name": "Martin",
        "given_names": "Jeanne",
        "birth_date": "1990-01-01",
        "commune_insee": "05061",
        "territory_id": app.territory("05-GAP").await,
    })
}

async fn create(app: &TestApp, staff: &Staff, key: &str, body: &Value) -> reqwest::Response {
    app.with_token(Method::POST, "/v1/persons?confirm_new=true", &staff.token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Refused as 400 naming `field`; the problem's text does not quote `echo`.
async fn refused(response: reqwest::Response, field: &str, echo: Option<&str>) -> Value {
    let problem = assert_problem(response, 400).await;
    assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    if let Some(echo) = echo {
        assert!(!problem.to_string().contains(echo), "echoed: {problem}");
    }
    problem
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.db.connect().await;
    diesel::sql_query(sql)
        .get_result::<Count>(&mut conn)
        .await
        .unwrap()
        .n
}

#[tokio::test]
async fn a_multi_byte_commune_code_is_a_400_and_its_key_is_answered_again() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let mut body = person_body(&app).await;
    body["commune_insee"] = json!("0¯12");
    for _ in 0..2 {
        let response = create(&app, &staff, "multi-byte", &body).await;
        refused(response, "commune_insee", Some("¯")).await;
    }
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let response = app
        .with_token(Method::POST, "/v1/referrals", &caf)
        .header("idempotency-key", "multi-byte")
        .json(
            &json!({"family_name": "Martin", "given_names": "Jeanne", "birth_date": "1990-01-01",
                      "commune_insee": "0¯123", "domain": "insertion", "reason": "RSA"}),
        )
        .send()
        .await
        .unwrap();
    refused(response, "commune_insee", None).await;
    assert_eq!(app.get("/health").await.status(), 200);
}

#[tokio::test]
async fn a_nul_byte_never_reaches_the_database() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    for field in ["family_name", "given_names", "legal_representative"] {
        let mut body = person_body(&app).await;
        body[field] = json!("Mar\u{0}tin");
        let key = format!("nul-{field}");
        refused(create(&app, &staff, &key, &body).await, field, None).await;
    }
    let someone = person(&app, &staff, "Nul").await;
    let (pathway, _) = open(&app, &staff, &someone, Disability).await;
    let response = app
        .send_json(
            Method::POST,
            &format!("/v1/pathways/{pathway}/notes"),
            &staff.token,
            None,
            &json!({"visibility": "team", "body": "a\u{0}b"}),
        )
        .await;
    refused(response, "body", None).await;
    // In a query string, and in the login form.
    for path in [
        "/v1/communes?q=%00",
        "/v1/communes?q=Gap%00",
        "/v1/pathways?status=%00",
    ] {
        let response = app
            .with_token(Method::GET, path, &staff.token)
            .send()
            .await
            .unwrap();
        let field = if path.contains("q=") { "q" } else { "status" };
        refused(response, field, None).await;
    }
    let response = app
        .client
        .post(app.url("/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=password&username=a%40b.fr&password=%00")
        .send()
        .await
        .unwrap();
    refused(response, "password", None).await;
    assert_eq!(count(&app, "SELECT count(*) AS n FROM persons").await, 1);
}

#[tokio::test]
async fn a_number_where_text_is_expected_is_never_echoed_nor_stored() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let digits = nir("1850578006084");
    let mut body = person_body(&app).await;
    body["nir"] = json!(digits.parse::<u64>().unwrap());
    let response = create(&app, &staff, "nir-number", &body).await;
    let problem = refused(response, "nir", Some(&digits)).await;
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("string")
    );
    let mut body = person_body(&app).await;
    body["caf_number"] = json!(1234567);
    refused(
        create(&app, &staff, "caf-number", &body).await,
        "caf_number",
        Some("1234567"),
    )
    .await;
    // The stored response of the key holds no number either.
    let stored = count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM idempotency_keys \
             WHERE convert_from(body, 'UTF8') LIKE '%{digits}%' \
                OR convert_from(body, 'UTF8') LIKE '%1234567%'"
        ),
    )
    .await;
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn dates_names_and_communes_that_were_wrongly_accepted_are_refused() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let mut body = person_body(&app).await;
    body["birth_date"] = json!("1990-1-1");
    refused(create(&app, &staff, "d1", &body).await, "birth_date", None).await;
    for (i, name) in ["\u{FEFF}\u{FEFF}", "\u{202E}nitraM", "Mar\u{200B}tin"]
        .iter()
        .enumerate()
    {
        let mut body = person_body(&app).await;
        body["family_name"] = json!(name);
        let key = format!("name-{i}");
        refused(create(&app, &staff, &key, &body).await, "family_name", None).await;
    }
    // A person of Briançon (05-BRI) recorded in the Gapençais.
    let mut body = person_body(&app).await;
    body["commune_insee"] = json!("05023");
    let problem = assert_problem(create(&app, &staff, "briancon", &body).await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "territory_id");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM persons").await, 0);

    // A decision of 1800.
    let someone = person(&app, &staff, "Date").await;
    let (pathway, _) = open(&app, &staff, &someone, Disability).await;
    let response = app
        .send_json(
            Method::POST,
            &format!("/v1/pathways/{pathway}/decisions"),
            &staff.token,
            None,
            &json!({"authority": "cdaph", "qualification": "target", "label": "IME",
                    "decided_on": "1800-01-01"}),
        )
        .await;
    refused(response, "decided_on", None).await;
}

#[tokio::test]
async fn broken_encodings_and_charsets_are_refused_not_guessed() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Insertion]).await;
    // Invalid UTF-8 once percent-decoded.
    let response = app
        .with_token(Method::GET, "/v1/communes?q=%C3%28", &staff.token)
        .send()
        .await
        .unwrap();
    refused(response, "q", None).await;
    // A body in another charset.
    let response = app
        .with_token(Method::POST, "/v1/persons", &staff.token)
        .header("content-type", "application/json; charset=latin1")
        .body(serde_json::to_vec(&person_body(&app).await).unwrap())
        .send()
        .await
        .unwrap();
    assert_problem(response, 415).await;
    // A purpose that is not UTF-8 is refused, not dropped from the record.
    let response = app
        .with_token(Method::GET, "/v1/pathways", &staff.token)
        .header(
            "x-purpose",
            reqwest::header::HeaderValue::from_bytes(b"suivi \xe9t\xe9").unwrap(),
        )
        .send()
        .await
        .unwrap();
    refused(response, "X-Purpose", None).await;
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = Text)]
        #[allow(dead_code)]
        line: String,
    }
    let mut conn = app.db.connect().await;
    let listed: Vec<Line> = diesel::sql_query(
        "SELECT action AS line FROM audit_log WHERE action = 'list' AND resource_type = 'pathway'",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert!(listed.is_empty(), "nothing was read");
}
