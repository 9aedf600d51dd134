//! Atom feeds for feed readers: plan activity (`/feeds/plan.atom`), releases of every dataset
//! (`/feeds/releases.atom`) and of one registry (`/registries/{slug}/feed.atom`). The documents
//! are written by `api::atom`; the data comes from `models::feeds`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::pagination;
use crate::api::respond::self_link;
use crate::app::AppState;
use crate::error::AppError;
use crate::formats::atom::{self, ATOM, FeedUrls};
use crate::http::negotiate::{self, LangContext};
use crate::http::public_base;
use crate::models::feeds;

/// Entries in a feed when `limit` is absent.
const DEFAULT_ENTRIES: u32 = 50;
/// The most entries a feed gives: feeds show what is new, the JSON endpoints page through all.
const MAX_ENTRIES: u32 = 200;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Entries, newest first: 1 to 200 (default 50). A value outside the range is refused, never
    /// clamped.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<String>,
    /// Language of the data's texts (titles, claims, sample notes): `uk`, `en` or `es`. Overrides
    /// `Accept-Language`; default `en`. A text missing in that language falls back to another;
    /// the surrounding words are English.
    #[param(value_type = Option<crate::models::lang::Lang>)]
    pub lang: Option<String>,
}

impl FeedParams {
    fn settle(&self, req: &HttpRequest) -> Result<(i64, LangContext, FeedUrls), AppError> {
        let limit = pagination::limit_within(self.limit.as_deref(), DEFAULT_ENTRIES, MAX_ENTRIES)?;
        let ctx = LangContext::new(negotiate::language(req, self.lang.as_deref())?);
        let base = public_base(req);
        let urls = FeedUrls {
            self_url: format!("{base}{}", self_link(req)),
            base,
        };
        Ok((i64::from(limit), ctx, urls))
    }
}

/// The feed as XML. Validators and `Vary` come from `caching::conditional` (an ETag of the body);
/// no `Last-Modified`, because release times have one-second precision and an
/// `If-Modified-Since` could then hide a release published in the same second.
fn respond(ctx: &LangContext, feed: &atom_syndication::Feed) -> Result<HttpResponse, AppError> {
    let body = atom::to_xml(feed)?;
    let mut builder = HttpResponse::Ok();
    builder.content_type(ATOM);
    if let Some(languages) = ctx.content_language() {
        builder.insert_header((header::CONTENT_LANGUAGE, languages));
    }
    Ok(builder.body(body))
}

/// Plan activity as an Atom feed.
///
/// One entry per change to a milestone (created; status before → after; other fields changed;
/// removed) or a progress update (reported, changed, removed), newest first, as the plan's
/// releases recorded them. Each entry names the plan release and links to the record as it was
/// at that release (`?release=`). Titles use the milestone title or the progress update's claim
/// in the requested language (or its fallback), else the record's id.
#[utoipa::path(
    tag = "feeds",
    params(FeedParams),
    responses((status = 200, description = "Atom 1.0 (RFC 4287) feed, newest entry first",
        body = String, content_type = "application/atom+xml")),
)]
#[get("/feeds/plan.atom")]
pub async fn plan_feed(
    req: HttpRequest,
    params: web::Query<FeedParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (limit, ctx, urls) = params.settle(&req)?;
    let activity = state
        .read(move |conn| feeds::plan_activity(conn, limit))
        .await?;
    respond(&ctx, &atom::plan_activity(&urls, &ctx, &activity)?)
}

/// Releases of every dataset as an Atom feed.
///
/// One entry per release of the plan or of any registry, newest first: its counts of records,
/// added, changed and removed, the SHA-256 of its canonical export, and links to the release, its
/// pinned data and that export. Entries of sample registries say "sample data".
#[utoipa::path(
    tag = "feeds",
    params(FeedParams),
    responses((status = 200, description = "Atom 1.0 (RFC 4287) feed, newest entry first",
        body = String, content_type = "application/atom+xml")),
)]
#[get("/feeds/releases.atom")]
pub async fn releases_feed(
    req: HttpRequest,
    params: web::Query<FeedParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (limit, ctx, urls) = params.settle(&req)?;
    let found = state
        .read(move |conn| feeds::all_releases(conn, limit))
        .await?;
    respond(&ctx, &atom::releases(&urls, &ctx, None, &found)?)
}

/// One registry's releases as an Atom feed.
///
/// The entries of `/feeds/releases.atom` for this registry only (same ids). An unknown registry is
/// a 404.
#[utoipa::path(
    tag = "feeds",
    params(
        ("slug" = String, Path, description = "Registry slug", example = "territorial-units"),
        FeedParams,
    ),
    responses((status = 200, description = "Atom 1.0 (RFC 4287) feed, newest entry first",
        body = String, content_type = "application/atom+xml")),
)]
#[get("/registries/{slug}/feed.atom")]
pub async fn registry_feed(
    req: HttpRequest,
    path: web::Path<String>,
    params: web::Query<FeedParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (limit, ctx, urls) = params.settle(&req)?;
    let slug = path.into_inner();
    let lookup = slug.clone();
    let found = state
        .read(move |conn| -> Result<_, AppError> {
            feeds::registry_releases(conn, &lookup, limit)?
                .ok_or_else(|| AppError::NotFound(format!("no registry {lookup:?}")))
        })
        .await?;
    respond(&ctx, &atom::releases(&urls, &ctx, Some(&slug), &found)?)
}
