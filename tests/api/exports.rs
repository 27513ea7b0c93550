//! The auditors' pathways export: pseudonymised, stable references,
//! filtered, audited — and nothing in it names anyone.

use parcours::domain::Domain::{Disability, Elderly};
use parcours::domain::Role::{Auditor, Supervisor};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem, nir};

async fn export(app: &TestApp, token: &str, query: &str) -> (String, String) {
    let response = app
        .with_token(Method::GET, &format!("/v1/exports/pathways?{query}"), token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn an_export_links_rows_by_reference_and_names_nobody() {
    let app = TestApp::spawn().await;
    let auditor = app.token_for(Auditor).await;
    let staff = app
        .staff(Supervisor, &["05-GAP"], &[Disability, Elderly])
        .await;
    let number = nir("2780505061123");
    let (person, _) = app
        .post_ok(
            "/v1/persons?confirm_new=true",
            &staff.token,
            &json!({
                "family_name": "Brunet-Vasseur", "given_names": "Héloïse",
                "birth_date": "1978-05-21", "commune_insee": "05061",
                "territory_id": app.territory("05-GAP").await,
                "caf_number": "7654321", "nir": number,
            }),
            201,
        )
        .await;
    let person = person["id"].as_str().unwrap().to_owned();
    let mut pathways = Vec::new();
    for domain in ["disability", "elderly"] {
        let (pathway, _) = app
            .post_ok(
                "/v1/pathways",
                &staff.token,
                &json!({"person_id": person, "domain": domain, "reason": "Demande"}),
                201,
            )
            .await;
        pathways.push(pathway["id"].as_str().unwrap().to_owned());
    }
    app.post_ok(
        &format!("/v1/pathways/{}/notes", pathways[0]),
        &staff.token,
        &json!({"visibility": "team", "body": "Violences conjugales signalées"}),
        201,
    )
    .await;

    let (content_type, csv) = export(&app, &auditor, "format=csv").await;
    assert!(content_type.starts_with("text/csv"));
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "person_ref,pathway_ref,birth_year,commune_insee,territory,domain,status,opened_on,\
         closed_on,closure_reason,days_without_solution,plan_kind,plan_status,critical_level"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], rows[1][0], "one person, one reference");
    assert_ne!(rows[0][1], rows[1][1], "two pathways, two references");
    assert_eq!(rows[0][0].len(), 32);
    assert_eq!(
        (rows[0][2], rows[0][3], rows[0][4]),
        ("1978", "05061", "05-GAP")
    );
    assert_eq!(rows[0][5], "disability");
    assert_eq!(rows[0][6], "referred");
    for secret in [
        "Brunet",
        "Vasseur",
        "Héloïse",
        "1978-05-21",
        "7654321",
        "2780505061123",
        &number,
        "Violences",
        &person,
        &pathways[0],
        &pathways[1],
    ] {
        assert!(!csv.contains(secret), "the export contains {secret}");
    }

    // NDJSON: the same rows, the same references.
    let (content_type, ndjson) = export(&app, &auditor, "format=ndjson&domain=elderly").await;
    assert_eq!(content_type, "application/x-ndjson");
    let rows_json: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows_json.len(), 1);
    assert_eq!(rows_json[0]["person_ref"], rows[1][0]);
    assert_eq!(rows_json[0]["domain"], "elderly");
    assert!(rows_json[0].get("family_name").is_none());

    // Periods, bad input, and the audit of each export.
    let (_, none) = export(&app, &auditor, "to=2000-01-01").await;
    assert_eq!(none.lines().count(), 1, "the header only");
    let response = app
        .with_token(
            Method::GET,
            "/v1/exports/pathways?from=2025-02-01&to=2025-01-01",
            &auditor,
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 400).await;
    let response = app
        .with_token(Method::GET, "/v1/exports/pathways?format=xml", &auditor)
        .send()
        .await
        .unwrap();
    assert_problem(response, 400).await;
    let audited = app.get_json("/v1/audit?action=export", &auditor).await;
    assert_eq!(audited["items"].as_array().unwrap().len(), 3);
    assert_eq!(audited["items"][0]["query"]["format"], "csv");
    assert_eq!(audited["items"][1]["query"]["domain"], "elderly");
    // The trail exports the same way, resources as the same keyed hashes.
    app.search_persons(&staff.token, &json!({ "q": "brunet" }))
        .await;
    let response = app
        .with_token(Method::GET, "/v1/exports/audit?format=csv", &auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let trail = response.text().await.unwrap();
    assert!(trail.starts_with(
        "seq,occurred_at,actor_kind,actor_id,actor_role,action,resource_type,resource_ref,\
         result_count,outcome,request_id\n"
    ));
    let created = trail
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f[5] == "create" && f[6] == "person")
        .expect("the person's creation is in the trail");
    assert_eq!(
        created[7], rows[0][0],
        "the same reference as in the pathways export"
    );
    assert!(
        trail
            .lines()
            .any(|l| l.contains(",search,person,,1,success,"))
    );
    for secret in ["Brunet", "brunet", &person, "7654321"] {
        assert!(
            !trail.contains(secret),
            "the trail export contains {secret}"
        );
    }
    let response = app
        .with_token(
            Method::GET,
            "/v1/exports/audit?format=ndjson&from=2000-01-01T00:00:00Z",
            &auditor,
        )
        .send()
        .await
        .unwrap();
    let first: Value =
        serde_json::from_str(response.text().await.unwrap().lines().next().unwrap()).unwrap();
    assert!(first["seq"].is_i64() && first.get("query").is_none());

    // Supervisors do not export.
    let response = app
        .with_token(Method::GET, "/v1/exports/pathways", &staff.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 403).await;
}
