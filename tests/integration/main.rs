//! One integration-test binary (one link instead of many on small machines).

mod common;

mod backends;
mod binary;
mod browser;
mod catalog;
mod cli;
mod config;
mod conformance_openapi;
mod cors;
mod crash;
mod doc_examples;
mod errors;
mod feeds;
mod formats;
mod hostile;
mod languages;
mod metrics;
mod openapi;
mod pagination;
mod properties;
mod protection;
mod provenance;
mod registries;
mod releases;
mod replica;
mod resilience;
mod resources;
mod shutdown;
mod tools;
mod web;
mod writes;
