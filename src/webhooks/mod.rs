//! Webhooks: partners register an endpoint and receive the events of the
//! pathways they follow, signed per Standard Webhooks.
//!
//! The outbox is written by a database trigger in the transaction of each
//! event (migration `000006_webhooks`), so nothing acknowledged is lost and
//! no request waits for a partner's server. [`worker`] sends what is due,
//! from every API instance at once without sending an attempt twice.

pub mod endpoint;
pub mod signature;
pub mod worker;
