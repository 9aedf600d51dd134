//! Wire types shared by several resources, and their conversion from models.

use serde::Serialize;
use utoipa::ToSchema;

use crate::http::negotiate::LangContext;
use crate::models::institutions::Involvement;
use crate::models::lang::{Lang, LocalizedText};
use crate::models::partial_date::{DatePrecision, PartialDate};
use crate::models::progress::{Assessment, ProgressUpdate};
use crate::models::provenance::{FieldProvenance, FieldProvenances};
use crate::models::sources::Source;
use crate::models::vocab::{
    AssessmentKind, Completion, DidItOpenGovernment, InstitutionKind, PotentialForResults, Role,
    parse_stored,
};

/// A source a record is taken from (full records at `/api/v1/sources`).
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceRef {
    pub id: String,
    pub title: String,
    pub url: Option<String>,
    /// True when only the first part of the document could be read.
    pub excerpt_cut: bool,
}

impl From<&Source> for SourceRef {
    fn from(s: &Source) -> Self {
        SourceRef {
            id: s.id.clone(),
            title: s.title.clone(),
            url: s.url.clone(),
            excerpt_cut: s.excerpt_cut,
        }
    }
}

pub fn source_refs(sources: &[Source]) -> Vec<SourceRef> {
    sources.iter().map(SourceRef::from).collect()
}

/// The `provenance` member of a record: the provenance of its single fields, keyed by the name
/// of the member that carries the value on the wire (`renames` maps stored field names to those
/// members, a dotted path for a nested one). A field absent from it is stated by the record's
/// `sources`.
pub fn provenance(fields: &FieldProvenances, renames: &[(&str, &str)]) -> FieldProvenances {
    fields
        .iter()
        .map(|(field, of)| {
            let member = renames
                .iter()
                .find(|(stored, _)| stored == field)
                .map_or(field.as_str(), |(_, member)| member);
            (member.to_owned(), of.clone())
        })
        .collect()
}

/// Records that link to a plan, commitment or milestone carry it as `subject_id`.
pub const SUBJECT_LINKS: &[(&str, &str)] = &[
    ("plan_id", "subject_id"),
    ("commitment_id", "subject_id"),
    ("milestone_id", "subject_id"),
];

/// A date at the precision its source gives: "2021-09-10" (day), "2025-08" (month), "2021" (year).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"value": "2025-08", "precision": "month"}))]
pub struct DateValue {
    pub value: String,
    pub precision: DatePrecision,
}

pub fn date(raw: Option<&str>) -> Option<DateValue> {
    let parsed: PartialDate = raw?.parse().ok()?;
    Some(DateValue {
        value: parsed.to_string(),
        precision: parsed.precision(),
    })
}

/// Links of a single record.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordLinks {
    /// This record.
    #[serde(rename = "self")]
    pub self_link: String,
    /// The same record in the other representations or related collections.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub related: std::collections::BTreeMap<&'static str, String>,
}

/// Links of a page of a collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageLinks {
    #[serde(rename = "self")]
    pub self_link: String,
    /// The next page, or null on the last page (also sent as `Link: <…>; rel="next"`).
    pub next: Option<String>,
}

/// One page of a collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListBody<T: ToSchema> {
    pub items: Vec<T>,
    /// Number of records matching the filters, over all pages (exact).
    pub total: i64,
    /// Page size used.
    pub limit: u32,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
    pub links: PageLinks,
    /// The language asked for; each text says which language it came back in.
    pub lang: Lang,
    /// The plan release the page was read from (plan collections only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<crate::api::release::ReleaseRef>,
}

/// An institution's part in a plan, commitment or milestone.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvolvementDto {
    pub institution_id: String,
    pub institution_name: Option<LocalizedText>,
    pub institution_kind: Option<InstitutionKind>,
    pub role: Option<Role>,
    /// `plan`, `commitment` or `milestone`.
    pub subject_type: &'static str,
    pub subject_id: String,
    /// The label the source uses for this relation (e.g. "Lead Institution").
    pub source_label: Option<String>,
    pub sources: Vec<SourceRef>,
    #[schema(value_type = BTreeMap<String, FieldProvenance>)]
    pub provenance: FieldProvenances,
}

impl InvolvementDto {
    pub fn new(i: &Involvement, ctx: &LangContext) -> Self {
        use crate::models::institutions::Subject;
        let (subject_type, subject_id) = match i.row.subject() {
            Some(Subject::Plan(id)) => ("plan", id),
            Some(Subject::Commitment(id)) => ("commitment", id),
            Some(Subject::Milestone(id)) => ("milestone", id),
            None => ("unknown", String::new()),
        };
        InvolvementDto {
            institution_id: i.row.institution_id.clone(),
            institution_name: ctx.pick(&i.institution_texts, "name"),
            institution_kind: i.institution_kind.parse().ok(),
            role: i.row.role.parse().ok(),
            subject_type,
            subject_id,
            source_label: i.row.source_label.clone(),
            sources: source_refs(&i.sources),
            provenance: {
                let mut fields = provenance(&i.fields, SUBJECT_LINKS);
                if let Some(kind) = i.institution_fields.get("kind") {
                    fields.insert("institution_kind".to_owned(), kind.clone());
                }
                fields
            },
        }
    }
}

/// A dated, sourced claim of progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressUpdateDto {
    pub id: String,
    /// `plan`, `commitment` or `milestone`.
    pub subject_type: &'static str,
    pub subject_id: String,
    /// When the progress was reported, at the source's precision; null when no source dates the
    /// report.
    pub reported_on: Option<DateValue>,
    /// When the reported event happened, at the source's precision; null when no source dates it.
    pub occurred: Option<DateValue>,
    /// The claim as the source reports it.
    pub claim: Option<LocalizedText>,
    /// Machine name of a reported figure (e.g. `open_data_registers`).
    pub metric: Option<String>,
    pub value: Option<f64>,
    pub sources: Vec<SourceRef>,
    #[schema(value_type = BTreeMap<String, FieldProvenance>)]
    pub provenance: FieldProvenances,
}

impl ProgressUpdateDto {
    pub fn new(u: &ProgressUpdate, ctx: &LangContext) -> Self {
        let (subject_type, subject_id) = match (
            &u.row.action_plan_id,
            &u.row.commitment_id,
            &u.row.milestone_id,
        ) {
            (Some(id), _, _) => ("plan", id.clone()),
            (_, Some(id), _) => ("commitment", id.clone()),
            (_, _, Some(id)) => ("milestone", id.clone()),
            _ => ("unknown", String::new()),
        };
        ProgressUpdateDto {
            id: u.row.id.clone(),
            subject_type,
            subject_id,
            reported_on: date(u.row.reported_on.as_deref()),
            occurred: date(u.row.occurred.as_deref()),
            claim: ctx.pick(&u.texts, "claim"),
            metric: u.row.metric.clone(),
            value: u.row.value,
            sources: source_refs(&u.sources),
            provenance: provenance(&u.fields, SUBJECT_LINKS),
        }
    }
}

/// An OGP / IRM assessment; every verdict is null until a source gives it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentDto {
    pub id: String,
    pub kind: Option<AssessmentKind>,
    pub evaluator: Option<String>,
    pub published: Option<DateValue>,
    pub url: Option<String>,
    pub verifiable: Option<bool>,
    pub relevant_to_ogp_values: Option<bool>,
    pub potential_for_results: Option<PotentialForResults>,
    pub completion: Option<Completion>,
    pub did_it_open_government: Option<DidItOpenGovernment>,
    pub summary: Option<LocalizedText>,
    pub sources: Vec<SourceRef>,
    #[schema(value_type = BTreeMap<String, FieldProvenance>)]
    pub provenance: FieldProvenances,
}

impl AssessmentDto {
    pub fn new(a: &Assessment, ctx: &LangContext) -> Self {
        AssessmentDto {
            id: a.row.id.clone(),
            kind: a.row.kind.parse().ok(),
            evaluator: a.row.evaluator.clone(),
            published: date(a.row.published.as_deref()),
            url: a.row.url.clone(),
            verifiable: a.row.verifiable,
            relevant_to_ogp_values: a.row.relevant_to_ogp_values,
            potential_for_results: parse_stored(a.row.potential_for_results.as_deref()),
            completion: parse_stored(a.row.completion.as_deref()),
            did_it_open_government: parse_stored(a.row.did_it_open_government.as_deref()),
            summary: ctx.pick(&a.texts, "summary"),
            sources: source_refs(&a.sources),
            provenance: provenance(&a.fields, &[]),
        }
    }
}

/// CSV cell naming the record's fields whose values are the project's own classification
/// (`; `-separated; their basis is in the JSON `provenance` member).
pub fn classified_cell(provenance: &FieldProvenances) -> crate::formats::csv::Cell {
    crate::formats::csv::Cell::text(crate::formats::csv::join(
        provenance
            .iter()
            .filter(|(_, of)| matches!(of, FieldProvenance::Classified(_)))
            .map(|(field, _)| field.as_str()),
    ))
}

/// CSV cells of a localized text: the text and the language it is in.
pub fn text_cells(text: &Option<LocalizedText>) -> [crate::formats::csv::Cell; 2] {
    use crate::formats::csv::Cell;
    match text {
        Some(t) => [Cell::text(t.value.clone()), Cell::text(t.lang.code())],
        None => [Cell::Empty, Cell::Empty],
    }
}
