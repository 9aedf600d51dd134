//! How a response names the release it was read from: the `Data-Release` header
//! (`<dataset>@<number>`) and `Last-Modified` (when that release was published); `?release=`.

use actix_web::HttpResponseBuilder;
use actix_web::http::header;

use crate::error::AppError;
use crate::models::releases::Release;

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
