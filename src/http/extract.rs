//! Request extractors whose failures say what to fix.
//!
//! [`Json`] replaces `actix_web::web::Json`: it checks the media type (415),
//! enforces the body limit (413) and reports a wrong field by its JSON path
//! (400 with `errors[].field`). The actix configurations below route the
//! remaining built-in extractors (path, form) through [`ApiError`]; [`Query`]
//! replaces `actix_web::web::Query` and names a wrong parameter.

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, UrlencodedError};
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::domain::values::{REFUSED_CHARACTERS, is_allowed_char};
use crate::http::error::{ApiError, FieldError};

/// The largest accepted body, shared by every body extractor.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body, deserialized into `T`.
#[derive(Debug)]
pub struct Json<T>(pub T);

/// A body sent as JSON or as an HTML/OAuth2 form (`application/x-www-form-urlencoded`).
#[derive(Debug)]
pub struct FormOrJson<T>(pub T);

#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Json,
    Form,
}

fn body_kind(req: &HttpRequest) -> Option<BodyKind> {
    // Bodies are UTF-8 (RFC 8259); a body declared in another charset is
    // refused rather than misread.
    let utf8 = |mime: &mime::Mime| {
        mime.get_param(mime::CHARSET)
            .is_none_or(|charset| charset == mime::UTF_8)
    };
    match req.mime_type() {
        Ok(Some(mime)) if !utf8(&mime) => None,
        Ok(Some(mime))
            if mime.type_() == mime::APPLICATION
                && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON)) =>
        {
            Some(BodyKind::Json)
        }
        Ok(Some(mime))
            if mime.type_() == mime::APPLICATION && mime.subtype() == mime::WWW_FORM_URLENCODED =>
        {
            Some(BodyKind::Form)
        }
        _ => None,
    }
}

/// Reads the whole body, refusing it past the configured limit (413).
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<web::Bytes, ApiError>> {
    let limit = req
        .app_data::<BodyLimit>()
        .copied()
        .unwrap_or(BodyLimit(262_144))
        .0;
    let declared_length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    Box::pin(async move {
        if declared_length.is_some_and(|length| length > limit) {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::bad_request(format!("The request body could not be read: {e}."))
            })?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    })
}

/// How a body of this media type is parsed, or 415 (answered before the
/// body is read).
type Parser<T> = Result<fn(&[u8]) -> Result<T, ApiError>, ApiError>;

/// Reads the body and parses it with `parser`.
fn parse_body<T: 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    parser: Parser<T>,
) -> LocalBoxFuture<'static, Result<T, ApiError>> {
    let body = read_body(req, payload);
    Box::pin(async move {
        let parse = parser?;
        parse(&body.await?)
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parser: Parser<Self> = match body_kind(req) {
            Some(BodyKind::Json) => Ok(|body| parse_json(body).map(Json)),
            _ => Err(ApiError::UnsupportedMediaType {
                expected: "application/json",
            }),
        };
        parse_body(req, payload, parser)
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for FormOrJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parser: Parser<Self> = match body_kind(req) {
            Some(BodyKind::Json) => Ok(|body| parse_json(body).map(FormOrJson)),
            Some(BodyKind::Form) => Ok(|body| parse_form(body).map(FormOrJson)),
            None => Err(ApiError::UnsupportedMediaType {
                expected: "application/json or application/x-www-form-urlencoded",
            }),
        };
        parse_body(req, payload, parser)
    }
}

/// The query string, deserialized into `T`; replaces `actix_web::web::Query`
/// so that a wrong parameter is named (`errors[].field`), as in a body.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = req.query_string().as_bytes();
        std::future::ready(parse_urlencoded(query, "query").map(Query))
    }
}

/// Deserializes a form body, naming the offending field on failure. (A
/// query string's encoding is checked once, for every request, by
/// `middleware/input.rs`; a body's only here.)
pub fn parse_form<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    check_urlencoded(body, None)?;
    parse_urlencoded(body, "body")
}

/// Deserializes `name=value&…` pairs; `whole` names them all when the
/// fault is not one field's.
fn parse_urlencoded<T: DeserializeOwned>(raw: &[u8], whole: &str) -> Result<T, ApiError> {
    let deserializer = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(raw));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." { whole.to_owned() } else { path };
        invalid_field(field, describe(&error.into_inner().to_string()))
    })
}

/// Deserializes a JSON document, naming the offending field on failure.
/// Every string of it (keys included) is first checked for characters no
/// text may hold ([`is_allowed_char`]): they never reach a handler, nor
/// PostgreSQL.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "The request body is not valid JSON: {}.",
            without_echo(&e.to_string())
        ))
    })?;
    if let Some(field) = refused_text(&value, String::new()) {
        let field = if field.is_empty() {
            "body".to_owned()
        } else {
            field
        };
        return Err(invalid_field(
            field,
            format!("must not contain {REFUSED_CHARACTERS}"),
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        invalid_field(field_of(&path, &message), describe(&message))
    })
}

/// The field a deserialization error is about: its path, or, for a member
/// missing from an object, that member under it (serde names it only in its
/// message); the whole body when there is neither.
fn field_of(path: &str, message: &str) -> String {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    match (path, missing) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => "body".to_owned(),
        (path, Some(name)) => format!("{path}.{name}"),
        (path, None) => path.to_owned(),
    }
}

fn invalid_field(field: String, message: String) -> ApiError {
    ApiError::invalid(
        format!("The field `{field}` is not valid: {message}."),
        vec![FieldError::new(field, message)],
    )
}

/// The path of the first string (or key) holding a refused character.
fn refused_text(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    let clean = |text: &str| text.chars().all(is_allowed_char);
    match value {
        Value::String(text) => (!clean(text)).then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| refused_text(item, format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let here = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if clean(key) {
                refused_text(item, here)
            } else {
                Some(path.clone())
            }
        }),
        _ => None,
    }
}

/// Checks a query string or form body: every name and value must be
/// percent-encoded UTF-8 of allowed characters (400 naming it otherwise;
/// decoding would silently replace invalid bytes).
pub fn check_urlencoded(raw: &[u8], place: Option<&str>) -> Result<(), ApiError> {
    for pair in raw.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let mut halves = pair.splitn(2, |b| *b == b'=');
        let name = decoded(halves.next().unwrap_or_default());
        let value = decoded(halves.next().unwrap_or_default());
        let field = match &name {
            Some(name) if name.chars().all(is_allowed_char) => name.clone(),
            _ => place.unwrap_or("body").to_owned(),
        };
        let fine = |text: &Option<String>| {
            text.as_deref()
                .is_some_and(|t| t.chars().all(is_allowed_char))
        };
        if !fine(&name) || !fine(&value) {
            return Err(invalid_field(
                field,
                format!("must be percent-encoded UTF-8 text without {REFUSED_CHARACTERS}"),
            ));
        }
    }
    Ok(())
}

fn decoded(raw: &[u8]) -> Option<String> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}

/// What was wrong with a value, in words that never quote it: serde says
/// `invalid type: integer `185057800608436`, expected a string`, and the
/// value may be personal data (error bodies are logged, and stored for
/// idempotent replays).
fn describe(message: &str) -> String {
    let message = without_position(message);
    for prefix in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return match rest.split_once(", expected ") {
                Some((_, expected)) => format!("expected {expected}"),
                None => "is not of the expected kind".to_owned(),
            };
        }
    }
    without_echo(&message)
}

/// serde_json appends " at line L column C"; a field path says more.
fn without_position(message: &str) -> String {
    match message.rsplit_once(" at line ") {
        Some((before, _)) => before.to_owned(),
        None => message.to_owned(),
    }
}

/// serde quotes the rejected value (`unknown variant `Martin`, expected …`).
/// It may be personal data, and error bodies are logged by clients and proxies:
/// keep the kind of value, drop the value.
fn without_echo(message: &str) -> String {
    for (kind, closing, label) in [
        ("string \"", '"', "a string"),
        ("unknown variant `", '`', "an unknown variant"),
        ("unknown field `", '`', "an unknown field"),
    ] {
        if let Some((before, after)) = message.split_once(kind)
            && let Some((_, rest)) = after.split_once(closing)
        {
            return format!("{before}{label}{rest}");
        }
    }
    message.to_owned()
}

/// Routes actix's own extractor failures through [`ApiError`].
pub fn configure(cfg: &mut web::ServiceConfig, limit: usize) {
    cfg.app_data(BodyLimit(limit))
        .app_data(web::PayloadConfig::new(limit))
        .app_data(
            web::JsonConfig::default()
                .limit(limit)
                .error_handler(move |error, _| json_error(error, limit).into()),
        )
        .app_data(
            web::FormConfig::default()
                .limit(limit)
                .error_handler(move |error, _| form_error(error, limit).into()),
        )
        .app_data(web::PathConfig::default().error_handler(|error, _| {
            ApiError::invalid(
                "A path segment is not valid.",
                vec![FieldError::new("path", describe(&error.to_string()))],
            )
            .into()
        }));
}

fn json_error(error: JsonPayloadError, limit: usize) -> ApiError {
    match error {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::PayloadTooLarge { limit }
        }
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType {
            expected: "application/json",
        },
        other => ApiError::bad_request(format!(
            "The request body is not valid JSON: {}.",
            without_echo(&other.to_string())
        )),
    }
}

fn form_error(error: UrlencodedError, limit: usize) -> ApiError {
    match error {
        UrlencodedError::Overflow { .. } => ApiError::PayloadTooLarge { limit },
        UrlencodedError::ContentType => ApiError::UnsupportedMediaType {
            expected: "application/x-www-form-urlencoded",
        },
        other => ApiError::bad_request(format!(
            "The form body is not valid: {}.",
            without_echo(&other.to_string())
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Person {
        name: String,
        age: u32,
    }

    fn field_errors(error: ApiError) -> Vec<FieldError> {
        match error {
            ApiError::BadRequest { errors, .. } => errors,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn names_the_wrong_field_without_echoing_its_value() {
        let error = parse_json::<Person>(br#"{"name": "Martin", "age": "Dupont"}"#).unwrap_err();
        let errors = field_errors(error);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "age");
        assert_eq!(errors[0].message, "expected u32");
        // Nor a number where text is expected (a NIR, say).
        let error = parse_json::<Person>(br#"{"name": 185057800608436, "age": 3}"#).unwrap_err();
        let errors = field_errors(error);
        assert_eq!(errors[0].field, "name");
        assert_eq!(errors[0].message, "expected a string");
    }

    #[test]
    fn refused_characters_are_named_by_their_field() {
        let error = parse_json::<Person>(br#"{"name": "a\u0000b", "age": 3}"#).unwrap_err();
        assert_eq!(field_errors(error)[0].field, "name");
        let error = parse_form::<Person>(b"name=%E2%80%AEx&age=3").unwrap_err();
        assert_eq!(field_errors(error)[0].field, "name");
    }

    #[test]
    fn a_missing_field_is_named() {
        let errors = field_errors(parse_json::<Person>(br#"{"name": "x"}"#).unwrap_err());
        assert_eq!(errors[0].field, "age");
        assert!(errors[0].message.contains("missing field `age`"));
        assert_eq!(field_of("consent", "missing field `by`"), "consent.by");
        assert_eq!(field_of(".", "invalid type: string"), "body");
    }

    #[test]
    fn broken_json_is_a_syntax_error() {
        let error = parse_json::<Person>(br#"{"broken"#).unwrap_err();
        assert!(matches!(error, ApiError::BadRequest { ref errors, .. } if errors.is_empty()));
        assert!(error.to_string().contains("not valid JSON"));
    }

    #[test]
    fn trailing_garbage_is_refused() {
        assert!(parse_json::<Person>(br#"{"name":"a","age":1} x"#).is_err());
    }
}
