//! `/api/v1/milestones`: the steps of each commitment, their status and due dates.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::auth::Authenticated;
use crate::api::dto::classified_cell;
use crate::api::dto::{
    DateValue, InvolvementDto, ListBody, ProgressUpdateDto, RecordLinks, SourceRef, date,
    provenance, source_refs, text_cells,
};
use crate::api::params::{self, list_params, record_params};
use crate::api::respond::CsvRecord;
use crate::api::v1::plan_collection::{
    self, FindFn, ListFn, ListQuery, PlanCollection, RecordQuery,
};
use crate::api::write_bodies;
use crate::api::write_bodies::read_body;
use crate::app::AppState;
use crate::error::AppError;
use crate::formats::csv::{self, Cell};
use crate::http::negotiate::{Format, LangContext};
use crate::models::lang::LocalizedText;
use crate::models::milestones::{self, Milestone, MilestoneExpand, MilestoneFilter, StatusFilter};
use crate::models::partial_date::PartialDate;
use crate::models::plan_edits::{self, EditError, Edited, ReadRelease};
use crate::models::provenance::{FieldProvenance, FieldProvenances};
use crate::models::releases::PLAN;
use crate::models::vocab::{MilestoneStatus, parse_stored};

/// A milestone of a commitment.
#[derive(Debug, Serialize, ToSchema)]
pub struct MilestoneDto {
    #[schema(example = "khm-2021-2025-c2-m2")]
    pub id: String,
    pub commitment_id: String,
    /// Position within the commitment.
    pub seq: i32,
    pub title: Option<LocalizedText>,
    /// null when no source reports the status (unknown is never guessed).
    pub status: Option<MilestoneStatus>,
    /// The source that reports the status.
    pub status_source: Option<SourceRef>,
    pub start_date: Option<DateValue>,
    pub due_date: Option<DateValue>,
    pub sources: Vec<SourceRef>,
    /// Where single fields come from when not simply from `sources`: `{"source": id}` for a
    /// field stated by one particular source, `{"classified": basis}` for the project's own
    /// classification (credited to no source). Keyed by member name.
    #[schema(value_type = BTreeMap<String, FieldProvenance>)]
    pub provenance: FieldProvenances,
    pub links: RecordLinks,
    /// With `expand=institutions`: institutions involved in this milestone itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub institutions: Option<Vec<InvolvementDto>>,
    /// With `expand=progress_updates`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_updates: Option<Vec<ProgressUpdateDto>>,
}

impl MilestoneDto {
    pub fn new(m: &Milestone, ctx: &LangContext) -> Self {
        MilestoneDto {
            id: m.row.id.clone(),
            commitment_id: m.row.commitment_id.clone(),
            seq: m.row.seq,
            title: ctx.pick(&m.texts, "title"),
            status: parse_stored(m.row.status.as_deref()),
            status_source: m.status_source.as_ref().map(SourceRef::from),
            start_date: date(m.row.start_date.as_deref()),
            due_date: date(m.row.due_date.as_deref()),
            sources: source_refs(&m.sources),
            provenance: provenance(&m.fields, &[]),
            links: RecordLinks {
                self_link: format!("/api/v1/milestones/{}", m.row.id),
                related: BTreeMap::from([(
                    "commitment",
                    format!("/api/v1/commitments/{}", m.row.commitment_id),
                )]),
            },
            institutions: m
                .involvements
                .as_ref()
                .map(|is| is.iter().map(|i| InvolvementDto::new(i, ctx)).collect()),
            progress_updates: m
                .progress_updates
                .as_ref()
                .map(|u| u.iter().map(|u| ProgressUpdateDto::new(u, ctx)).collect()),
        }
    }
}

impl CsvRecord for MilestoneDto {
    const HEADER: &'static [&'static str] = &[
        "id",
        "commitment_id",
        "seq",
        "title",
        "title_lang",
        "status",
        "status_source_url",
        "start_date",
        "due_date",
        "source_ids",
        "source_urls",
        "classified_fields",
    ];

    fn row(&self) -> Vec<Cell> {
        let [title, title_lang] = text_cells(&self.title);
        vec![
            Cell::text(&self.id),
            Cell::text(&self.commitment_id),
            Cell::number(self.seq),
            title,
            title_lang,
            Cell::opt_text(self.status.map(|s| s.as_str())),
            Cell::opt_text(self.status_source.as_ref().and_then(|s| s.url.as_deref())),
            Cell::opt_text(self.start_date.as_ref().map(|d| d.value.as_str())),
            Cell::opt_text(self.due_date.as_ref().map(|d| d.value.as_str())),
            Cell::text(csv::join(self.sources.iter().map(|s| s.id.as_str()))),
            Cell::text(csv::join(
                self.sources.iter().filter_map(|s| s.url.as_deref()),
            )),
            classified_cell(&self.provenance),
        ]
    }
}

/// Milestone status filter values: a status, or `unknown` for milestones no source reports on.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Documentation only: parsed by `status_filter`.
pub enum StatusFilterName {
    NotStarted,
    InProgress,
    Complete,
    Unknown,
}

list_params! {
    pub struct ListMilestonesParams {
        /// Read the plan data as it was at this plan release (see `/api/v1/plan/releases`);
        /// the answer never changes. Default: the latest release.
        #[param(value_type = Option<i64>, minimum = 1, example = 1)]
        pub release: Option<String>,
        /// Only milestones of this commitment (id).
        #[param(example = "khm-2021-2025-c2")]
        pub commitment: Option<String>,
        /// Only milestones of this action plan (id).
        #[param(example = "khm-2021-2025")]
        pub plan: Option<String>,
        /// Only milestones this institution (id) is involved in, directly or through the
        /// milestone's commitment.
        pub institution: Option<String>,
        /// Only milestones with this status; `unknown` selects those no source reports on.
        #[param(value_type = Option<StatusFilterName>)]
        pub status: Option<String>,
        /// Due on or after this date (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`; a partial date means its
        /// first day). A milestone due "2025-08" matches when any day of August 2025 does.
        #[param(example = "2022-01-01")]
        pub due_from: Option<String>,
        /// Due on or before this date (a partial date means its last day).
        #[param(example = "2025-08")]
        pub due_to: Option<String>,
        /// Related records to embed (JSON only), comma-separated: `institutions`, `progress_updates`.
        pub expand: Option<String>,
    }
}

record_params! {
    pub struct GetMilestoneParams {
        /// Read the plan data as it was at this plan release (see `/api/v1/plan/releases`);
        /// the answer never changes. Default: the latest release.
        #[param(value_type = Option<i64>, minimum = 1, example = 1)]
        pub release: Option<String>,
        /// Related records to embed, comma-separated: `institutions`, `progress_updates`.
        pub expand: Option<String>,
    }
}

fn status_filter(raw: Option<&str>) -> Result<Option<StatusFilter>, AppError> {
    match raw {
        None => Ok(None),
        Some("unknown") => Ok(Some(StatusFilter::Unknown)),
        Some(other) => other
            .parse::<MilestoneStatus>()
            .map(|s| Some(StatusFilter::Is(s)))
            .map_err(|e| AppError::invalid("status", format!("{e}, unknown"))),
    }
}

fn day(name: &str, raw: Option<&str>, last: bool) -> Result<Option<NaiveDate>, AppError> {
    Ok(params::parse::<PartialDate>(name, raw)?
        .map(|d| if last { d.latest() } else { d.earliest() }))
}

/// The collection of milestones.
pub struct Milestones;

impl PlanCollection for Milestones {
    const SCOPE: &'static str = "milestones";
    const NOUN: &'static str = "milestone";
    const EXPANDABLE: &'static [&'static str] = &["institutions", "progress_updates"];

    type ListParams = ListMilestonesParams;
    type GetParams = GetMilestoneParams;
    type Filter = MilestoneFilter;
    type Expand = MilestoneExpand;
    type Record = Milestone;
    type Wire = MilestoneDto;

    const LIST: ListFn<Self::Filter, Self::Expand, Milestone> = milestones::list;
    const FIND: FindFn<Self::Expand, Milestone> = milestones::find;
    const TO_WIRE: fn(&Milestone, &LangContext) -> MilestoneDto = MilestoneDto::new;

    fn list_query(params: &ListMilestonesParams) -> ListQuery<'_> {
        ListQuery {
            common: params.common(),
            release: params.release.as_deref(),
            expand: params.expand.as_deref(),
            filters: vec![
                ("commitment", params.commitment.as_deref()),
                ("plan", params.plan.as_deref()),
                ("institution", params.institution.as_deref()),
                ("status", params.status.as_deref()),
                ("due_from", params.due_from.as_deref()),
                ("due_to", params.due_to.as_deref()),
            ],
        }
    }

    fn record_query(params: &GetMilestoneParams) -> RecordQuery<'_> {
        RecordQuery {
            lang: params.lang.as_deref(),
            release: params.release.as_deref(),
            expand: params.expand.as_deref(),
        }
    }

    fn filter(params: &ListMilestonesParams) -> Result<MilestoneFilter, AppError> {
        let filter = MilestoneFilter {
            plan_id: params::id("plan", params.plan.as_deref())?,
            commitment_id: params::id("commitment", params.commitment.as_deref())?,
            institution_id: params::id("institution", params.institution.as_deref())?,
            status: status_filter(params.status.as_deref())?,
            due_from: day("due_from", params.due_from.as_deref(), false)?,
            due_to: day("due_to", params.due_to.as_deref(), true)?,
        };
        if let (Some(from), Some(to)) = (filter.due_from, filter.due_to)
            && from > to
        {
            return Err(AppError::invalid(
                "due_to",
                format!("{to} is before due_from {from}"),
            ));
        }
        Ok(filter)
    }

    fn expansion(chosen: &BTreeSet<&str>) -> MilestoneExpand {
        MilestoneExpand {
            institutions: chosen.contains("institutions"),
            progress_updates: chosen.contains("progress_updates"),
        }
    }
}

/// List milestones.
///
/// Ordered by id. Filter by commitment, plan, institution, status (including `unknown`) and due
/// date range. Also as CSV at `/api/v1/milestones.csv`, `?format=csv` or `Accept: text/csv`.
#[utoipa::path(
    tag = "milestones",
    params(ListMilestonesParams),
    responses(
        (status = 200, description = "A page of milestones",
            headers(
                ("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"),
                ("Content-Language" = String, description = "Languages of the texts in the body"),
                ("X-Total-Count" = i64, description = "Records matching the filters"),
            ),
            content(
                (ListBody<MilestoneDto> = "application/json"),
                (String = "text/csv"),
            )
        ),
    )
)]
#[get("/milestones")]
pub async fn list_milestones(
    req: HttpRequest,
    params: web::Query<ListMilestonesParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    plan_collection::list::<Milestones>(req, params.into_inner(), state, None).await
}

/// List milestones as CSV.
///
/// RFC 4180, UTF-8, one row per milestone, columns in this fixed order: `id, commitment_id, seq,
/// title, title_lang, status, status_source_url, start_date, due_date, source_ids, source_urls,
/// classified_fields`. An empty
/// `status` means unknown. Text cells that a spreadsheet would run as a formula are prefixed
/// with `'`.
#[utoipa::path(
    tag = "milestones",
    params(ListMilestonesParams),
    responses(
        (status = 200, description = "A page of milestones as CSV", body = String, content_type = "text/csv",
            headers(("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"))),
    )
)]
#[get("/milestones.csv")]
pub async fn list_milestones_csv(
    req: HttpRequest,
    params: web::Query<ListMilestonesParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    plan_collection::list::<Milestones>(req, params.into_inner(), state, Some(Format::Csv)).await
}

/// Get one milestone.
#[utoipa::path(
    tag = "milestones",
    params(
        ("milestone_id" = String, Path, description = "Milestone id", example = "khm-2021-2025-c2-m2"),
        GetMilestoneParams,
    ),
    responses(
        (status = 200, description = "The milestone", body = MilestoneDto,
            headers(("Content-Language" = String, description = "Languages of the texts in the body"))),
    )
)]
#[get("/milestones/{milestone_id}")]
pub async fn get_milestone(
    req: HttpRequest,
    path: web::Path<String>,
    params: web::Query<GetMilestoneParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    plan_collection::get::<Milestones>(req, path.into_inner(), params.into_inner(), state).await
}

/// What a write to a milestone did.
#[derive(Debug, Serialize, ToSchema)]
pub struct MilestoneWritten {
    pub milestone_id: String,
    /// The progress update the write created, if any.
    pub progress_update_id: Option<String>,
    /// The plan release the write published.
    pub release: Option<crate::models::releases::Release>,
    /// Where to read the milestone now.
    pub milestone_url: String,
}

fn written(edited: Edited) -> MilestoneWritten {
    MilestoneWritten {
        milestone_url: format!("/api/v1/milestones/{}", edited.milestone_id),
        milestone_id: edited.milestone_id,
        progress_update_id: edited.progress_update_id,
        release: edited.release,
    }
}

fn edit_error(e: EditError) -> AppError {
    match e {
        EditError::NotFound(id) => AppError::NotFound(format!("no milestone with id {id:?}")),
        EditError::Conflict(detail) => AppError::PreconditionFailed(detail),
        EditError::Database(e) => e.into(),
    }
}

fn respond_written(edited: Edited, status: actix_web::http::StatusCode) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    if let Some(r) = &edited.release {
        crate::http::release::stamp(&mut response, r);
    }
    if let Some(update) = &edited.progress_update_id
        && status == actix_web::http::StatusCode::CREATED
    {
        response.insert_header((
            actix_web::http::header::LOCATION,
            format!(
                "/api/v1/milestones/{}?expand=progress_updates#{update}",
                edited.milestone_id
            ),
        ));
    }
    response.json(written(edited))
}

/// Update a milestone's status and/or completion, with evidence (scope `plan:write`).
///
/// Every evidence link becomes a source of the milestone (and of its status). A completion or
/// note is recorded as a progress update. The write publishes the next plan release, so it appears
/// in `/api/v1/changes` and the Atom feeds, and is audited. With `If-Match` (an ETag from a read
/// of the plan, e.g. `GET /api/v1/milestones/{id}`), the write is refused with 412 when the
/// milestone changed after the release that ETag names.
#[utoipa::path(
    tag = "milestones",
    params(("milestone_id" = String, Path, description = "Milestone id", example = "khm-2021-2025-c2-m2"),
        ("If-Match" = Option<String>, Header, description = "ETag of the copy the change is based on")),
    request_body = write_bodies::MilestonePatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated; the plan release it published", body = MilestoneWritten),
    )
)]
#[patch(
    "/milestones/{milestone_id}",
    wrap = "actix_web::middleware::from_fn(crate::api::auth::plan_writer)"
)]
pub async fn update_milestone(
    req: HttpRequest,
    path: web::Path<String>,
    auth: Authenticated,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let actor = auth.0.label();
    let body = read_body(&req, payload, state.limits.max_body_bytes).await?;
    let edit = write_bodies::milestone_edit(&req, &body)?;
    let read = crate::api::release::if_match(&req, PLAN)?.map(ReadRelease);
    let id = path.into_inner();
    let edited = state
        .on_primary(move |conn| -> Result<_, AppError> {
            plan_edits::update_milestone(conn, &actor, &id, &edit, read).map_err(edit_error)
        })
        .await?;
    Ok(respond_written(edited, actix_web::http::StatusCode::OK))
}

/// Add a progress update to a milestone, with evidence (scope `plan:write`).
///
/// Publishes the next plan release and is audited, like every write. `If-Match` as for
/// `PATCH /milestones/{id}`.
#[utoipa::path(
    tag = "milestones",
    params(("milestone_id" = String, Path, description = "Milestone id", example = "khm-2021-2025-c2-m2"),
        ("If-Match" = Option<String>, Header, description = "ETag of the copy the update is based on")),
    request_body = write_bodies::ProgressUpdateBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; the plan release it published", body = MilestoneWritten,
            headers(("Location" = String, description = "The milestone with its progress updates"))),
    )
)]
#[post(
    "/milestones/{milestone_id}/progress-updates",
    wrap = "actix_web::middleware::from_fn(crate::api::auth::plan_writer)"
)]
pub async fn add_progress_update(
    req: HttpRequest,
    path: web::Path<String>,
    auth: Authenticated,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let actor = auth.0.label();
    let body = read_body(&req, payload, state.limits.max_body_bytes).await?;
    let update = write_bodies::progress_update(&req, &body)?;
    let read = crate::api::release::if_match(&req, PLAN)?.map(ReadRelease);
    let id = path.into_inner();
    let edited = state
        .on_primary(move |conn| -> Result<_, AppError> {
            plan_edits::add_progress_update(conn, &actor, &id, &update, read).map_err(edit_error)
        })
        .await?;
    Ok(respond_written(
        edited,
        actix_web::http::StatusCode::CREATED,
    ))
}
