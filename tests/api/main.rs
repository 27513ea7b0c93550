//! Integration tests: each starts the real application on port 0 against its
//! own fresh database and talks HTTP to it. One binary keeps link time down.
// A panic in a test is a failing assertion: tests index JSON and slices freely
// (the lints that forbid it hold for src/, where a panic would fail a request).
#![allow(clippy::indexing_slicing, clippy::string_slice)]
// A failed step should panic: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod access;
mod accounts;
mod across_domains;
mod audit;
mod audit_months;
mod auth;
mod caseload_transfers;
mod communes;
mod contract;
mod cors;
mod database_outage;
mod deadlines;
mod demo;
mod docs;
mod domains;
mod duties;
mod errors;
mod escalations;
mod exports;
mod feed;
mod idempotency;
mod indicators;
mod inputs;
mod jwt_attacks;
mod key_rotation;
mod layers;
mod lifecycle;
mod meetings;
mod migrations;
mod notes;
mod ops;
mod orientations;
mod partners;
mod pathways;
mod personal_data;
mod persons;
mod plans;
mod privileges;
mod process;
mod referrals;
mod retention;
mod timeouts;
mod webhooks;
