//! parcours: case management for the « Réponse accompagnée pour tous » approach.
//!
//! - `api`: HTTP resources and the OpenAPI document;
//! - `db`: connection pool, migrations, private PostgreSQL cluster;
//! - `middleware`: request id and problem rendering, metrics, security headers;
//! - `domain`: pure rules (state machines, rollout, NIR, validation);
//! - `privacy`: encryption and blind index of personal identifiers;
//! - `demo`: `parcours seed-demo`, plausible fictitious case files;
//! - `error`: the one error type and its RFC 9457 rendering;
//! - `config`, `startup`, `telemetry`: settings, wiring, logging.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod auth;
pub mod background;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod keyfile;
pub mod middleware;
pub mod privacy;
pub mod retention;
pub mod startup;
pub mod telemetry;
pub mod webhooks;
