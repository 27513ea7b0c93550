//! What wraps every request: its id and problem rendering, metrics, security
//! headers, CORS, and replays for `Idempotency-Key`. `crate::server::app` puts them in order.

pub mod idempotency;
pub mod input;
pub mod metrics;
pub mod request_context;
pub mod security;
