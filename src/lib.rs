//! opengov-api: the open-data service of an OGP Local action plan.
//!
//! Layers, from the outside in (each names only those below it; see docs/ARCHITECTURE.md):
//! `cli` (commands) → `server` (the actix app: `api` and `web` side by side, the middleware
//! order) → `api` (JSON/CSV under `/api/v1`, the OpenAPI document) and `web` (the HTML pages) →
//! `app` (shared state, the database gate, running model functions) → `middleware` → `http`
//! (negotiation, release headers) → `formats` (wire formats: records in, bytes out) → `models`
//! (data model and queries, no HTTP) → `db` (the only
//! module that knows SQLite from PostgreSQL); `error` (the one HTTP error type) at the bottom.

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod formats;
pub mod http;
pub mod logging;
pub mod middleware;
pub mod models;
pub mod server;
pub mod web;
