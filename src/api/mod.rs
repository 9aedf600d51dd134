//! The API under `/api/v1` (and the probes `/healthz`, `/readyz`): routes, the wire types and
//! responses, the OpenAPI document. Handlers stay thin: parse parameters, run one model function
//! through `app` (`AppState::read` and its kin), respond.

pub mod auth;
pub mod dto;
pub mod items;
pub mod openapi;
pub mod pagination;
pub mod params;
pub mod release;
pub mod respond;
pub mod v1;
pub mod write_bodies;

pub use openapi::openapi;

use actix_web::dev::{ServiceFactory, ServiceRequest};

/// Every API route, on the document's base (info, tags, the schemas no route names): the server
/// (`server::build_app`) and the document (`openapi()`) register the very same.
pub fn routes<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(openapi::base())
        .service(utoipa_actix_web::scope("/api/v1").configure(v1::configure))
        .service(v1::health::healthz)
        .service(v1::health::readyz)
}
