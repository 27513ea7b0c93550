//! Use cases shared by the HTTP resources and the command line: each owns
//! its transaction, its audit record and its outcome.

pub mod accounts;
pub mod change;
pub mod partner_events;
pub mod pathways;
pub mod retention;
pub mod webhooks;
