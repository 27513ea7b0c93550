//! What runs beside the HTTP server in each instance: the webhook sender and
//! the audit sealer. Jobs take a pool and keys, never HTTP types.

pub mod periodic;
pub mod seal;
pub mod webhooks;
