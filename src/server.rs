//! The server's application: the API and the web pages mounted side by side, the Swagger UI,
//! the middleware in its order, CORS, `/metrics` and the fallback for unknown paths. Used by the
//! `serve` command and the tests alike.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, ErrorHandlers, Logger, from_fn};
use actix_web::{App, HttpResponse, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;
use crate::error::{self, AllowedMethods, AppError};
use crate::middleware::{self, caching, guard, limits, metrics, rate_limit, security_headers};
use crate::models::releases::Release;

/// The whole application: routes, docs, error bodies, compression and access log.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let body_limits = limits::configure_bodies(state.limits);
    let query_limits = state.limits;
    let rate_limits = state.rate_limits.clone().map(web::Data::from);
    let metrics = state.metrics.clone().map(web::Data::from);
    let metrics_on = metrics.is_some();
    // The docs are registered before the /api/v1 scope, which would otherwise claim
    // /api/v1/openapi.json; the document comes from the same `api::routes` as the app below.
    let app = App::new()
        .app_data(web::Data::new(state))
        .configure(body_limits)
        .app_data(query_limits)
        .configure(|cfg| {
            if let Some(limits) = rate_limits {
                cfg.app_data(limits);
            }
            if let Some(metrics) = metrics {
                cfg.app_data(metrics);
            }
        })
        .app_data(web::QueryConfig::default().error_handler(error::query_error))
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                .url("/api/v1/openapi.json", crate::api::openapi())
                // No badge from the public validator: the docs work offline and the CSP allows
                // nothing from elsewhere.
                .config(utoipa_swagger_ui::Config::default().validator_url("none")),
        )
        .into_utoipa_app();
    let (app, routes) = crate::api::routes(app).split_for_parts();
    app.app_data(AllowedMethods::of(&routes))
        .configure(crate::web::configure)
        .route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/docs/"))
                    .finish()
            }),
        )
        // Outside the OpenAPI document, like /docs; absent (404) when metrics are off.
        .configure(|cfg| {
            if metrics_on {
                cfg.route("/metrics", web::get().to(scrape_metrics));
            }
        })
        .default_service(web::to(crate::web::not_found))
        .wrap(from_fn(guard::refuse_undecodable))
        .wrap(ErrorHandlers::new().default_handler(error::problem_json_errors))
        .wrap_fn(middleware::head_as_get)
        .wrap(from_fn(caching::conditional::<AppState, _>))
        .wrap(Compress::default())
        .wrap_fn(|req, srv| {
            let response = srv.call(req);
            async move { response.await.map(caching::tag_encoding) }
        })
        .wrap(from_fn(security_headers::html_security_headers))
        // Before any parsing or database work; a refused request still counts against the quota.
        .wrap(from_fn(limits::query_length))
        .wrap(from_fn(rate_limit::rate_limit))
        .wrap(
            actix_web::middleware::DefaultHeaders::new().add(("X-Content-Type-Options", "nosniff")),
        )
        .wrap(cors())
        // Outside everything that answers (429, 304, preflights, problem+json), so each request is
        // counted once with the status the client got.
        .wrap(from_fn(metrics::record))
        .wrap(Logger::new(r#"%a "%r" %s %b %Dms "%{User-Agent}i""#))
}

/// The API's dataset reads and the web pages get validators; the docs, probes and `/metrics`
/// do not.
impl caching::Site for AppState {
    fn validated(path: &str) -> bool {
        path.starts_with("/api/") || crate::web::is_web_path(path)
    }

    async fn latest_release(&self, dataset: String) -> Option<Release> {
        self.latest_release_now(dataset).await
    }
}

/// Any origin may read (the data is public; no cookies or credentials are involved), and browser
/// code may see the paging, validator and release headers. Only GET and HEAD are allowed, so no
/// other origin can send a write from a browser.
fn cors() -> actix_cors::Cors {
    use actix_web::http::header;
    actix_cors::Cors::default()
        .allow_any_origin()
        .send_wildcard()
        // The answer is the same for every origin (`*`), so caches need not split by Origin.
        .disable_vary_header()
        .allowed_methods(["GET", "HEAD"])
        .allowed_headers([
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
        ])
        .expose_headers([
            header::LINK,
            header::ETAG,
            header::LAST_MODIFIED,
            header::CONTENT_LANGUAGE,
            header::CONTENT_DISPOSITION,
            header::HeaderName::from_static("data-release"),
            header::HeaderName::from_static("x-total-count"),
            header::HeaderName::from_static("x-sample-data"),
            header::RETRY_AFTER,
            rate_limit::RATELIMIT,
            rate_limit::RATELIMIT_POLICY,
        ])
        .max_age(86_400)
}

/// `GET /metrics`: every metric, and the pools as they are now.
async fn scrape_metrics(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let Some(metrics) = &state.metrics else {
        return Err(AppError::NotFound("metrics are turned off".into()));
    };
    let body = metrics.encode(state.pool_readings())?;
    Ok(HttpResponse::Ok()
        .content_type(metrics::CONTENT_TYPE)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(body))
}
