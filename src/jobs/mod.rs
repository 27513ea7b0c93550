//! What runs beside the HTTP server in each instance: the webhook sender,
//! the audit sealer and the audit trail's monthly partitions. Jobs take a
//! pool and keys, never HTTP types.

pub mod audit_months;
pub mod periodic;
pub mod seal;
pub mod webhooks;
