//! The people's side: server-rendered, multilingual web pages under `/` (the API stays under
//! `/api/v1`). Pages read through the same models, and the registry browser through the same
//! item query, as the API; each page links to the API call that gives its data. No JavaScript
//! build step: HTML from `maud`, one stylesheet, and a small map script over vendored Leaflet.

pub mod assets;
pub mod commitments;
pub mod home;
pub mod i18n;
pub mod institutions;
pub mod layout;
pub mod progress;
pub mod registries;
pub mod timeline;

use actix_web::{HttpRequest, HttpResponse, web};

/// Every web route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::home))
        .route("/commitments/{id}", web::get().to(commitments::commitment))
        .route(
            "/institutions/{id}",
            web::get().to(institutions::institution),
        )
        .route("/registries", web::get().to(registries::registries))
        .route("/registries/{slug}", web::get().to(registries::registry))
        .route("/static/{path:.*}", web::get().to(assets::asset));
}

/// Whether a path is one of the web pages or their files (they get validators and caching like
/// the API).
pub fn is_web_path(path: &str) -> bool {
    path == "/"
        || ["/commitments/", "/institutions/", "/registries", "/static/"]
            .iter()
            .any(|prefix| path.starts_with(prefix))
}

/// Unknown paths: an HTML page for browsers outside the API, a problem document otherwise.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, crate::error::AppError> {
    let wants_html = !req.path().starts_with("/api/")
        && req
            .headers()
            .get(actix_web::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    if !wants_html || req.resource_map().has_resource(req.path()) {
        return crate::error::not_found(req).await;
    }
    let lang =
        crate::http::negotiate::language(&req, None).unwrap_or(crate::models::lang::Lang::En);
    let options = options(&req);
    Ok(layout::error_page(
        &req,
        lang,
        &options,
        &crate::error::AppError::NotFound(format!("no page at {}", req.path())),
    ))
}

/// The web options of the running app.
pub fn options(req: &HttpRequest) -> crate::app::WebOptions {
    req.app_data::<web::Data<crate::app::AppState>>()
        .map(|state| state.web.clone())
        .unwrap_or_default()
}

/// Answers a page: the context from the request (refusing parameters not in `allowed`), then
/// `render`; any error becomes an HTML error page with the API's status and detail.
pub async fn render_page<F, Fut>(
    req: HttpRequest,
    state: web::Data<crate::app::AppState>,
    allowed: Option<&'static [&'static str]>,
    render: F,
) -> HttpResponse
where
    F: FnOnce(layout::PageContext, web::Data<crate::app::AppState>) -> Fut,
    Fut: std::future::Future<Output = Result<layout::Page, crate::error::AppError>>,
{
    let options = state.web.clone();
    let ctx = match layout::PageContext::of(&req, allowed) {
        Ok(ctx) => ctx,
        Err((lang, error)) => return layout::error_page(&req, lang, &options, &error),
    };
    let lang = ctx.lang;
    match render(ctx.clone(), state).await {
        Ok(page) => layout::respond(
            &ctx,
            actix_web::http::StatusCode::OK,
            &options,
            layout::document(&ctx, &page),
        ),
        Err(error) => layout::error_page(&req, lang, &options, &error),
    }
}
