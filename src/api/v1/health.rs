//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::db::{Backend, DbConn};
use crate::error::AppError;

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthDto {
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyDto {
    #[schema(example = "ready")]
    pub status: &'static str,
    pub database: Backend,
    /// True when the schema is at the version this binary expects.
    pub migrations_current: bool,
}

/// The process is alive (no database access).
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Alive", body = HealthDto)),
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthDto { status: "ok" })
}

/// The database is reachable and its schema is current: safe to route traffic here.
///
/// With a read replica (`--read-database-url`), it must be reachable too.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = ReadyDto),
        (status = 503, description = "Database unreachable or migrations pending",
            body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let current = state
        .on_primary(|conn| -> Result<_, AppError> {
            ping(conn)?;
            Ok(conn.migrations_current().unwrap_or(false))
        })
        .await?;
    if state.replica.is_some() {
        // Reachability only: a replica carries the primary's schema, and diesel's migration
        // check would create its table, which a read-only standby refuses. (`run_app` reads
        // from the replica when there is one.)
        state.read(ping).await.map_err(|e| match e {
            // Named, since the primary answers; the driver's words go to the log only.
            AppError::Unavailable(cause) => {
                log::warn!("readiness: the read database cannot be reached: {cause}");
                AppError::NotReady(
                    "the read database (--read-database-url) cannot be reached; the primary can"
                        .into(),
                )
            }
            other => other,
        })?;
    }
    if !current {
        return Err(AppError::NotReady(
            "the database schema is behind this binary: run `opengov-api migrate`".into(),
        ));
    }
    Ok(HttpResponse::Ok().json(ReadyDto {
        status: "ready",
        database: state.backend,
        migrations_current: current,
    }))
}

/// A lost connection is an outage (503 Unavailable), not a stale schema.
fn ping(conn: &mut DbConn) -> Result<(), AppError> {
    Ok(diesel::r2d2::R2D2Connection::ping(conn)?)
}
