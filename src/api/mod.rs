//! The API under `/api/v1` (and the probes `/healthz`, `/readyz`): routes, the wire types and
//! responses, the OpenAPI document. Handlers stay thin: parse parameters, run one model function
//! through `app` (`AppState::read` and its kin), respond.

pub mod atom;
pub mod auth;
pub mod csv;
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

// TEMPORARY: removed at merge. The old paths of what moved to `app`, `http` and `middleware`, so
// the handler files in `v1/` build unchanged until their callers are updated.
pub use crate::app::{AppState, ItemCounts, ReadAt};
pub use crate::http::negotiate;
pub use crate::middleware::{caching, metrics};
pub use openapi as spec;

// TEMPORARY: removed at merge (see above).
pub mod limits {
    pub use crate::api::write_bodies::{payload_error, read_body};
    pub use crate::middleware::limits::*;
}

use crate::db::DbConn;
use crate::error::AppError;

/// TEMPORARY: removed at merge; use `AppState::read`.
pub async fn run<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> diesel::QueryResult<T> + Send + 'static,
{
    state.read(f).await
}

/// TEMPORARY: removed at merge; use `AppState::read`.
pub async fn run_app<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
{
    state.read(f).await
}

/// TEMPORARY: removed at merge; use `AppState::on_primary`.
pub async fn run_primary<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
{
    state.on_primary(f).await
}

/// TEMPORARY: removed at merge; use `AppState::read_plan` with `http::release::parse_param`.
pub async fn run_plan<T, F>(
    state: &AppState,
    release: Option<&str>,
    f: F,
) -> Result<(T, ReadAt), AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> diesel::QueryResult<T> + Send + 'static,
{
    let pinned = crate::http::release::parse_param(release)?;
    state.read_plan(pinned, f).await
}
