//! `/api/v1/plans`: action plans with their member, co-creation facts and progress rollup.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::dto::classified_cell;
use crate::api::dto::{
    DateValue, InvolvementDto, ListBody, ProgressUpdateDto, RecordLinks, SourceRef, date,
    provenance, source_refs, text_cells,
};
use crate::api::params::{self, list_params, record_params};
use crate::api::respond::CsvRecord;
use crate::api::v1::commitments::CommitmentDto;
use crate::api::v1::plan_collection::{
    self, FindFn, ListFn, ListQuery, PlanCollection, RecordQuery,
};
use crate::app::AppState;
use crate::error::AppError;
use crate::formats::csv::{self, Cell};
use crate::http::negotiate::{Format, LangContext};
use crate::models::lang::LocalizedText;
use crate::models::plans::{self, Member, Plan, PlanExpand, PlanFilter};
use crate::models::progress::Progress;
use crate::models::provenance::{FieldProvenance, FieldProvenances};
use crate::models::vocab::{Channel, CountQualifier, OversightBodyStatus, parse_stored};

/// Stored plan fields that the wire nests (their `provenance` keys are the members' paths).
const PLAN_MEMBERS: &[(&str, &str)] = &[
    ("member_id", "member"),
    ("participant_groups", "co_creation.participant_groups"),
    ("public_meetings", "co_creation.public_meetings"),
    ("invitations", "co_creation.invitations.count"),
    ("invitations_qualifier", "co_creation.invitations.qualifier"),
    ("oversight_body_status", "co_creation.oversight_body.status"),
];

/// The OGP member (jurisdiction) a plan belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDto {
    #[schema(example = "khmelnytskyi-ukraine")]
    pub id: String,
    pub name: Option<LocalizedText>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// `local` (OGP Local) or `national`.
    pub ogp_track: String,
    pub joined_year: Option<i32>,
    /// Ukraine's KATOTTG code of the territorial community.
    #[schema(example = "UA68040470000053519")]
    pub katottg: Option<String>,
    /// Legacy KOATUU code.
    pub koatuu: Option<String>,
    pub ogp_url: Option<String>,
    pub sources: Vec<SourceRef>,
    /// Where single fields come from when not simply from `sources`: `{"source": id}` for a
    /// field stated by one particular source, `{"classified": basis}` for the project's own
    /// classification (credited to no source). Keyed by member name.
    #[schema(value_type = BTreeMap<String, FieldProvenance>)]
    pub provenance: FieldProvenances,
}

impl MemberDto {
    fn new(m: &Member, ctx: &LangContext) -> Self {
        MemberDto {
            id: m.row.id.clone(),
            name: ctx.pick(&m.texts, "name"),
            country: m.row.country.clone(),
            ogp_track: m.row.ogp_track.clone(),
            joined_year: m.row.joined_year,
            katottg: m.row.katottg.clone(),
            koatuu: m.row.koatuu.clone(),
            ogp_url: m.row.ogp_url.clone(),
            sources: source_refs(&m.sources),
            provenance: provenance(&m.fields, &[]),
        }
    }
}

/// A space used to co-create or implement the plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpaceDto {
    pub id: String,
    pub name: Option<LocalizedText>,
    /// null when the source does not say whether the space is online or offline.
    pub channel: Option<Channel>,
    pub institution_id: Option<String>,
    pub sources: Vec<SourceRef>,
    /// Where single fields come from when not simply from `sources`: `{"source": id}` for a
    /// field stated by one particular source, `{"classified": basis}` for the project's own
    /// classification (credited to no source). Keyed by member name.
    #[schema(value_type = BTreeMap<String, FieldProvenance>)]
    pub provenance: FieldProvenances,
}

/// A non-governmental endorsement of the plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndorsementDto {
    pub id: String,
    /// The endorser's name as written in the source.
    pub endorser: String,
    pub affiliation: Option<LocalizedText>,
    pub institution_id: Option<String>,
    pub sources: Vec<SourceRef>,
    /// Where single fields come from when not simply from `sources`: `{"source": id}` for a
    /// field stated by one particular source, `{"classified": basis}` for the project's own
    /// classification (credited to no source). Keyed by member name.
    #[schema(value_type = BTreeMap<String, FieldProvenance>)]
    pub provenance: FieldProvenances,
}

/// A reported count and how exact it is ("more than 30").
#[derive(Debug, Serialize, ToSchema)]
pub struct CountDto {
    pub count: i32,
    pub qualifier: Option<CountQualifier>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OversightBodyDto {
    pub status: Option<OversightBodyStatus>,
    pub description: Option<LocalizedText>,
}

/// How the plan was co-created.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoCreationDto {
    pub participant_groups: Option<i32>,
    pub public_meetings: Option<i32>,
    pub invitations: Option<CountDto>,
    /// Who took part, as written.
    pub participants: Option<LocalizedText>,
    pub diversity_measures: Option<LocalizedText>,
    pub spaces: Vec<SpaceDto>,
    pub endorsements: Vec<EndorsementDto>,
    pub oversight_body: OversightBodyDto,
}

/// An OGP action plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanDto {
    #[schema(example = "khm-2021-2025")]
    pub id: String,
    /// OGP's id of the plan; null while unconfirmed.
    pub ogp_id: Option<String>,
    pub member: Option<MemberDto>,
    pub title: Option<LocalizedText>,
    pub year_of_submission: Option<i32>,
    pub date_submitted: Option<DateValue>,
    pub end_date: Option<DateValue>,
    /// The period named by the local approval decision, when it differs from OGP's.
    pub locally_approved_period: Option<String>,
    /// The lead institutions as OGP prints them (see `expand=institutions` for the records).
    pub lead_institution_text: Option<LocalizedText>,
    pub description: Option<LocalizedText>,
    pub vision: Option<LocalizedText>,
    pub achievements: Option<LocalizedText>,
    pub challenges: Option<LocalizedText>,
    pub legal_basis: Option<LocalizedText>,
    pub coordination: Option<LocalizedText>,
    pub monitoring: Option<LocalizedText>,
    pub co_creation: CoCreationDto,
    /// Milestones of all commitments by status.
    pub progress: Progress,
    pub sources: Vec<SourceRef>,
    /// Where single fields come from when not simply from `sources`: `{"source": id}` for a
    /// field stated by one particular source, `{"classified": basis}` for the project's own
    /// classification (credited to no source). Keyed by member name.
    #[schema(value_type = BTreeMap<String, FieldProvenance>)]
    pub provenance: FieldProvenances,
    pub links: RecordLinks,
    /// With `expand=commitments`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commitments: Option<Vec<CommitmentDto>>,
    /// With `expand=institutions`: institutions involved in the plan as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub institutions: Option<Vec<InvolvementDto>>,
    /// With `expand=progress_updates`: plan-level progress updates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_updates: Option<Vec<ProgressUpdateDto>>,
}

impl PlanDto {
    fn new(p: &Plan, ctx: &LangContext) -> Self {
        let id = &p.row.id;
        PlanDto {
            id: id.clone(),
            ogp_id: p.row.ogp_id.clone(),
            member: p.member.as_ref().map(|m| MemberDto::new(m, ctx)),
            title: ctx.pick(&p.texts, "title"),
            year_of_submission: p.row.year_of_submission,
            date_submitted: date(p.row.date_submitted.as_deref()),
            end_date: date(p.row.end_date.as_deref()),
            locally_approved_period: p.row.locally_approved_period.clone(),
            lead_institution_text: ctx.pick(&p.texts, "lead_institution_text"),
            description: ctx.pick(&p.texts, "description"),
            vision: ctx.pick(&p.texts, "vision"),
            achievements: ctx.pick(&p.texts, "achievements"),
            challenges: ctx.pick(&p.texts, "challenges"),
            legal_basis: ctx.pick(&p.texts, "legal_basis"),
            coordination: ctx.pick(&p.texts, "coordination"),
            monitoring: ctx.pick(&p.texts, "monitoring"),
            co_creation: CoCreationDto {
                participant_groups: p.row.participant_groups,
                public_meetings: p.row.public_meetings,
                invitations: p.row.invitations.map(|count| CountDto {
                    count,
                    qualifier: parse_stored(p.row.invitations_qualifier.as_deref()),
                }),
                participants: ctx.pick(&p.texts, "participants"),
                diversity_measures: ctx.pick(&p.texts, "diversity_measures"),
                spaces: p
                    .spaces
                    .iter()
                    .map(|s| SpaceDto {
                        id: s.row.id.clone(),
                        name: ctx.pick(&s.texts, "name"),
                        channel: parse_stored(s.row.channel.as_deref()),
                        institution_id: s.row.institution_id.clone(),
                        sources: source_refs(&s.sources),
                        provenance: provenance(&s.fields, &[]),
                    })
                    .collect(),
                endorsements: p
                    .endorsements
                    .iter()
                    .map(|e| EndorsementDto {
                        id: e.row.id.clone(),
                        endorser: e.row.endorser.clone(),
                        affiliation: ctx.pick(&e.texts, "affiliation"),
                        institution_id: e.row.institution_id.clone(),
                        sources: source_refs(&e.sources),
                        provenance: provenance(&e.fields, &[]),
                    })
                    .collect(),
                oversight_body: OversightBodyDto {
                    status: parse_stored(p.row.oversight_body_status.as_deref()),
                    description: ctx.pick(&p.texts, "oversight_body"),
                },
            },
            progress: p.progress,
            sources: source_refs(&p.sources),
            provenance: provenance(&p.fields, PLAN_MEMBERS),
            links: RecordLinks {
                self_link: format!("/api/v1/plans/{id}"),
                related: BTreeMap::from([
                    ("commitments", format!("/api/v1/commitments?plan={id}")),
                    ("milestones", format!("/api/v1/milestones?plan={id}")),
                    ("institutions", format!("/api/v1/institutions?plan={id}")),
                ]),
            },
            commitments: p
                .commitments
                .as_ref()
                .map(|cs| cs.iter().map(|c| CommitmentDto::new(c, ctx)).collect()),
            institutions: p
                .involvements
                .as_ref()
                .map(|is| is.iter().map(|i| InvolvementDto::new(i, ctx)).collect()),
            progress_updates: p
                .progress_updates
                .as_ref()
                .map(|u| u.iter().map(|u| ProgressUpdateDto::new(u, ctx)).collect()),
        }
    }
}

impl CsvRecord for PlanDto {
    const HEADER: &'static [&'static str] = &[
        "id",
        "ogp_id",
        "member_id",
        "title",
        "title_lang",
        "year_of_submission",
        "date_submitted",
        "end_date",
        "locally_approved_period",
        "participant_groups",
        "public_meetings",
        "invitations",
        "invitations_qualifier",
        "milestones_total",
        "milestones_complete",
        "milestones_in_progress",
        "milestones_not_started",
        "milestones_unknown",
        "source_ids",
        "source_urls",
        "classified_fields",
    ];

    fn row(&self) -> Vec<Cell> {
        let [title, title_lang] = text_cells(&self.title);
        let invitations = self.co_creation.invitations.as_ref();
        vec![
            Cell::text(&self.id),
            Cell::opt_text(self.ogp_id.as_deref()),
            Cell::opt_text(self.member.as_ref().map(|m| m.id.as_str())),
            title,
            title_lang,
            Cell::opt_number(self.year_of_submission),
            Cell::opt_text(self.date_submitted.as_ref().map(|d| d.value.as_str())),
            Cell::opt_text(self.end_date.as_ref().map(|d| d.value.as_str())),
            Cell::opt_text(self.locally_approved_period.as_deref()),
            Cell::opt_number(self.co_creation.participant_groups),
            Cell::opt_number(self.co_creation.public_meetings),
            Cell::opt_number(invitations.map(|i| i.count)),
            Cell::opt_text(invitations.and_then(|i| i.qualifier).map(|q| q.as_str())),
            Cell::number(self.progress.milestones_total),
            Cell::number(self.progress.complete),
            Cell::number(self.progress.in_progress),
            Cell::number(self.progress.not_started),
            Cell::number(self.progress.unknown),
            Cell::text(csv::join(self.sources.iter().map(|s| s.id.as_str()))),
            Cell::text(csv::join(
                self.sources.iter().filter_map(|s| s.url.as_deref()),
            )),
            classified_cell(&self.provenance),
        ]
    }
}

list_params! {
    pub struct ListPlansParams {
        /// Read the plan data as it was at this plan release (see `/api/v1/plan/releases`);
        /// the answer never changes. Default: the latest release.
        #[param(value_type = Option<i64>, minimum = 1, example = 1)]
        pub release: Option<String>,
        /// Only plans of this OGP member (id).
        #[param(example = "khmelnytskyi-ukraine")]
        pub member: Option<String>,
        /// Related records to embed (JSON only), comma-separated:
        /// `commitments`, `institutions`, `progress_updates`.
        pub expand: Option<String>,
    }
}

record_params! {
    pub struct GetPlanParams {
        /// Read the plan data as it was at this plan release (see `/api/v1/plan/releases`);
        /// the answer never changes. Default: the latest release.
        #[param(value_type = Option<i64>, minimum = 1, example = 1)]
        pub release: Option<String>,
        /// Related records to embed, comma-separated: `commitments`, `institutions`, `progress_updates`.
        #[param(example = "commitments,institutions")]
        pub expand: Option<String>,
    }
}

/// The collection of action plans.
pub struct Plans;

impl PlanCollection for Plans {
    const SCOPE: &'static str = "plans";
    const NOUN: &'static str = "action plan";
    const EXPANDABLE: &'static [&'static str] =
        &["commitments", "institutions", "progress_updates"];

    type ListParams = ListPlansParams;
    type GetParams = GetPlanParams;
    type Filter = PlanFilter;
    type Expand = PlanExpand;
    type Record = Plan;
    type Wire = PlanDto;

    const LIST: ListFn<Self::Filter, Self::Expand, Plan> = plans::list;
    const FIND: FindFn<Self::Expand, Plan> = plans::find;
    const TO_WIRE: fn(&Plan, &LangContext) -> PlanDto = PlanDto::new;

    fn list_query(params: &ListPlansParams) -> ListQuery<'_> {
        ListQuery {
            common: params.common(),
            release: params.release.as_deref(),
            expand: params.expand.as_deref(),
            filters: vec![("member", params.member.as_deref())],
        }
    }

    fn record_query(params: &GetPlanParams) -> RecordQuery<'_> {
        RecordQuery {
            lang: params.lang.as_deref(),
            release: params.release.as_deref(),
            expand: params.expand.as_deref(),
        }
    }

    fn filter(params: &ListPlansParams) -> Result<PlanFilter, AppError> {
        Ok(PlanFilter {
            member_id: params::id("member", params.member.as_deref())?,
        })
    }

    fn expansion(chosen: &BTreeSet<&str>) -> PlanExpand {
        PlanExpand {
            commitments: chosen.contains("commitments"),
            institutions: chosen.contains("institutions"),
            progress_updates: chosen.contains("progress_updates"),
        }
    }
}

/// List action plans.
///
/// Each plan carries its OGP member, co-creation facts and a progress rollup over all its
/// milestones. Also as CSV at `/api/v1/plans.csv`, `?format=csv` or `Accept: text/csv`.
#[utoipa::path(
    tag = "plans",
    params(ListPlansParams),
    responses(
        (status = 200, description = "A page of action plans",
            headers(
                ("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"),
                ("Content-Language" = String, description = "Languages of the texts in the body"),
                ("X-Total-Count" = i64, description = "Records matching the filters"),
            ),
            content(
                (ListBody<PlanDto> = "application/json"),
                (String = "text/csv"),
            )
        ),
    )
)]
#[get("/plans")]
pub async fn list_plans(
    req: HttpRequest,
    params: web::Query<ListPlansParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    plan_collection::list::<Plans>(req, params.into_inner(), state, None).await
}

/// List action plans as CSV.
///
/// RFC 4180, UTF-8, one row per plan, columns in this fixed order: `id, ogp_id, member_id, title,
/// title_lang, year_of_submission, date_submitted, end_date, locally_approved_period,
/// participant_groups, public_meetings, invitations, invitations_qualifier, milestones_total,
/// milestones_complete, milestones_in_progress, milestones_not_started, milestones_unknown,
/// source_ids, source_urls, classified_fields`.
#[utoipa::path(
    tag = "plans",
    params(ListPlansParams),
    responses(
        (status = 200, description = "A page of action plans as CSV", body = String, content_type = "text/csv",
            headers(("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"))),
    )
)]
#[get("/plans.csv")]
pub async fn list_plans_csv(
    req: HttpRequest,
    params: web::Query<ListPlansParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    plan_collection::list::<Plans>(req, params.into_inner(), state, Some(Format::Csv)).await
}

/// Get one action plan.
#[utoipa::path(
    tag = "plans",
    params(
        ("plan_id" = String, Path, description = "Action plan id", example = "khm-2021-2025"),
        GetPlanParams,
    ),
    responses(
        (status = 200, description = "The action plan", body = PlanDto,
            headers(("Content-Language" = String, description = "Languages of the texts in the body"))),
    )
)]
#[get("/plans/{plan_id}")]
pub async fn get_plan(
    req: HttpRequest,
    path: web::Path<String>,
    params: web::Query<GetPlanParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    plan_collection::get::<Plans>(req, path.into_inner(), params.into_inner(), state).await
}
