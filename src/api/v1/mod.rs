//! Version 1 of the API, mounted at `/api/v1`. One file per resource.

pub mod audit;
pub mod catalog;
pub mod changes;
pub mod commitments;
pub mod csvw;
pub mod feeds;
pub mod health;
pub mod imports;
pub mod index;
pub mod institutions;
pub mod milestones;
pub mod plan_collection;
pub mod plans;
pub mod registries;
pub mod releases;
pub mod sources;

use utoipa_actix_web::service_config::ServiceConfig;

/// Every v1 route; the OpenAPI document is collected from these same registrations.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(index::index)
        .service(plans::list_plans)
        .service(plans::list_plans_csv)
        .service(plans::get_plan)
        .service(commitments::list_commitments)
        .service(commitments::list_commitments_csv)
        .service(commitments::get_commitment)
        .service(milestones::list_milestones)
        .service(milestones::list_milestones_csv)
        .service(milestones::get_milestone)
        .service(milestones::update_milestone)
        .service(milestones::add_progress_update)
        .service(institutions::list_institutions)
        .service(institutions::list_institutions_csv)
        .service(institutions::get_institution)
        .service(sources::list_sources)
        .service(sources::list_sources_csv)
        .service(sources::get_source)
        .service(registries::list_registries)
        .service(registries::list_registries_csv)
        .service(registries::list_items)
        .service(registries::list_items_csv)
        .service(registries::list_items_geojson)
        .service(registries::list_items_ndjson)
        .service(registries::get_item)
        .service(csvw::get_items_csv_metadata)
        .service(imports::upload_file)
        .service(imports::list_uploads)
        .service(imports::get_upload)
        .service(audit::list_audit)
        .service(registries::get_registry)
        .service(releases::list_plan_releases)
        .service(releases::get_plan_release)
        .service(releases::plan_release_records)
        .service(releases::list_registry_releases)
        .service(releases::get_registry_release)
        .service(changes::list_changes)
        .service(catalog::catalog_jsonld)
        .service(catalog::catalog_ttl)
        .service(feeds::plan_feed)
        .service(feeds::releases_feed)
        .service(feeds::registry_feed);
}
