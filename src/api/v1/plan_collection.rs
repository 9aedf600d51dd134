//! The three read operations every plan collection offers (list, list as CSV, get one), written
//! once. Each collection says how its parameters become a filter and an expansion, which model
//! functions read it and how a record goes on the wire; its handler functions keep their routes
//! and OpenAPI documentation and call `list` or `get`.

use std::collections::BTreeSet;

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::QueryResult;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::params;
use crate::api::respond::{self, CommonParams, CsvRecord, Listing};
use crate::app::AppState;
use crate::db::DbConn;
use crate::error::AppError;
use crate::http::negotiate::{self, Format, LangContext};
use crate::models::{Page, PageRequest};

/// The parameters of a list request that every plan collection treats alike.
pub struct ListQuery<'a> {
    pub common: CommonParams<'a>,
    pub release: Option<&'a str>,
    pub expand: Option<&'a str>,
    /// The filter parameters as given, which a cursor must repeat.
    pub filters: Vec<(&'static str, Option<&'a str>)>,
}

/// The parameters of a single-record request that every plan collection treats alike.
pub struct RecordQuery<'a> {
    pub lang: Option<&'a str>,
    pub release: Option<&'a str>,
    pub expand: Option<&'a str>,
}

/// A model's `list`: the page of records matching a filter, with the lists `Expand` embeds.
pub type ListFn<Filter, Expand, Record> =
    fn(&mut DbConn, &Filter, &PageRequest, Expand) -> QueryResult<Page<Record>>;

/// A model's `find`: the record with this id, with the lists `Expand` embeds.
pub type FindFn<Expand, Record> = fn(&mut DbConn, &str, Expand) -> QueryResult<Option<Record>>;

/// A collection of the plan data, read at a plan release.
pub trait PlanCollection {
    /// Names the collection in its cursors.
    const SCOPE: &'static str;
    /// Names a record in the 404 answer: "no {NOUN} with id …".
    const NOUN: &'static str;
    /// The related lists `expand` may embed.
    const EXPANDABLE: &'static [&'static str];

    type ListParams;
    type GetParams;
    type Filter: Send + 'static;
    type Expand: Copy + Send + 'static;
    type Record: Send + 'static;
    type Wire: Serialize + ToSchema + CsvRecord;

    /// The model's page of records.
    const LIST: ListFn<Self::Filter, Self::Expand, Self::Record>;
    /// The model's record by id.
    const FIND: FindFn<Self::Expand, Self::Record>;
    /// The record as the wire shows it, texts in the chosen language.
    const TO_WIRE: fn(&Self::Record, &LangContext) -> Self::Wire;

    fn list_query(params: &Self::ListParams) -> ListQuery<'_>;
    fn record_query(params: &Self::GetParams) -> RecordQuery<'_>;
    /// The model filter, refusing values that do not parse.
    fn filter(params: &Self::ListParams) -> Result<Self::Filter, AppError>;
    /// The embedded lists asked for, from the names `expand` chose.
    fn expansion(chosen: &BTreeSet<&str>) -> Self::Expand;
}

/// A page of the collection as JSON or CSV (`extension` when the path chose the format).
pub async fn list<C: PlanCollection>(
    req: HttpRequest,
    params: C::ListParams,
    state: web::Data<AppState>,
    extension: Option<Format>,
) -> Result<HttpResponse, AppError> {
    let query = C::list_query(&params);
    let listing = Listing::new(&req, C::SCOPE, extension, query.common, &query.filters)?;
    let chosen = params::expand(query.expand, C::EXPANDABLE)?;
    params::no_expand_in_csv(&chosen, listing.format)?;
    let filter = C::filter(&params)?;
    let (page, expand) = (listing.page.clone(), C::expansion(&chosen));
    let found = state
        .read_plan(
            crate::http::release::parse_param(query.release)?,
            move |conn| (C::LIST)(conn, &filter, &page, expand),
        )
        .await?;
    listing.respond(&req, found.0, &found.1, C::TO_WIRE)
}

/// One record of the collection as JSON, or 404.
pub async fn get<C: PlanCollection>(
    req: HttpRequest,
    id: String,
    params: C::GetParams,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    negotiate::from_accept(&req, &[Format::Json])?;
    let query = C::record_query(&params);
    let ctx = LangContext::new(negotiate::language(&req, query.lang)?);
    let expand = C::expansion(&params::expand(query.expand, C::EXPANDABLE)?);
    let lookup = id.clone();
    let found = state
        .read_plan(
            crate::http::release::parse_param(query.release)?,
            move |conn| (C::FIND)(conn, &lookup, expand),
        )
        .await?;
    respond::found(
        &ctx,
        found,
        || format!("no {} with id {id:?}", C::NOUN),
        C::TO_WIRE,
    )
}
