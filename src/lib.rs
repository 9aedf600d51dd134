//! opengov-api: the open-data service of an OGP Local action plan.
//!
//! Layers, from the outside in: `api` (HTTP, negotiation, OpenAPI) → `models` (data model and
//! queries, no HTTP) → `db` (the only module that knows SQLite from PostgreSQL).

pub mod api;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod formats;
pub mod logging;
pub mod models;
pub mod web;
