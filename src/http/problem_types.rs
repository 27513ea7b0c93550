//! The catalogue of problem types: every `type` an error body can carry
//! (`urn:parcours:problem:<slug>`), with its status, what it means and what
//! a client should do — retry (when), or not. `ApiError::kind` names one
//! for every error (the match is exhaustive), and the OpenAPI document
//! lists them all under `ProblemDetails.type`.

/// One kind of problem a client may branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemType {
    pub slug: &'static str,
    /// The status(es) it is answered with.
    pub status: &'static str,
    /// The body's `title`: the same for every occurrence.
    pub title: &'static str,
    /// What it means and what to do.
    pub advice: &'static str,
    /// Whether sending the same request again can succeed, and when.
    pub retry: Retry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Sending the same request again fails the same way: change it.
    No,
    /// The same request may succeed after `Retry-After` seconds.
    AfterRetryAfter,
    /// After the caller did something first (log in, read again…).
    AfterFixing,
}

impl ProblemType {
    /// The `type` URI an error body carries.
    pub fn uri(&self) -> String {
        format!("{TYPE_BASE}{}", self.slug)
    }
}

impl Retry {
    fn as_str(self) -> &'static str {
        match self {
            Retry::No => "no",
            Retry::AfterRetryAfter => "yes, after `Retry-After`",
            Retry::AfterFixing => "after the step in the advice",
        }
    }
}

/// The `type` URI of a problem.
pub const TYPE_BASE: &str = "urn:parcours:problem:";

macro_rules! catalogue {
    ($($name:ident = $slug:literal, $status:literal, $retry:ident, $title:literal, $advice:literal;)+) => {
        $(pub const $name: ProblemType = ProblemType {
            slug: $slug,
            status: $status,
            title: $title,
            advice: $advice,
            retry: Retry::$retry,
        };)+
        /// Every problem type, in the order the document lists them.
        pub const ALL: &[ProblemType] = &[$($name),+];
    };
}

catalogue! {
    VALIDATION = "validation", "400", No, "The request is not valid",
        "Malformed input: a path segment, a query parameter, a header or the body. `errors` names each field and what is expected.";
    UNAUTHORIZED = "unauthorized", "401", AfterFixing, "Authentication required",
        "No token, or a token that was refused (expired, tampered, revoked, deactivated account). Get a new one from `POST /v1/auth/token`, then retry.";
    TOKEN_REFUSED = "token-refused", "400, 401", No, "Token request refused",
        "`POST /v1/auth/*` refused the grant; `error` holds the OAuth 2.0 code (`invalid_grant`, `invalid_client`, `unsupported_grant_type`…).";
    FORBIDDEN = "forbidden", "403", No, "Forbidden",
        "Your role may not do this at all, whatever the record. Do not retry.";
    PASSWORD_CHANGE_REQUIRED = "password-change-required", "403", AfterFixing, "Set a new password first",
        "This login holds a one-time password: set your own with `POST /v1/me/password`, log in again, then retry.";
    NOT_FOUND = "not-found", "404", No, "Not found",
        "No such record, or one outside your scope (the two are not told apart).";
    METHOD_NOT_ALLOWED = "method-not-allowed", "405", No, "Method not allowed",
        "The path exists but does not answer this method; `Allow` lists those it does.";
    CONFLICT = "conflict", "409", No, "Conflict",
        "The request conflicts with what exists (a second open pathway in a domain, a duplicate code, e-mail, NIR or webhook URL); `detail` names it. Do not retry as is.";
    IDEMPOTENCY_IN_PROGRESS = "idempotency-in-progress", "409", AfterRetryAfter, "A request with this key is still running",
        "A request with this `Idempotency-Key` has not finished. Send the same request, with the same key, after `Retry-After`.";
    FORBIDDEN_TRANSITION = "forbidden-transition", "409", No, "This status change is not allowed",
        "The state machine forbids this move from the current status; `allowed` lists the moves it allows.";
    COMMITMENTS_NOT_ACCEPTED = "commitments-not-accepted", "409", AfterFixing, "Commitments still wait for their organization",
        "A plan is consented once every commitment still standing (not `cancelled`) has been accepted by its organization; `commitments` lists those proposed and unanswered or refused. Have each organization answer, or cancel those that no longer stand, then retry.";
    POSSIBLE_DUPLICATE = "possible-duplicate", "409", AfterFixing, "This person may already be known",
        "Known persons look like this one (`candidates`). Use one of them, or send the request again with `?confirm_new=true` if none is the same person.";
    STALE_VERSION = "stale-version", "412", AfterFixing, "The resource has changed",
        "The record changed since the ETag you sent in `If-Match`. Read it again, then retry with its new ETag.";
    PAYLOAD_TOO_LARGE = "payload-too-large", "413", No, "Request body too large",
        "The body exceeds the limit given in `detail`.";
    URI_TOO_LONG = "uri-too-long", "414", No, "Request line too long",
        "The request line is longer than 65 534 bytes. Send the criteria in a body where the operation takes one, or fewer query parameters.";
    HEADERS_TOO_LARGE = "headers-too-large", "431", No, "Request headers too large",
        "The request head exceeds 96 headers or 128 KiB. Send fewer or smaller headers.";
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type", "415", No, "Unsupported media type",
        "Send the body in the media type the operation reads (`application/json`, or a form where it says so), with a matching `Content-Type`.";
    UNPROCESSABLE = "unprocessable", "422", No, "The request breaks a rule",
        "Well-formed but refused by a rule (an unknown territory, a date out of range, an `Idempotency-Key` reused for another request); `errors` names each field.";
    DOMAIN_NOT_OPEN = "domain-not-open", "422", No, "The domain is not open yet",
        "The domain accepts pathways from `opens_on` on (the rollout calendar); the date given is earlier.";
    IF_MATCH_REQUIRED = "if-match-required", "428", AfterFixing, "If-Match required",
        "This change needs `If-Match` with the ETag you last read: read the record, then retry with it.";
    TOO_MANY_REQUESTS = "too-many-requests", "429", AfterRetryAfter, "Too many requests",
        "Too many attempts from this address or on this account. Wait `Retry-After` seconds.";
    INTERNAL = "internal", "500", AfterRetryAfter, "Internal error",
        "Unexpected; logged under the request id. Quote `instance` when reporting it; a retry may succeed.";
    UNAVAILABLE = "unavailable", "503", AfterRetryAfter, "Service temporarily unavailable",
        "The database is unreachable. Send the same request again after `Retry-After` (with the same `Idempotency-Key`).";
}

/// The catalogue as the document's description of `ProblemDetails.type`.
pub fn described() -> String {
    let mut text = String::from(
        "A URI naming the kind of problem: stable, safe to branch on. One of:\n\n\
         | type | status | retry the same request | meaning, and what to do |\n\
         |---|---|---|---|\n",
    );
    for kind in ALL {
        text.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            kind.uri(),
            kind.status,
            kind.retry.as_str(),
            kind.advice
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_listed_once_and_spelled_as_a_slug() {
        let mut slugs: Vec<&str> = ALL.iter().map(|k| k.slug).collect();
        let count = slugs.len();
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), count, "a slug is listed twice");
        for slug in slugs {
            assert!(
                slug.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{slug}"
            );
        }
    }

    #[test]
    fn waiting_and_giving_up_are_different_types() {
        assert_eq!(IDEMPOTENCY_IN_PROGRESS.retry, Retry::AfterRetryAfter);
        assert_eq!(CONFLICT.retry, Retry::No);
        assert_ne!(IDEMPOTENCY_IN_PROGRESS.slug, CONFLICT.slug);
    }
}
