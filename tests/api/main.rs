//! Integration tests: each starts the real application on port 0 against its
//! own fresh database and talks HTTP to it. One binary keeps link time down.

// A failed step should panic: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod access;
mod accounts;
mod audit;
mod auth;
mod contract;
mod cors;
mod database_outage;
mod demo;
mod domains;
mod duties;
mod errors;
mod exports;
mod feed;
mod idempotency;
mod indicators;
mod jwt_attacks;
mod key_rotation;
mod lifecycle;
mod migrations;
mod notes;
mod ops;
mod partners;
mod pathways;
mod persons;
mod plans;
mod privileges;
mod process;
mod referrals;
mod retention;
mod webhooks;
