//! `/api/v1/audit`: every write, who made it and what it changed (scope `admin`).

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::auth::Authenticated;
use crate::app::AppState;
use crate::error::AppError;
use crate::models::audit::{self, AuditEntry};

const LIMIT_MAX: i64 = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// 1–500, default 100.
    pub limit: Option<i64>,
    /// Entries after this id (from `next_after`).
    pub after: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub entries: Vec<AuditEntry>,
    pub total: i64,
    /// `after` for the next page; null on the last.
    pub next_after: Option<i64>,
}

/// The audit log, oldest first (scope `admin`).
#[utoipa::path(
    tag = "audit",
    params(AuditParams),
    security(("bearer" = [])),
    responses((status = 200, description = "Audit entries, oldest first", body = AuditList))
)]
#[get(
    "/audit",
    wrap = "actix_web::middleware::from_fn(crate::api::auth::admin)"
)]
pub async fn list_audit(
    params: web::Query<AuditParams>,
    _admitted: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let limit = params.limit.unwrap_or(100);
    if !(1..=LIMIT_MAX).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("{limit} is outside 1..={LIMIT_MAX}"),
        ));
    }
    let after = params.after;
    // On the primary: an admin checking a write just made must see it.
    let (entries, total) = state
        .on_primary(move |conn| audit::list(conn, after, limit))
        .await?;
    let next_after = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(AuditList {
            entries,
            total,
            next_after,
        }))
}
