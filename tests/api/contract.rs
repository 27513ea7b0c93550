//! The committed OpenAPI document is the one the code generates.

use std::path::Path;

use crate::support::TestApp;

const COMMITTED: &str = "openapi/openapi.json";

#[test]
fn committed_openapi_matches_the_code() {
    let committed = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(COMMITTED))
        .unwrap_or_default();
    let generated = parcours::http::openapi_json().unwrap();
    assert!(
        committed == generated,
        "{COMMITTED} differs from what the code generates. If the change of contract is \
         intended, regenerate it with `cargo run -- openapi > {COMMITTED}` and review the diff."
    );
}

#[test]
fn every_operation_documents_its_errors_as_problems() {
    let doc = serde_json::to_value(parcours::http::openapi()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            for (status, response) in responses {
                // A reusable response (`#/components/responses/X`) is checked where it is defined.
                let response = match response["$ref"].as_str() {
                    Some(reference) => {
                        let name = reference.trim_start_matches("#/components/responses/");
                        &doc["components"]["responses"][name]
                    }
                    None => response,
                };
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/problem+json"]["schema"];
                    assert_eq!(
                        schema["$ref"], "#/components/schemas/ProblemDetails",
                        "{method} {path} {status} must use ProblemDetails"
                    );
                }
            }
            assert!(
                responses.contains_key("500"),
                "{method} {path} documents 500"
            );
        }
    }
}

#[tokio::test]
async fn served_document_is_the_committed_one() {
    let app = TestApp::spawn().await;
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), 200);
    let served: serde_json::Value = response.json().await.unwrap();
    let generated = serde_json::to_value(parcours::http::openapi()).unwrap();
    assert_eq!(served, generated);
    for path in [
        "/health",
        "/ready",
        "/metrics",
        "/openapi.json",
        "/docs",
        "/docs/{file}",
    ] {
        assert!(served["paths"].get(path).is_some(), "{path} is documented");
    }
}
