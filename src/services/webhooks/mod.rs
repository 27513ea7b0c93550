//! Webhook endpoints and signatures (Standard Webhooks): what the
//! registration checks and what the sender signs.

pub mod endpoint;
pub mod signature;
pub mod subscriptions;
