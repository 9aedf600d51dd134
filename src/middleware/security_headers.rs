//! Security headers on HTML answers (the Swagger UI at /docs/): a Content-Security-Policy that
//! allows only this origin's own files, no framing, no referrer.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

/// Everything the Swagger UI needs is served from here (vendored), including its configuration
/// (`swagger-initializer.js` is a file, not an inline script). Its stylesheet draws icons from
/// `data:` images; React sets styles through the DOM, which `style-src` does not restrict. The
/// one inline `<style>` is in the top bar's logo (an SVG in `swagger-ui-standalone-preset.js`),
/// allowed by its hash: [`LOGO_STYLE`]. Checked in headless Chromium: no CSP violation.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; \
     object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The logo's inline style whose SHA-256 the policy allows (a test keeps the two in step with
/// the vendored Swagger UI).
pub const LOGO_STYLE: &str =
    ".logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}";

pub async fn html_security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if html {
        let headers = res.headers_mut();
        // The web pages set their own policy (it names the map's tile server).
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            );
        }
        // For browsers that predate `frame-ancestors`.
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    Ok(res)
}
