//! Building responses: JSON or CSV bodies, paging links, and the headers that say which
//! language and representation were chosen.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::dto::{ListBody, PageLinks};
use crate::api::release::ReleaseRef;
use crate::app::ReadAt;
use crate::error::AppError;
use crate::formats::csv::{self, Cell};
use crate::http::negotiate::{Format, LangContext};
use crate::http::release;

/// A type served as CSV: a fixed header and one row per record.
pub trait CsvRecord {
    const HEADER: &'static [&'static str];
    fn row(&self) -> Vec<Cell>;
}

/// Paging facts of one page.
pub struct PageMeta {
    pub total: i64,
    pub limit: u32,
    pub next_cursor: Option<String>,
}

/// The request's path and query with `cursor` set (other parameters kept in their order). Links
/// are relative references, resolved against the request URL, so they stay right behind proxies.
pub fn next_link(req: &HttpRequest, cursor: &str) -> String {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    pairs.retain(|(k, _)| k != "cursor");
    pairs.push(("cursor".into(), cursor.into()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{}?{query}", req.path())
}

pub fn self_link(req: &HttpRequest) -> String {
    match req.query_string() {
        "" => req.path().to_owned(),
        q => format!("{}?{q}", req.path()),
    }
}

/// States the release a response was read from (headers; JSON bodies carry it too).
fn stamped(builder: &mut actix_web::HttpResponseBuilder, read: &ReadAt) -> Option<ReleaseRef> {
    let r = read.release.as_ref()?;
    release::stamp(builder, r);
    Some(ReleaseRef::new(r, read.pinned))
}

fn negotiated(builder: &mut actix_web::HttpResponseBuilder, ctx: &LangContext) {
    if let Some(languages) = ctx.content_language() {
        builder.insert_header((header::CONTENT_LANGUAGE, languages));
    }
    builder.insert_header((header::VARY, "Accept, Accept-Language, Accept-Encoding"));
}

/// A page of a collection as JSON (envelope) or CSV (rows only), with `Link: rel="next"`.
pub fn list<T: Serialize + ToSchema + CsvRecord>(
    req: &HttpRequest,
    format: Format,
    ctx: &LangContext,
    items: Vec<T>,
    meta: PageMeta,
    read: &ReadAt,
) -> Result<HttpResponse, AppError> {
    let next = meta.next_cursor.as_deref().map(|c| next_link(req, c));
    let mut builder = HttpResponse::Ok();
    negotiated(&mut builder, ctx);
    let release = stamped(&mut builder, read);
    if let Some(next) = &next {
        builder.insert_header((header::LINK, format!("<{next}>; rel=\"next\"")));
    }
    builder.insert_header(("X-Total-Count", meta.total.to_string()));
    match format {
        Format::Json => Ok(builder.json(ListBody {
            items,
            total: meta.total,
            limit: meta.limit,
            next_cursor: meta.next_cursor,
            links: PageLinks {
                self_link: self_link(req),
                next,
            },
            lang: ctx.requested,
            release,
        })),
        Format::Csv => {
            let body = csv::write(T::HEADER, items.iter().map(CsvRecord::row))?;
            Ok(builder.content_type(Format::Csv.media_type()).body(body))
        }
        other => Err(AppError::Internal(format!(
            "{} is not offered for plan collections",
            other.name()
        ))),
    }
}

/// A single record as JSON; a versioned one gets a `release` member naming where it was read.
pub fn record<T: Serialize>(ctx: &LangContext, item: &T, read: &ReadAt) -> HttpResponse {
    let mut builder = HttpResponse::Ok();
    negotiated(&mut builder, ctx);
    match stamped(&mut builder, read) {
        None => builder.json(item),
        Some(release) => {
            let mut body = serde_json::to_value(item).unwrap_or(serde_json::Value::Null);
            if let Some(object) = body.as_object_mut() {
                object.insert(
                    "release".into(),
                    serde_json::to_value(release).unwrap_or_default(),
                );
            }
            builder.json(body)
        }
    }
}

/// The query parameters every collection shares (see `params::list_params!`).
pub struct CommonParams<'a> {
    pub limit: Option<&'a str>,
    pub cursor: Option<&'a str>,
    pub lang: Option<&'a str>,
    pub format: Option<&'a str>,
}

/// What every collection request settles before it queries: format, language and page position
/// (a cursor bound to the collection and its filters).
pub struct Listing {
    pub format: Format,
    pub ctx: LangContext,
    pub page: crate::models::PageRequest,
    fingerprint: String,
}

impl Listing {
    /// `scope` names the collection; `filters` are its filter parameters, which a cursor must
    /// repeat.
    pub fn new(
        req: &HttpRequest,
        scope: &str,
        extension: Option<Format>,
        common: CommonParams<'_>,
        filters: &[(&str, Option<&str>)],
    ) -> Result<Self, AppError> {
        use crate::api::pagination;
        use crate::http::negotiate;
        let format = negotiate::format(req, extension, common.format, negotiate::TABLE_FORMATS)?;
        let ctx = LangContext::new(negotiate::language(req, common.lang)?);
        let fingerprint = pagination::fingerprint(scope, filters);
        let page = crate::models::PageRequest {
            after: common
                .cursor
                .map(|c| pagination::decode(c, &fingerprint))
                .transpose()?,
            limit: pagination::page_size(format, common.limit)?,
        };
        Ok(Listing {
            format,
            ctx,
            page,
            fingerprint,
        })
    }

    /// Answers with the page found, each record converted for the wire.
    pub fn respond<T, D: Serialize + ToSchema + CsvRecord>(
        self,
        req: &HttpRequest,
        found: crate::models::Page<T>,
        read: &ReadAt,
        to_wire: impl Fn(&T, &LangContext) -> D,
    ) -> Result<HttpResponse, AppError> {
        let items = found.items.iter().map(|t| to_wire(t, &self.ctx)).collect();
        let meta = PageMeta {
            total: found.total,
            limit: self.page.limit,
            next_cursor: found
                .next_after
                .map(|after| crate::api::pagination::encode(&after, &self.fingerprint)),
        };
        list(req, self.format, &self.ctx, items, meta, read)
    }
}

/// A single record, or 404 naming what was looked for.
pub fn found<T, D: Serialize>(
    ctx: &LangContext,
    (record, read): (Option<T>, ReadAt),
    missing: impl FnOnce() -> String,
    to_wire: impl Fn(&T, &LangContext) -> D,
) -> Result<HttpResponse, AppError> {
    let record = record.ok_or_else(|| {
        let at = match &read.release {
            Some(r) if read.pinned => format!(" at plan release {}", r.number),
            _ => String::new(),
        };
        AppError::NotFound(format!("{}{at}", missing()))
    })?;
    Ok(self::record(ctx, &to_wire(&record, ctx), &read))
}
