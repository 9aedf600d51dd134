//! The release in API bodies (`release` member) and `If-Match` on writes.

use actix_web::http::header;

use crate::error::AppError;
pub use crate::models::releases::ReleaseRef;

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
