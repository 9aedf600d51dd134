//! How a response names the release it was read from: the `Data-Release` header
//! (`<dataset>@<number>`), `Last-Modified` (when that release was published), and a `release`
//! member in JSON bodies. Also parses `?release=`.

use actix_web::HttpResponseBuilder;
use actix_web::http::header;

use crate::error::AppError;
pub use crate::models::releases::ReleaseRef;
use crate::models::releases::{FindError, MissingRelease, Release};

/// Response header naming the dataset release a response was read from.
pub const RELEASE_HEADER: &str = "Data-Release";

/// `Data-Release: <dataset>@<number>` — what the caching layer derives validators from.
pub fn header_value(release: &Release) -> String {
    format!("{}@{}", release.dataset, release.number)
}

/// Sets `Data-Release` and `Last-Modified` for a response read from `release`.
pub fn stamp(builder: &mut HttpResponseBuilder, release: &Release) {
    builder.insert_header((RELEASE_HEADER, header_value(release)));
    if let Some(date) = http_date(&release.created_at) {
        builder.insert_header((header::LAST_MODIFIED, date));
    }
}

/// An RFC 3339 timestamp as an HTTP date (RFC 9110 IMF-fixdate).
pub fn http_date(rfc3339: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).ok()?;
    Some(
        t.with_timezone(&chrono::Utc)
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string(),
    )
}

/// `?release=<n>`: a positive release number.
pub fn parse_param(raw: Option<&str>) -> Result<Option<i64>, AppError> {
    Ok(crate::models::params::release_number(raw)?)
}

/// 404 for a release number a dataset does not have.
pub fn not_found(dataset: &str, number: i64, latest: Option<&Release>) -> AppError {
    AppError::from(FindError::Missing(MissingRelease {
        dataset: dataset.to_owned(),
        number,
        latest: latest.map(|l| l.number),
    }))
}

impl From<FindError> for AppError {
    fn from(e: FindError) -> Self {
        match e {
            FindError::Missing(missing) => AppError::NotFound(missing.to_string()),
            FindError::Database(e) => e.into(),
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
        match crate::api::caching::release_in_tag(tag) {
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
