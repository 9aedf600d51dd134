//! `/api/v1/commitments`: the plan's commitments with their OGP values and progress rollups.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::dto::classified_cell;
use crate::api::dto::{
    AssessmentDto, DateValue, InvolvementDto, ListBody, ProgressUpdateDto, RecordLinks, SourceRef,
    date, provenance, source_refs, text_cells,
};
use crate::api::params::{self, list_params, record_params};
use crate::api::respond::CsvRecord;
use crate::api::v1::milestones::MilestoneDto;
use crate::api::v1::plan_collection::{
    self, FindFn, ListFn, ListQuery, PlanCollection, RecordQuery,
};
use crate::app::AppState;
use crate::error::AppError;
use crate::formats::csv::{self, Cell};
use crate::http::negotiate::{Format, LangContext};
use crate::models::commitments::{self, Commitment, CommitmentExpand, CommitmentFilter};
use crate::models::lang::LocalizedText;
use crate::models::progress::Progress;
use crate::models::provenance::{FieldProvenance, FieldProvenances};
use crate::models::vocab::{OgpValue, Role};

/// A commitment of an action plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitmentDto {
    /// Our stable id (not OGP's; see `ogp_id`).
    #[schema(example = "khm-2021-2025-c2")]
    pub id: String,
    pub plan_id: String,
    /// Number of the commitment in the plan.
    pub number: i32,
    /// OGP's id, only where OGP confirms it (e.g. "UAKLY0003"); null otherwise.
    pub ogp_id: Option<String>,
    pub ogp_url: Option<String>,
    pub title: Option<LocalizedText>,
    /// "What is the public problem that the commitment will address?"
    pub problem: Option<LocalizedText>,
    /// "What is the commitment?"
    pub action: Option<LocalizedText>,
    /// What the commitment aims to achieve and how it contributes to the plan's vision.
    pub ambition: Option<LocalizedText>,
    pub strategic_goal: Option<LocalizedText>,
    /// Why the commitment is relevant to OGP values, as written.
    pub ogp_values_relevance: Option<LocalizedText>,
    pub ogp_values: Vec<OgpValue>,
    pub start_date: Option<DateValue>,
    pub end_date: Option<DateValue>,
    /// Milestones by status; `unknown` counts milestones no source reports on.
    pub progress: Progress,
    pub sources: Vec<SourceRef>,
    /// Where single fields come from when not simply from `sources`: `{"source": id}` for a
    /// field stated by one particular source, `{"classified": basis}` for the project's own
    /// classification (credited to no source). Keyed by member name.
    #[schema(value_type = BTreeMap<String, FieldProvenance>)]
    pub provenance: FieldProvenances,
    pub links: RecordLinks,
    /// With `expand=milestones`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestones: Option<Vec<MilestoneDto>>,
    /// With `expand=institutions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub institutions: Option<Vec<InvolvementDto>>,
    /// With `expand=assessments`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessments: Option<Vec<AssessmentDto>>,
    /// With `expand=progress_updates`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_updates: Option<Vec<ProgressUpdateDto>>,
}

impl CommitmentDto {
    pub fn new(c: &Commitment, ctx: &LangContext) -> Self {
        let id = &c.row.id;
        CommitmentDto {
            id: id.clone(),
            plan_id: c.row.action_plan_id.clone(),
            number: c.row.number,
            ogp_id: c.row.ogp_id.clone(),
            ogp_url: c.row.ogp_url.clone(),
            title: ctx.pick(&c.texts, "title"),
            problem: ctx.pick(&c.texts, "problem"),
            action: ctx.pick(&c.texts, "action"),
            ambition: ctx.pick(&c.texts, "ambition"),
            strategic_goal: ctx.pick(&c.texts, "strategic_goal"),
            ogp_values_relevance: ctx.pick(&c.texts, "ogp_values_relevance"),
            ogp_values: c.ogp_values.clone(),
            start_date: date(c.row.start_date.as_deref()),
            end_date: date(c.row.end_date.as_deref()),
            progress: c.progress,
            sources: source_refs(&c.sources),
            provenance: provenance(&c.fields, &[]),
            links: RecordLinks {
                self_link: format!("/api/v1/commitments/{id}"),
                related: BTreeMap::from([
                    ("plan", format!("/api/v1/plans/{}", c.row.action_plan_id)),
                    ("milestones", format!("/api/v1/milestones?commitment={id}")),
                    (
                        "institutions",
                        format!("/api/v1/institutions?commitment={id}"),
                    ),
                ]),
            },
            milestones: c
                .milestones
                .as_ref()
                .map(|ms| ms.iter().map(|m| MilestoneDto::new(m, ctx)).collect()),
            institutions: c
                .involvements
                .as_ref()
                .map(|is| is.iter().map(|i| InvolvementDto::new(i, ctx)).collect()),
            assessments: c
                .assessments
                .as_ref()
                .map(|a| a.iter().map(|a| AssessmentDto::new(a, ctx)).collect()),
            progress_updates: c
                .progress_updates
                .as_ref()
                .map(|u| u.iter().map(|u| ProgressUpdateDto::new(u, ctx)).collect()),
        }
    }
}

impl CsvRecord for CommitmentDto {
    const HEADER: &'static [&'static str] = &[
        "id",
        "plan_id",
        "number",
        "ogp_id",
        "title",
        "title_lang",
        "problem",
        "problem_lang",
        "action",
        "action_lang",
        "ogp_values",
        "start_date",
        "end_date",
        "milestones_total",
        "milestones_complete",
        "milestones_in_progress",
        "milestones_not_started",
        "milestones_unknown",
        "ogp_url",
        "source_ids",
        "source_urls",
        "classified_fields",
    ];

    fn row(&self) -> Vec<Cell> {
        let [title, title_lang] = text_cells(&self.title);
        let [problem, problem_lang] = text_cells(&self.problem);
        let [action, action_lang] = text_cells(&self.action);
        vec![
            Cell::text(&self.id),
            Cell::text(&self.plan_id),
            Cell::number(self.number),
            Cell::opt_text(self.ogp_id.as_deref()),
            title,
            title_lang,
            problem,
            problem_lang,
            action,
            action_lang,
            Cell::text(csv::join(self.ogp_values.iter().map(|v| v.as_str()))),
            Cell::opt_text(self.start_date.as_ref().map(|d| d.value.as_str())),
            Cell::opt_text(self.end_date.as_ref().map(|d| d.value.as_str())),
            Cell::number(self.progress.milestones_total),
            Cell::number(self.progress.complete),
            Cell::number(self.progress.in_progress),
            Cell::number(self.progress.not_started),
            Cell::number(self.progress.unknown),
            Cell::opt_text(self.ogp_url.as_deref()),
            Cell::text(csv::join(self.sources.iter().map(|s| s.id.as_str()))),
            Cell::text(csv::join(
                self.sources.iter().filter_map(|s| s.url.as_deref()),
            )),
            classified_cell(&self.provenance),
        ]
    }
}

list_params! {
    pub struct ListCommitmentsParams {
        /// Read the plan data as it was at this plan release (see `/api/v1/plan/releases`);
        /// the answer never changes. Default: the latest release.
        #[param(value_type = Option<i64>, minimum = 1, example = 1)]
        pub release: Option<String>,
        /// Only commitments of this action plan (id).
        #[param(example = "khm-2021-2025")]
        pub plan: Option<String>,
        /// Only commitments relevant to this OGP value.
        #[param(value_type = Option<OgpValue>)]
        pub ogp_value: Option<String>,
        /// Only commitments this institution (id) is involved in, directly or through a milestone.
        #[param(example = "spetskomuntrans")]
        pub institution: Option<String>,
        /// Only involvements in this role (combined with `institution`), or commitments with any
        /// institution in this role.
        #[param(value_type = Option<Role>)]
        pub role: Option<String>,
        /// Related records to embed (JSON only), comma-separated:
        /// `milestones`, `institutions`, `assessments`, `progress_updates`.
        #[param(example = "milestones,assessments")]
        pub expand: Option<String>,
    }
}

record_params! {
    pub struct GetCommitmentParams {
        /// Read the plan data as it was at this plan release (see `/api/v1/plan/releases`);
        /// the answer never changes. Default: the latest release.
        #[param(value_type = Option<i64>, minimum = 1, example = 1)]
        pub release: Option<String>,
        /// Related records to embed, comma-separated:
        /// `milestones`, `institutions`, `assessments`, `progress_updates`.
        #[param(example = "milestones")]
        pub expand: Option<String>,
    }
}

/// The collection of commitments.
pub struct Commitments;

impl PlanCollection for Commitments {
    const SCOPE: &'static str = "commitments";
    const NOUN: &'static str = "commitment";
    const EXPANDABLE: &'static [&'static str] = &[
        "milestones",
        "institutions",
        "assessments",
        "progress_updates",
    ];

    type ListParams = ListCommitmentsParams;
    type GetParams = GetCommitmentParams;
    type Filter = CommitmentFilter;
    type Expand = CommitmentExpand;
    type Record = Commitment;
    type Wire = CommitmentDto;

    const LIST: ListFn<Self::Filter, Self::Expand, Commitment> = commitments::list;
    const FIND: FindFn<Self::Expand, Commitment> = commitments::find;
    const TO_WIRE: fn(&Commitment, &LangContext) -> CommitmentDto = CommitmentDto::new;

    fn list_query(params: &ListCommitmentsParams) -> ListQuery<'_> {
        ListQuery {
            common: params.common(),
            release: params.release.as_deref(),
            expand: params.expand.as_deref(),
            filters: vec![
                ("plan", params.plan.as_deref()),
                ("ogp_value", params.ogp_value.as_deref()),
                ("institution", params.institution.as_deref()),
                ("role", params.role.as_deref()),
            ],
        }
    }

    fn record_query(params: &GetCommitmentParams) -> RecordQuery<'_> {
        RecordQuery {
            lang: params.lang.as_deref(),
            release: params.release.as_deref(),
            expand: params.expand.as_deref(),
        }
    }

    fn filter(params: &ListCommitmentsParams) -> Result<CommitmentFilter, AppError> {
        Ok(CommitmentFilter {
            plan_id: params::id("plan", params.plan.as_deref())?,
            ogp_value: params::parse("ogp_value", params.ogp_value.as_deref())?,
            institution_id: params::id("institution", params.institution.as_deref())?,
            role: params::parse("role", params.role.as_deref())?,
        })
    }

    fn expansion(chosen: &BTreeSet<&str>) -> CommitmentExpand {
        CommitmentExpand {
            milestones: chosen.contains("milestones"),
            institutions: chosen.contains("institutions"),
            assessments: chosen.contains("assessments"),
            progress_updates: chosen.contains("progress_updates"),
        }
    }
}

/// List commitments.
///
/// Ordered by id. Filter by plan, OGP value, institution or role; embed related records with
/// `expand`. The same list is available as CSV at `/api/v1/commitments.csv`, with `?format=csv`
/// or `Accept: text/csv`.
#[utoipa::path(
    tag = "commitments",
    params(ListCommitmentsParams),
    responses(
        (status = 200, description = "A page of commitments",
            headers(
                ("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"),
                ("Content-Language" = String, description = "Languages of the texts in the body"),
                ("X-Total-Count" = i64, description = "Records matching the filters"),
            ),
            content(
                (ListBody<CommitmentDto> = "application/json"),
                (String = "text/csv", example = "id,plan_id,number,ogp_id,title,title_lang,…\r\n"),
            )
        ),
    )
)]
#[get("/commitments")]
pub async fn list_commitments(
    req: HttpRequest,
    params: web::Query<ListCommitmentsParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    plan_collection::list::<Commitments>(req, params.into_inner(), state, None).await
}

/// List commitments as CSV.
///
/// RFC 4180, UTF-8, CRLF line ends, one row per commitment, columns in this fixed order:
/// `id, plan_id, number, ogp_id, title, title_lang, problem, problem_lang, action, action_lang,
/// ogp_values, start_date, end_date, milestones_total, milestones_complete,
/// milestones_in_progress, milestones_not_started, milestones_unknown, ogp_url, source_ids,
/// source_urls, classified_fields`. `classified_fields` names the fields whose value is the
/// project's own classification (the JSON `provenance` member says what each is based on).
/// Lists inside a cell are separated by `; `. Text cells starting with `=`, `+`, `-`, `@`, tab or
/// carriage return are prefixed with `'` so spreadsheets do not run them as formulas.
#[utoipa::path(
    tag = "commitments",
    params(ListCommitmentsParams),
    responses(
        (status = 200, description = "A page of commitments as CSV", body = String,
            content_type = "text/csv",
            headers(("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"))),
    )
)]
#[get("/commitments.csv")]
pub async fn list_commitments_csv(
    req: HttpRequest,
    params: web::Query<ListCommitmentsParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    plan_collection::list::<Commitments>(req, params.into_inner(), state, Some(Format::Csv)).await
}

/// Get one commitment.
#[utoipa::path(
    tag = "commitments",
    params(
        ("commitment_id" = String, Path, description = "Commitment id", example = "khm-2021-2025-c2"),
        GetCommitmentParams,
    ),
    responses(
        (status = 200, description = "The commitment", body = CommitmentDto,
            headers(("Content-Language" = String, description = "Languages of the texts in the body"))),
    )
)]
#[get("/commitments/{commitment_id}")]
pub async fn get_commitment(
    req: HttpRequest,
    path: web::Path<String>,
    params: web::Query<GetCommitmentParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    plan_collection::get::<Commitments>(req, path.into_inner(), params.into_inner(), state).await
}
