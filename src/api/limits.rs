//! Size limits of requests, each refused with a problem that names the limit: request bodies
//! (413) and query strings (414). Header sizes are bounded by actix itself (431).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::api::AppState;
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

/// The body limits as extractor configuration (used by `build_app`; public so a test can serve
/// a body-reading route with the very same configuration).
pub fn configure_bodies(limits: Limits) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(
            web::JsonConfig::default()
                .limit(limits.max_body_bytes)
                .error_handler(error::json_body_error),
        )
        .app_data(web::PayloadConfig::new(limits.max_body_bytes))
        .app_data(web::FormConfig::default().limit(limits.max_body_bytes));
    }
}

/// Middleware: a query string over the limit is 414 before any parsing happens.
pub async fn query_length(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let max = req
        .app_data::<web::Data<AppState>>()
        .map_or(DEFAULT_MAX_QUERY_BYTES, |state| {
            state.limits.max_query_bytes
        });
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

/// Reads a request body of at most `limit` bytes (after any `Content-Encoding` is undone):
/// 413 naming the limit as soon as it is passed (at once when `Content-Length` says so), and
/// a read failure in the caller's words.
pub async fn read_body(
    req: &actix_web::HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, AppError> {
    use futures_util::StreamExt;
    let too_large = || {
        AppError::TooLarge(format!(
            "the request body is larger than the limit of {limit} bytes"
        ))
    };
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let mut stream = actix_web::dev::Decompress::from_headers(payload.into_inner(), req.headers());
    let mut body = web::BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(payload_error)?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A body that could not be read, in the caller's words (actix's are about its internals).
pub fn payload_error(e: actix_web::error::PayloadError) -> AppError {
    use actix_web::error::PayloadError;
    let detail = match e {
        PayloadError::Incomplete(_) => {
            "the body ended before all of it arrived (the connection closed, or Content-Length \
             says more than was sent); send it again"
        }
        PayloadError::EncodingCorrupted => {
            "the body cannot be decoded with the Content-Encoding it names (gzip, br, deflate \
             or zstd); send it as it is, or encoded as named"
        }
        PayloadError::Overflow => "the body is larger than the server takes",
        _ => "the body could not be read; send it again",
    };
    AppError::MalformedBody(detail.into())
}
