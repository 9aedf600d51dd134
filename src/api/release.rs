//! The release in API bodies (`release` member) and `If-Match` on writes.

use actix_web::http::header;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::models::releases::Release;

// TEMPORARY: removed at merge (callers move to `crate::http::release`).
pub use crate::http::release::{
    RELEASE_HEADER, header_value, http_date, not_found, parse_param, stamp,
};

/// The release a response was read from, as it appears in JSON bodies.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReleaseRef {
    /// `plan` or `registries/<slug>`.
    pub dataset: String,
    pub number: i64,
    pub created_at: String,
    /// Whether the request pinned this release (`?release=`); unpinned reads show the latest.
    pub pinned: bool,
}

impl ReleaseRef {
    pub fn new(release: &Release, pinned: bool) -> Self {
        ReleaseRef {
            dataset: release.dataset.clone(),
            number: release.number,
            created_at: release.created_at.clone(),
            pinned,
        }
    }
}

/// `If-Match` on a write to `dataset`: the release number the client's copy came from, taken
/// from an ETag this API issued for a read of that dataset. Absent or `*`: no precondition.
pub fn if_match(req: &actix_web::HttpRequest, dataset: &str) -> Result<Option<i64>, AppError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let mut named = Vec::new();
    for tag in text.split(',') {
        match crate::middleware::caching::release_in_tag(tag) {
            Some((d, n)) if d == dataset => named.push(n),
            _ => {}
        }
    }
    // Several tags of one dataset: the newest copy the client holds.
    named.into_iter().max().map(Some).ok_or_else(|| {
        AppError::PreconditionFailed(format!(
            "If-Match: {text:?} names no release of {dataset}; send the ETag of a read of \
             {dataset} (e.g. GET of the record), or leave If-Match out"
        ))
    })
}
