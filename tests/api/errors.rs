//! Every failure is an RFC 9457 problem naming the request, actix's own included.
//!
//! No resource of the API accepts a body yet, so the body tests mount small
//! routes inside the real application (all its middleware and extractor
//! configuration) through `Application::build`'s extra routes.

use actix_web::{HttpResponse, web};
use parcours::http::error::ApiError;
use parcours::http::extract::{Json, Query};
use serde::Deserialize;
use serde_json::Value;

use crate::support::{TestApp, assert_problem};

#[derive(Deserialize)]
#[allow(dead_code)]
struct Referral {
    family_name: String,
    birth_year: u16,
    commune: Commune,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Commune {
    insee: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Page {
    limit: u32,
}

fn test_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/test/referrals",
        web::post().to(|_: Json<Referral>| async { HttpResponse::Created().finish() }),
    )
    .route(
        "/test/items/{number}",
        web::get().to(|n: web::Path<u32>| async move { HttpResponse::Ok().body(n.to_string()) }),
    )
    .route(
        "/test/items",
        web::get().to(|_: Query<Page>| async { HttpResponse::Ok().finish() }),
    )
    .route(
        "/test/boom",
        web::get().to(|| async {
            Err::<HttpResponse, _>(ApiError::internal(anyhow::anyhow!(
                "connection to 10.0.0.7 refused; NIR 185057800608436"
            )))
        }),
    );
}

async fn app() -> TestApp {
    TestApp::spawn_with(|s| s.max_body_bytes = 1024, Some(test_routes)).await
}

async fn post_json(app: &TestApp, body: &'static str) -> reqwest::Response {
    app.client
        .post(app.url("/test/referrals"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_valid_body_passes() {
    let app = app().await;
    let response = post_json(
        &app,
        r#"{"family_name": "Martin", "birth_year": 1958, "commune": {"insee": "05061"}}"#,
    )
    .await;
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn unknown_route_is_404() {
    let app = app().await;
    let body = assert_problem(app.get("/no-such-route").await, 404).await;
    assert_eq!(body["type"], "urn:parcours:problem:not-found");
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let app = app().await;
    let response = app.client.delete(app.url("/health")).send().await.unwrap();
    assert_eq!(response.headers()["allow"], "GET");
    let body = assert_problem(response, 405).await;
    assert!(body["detail"].as_str().unwrap().contains("GET"), "{body}");

    // A path answering several methods lists them all.
    let path = format!("/v1/territories/{}", uuid::Uuid::now_v7());
    let response = app.client.delete(app.url(&path)).send().await.unwrap();
    assert_eq!(response.headers()["allow"], "GET, PATCH");
    assert_problem(response, 405).await;
}

#[tokio::test]
async fn broken_json_is_400() {
    let app = app().await;
    let body = assert_problem(post_json(&app, r#"{"broken"#).await, 400).await;
    assert!(
        body["detail"].as_str().unwrap().contains("not valid JSON"),
        "{body}"
    );
}

#[tokio::test]
async fn wrong_field_type_names_the_field_without_echoing_it() {
    let app = app().await;
    let response = post_json(
        &app,
        r#"{"family_name": "Martin", "birth_year": 1958, "commune": {"insee": 5061}}"#,
    )
    .await;
    let body = assert_problem(response, 400).await;
    assert_eq!(body["errors"][0]["field"], "commune.insee", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expected a string")
    );

    let response = post_json(
        &app,
        r#"{"family_name": "Martin", "birth_year": "Dupont", "commune": {"insee": "05061"}}"#,
    )
    .await;
    let body = assert_problem(response, 400).await;
    assert_eq!(body["errors"][0]["field"], "birth_year");
    assert!(
        !body.to_string().contains("Dupont"),
        "the value is not echoed: {body}"
    );
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = app().await;
    let response = app
        .client
        .post(app.url("/test/referrals"))
        .header("content-type", "text/plain")
        .body(r#"{"family_name": "Martin"}"#)
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, 415).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );

    let missing = app
        .client
        .post(app.url("/test/referrals"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(missing, 415).await;
}

#[tokio::test]
async fn oversized_body_is_413_whether_announced_or_streamed() {
    let app = app().await;
    let big = format!(r#"{{"family_name": "{}"}}"#, "x".repeat(2048));
    let announced = app
        .client
        .post(app.url("/test/referrals"))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    let body = assert_problem(announced, 413).await;
    assert!(
        body["detail"].as_str().unwrap().contains("1024 bytes"),
        "{body}"
    );

    // Chunked: no Content-Length to refuse up front; the limit applies while reading.
    let chunks: Vec<Result<String, std::io::Error>> =
        vec![Ok(big[..1000].to_owned()), Ok(big[1000..].to_owned())];
    let streamed = app
        .client
        .post(app.url("/test/referrals"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_problem(streamed, 413).await;
}

#[tokio::test]
async fn bad_path_and_query_parameters_are_400() {
    let app = app().await;
    assert_eq!(app.get("/test/items/12").await.status(), 200);
    let body = assert_problem(app.get("/test/items/twelve").await, 400).await;
    assert_eq!(body["errors"][0]["field"], "path", "{body}");

    assert_eq!(app.get("/test/items?limit=5").await.status(), 200);
    let body = assert_problem(app.get("/test/items?limit=lots").await, 400).await;
    assert_eq!(body["errors"][0]["field"], "limit", "{body}");
    let body = assert_problem(app.get("/test/items").await, 400).await;
    assert_eq!(body["errors"][0]["field"], "query", "{body}");
    assert!(body["detail"].as_str().unwrap().contains("limit"), "{body}");
}

#[tokio::test]
async fn internal_errors_keep_their_cause_out_of_the_body() {
    let app = app().await;
    let body = assert_problem(app.get("/test/boom").await, 500).await;
    let text = body.to_string();
    assert!(
        !text.contains("10.0.0.7") && !text.contains("185057800608436"),
        "{text}"
    );
    assert_eq!(body["type"], "urn:parcours:problem:internal");
}

/// Sends `raw` as it is on a new connection; the whole answer, head and body.
async fn raw_exchange(app: &TestApp, raw: &[u8]) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    // The parser may answer before the request is all sent.
    let _ = stream.write_all(raw).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// What the HTTP parser refuses before any route sees it is a problem too,
/// with a request id, and never echoes what was sent.
#[tokio::test]
async fn the_http_parsers_refusals_are_problems() {
    let app = TestApp::spawn().await;
    let long_query = [
        b"GET /v1/pathways?".to_vec(),
        vec![b'a'; 70_000],
        b" HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
    ]
    .concat();
    let many_parameters = [
        b"GET /v1/pathways?".to_vec(),
        (0..10_000)
            .map(|i| format!("p{i}=1"))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes(),
        b" HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
    ]
    .concat();
    let nul_in_if_match =
        b"PATCH /v1/persons/00000000-0000-0000-0000-000000000000 HTTP/1.1\r\nHost: x\r\n\
          If-Match: \"v\x001\"\r\ncontent-length: 0\r\n\r\n"
            .to_vec();
    let many_headers = [
        b"GET /v1/pathways HTTP/1.1\r\nHost: x\r\n".to_vec(),
        (0..120)
            .map(|i| format!("X-H{i}: 1\r\n"))
            .collect::<String>()
            .into_bytes(),
        b"\r\n".to_vec(),
    ]
    .concat();
    for (raw, status, kind) in [
        (long_query, 414, "uri-too-long"),
        (many_parameters, 414, "uri-too-long"),
        (nul_in_if_match, 400, "validation"),
        (many_headers, 431, "headers-too-large"),
    ] {
        let (answered, head, body) = raw_exchange(&app, &raw).await;
        assert_eq!(answered, status, "{head}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{head}"
        );
        let id = head
            .lines()
            .find_map(|l| l.strip_prefix("x-request-id: "))
            .unwrap_or_else(|| panic!("no request id: {head}"))
            .to_owned();
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["status"], status);
        assert_eq!(problem["type"], format!("urn:parcours:problem:{kind}"));
        assert_eq!(problem["instance"], format!("urn:request:{id}"));
        assert!(!body.contains("aaaa") && !body.contains("p9999"), "{body}");
    }
    // And the application answers as before on the next connection.
    assert_eq!(app.get("/health").await.status(), 200);
    // The document says so.
    let doc = serde_json::to_value(parcours::http::openapi()).unwrap();
    let description = doc["info"]["description"].as_str().unwrap();
    assert!(description.contains("414 `uri-too-long`"), "{description}");
}
