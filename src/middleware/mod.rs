//! What wraps every request: its id and problem rendering, metrics, security
//! headers and CORS. `crate::startup::app` puts them in order.

pub mod metrics;
pub mod request_context;
pub mod security;
