//! What the API and the web pages share about HTTP: content negotiation (format and language),
//! the headers that name a response's release, and the public base URL. No application state
//! here, and neither side's handlers: `api` and `web` both build on it.

pub mod negotiate;
pub mod release;

use actix_web::HttpRequest;

/// The public scheme and host (`https://data.example`) for documents that need absolute IRIs (the
/// DCAT catalog, CSVW metadata, Atom feeds). There is no configured public URL, so it comes from
/// the request: `Forwarded` / `X-Forwarded-Proto` / `X-Forwarded-Host` when a proxy sets them,
/// else the `Host` header and the connection's scheme.
pub fn public_base(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}
