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

/// An operation that needs `If-Match` says so: every handler that takes
/// the `IfMatch` extractor lists `params(IfMatch)` in its `utoipa::path`
/// (the document then adds its 412 and 428), and no other one does.
#[test]
fn every_handler_that_takes_if_match_documents_it() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut wrong = Vec::new();
    let mut takers = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        // Each operation: its `#[utoipa::path(…)]` up to the end of its signature.
        for operation in source.split("#[utoipa::path(").skip(1) {
            let signature_end = operation.find(") ->").unwrap_or(operation.len());
            let (attribute, signature) = match operation.find("pub async fn ") {
                Some(at) if at < signature_end => operation.split_at(at),
                _ => continue,
            };
            let signature = &signature[..signature.find(") ->").unwrap_or(signature.len())];
            let takes = signature.contains(": IfMatch");
            let documents = attribute.contains("IfMatch");
            takers += usize::from(takes);
            if takes != documents {
                let name = signature.trim_start_matches("pub async fn ");
                let name = &name[..name.find('(').unwrap_or(0)];
                wrong.push(format!("{}: {name}", path.display()));
            }
        }
    }
    assert!(takers >= 13, "the IfMatch handlers are found ({takers})");
    assert!(
        wrong.is_empty(),
        "IfMatch taken without params(IfMatch), or the reverse: {wrong:?}"
    );
}

/// Two types documented under one name would share one component, the
/// last registered silently replacing the other's schema (a commune's
/// territory `{id, code}` was once documented as `{id, name}`): every type
/// deriving `ToSchema` under `src/` has a name of its own.
#[test]
fn every_documented_type_has_a_name_of_its_own() {
    fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut seen: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for path in files {
        let source = std::fs::read_to_string(&path).unwrap();
        let mut deriving = false;
        for line in source.lines().map(str::trim) {
            if line.starts_with("#[derive(") && line.contains("ToSchema") {
                deriving = true;
                continue;
            }
            if !deriving || line.starts_with("#[") || line.starts_with("///") {
                continue;
            }
            deriving = false;
            let Some(rest) = ["pub struct ", "pub enum ", "struct ", "enum "]
                .iter()
                .find_map(|item| line.strip_prefix(item))
            else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            seen.entry(name)
                .or_default()
                .push(path.display().to_string());
        }
    }
    assert!(
        seen.len() > 100,
        "the documented types are found ({})",
        seen.len()
    );
    let shared: Vec<_> = seen.iter().filter(|(_, files)| files.len() > 1).collect();
    assert!(shared.is_empty(), "one name, several types: {shared:?}");
}

/// Every `$ref` of the document names a component it defines: a client
/// generator resolves them all.
#[test]
fn every_reference_of_the_document_resolves() {
    fn refs(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("$ref", serde_json::Value::String(target)) => found.push(target.clone()),
                        _ => refs(value, found),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let doc = serde_json::to_value(parcours::http::openapi()).unwrap();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    let dangling: Vec<&String> = found
        .iter()
        .filter(|target| {
            let pointer = target.trim_start_matches('#');
            doc.pointer(pointer).is_none()
        })
        .collect();
    assert!(dangling.is_empty(), "references to nothing: {dangling:?}");
}

/// The state machines are written in the document, not pointed to: each
/// transitions operation lists every status and where it may go.
#[test]
fn the_state_machines_are_in_the_document() {
    let doc = serde_json::to_value(parcours::http::openapi()).unwrap();
    let pathway = doc["paths"]["/v1/pathways/{id}/transitions"]["post"]["description"]
        .as_str()
        .unwrap();
    for status in parcours::domain::PathwayStatus::VALUES {
        let next: Vec<String> = parcours::domain::pathway::allowed_next(*status)
            .iter()
            .map(|s| format!("`{}`", s.as_str()))
            .collect();
        let row = format!("| `{}` | ", status.as_str());
        let line = pathway
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("no row for {status:?}: {pathway}"));
        for to in next {
            assert!(line.contains(&to), "{line} lacks {to}");
        }
    }
    let plan = doc["paths"]["/v1/plans/{id}/transitions"]["post"]["description"]
        .as_str()
        .unwrap();
    for status in parcours::domain::PlanStatus::VALUES {
        assert!(
            plan.contains(&format!("| `{}` | ", status.as_str())),
            "{plan}"
        );
    }
    assert!(!pathway.contains("DESIGN.md"), "written, not pointed to");
}

/// Every value of every enumeration the document defines says what it
/// means (a closed set's doc comments, listed in its description).
#[test]
fn every_enumerated_value_says_what_it_means() {
    let doc = serde_json::to_value(parcours::http::openapi()).unwrap();
    let mut silent = Vec::new();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        let Some(values) = schema["enum"].as_array() else {
            continue;
        };
        let description = schema["description"].as_str().unwrap_or_default();
        for value in values {
            let value = value.as_str().unwrap();
            let line = format!("- `{value}`:");
            let meaning = description
                .lines()
                .find_map(|l| l.strip_prefix(line.as_str()))
                .map(str::trim)
                .unwrap_or_default();
            if meaning.is_empty() {
                silent.push(format!("{name}.{value}"));
            }
        }
    }
    assert!(silent.is_empty(), "values without a meaning: {silent:?}");
}

/// The check every test ends with (`TestApp`'s `Drop`) sees an answer the
/// document does not list, and leaves aside routes outside the document.
#[test]
fn the_end_of_test_check_finds_an_undocumented_answer() {
    let answer = |route: &str, method: &str, status: &str| {
        (route.to_owned(), method.to_owned(), status.to_owned())
    };
    let answered = [
        answer("/v1/persons", "GET", "200"),
        answer("/v1/persons", "GET", "418"),
        answer("/v1/persons/{id}", "DELETE", "405"),
        answer("<unmatched>", "GET", "404"),
    ];
    assert_eq!(
        crate::support::undocumented(&answered),
        vec!["GET /v1/persons answered 418".to_owned()]
    );
}
