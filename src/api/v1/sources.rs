//! `/api/v1/sources`: the documents every fact comes from.

use std::collections::BTreeSet;

use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::api::dto::ListBody;
use crate::api::params::{list_params, record_params};
use crate::api::respond::CsvRecord;
use crate::api::v1::plan_collection::{
    self, FindFn, ListFn, ListQuery, PlanCollection, RecordQuery,
};
use crate::app::AppState;
use crate::error::AppError;
use crate::formats::csv::Cell;
use crate::http::negotiate::{Format, LangContext};
use crate::models::sources::{self, Source};

impl CsvRecord for Source {
    const HEADER: &'static [&'static str] = &[
        "id",
        "title",
        "url",
        "seed_file",
        "publisher",
        "lang",
        "excerpt_cut",
        "note",
    ];

    fn row(&self) -> Vec<Cell> {
        vec![
            Cell::text(&self.id),
            Cell::text(&self.title),
            Cell::opt_text(self.url.as_deref()),
            Cell::opt_text(self.seed_file.as_deref()),
            Cell::opt_text(self.publisher.as_deref()),
            Cell::text(&self.lang),
            Cell::text(if self.excerpt_cut { "true" } else { "false" }),
            Cell::opt_text(self.note.as_deref()),
        ]
    }
}

list_params! {
    pub struct ListSourcesParams {
        /// Read the plan data as it was at this plan release (see `/api/v1/plan/releases`);
        /// the answer never changes. Default: the latest release.
        #[param(value_type = Option<i64>, minimum = 1, example = 1)]
        pub release: Option<String>,
    }
}

record_params! {
    pub struct GetSourceParams {
        /// Read the plan data as it was at this plan release (see `/api/v1/plan/releases`);
        /// the answer never changes. Default: the latest release.
        #[param(value_type = Option<i64>, minimum = 1, example = 1)]
        pub release: Option<String>,
    }
}

/// The collection of sources: no filters and nothing to expand.
pub struct Sources;

impl PlanCollection for Sources {
    const SCOPE: &'static str = "sources";
    const NOUN: &'static str = "source";
    const EXPANDABLE: &'static [&'static str] = &[];

    type ListParams = ListSourcesParams;
    type GetParams = GetSourceParams;
    type Filter = ();
    type Expand = ();
    type Record = Source;
    type Wire = Source;

    const LIST: ListFn<(), (), Source> = |conn, _, page, _| sources::list(conn, page);
    const FIND: FindFn<(), Source> = |conn, id, _| sources::find(conn, id);
    const TO_WIRE: fn(&Source, &LangContext) -> Source = |source, _| source.clone();

    fn list_query(params: &ListSourcesParams) -> ListQuery<'_> {
        ListQuery {
            common: params.common(),
            release: params.release.as_deref(),
            expand: None,
            filters: vec![],
        }
    }

    fn record_query(params: &GetSourceParams) -> RecordQuery<'_> {
        RecordQuery {
            lang: params.lang.as_deref(),
            release: params.release.as_deref(),
            expand: None,
        }
    }

    fn filter(_: &ListSourcesParams) -> Result<(), AppError> {
        Ok(())
    }

    fn expansion(_: &BTreeSet<&str>) {}
}

/// List sources.
///
/// Every record in this API names its sources by id; this is the full list, with URLs, seed
/// files, language and whether only part of the document could be read.
#[utoipa::path(
    tag = "sources",
    params(ListSourcesParams),
    responses(
        (status = 200, description = "A page of sources",
            headers(("Link" = String, description = "`<url>; rel=\"next\"` when another page follows")),
            content((ListBody<Source> = "application/json"), (String = "text/csv"))),
    )
)]
#[get("/sources")]
pub async fn list_sources(
    req: HttpRequest,
    params: web::Query<ListSourcesParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    plan_collection::list::<Sources>(req, params.into_inner(), state, None).await
}

/// List sources as CSV.
///
/// Columns in this fixed order: `id, title, url, seed_file, publisher, lang, excerpt_cut, note`.
#[utoipa::path(
    tag = "sources",
    params(ListSourcesParams),
    responses(
        (status = 200, description = "A page of sources as CSV", body = String, content_type = "text/csv"),
    )
)]
#[get("/sources.csv")]
pub async fn list_sources_csv(
    req: HttpRequest,
    params: web::Query<ListSourcesParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    plan_collection::list::<Sources>(req, params.into_inner(), state, Some(Format::Csv)).await
}

/// Get one source.
#[utoipa::path(
    tag = "sources",
    params(
        ("source_id" = String, Path, description = "Source id", example = "ogp-plan-es"),
        GetSourceParams,
    ),
    responses((status = 200, description = "The source", body = Source)),
)]
#[get("/sources/{source_id}")]
pub async fn get_source(
    req: HttpRequest,
    path: web::Path<String>,
    params: web::Query<GetSourceParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    plan_collection::get::<Sources>(req, path.into_inner(), params.into_inner(), state).await
}
