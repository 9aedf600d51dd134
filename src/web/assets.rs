//! The pages' own files (stylesheet, map script, vendored Leaflet), built into the binary.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use include_dir::{Dir, include_dir};

use crate::error::AppError;

static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/src/web/static");

/// `GET /static/{path}`.
pub async fn asset(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    if let Some((name, _)) = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .unwrap_or_default()
        .into_iter()
        .next()
    {
        return Err(AppError::invalid(
            name,
            "static files take no query parameters",
        ));
    }
    let file = ASSETS
        .get_file(path.as_str())
        .filter(|_| !path.ends_with(".md"))
        .ok_or_else(|| AppError::NotFound(format!("no file /static/{path}")))?;
    let content_type = match path.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        // Files change only with the binary; the ETag revalidates them after an upgrade.
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(file.contents()))
}
