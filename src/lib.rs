//! parcours: case management for the « Réponse accompagnée pour tous » approach.
//!
//! The modules are layers; each imports only the ones above it in this list
//! (`tests/api/layers.rs` fails on an import that goes the other way):
//!
//! 1. `config`, `keyfile`, `telemetry`: settings, key files, logging;
//! 2. `domain`: pure types and rules (state machines, rollout, NIR, value
//!    types, the policy's vocabulary, domain refusals); no SQL, no HTTP;
//! 3. `privacy`: encryption and blind index of personal identifiers;
//! 4. `db`: the pool, the schema, one module per aggregate, scope predicates;
//! 5. `auth`: keys, tokens, passwords, live account standings, the policy;
//! 6. `audit`: the audit trail's records, chain, keys and verification;
//! 7. `services`: use cases shared by HTTP and the command line;
//! 8. `jobs`: what runs beside the requests (webhook sender, audit sealer),
//!    on a pool and keys, never on HTTP types;
//! 9. `http`: resources, extractors, middleware, problem+json, the routes;
//! 10. `server`: building and running the application, the private cluster;
//! 11. `demo`: `parcours seed-demo`;
//! 12. `cli`: the other commands.

pub mod config;
pub mod keyfile;
pub mod telemetry;

#[macro_use]
pub mod domain;

pub mod privacy;

pub mod db;

pub mod auth;

pub mod audit;

pub mod services;

pub mod jobs;

pub mod http;

pub mod server;

pub mod demo;

pub mod cli;
