//! `/plan/releases` and `/registries/{slug}/releases`: the numbered, immutable versions of each
//! dataset, and the plan's canonical export per release (what its checksum covers).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::pagination;
use crate::api::params::NoParams;
use crate::api::respond::next_link;
use crate::app::AppState;
use crate::error::AppError;
use crate::http::negotiate::{self, Format};
use crate::middleware::caching;
use crate::models::plan_release;
use crate::models::registries;
use crate::models::releases::{self, PLAN, Release};

/// Paging of a release list (newest first).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReleaseListParams {
    /// Page size, 1 to 1000 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// Opaque cursor from the previous page.
    pub cursor: Option<String>,
}

/// A release with links to read it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseDto {
    #[serde(flatten)]
    pub release: Release,
    pub links: ReleaseLinks,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseLinks {
    #[serde(rename = "self")]
    pub self_link: String,
    /// The release's data, pinned (items for a registry, commitments for the plan).
    pub data: String,
    /// The canonical export the checksum covers (`sha256sum` of its bytes equals `sha256`).
    pub canonical: String,
    /// The change events this release made.
    pub changes: String,
}

impl ReleaseDto {
    fn new(release: Release) -> Self {
        let n = release.number;
        let links = match releases::registry_of(&release.dataset) {
            Some(slug) => ReleaseLinks {
                self_link: format!("/api/v1/registries/{slug}/releases/{n}"),
                data: format!("/api/v1/registries/{slug}/items?release={n}"),
                canonical: format!("/api/v1/registries/{slug}/items.ndjson?release={n}"),
                changes: format!("/api/v1/changes?dataset=registries/{slug}"),
            },
            None => ReleaseLinks {
                self_link: format!("/api/v1/plan/releases/{n}"),
                data: format!("/api/v1/commitments?release={n}"),
                canonical: format!("/api/v1/plan/releases/{n}/records"),
                changes: "/api/v1/changes?dataset=plan".into(),
            },
        };
        ReleaseDto { release, links }
    }
}

/// A page of releases, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseList {
    pub dataset: String,
    pub items: Vec<ReleaseDto>,
    /// Number of releases of the dataset.
    pub total: i64,
    pub limit: u32,
    pub next_cursor: Option<String>,
}

async fn list(
    req: &HttpRequest,
    state: &AppState,
    dataset: String,
    params: ReleaseListParams,
) -> Result<HttpResponse, AppError> {
    negotiate::from_accept(req, &[Format::Json])?;
    let limit = pagination::limit(params.limit.as_deref())?;
    let fingerprint = pagination::fingerprint(&format!("releases:{dataset}"), &[]);
    let before = params
        .cursor
        .as_deref()
        .map(|c| pagination::decode(c, &fingerprint))
        .transpose()?
        .map(|n| {
            n.parse::<i64>()
                .map_err(|_| AppError::invalid("cursor", "is not a release cursor"))
        })
        .transpose()?;
    let name = dataset.clone();
    let (mut rows, total) = state
        .read(move |conn| -> Result<_, AppError> {
            check_dataset(conn, &dataset)?;
            let rows = releases::list(conn, Some(&dataset), before, i64::from(limit) + 1)?;
            let total = releases::count(conn, &dataset)?;
            Ok((rows, total))
        })
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| rows.last())
        .flatten()
        .map(|r| pagination::encode(&r.number.to_string(), &fingerprint));
    let mut builder = HttpResponse::Ok();
    if let Some(c) = &next_cursor {
        builder.insert_header((
            header::LINK,
            format!("<{}>; rel=\"next\"", next_link(req, c)),
        ));
    }
    if let Some(latest) = rows.first().filter(|_| before.is_none()) {
        crate::http::release::stamp(&mut builder, latest);
    }
    Ok(builder.json(ReleaseList {
        dataset: name,
        items: rows.into_iter().map(ReleaseDto::new).collect(),
        total,
        limit,
        next_cursor,
    }))
}

/// 404 for a registry that does not exist (the plan always does).
fn check_dataset(conn: &mut crate::db::DbConn, dataset: &str) -> Result<(), AppError> {
    if let Some(slug) = releases::registry_of(dataset)
        && registries::find_schema(conn, slug)?.is_none()
    {
        return Err(AppError::NotFound(format!("no registry {slug:?}")));
    }
    Ok(())
}

async fn one(state: &AppState, dataset: String, number: i64) -> Result<HttpResponse, AppError> {
    let found = state
        .read(move |conn| -> Result<_, AppError> {
            check_dataset(conn, &dataset)?;
            Ok(releases::find_numbered(conn, &dataset, number)?)
        })
        .await?;
    let mut builder = HttpResponse::Ok();
    crate::http::release::stamp(&mut builder, &found);
    builder.insert_header((header::CACHE_CONTROL, caching::IMMUTABLE));
    Ok(builder.json(ReleaseDto::new(found)))
}

fn number(raw: &str) -> Result<i64, AppError> {
    crate::http::release::parse_param(Some(raw))?
        .ok_or_else(|| AppError::invalid("release", "missing"))
}

/// List the plan's releases.
///
/// Every change to the plan data (a fixture load, an edit) is a new numbered release with counts
/// of added, changed and removed records and a SHA-256 of its canonical export. Pass
/// `release=<number>` to any plan endpoint to read it as it was then.
#[utoipa::path(
    tag = "releases",
    params(ReleaseListParams),
    responses((status = 200, description = "Releases, newest first", body = ReleaseList)),
)]
#[get("/plan/releases")]
pub async fn list_plan_releases(
    req: HttpRequest,
    params: web::Query<ReleaseListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    list(&req, &state, PLAN.into(), params.into_inner()).await
}

/// Get one plan release.
#[utoipa::path(
    tag = "releases",
    params(("number" = i64, Path, description = "Release number", minimum = 1, example = 1), NoParams),
    responses((status = 200, description = "The release", body = ReleaseDto)),
)]
#[get("/plan/releases/{number}")]
pub async fn get_plan_release(
    path: web::Path<String>,
    _params: web::Query<NoParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    one(&state, PLAN.into(), number(&path)?).await
}

/// The plan's canonical export at one release.
///
/// NDJSON, one record per line in (type, id) order: `{"record_type", "record_id", "document"}`
/// where the type is the table (`commitments`, `milestones`, `localized_texts`, …) and the
/// document the row. `sha256sum` of these bytes equals the release's `sha256`.
#[utoipa::path(
    tag = "releases",
    params(("number" = i64, Path, description = "Release number", minimum = 1, example = 1), NoParams),
    responses((status = 200, description = "Every record of the release",
        body = String, content_type = "application/x-ndjson")),
)]
#[get("/plan/releases/{number}/records")]
pub async fn plan_release_records(
    path: web::Path<String>,
    _params: web::Query<NoParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let n = number(&path)?;
    let (found, records) = state
        .read(move |conn| -> Result<_, AppError> {
            let found = releases::find_numbered(conn, PLAN, n)?;
            Ok((found, plan_release::records_at(conn, n)?))
        })
        .await?;
    let mut builder = HttpResponse::Ok();
    crate::http::release::stamp(&mut builder, &found);
    builder.insert_header((header::CACHE_CONTROL, caching::IMMUTABLE));
    Ok(builder
        .content_type(Format::NdJson.media_type())
        .body(plan_release::canonical_lines(&records)))
}

/// List a registry's releases.
///
/// Every accepted import is a new numbered release with counts of added, changed and removed
/// items and the SHA-256 of `items.ndjson?release=<number>`.
#[utoipa::path(
    tag = "releases",
    params(
        ("slug" = String, Path, description = "Registry slug", example = "territorial-units"),
        ReleaseListParams,
    ),
    responses((status = 200, description = "Releases, newest first", body = ReleaseList)),
)]
#[get("/registries/{slug}/releases")]
pub async fn list_registry_releases(
    req: HttpRequest,
    path: web::Path<String>,
    params: web::Query<ReleaseListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let dataset = releases::registry_dataset(&path);
    list(&req, &state, dataset, params.into_inner()).await
}

/// Get one registry release.
#[utoipa::path(
    tag = "releases",
    params(
        ("slug" = String, Path, description = "Registry slug", example = "territorial-units"),
        ("number" = i64, Path, description = "Release number", minimum = 1, example = 1),
        NoParams,
    ),
    responses((status = 200, description = "The release", body = ReleaseDto)),
)]
#[get("/registries/{slug}/releases/{number}")]
pub async fn get_registry_release(
    path: web::Path<(String, String)>,
    _params: web::Query<NoParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (slug, raw) = path.into_inner();
    one(&state, releases::registry_dataset(&slug), number(&raw)?).await
}
