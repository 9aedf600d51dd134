//! Size limits of requests, each refused with a problem that names the limit: request bodies
//! (413) and query strings (414). Header sizes are bounded by actix itself (431).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::error::{self, AppError};

pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
pub const DEFAULT_MAX_QUERY_BYTES: usize = 4096;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest body the JSON, form and raw-body extractors read (streamed uploads set their own).
    pub max_body_bytes: usize,
    /// Longest query string, in bytes as sent (percent-encoded).
    pub max_query_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_query_bytes: DEFAULT_MAX_QUERY_BYTES,
        }
    }
}

/// The body limits as extractor configuration (used by `server::build_app`; public so a test can serve
/// a body-reading route with the very same configuration).
pub fn configure_bodies(limits: Limits) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        // The limit, for the 413 that raw-body extractors answer without a body.
        cfg.app_data(error::BodyLimit(limits.max_body_bytes))
            .app_data(
                web::JsonConfig::default()
                    .limit(limits.max_body_bytes)
                    .error_handler(error::json_body_error),
            )
            .app_data(web::PayloadConfig::new(limits.max_body_bytes))
            .app_data(web::FormConfig::default().limit(limits.max_body_bytes));
    }
}

/// Middleware: a query string over the limit (the app's `Limits`) is 414 before any parsing
/// happens.
pub async fn query_length(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let max = req
        .app_data::<Limits>()
        .map_or(DEFAULT_MAX_QUERY_BYTES, |limits| limits.max_query_bytes);
    let length = req.query_string().len();
    if length > max {
        let err = AppError::UriTooLong(format!(
            "the query string is {length} bytes; the limit is {max} bytes \
             (fewer filters or values, or several requests)"
        ));
        let response = error::problem_response(&err, req.request());
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}
