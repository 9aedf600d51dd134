//! The middleware every request passes through. Nothing here names the application state, the
//! API or the web pages: each middleware reads what it needs as app data of its own type
//! (`limits::Limits`, `rate_limit::RateLimits`, `metrics::Metrics`) or through
//! `caching::Site`; `server::build_app` registers them and sets the order.

pub mod caching;
pub mod guard;
pub mod limits;
pub mod metrics;
pub mod rate_limit;
pub mod security_headers;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::Method;

/// HEAD is GET without a body: routed as GET; the HTTP layer, which parsed the request as HEAD,
/// leaves the body out (`App::wrap_fn`).
pub fn head_as_get<S, B>(mut req: ServiceRequest, srv: &S) -> S::Future
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    srv.call(req)
}
