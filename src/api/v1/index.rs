//! `GET /api/v1`: where everything is.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::params::NoParams;
use crate::models::lang::Lang;

/// The API's entry point.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndexDto {
    pub name: &'static str,
    pub version: &'static str,
    pub description: &'static str,
    /// Collections and documents, by name.
    #[schema(value_type = Object)]
    pub links: BTreeMap<&'static str, &'static str>,
    pub formats: Vec<&'static str>,
    pub languages: Vec<Lang>,
}

/// API index with links to every collection and to the documentation.
#[utoipa::path(
    tag = "index",
    params(NoParams),
    responses((status = 200, description = "Links to every collection", body = IndexDto)),
)]
#[get("")]
pub async fn index(_params: web::Query<NoParams>) -> HttpResponse {
    HttpResponse::Ok().json(IndexDto {
        name: "opengov-api",
        version: env!("CARGO_PKG_VERSION"),
        description: "Open data of an OGP Local action plan: plans, commitments, milestones, institutions and their sources.",
        links: BTreeMap::from([
            ("self", "/api/v1"),
            ("plans", "/api/v1/plans"),
            ("commitments", "/api/v1/commitments"),
            ("milestones", "/api/v1/milestones"),
            ("institutions", "/api/v1/institutions"),
            ("sources", "/api/v1/sources"),
            ("registries", "/api/v1/registries"),
            ("plan_releases", "/api/v1/plan/releases"),
            ("changes", "/api/v1/changes"),
            ("feed_plan", "/api/v1/feeds/plan.atom"),
            ("feed_releases", "/api/v1/feeds/releases.atom"),
            ("catalog", "/api/v1/catalog.jsonld"),
            ("catalog_turtle", "/api/v1/catalog.ttl"),
            ("openapi", "/api/v1/openapi.json"),
            ("docs", "/docs/"),
            ("health", "/healthz"),
            ("ready", "/readyz"),
        ]),
        formats: vec![
            "application/json",
            "text/csv",
            "application/geo+json",
            "application/x-ndjson",
        ],
        languages: Lang::ALL.to_vec(),
    })
}
