//! Use cases shared by the HTTP resources and the command line: each owns
//! its transaction, its audit record and its outcome.

pub mod account_changes;
pub mod accounts;
pub mod change;
pub mod commitments;
pub mod escalations;
pub mod facility_follow_ups;
pub mod meetings;
pub mod partner_events;
pub mod pathway_records;
pub mod pathways;
pub mod persons;
pub mod plans;
pub mod reference_data;
pub mod referrals;
pub mod retention;
pub mod sessions;
pub mod webhooks;
