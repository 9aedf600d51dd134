//! `/api/v1/institutions`: lead institutions, other stakeholders and their involvements.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::dto::classified_cell;
use crate::api::dto::{
    InvolvementDto, ListBody, RecordLinks, SourceRef, provenance, source_refs, text_cells,
};
use crate::api::params::{self, list_params, record_params};
use crate::api::respond::CsvRecord;
use crate::api::v1::plan_collection::{
    self, FindFn, ListFn, ListQuery, PlanCollection, RecordQuery,
};
use crate::app::AppState;
use crate::error::AppError;
use crate::formats::csv::{self, Cell};
use crate::http::negotiate::{Format, LangContext};
use crate::models::institutions::{self, Institution, InstitutionFilter};
use crate::models::lang::LocalizedText;
use crate::models::provenance::{FieldProvenance, FieldProvenances};
use crate::models::vocab::{InstitutionKind, Role};

/// An institution: a city body, enterprise, NGO, international organisation or group.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstitutionDto {
    #[schema(example = "spetskomuntrans")]
    pub id: String,
    pub kind: Option<InstitutionKind>,
    pub name: Option<LocalizedText>,
    pub short_name: Option<LocalizedText>,
    pub parent_id: Option<String>,
    pub homepage: Option<String>,
    /// Ukrainian legal-entity code; null until a source gives it.
    pub edrpou: Option<String>,
    pub sources: Vec<SourceRef>,
    /// Where single fields come from when not simply from `sources`: `{"source": id}` for a
    /// field stated by one particular source, `{"classified": basis}` for the project's own
    /// classification (credited to no source). Keyed by member name.
    #[schema(value_type = BTreeMap<String, FieldProvenance>)]
    pub provenance: FieldProvenances,
    pub links: RecordLinks,
    /// With `expand=involvements`: the plans, commitments and milestones it takes part in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub involvements: Option<Vec<InvolvementDto>>,
}

impl InstitutionDto {
    pub fn new(i: &Institution, ctx: &LangContext) -> Self {
        let id = &i.row.id;
        InstitutionDto {
            id: id.clone(),
            kind: i.row.kind.parse().ok(),
            name: ctx.pick(&i.texts, "name"),
            short_name: ctx.pick(&i.texts, "short_name"),
            parent_id: i.row.parent_id.clone(),
            homepage: i.row.homepage.clone(),
            edrpou: i.row.edrpou.clone(),
            sources: source_refs(&i.sources),
            provenance: provenance(&i.fields, &[]),
            links: RecordLinks {
                self_link: format!("/api/v1/institutions/{id}"),
                related: BTreeMap::from([
                    (
                        "commitments",
                        format!("/api/v1/commitments?institution={id}"),
                    ),
                    ("milestones", format!("/api/v1/milestones?institution={id}")),
                ]),
            },
            involvements: i
                .involvements
                .as_ref()
                .map(|is| is.iter().map(|v| InvolvementDto::new(v, ctx)).collect()),
        }
    }
}

impl CsvRecord for InstitutionDto {
    const HEADER: &'static [&'static str] = &[
        "id",
        "kind",
        "name",
        "name_lang",
        "short_name",
        "short_name_lang",
        "parent_id",
        "homepage",
        "edrpou",
        "source_ids",
        "source_urls",
        "classified_fields",
    ];

    fn row(&self) -> Vec<Cell> {
        let [name, name_lang] = text_cells(&self.name);
        let [short, short_lang] = text_cells(&self.short_name);
        vec![
            Cell::text(&self.id),
            Cell::opt_text(self.kind.map(|k| k.as_str())),
            name,
            name_lang,
            short,
            short_lang,
            Cell::opt_text(self.parent_id.as_deref()),
            Cell::opt_text(self.homepage.as_deref()),
            Cell::opt_text(self.edrpou.as_deref()),
            Cell::text(csv::join(self.sources.iter().map(|s| s.id.as_str()))),
            Cell::text(csv::join(
                self.sources.iter().filter_map(|s| s.url.as_deref()),
            )),
            classified_cell(&self.provenance),
        ]
    }
}

list_params! {
    pub struct ListInstitutionsParams {
        /// Read the plan data as it was at this plan release (see `/api/v1/plan/releases`);
        /// the answer never changes. Default: the latest release.
        #[param(value_type = Option<i64>, minimum = 1, example = 1)]
        pub release: Option<String>,
        /// Only institutions of this kind.
        #[param(value_type = Option<InstitutionKind>)]
        pub kind: Option<String>,
        /// Only institutions with an involvement in this role (e.g. `lead`); combined with `plan`
        /// or `commitment`, the role must be the one they hold there.
        #[param(value_type = Option<Role>)]
        pub role: Option<String>,
        /// Only institutions involved in this action plan (id) directly.
        #[param(example = "khm-2021-2025")]
        pub plan: Option<String>,
        /// Only institutions involved in this commitment (id) or one of its milestones.
        pub commitment: Option<String>,
        /// Related records to embed (JSON only): `involvements`.
        pub expand: Option<String>,
    }
}

record_params! {
    pub struct GetInstitutionParams {
        /// Read the plan data as it was at this plan release (see `/api/v1/plan/releases`);
        /// the answer never changes. Default: the latest release.
        #[param(value_type = Option<i64>, minimum = 1, example = 1)]
        pub release: Option<String>,
        /// Related records to embed: `involvements`.
        pub expand: Option<String>,
    }
}

/// The collection of institutions; `expand=involvements` embeds what they take part in.
pub struct Institutions;

impl PlanCollection for Institutions {
    const SCOPE: &'static str = "institutions";
    const NOUN: &'static str = "institution";
    const EXPANDABLE: &'static [&'static str] = &["involvements"];

    type ListParams = ListInstitutionsParams;
    type GetParams = GetInstitutionParams;
    type Filter = InstitutionFilter;
    /// Whether to embed the involvements.
    type Expand = bool;
    type Record = Institution;
    type Wire = InstitutionDto;

    const LIST: ListFn<Self::Filter, Self::Expand, Institution> = institutions::list;
    const FIND: FindFn<Self::Expand, Institution> = institutions::find;
    const TO_WIRE: fn(&Institution, &LangContext) -> InstitutionDto = InstitutionDto::new;

    fn list_query(params: &ListInstitutionsParams) -> ListQuery<'_> {
        ListQuery {
            common: params.common(),
            release: params.release.as_deref(),
            expand: params.expand.as_deref(),
            filters: vec![
                ("kind", params.kind.as_deref()),
                ("role", params.role.as_deref()),
                ("plan", params.plan.as_deref()),
                ("commitment", params.commitment.as_deref()),
            ],
        }
    }

    fn record_query(params: &GetInstitutionParams) -> RecordQuery<'_> {
        RecordQuery {
            lang: params.lang.as_deref(),
            release: params.release.as_deref(),
            expand: params.expand.as_deref(),
        }
    }

    fn filter(params: &ListInstitutionsParams) -> Result<InstitutionFilter, AppError> {
        Ok(InstitutionFilter {
            kind: params::parse("kind", params.kind.as_deref())?,
            role: params::parse("role", params.role.as_deref())?,
            plan_id: params::id("plan", params.plan.as_deref())?,
            commitment_id: params::id("commitment", params.commitment.as_deref())?,
        })
    }

    fn expansion(chosen: &BTreeSet<&str>) -> bool {
        chosen.contains("involvements")
    }
}

/// List institutions.
///
/// Ordered by id. Filter by kind, role, plan or commitment. Also as CSV at
/// `/api/v1/institutions.csv`, `?format=csv` or `Accept: text/csv`.
#[utoipa::path(
    tag = "institutions",
    params(ListInstitutionsParams),
    responses(
        (status = 200, description = "A page of institutions",
            headers(
                ("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"),
                ("Content-Language" = String, description = "Languages of the texts in the body"),
                ("X-Total-Count" = i64, description = "Records matching the filters"),
            ),
            content(
                (ListBody<InstitutionDto> = "application/json"),
                (String = "text/csv"),
            )
        ),
    )
)]
#[get("/institutions")]
pub async fn list_institutions(
    req: HttpRequest,
    params: web::Query<ListInstitutionsParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    plan_collection::list::<Institutions>(req, params.into_inner(), state, None).await
}

/// List institutions as CSV.
///
/// RFC 4180, UTF-8, one row per institution, columns in this fixed order: `id, kind, name,
/// name_lang, short_name, short_name_lang, parent_id, homepage, edrpou, source_ids, source_urls,
/// classified_fields`.
#[utoipa::path(
    tag = "institutions",
    params(ListInstitutionsParams),
    responses(
        (status = 200, description = "A page of institutions as CSV", body = String, content_type = "text/csv",
            headers(("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"))),
    )
)]
#[get("/institutions.csv")]
pub async fn list_institutions_csv(
    req: HttpRequest,
    params: web::Query<ListInstitutionsParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    plan_collection::list::<Institutions>(req, params.into_inner(), state, Some(Format::Csv)).await
}

/// Get one institution.
#[utoipa::path(
    tag = "institutions",
    params(
        ("institution_id" = String, Path, description = "Institution id", example = "spetskomuntrans"),
        GetInstitutionParams,
    ),
    responses(
        (status = 200, description = "The institution", body = InstitutionDto,
            headers(("Content-Language" = String, description = "Languages of the texts in the body"))),
    )
)]
#[get("/institutions/{institution_id}")]
pub async fn get_institution(
    req: HttpRequest,
    path: web::Path<String>,
    params: web::Query<GetInstitutionParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    plan_collection::get::<Institutions>(req, path.into_inner(), params.into_inner(), state).await
}
