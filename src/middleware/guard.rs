//! Refuses request targets that no handler can read faithfully: a query parameter or path that,
//! once percent-decoded, holds a NUL byte or is not UTF-8.
//!
//! Without this, query strings are decoded lossily (`%FF` silently becomes U+FFFD, so a filter
//! would search for something other than what was sent), and a NUL reaches the database, where
//! PostgreSQL refuses it in text (a 500) while SQLite accepts it (the backends would disagree).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use percent_encoding::percent_decode_str;

use crate::error::AppError;

/// What is wrong with a decoded value, if anything.
fn fault(raw: &str) -> Option<&'static str> {
    let bytes: Vec<u8> = percent_decode_str(raw).collect();
    match std::str::from_utf8(&bytes) {
        Err(_) => Some("is not valid UTF-8 once percent-decoded"),
        Ok(text) if text.contains('\0') => Some("contains a NUL character (%00)"),
        Ok(_) => None,
    }
}

/// The first query parameter (by name) or path fault of a request.
pub fn check(path: &str, query: &str) -> Result<(), AppError> {
    if let Some(problem) = fault(path) {
        return Err(AppError::NotFound(format!(
            "no resource at this path: it {problem}"
        )));
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode_str(key)
            .decode_utf8_lossy()
            .replace('+', " ");
        if let Some(problem) = fault(key) {
            return Err(AppError::InvalidParameter {
                parameter: None,
                detail: format!("a query parameter name {problem}"),
            });
        }
        if let Some(problem) = fault(value) {
            return Err(AppError::invalid(name, problem));
        }
    }
    Ok(())
}

/// The middleware (`middleware::from_fn`).
pub async fn refuse_undecodable(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Err(e) = check(req.uri().path(), req.query_string()) {
        return Ok(req.error_response(e).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_parameter_at_fault() {
        assert!(check("/api/v1/plans", "member=UA&limit=5").is_ok());
        assert!(check("/api/v1/plans", "q=%E2%80%99+a%25b").is_ok());
        let Err(AppError::InvalidParameter { parameter, .. }) = check("/x", "a=1&name=%00") else {
            panic!("NUL refused");
        };
        assert_eq!(parameter.as_deref(), Some("name"));
        let Err(AppError::InvalidParameter { parameter, .. }) = check("/x", "q=%FF%FE") else {
            panic!("invalid UTF-8 refused");
        };
        assert_eq!(parameter.as_deref(), Some("q"));
        assert!(matches!(
            check("/api/v1/registries/a%00b", ""),
            Err(AppError::NotFound(_))
        ));
        assert!(matches!(
            check("/api/v1/registries/%C0%AF", ""),
            Err(AppError::NotFound(_))
        ));
    }
}
