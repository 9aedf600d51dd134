//! Loads the human-editable plan fixtures (`fixtures/plan/*.toml`, described in
//! `fixtures/plan/FORMAT.md`): parse, check every reference, then replace the plan data in one
//! transaction. A fixture set with any error changes nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use serde::Deserialize;

use crate::db::DbConn;
use crate::db::schema::*;
use crate::models::commitments::CommitmentRow;
use crate::models::entity;
use crate::models::institutions::{InstitutionRow, InvolvementRow};
use crate::models::lang::{Lang, StoredText, Wording};
use crate::models::milestones::MilestoneRow;
use crate::models::partial_date::PartialDate;
use crate::models::plans::{EndorsementRow, MemberRow, PlanRow, SpaceRow};
use crate::models::progress::{AssessmentRow, ProgressUpdateRow};
use crate::models::provenance::{
    FieldProvenance, FieldProvenanceRow, TextRow, insert_field, insert_record_source, insert_text,
};
use crate::models::sources::Source;
use crate::models::vocab::*;

/// Text per language code, as written in the fixture files.
type Texts = BTreeMap<String, String>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcesFile {
    sources: Vec<SourceFx>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFx {
    id: String,
    title: String,
    url: Option<String>,
    seed_file: Option<String>,
    publisher: Option<String>,
    lang: String,
    #[serde(default)]
    excerpt_cut: bool,
    note: Option<String>,
}

/// Provenance every record carries.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Prov {
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    text_sources: BTreeMap<String, String>,
    /// Per-field exceptions to `text_sources`: field → language → source id.
    #[serde(default)]
    field_sources: BTreeMap<String, BTreeMap<String, String>>,
    /// Texts that are not their source's own words: field → language → `summary` (the
    /// project's summary of the source) or `project` (the project's own words, no source).
    #[serde(default)]
    wording: BTreeMap<String, BTreeMap<String, String>>,
    /// Non-text fields stated by one particular source: field → source id.
    #[serde(default)]
    fact_sources: BTreeMap<String, String>,
    /// Non-text fields whose value is the project's own classification, credited to no source:
    /// field → what the classification is based on.
    #[serde(default)]
    classified: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    member: MemberFx,
    plan: PlanFx,
    #[serde(default)]
    spaces: Vec<SpaceFx>,
    #[serde(default)]
    endorsements: Vec<EndorsementFx>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberFx {
    id: String,
    #[serde(default)]
    name: Texts,
    country: String,
    ogp_track: String,
    joined_year: Option<i32>,
    katottg: Option<String>,
    koatuu: Option<String>,
    ogp_url: Option<String>,
    #[serde(flatten)]
    prov: Prov,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFx {
    id: String,
    member_id: String,
    ogp_id: Option<String>,
    #[serde(default)]
    title: Texts,
    year_of_submission: Option<i32>,
    date_submitted: Option<String>,
    end_date: Option<String>,
    locally_approved_period: Option<String>,
    #[serde(default)]
    lead_institution_text: Texts,
    #[serde(default)]
    description: Texts,
    #[serde(default)]
    vision: Texts,
    #[serde(default)]
    achievements: Texts,
    #[serde(default)]
    challenges: Texts,
    #[serde(default)]
    legal_basis: Texts,
    #[serde(default)]
    coordination: Texts,
    #[serde(default)]
    participants: Texts,
    #[serde(default)]
    diversity_measures: Texts,
    #[serde(default)]
    monitoring: Texts,
    participant_groups: Option<i32>,
    public_meetings: Option<i32>,
    invitations: Option<i32>,
    invitations_qualifier: Option<String>,
    oversight_body_status: Option<String>,
    #[serde(default)]
    oversight_body: Texts,
    #[serde(flatten)]
    prov: Prov,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpaceFx {
    id: String,
    channel: Option<String>,
    #[serde(default)]
    name: Texts,
    institution_id: Option<String>,
    #[serde(flatten)]
    prov: Prov,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndorsementFx {
    id: String,
    endorser: String,
    #[serde(default)]
    affiliation: Texts,
    institution_id: Option<String>,
    #[serde(flatten)]
    prov: Prov,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InstitutionsFile {
    institutions: Vec<InstitutionFx>,
    #[serde(default)]
    involvements: Vec<InvolvementFx>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InstitutionFx {
    id: String,
    kind: String,
    #[serde(default)]
    name: Texts,
    #[serde(default)]
    short_name: Texts,
    parent_id: Option<String>,
    homepage: Option<String>,
    edrpou: Option<String>,
    #[serde(flatten)]
    prov: Prov,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvolvementFx {
    institution_id: String,
    plan_id: Option<String>,
    commitment_id: Option<String>,
    milestone_id: Option<String>,
    role: String,
    source_label: Option<String>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    fact_sources: BTreeMap<String, String>,
    #[serde(default)]
    classified: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommitmentsFile {
    commitments: Vec<CommitmentFx>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommitmentFx {
    id: String,
    plan_id: String,
    number: i32,
    ogp_id: Option<String>,
    ogp_url: Option<String>,
    #[serde(default)]
    title: Texts,
    #[serde(default)]
    problem: Texts,
    #[serde(default)]
    action: Texts,
    #[serde(default)]
    ambition: Texts,
    #[serde(default)]
    strategic_goal: Texts,
    #[serde(default)]
    ogp_values_relevance: Texts,
    #[serde(default)]
    ogp_values: Vec<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    #[serde(default)]
    milestones: Vec<MilestoneFx>,
    #[serde(default)]
    assessments: Vec<AssessmentFx>,
    #[serde(flatten)]
    prov: Prov,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MilestoneFx {
    id: String,
    seq: i32,
    #[serde(default)]
    title: Texts,
    status: Option<String>,
    status_source: Option<String>,
    start_date: Option<String>,
    due_date: Option<String>,
    #[serde(flatten)]
    prov: Prov,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssessmentFx {
    id: String,
    kind: String,
    evaluator: Option<String>,
    published: Option<String>,
    url: Option<String>,
    verifiable: Option<bool>,
    relevant_to_ogp_values: Option<bool>,
    potential_for_results: Option<String>,
    completion: Option<String>,
    did_it_open_government: Option<String>,
    #[serde(default)]
    summary: Texts,
    #[serde(flatten)]
    prov: Prov,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgressFile {
    #[serde(default)]
    progress_updates: Vec<ProgressUpdateFx>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgressUpdateFx {
    id: String,
    plan_id: Option<String>,
    commitment_id: Option<String>,
    milestone_id: Option<String>,
    /// When the report was made.
    reported_on: Option<String>,
    /// When the reported event happened.
    occurred: Option<String>,
    #[serde(default)]
    claim: Texts,
    metric: Option<String>,
    value: Option<f64>,
    #[serde(flatten)]
    prov: Prov,
}

/// Why a fixture set was refused: every problem found, each naming file and record.
#[derive(Debug)]
pub struct FixtureError {
    pub problems: Vec<String>,
}

impl fmt::Display for FixtureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the fixtures were refused ({} problems):",
            self.problems.len()
        )?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FixtureError {}

impl From<diesel::result::Error> for FixtureError {
    fn from(e: diesel::result::Error) -> Self {
        FixtureError {
            problems: vec![format!("database: {e}")],
        }
    }
}

/// How many records of each kind a load wrote.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct LoadSummary {
    pub sources: usize,
    pub institutions: usize,
    pub involvements: usize,
    pub plans: usize,
    pub commitments: usize,
    pub milestones: usize,
    pub assessments: usize,
    pub progress_updates: usize,
    pub co_creation_spaces: usize,
    pub endorsements: usize,
    pub texts: usize,
}

/// The parsed, checked contents of a fixture directory, as rows ready to insert.
#[derive(Default)]
pub struct PlanFixtures {
    pub(crate) sources: Vec<Source>,
    pub(crate) members: Vec<MemberRow>,
    pub(crate) institutions: Vec<InstitutionRow>,
    pub(crate) plans: Vec<PlanRow>,
    pub(crate) spaces: Vec<SpaceRow>,
    pub(crate) endorsements: Vec<EndorsementRow>,
    pub(crate) commitments: Vec<CommitmentRow>,
    pub(crate) ogp_values: Vec<(String, String)>,
    pub(crate) milestones: Vec<MilestoneRow>,
    pub(crate) involvements: Vec<InvolvementRow>,
    pub(crate) assessments: Vec<AssessmentRow>,
    pub(crate) progress_updates: Vec<ProgressUpdateRow>,
    pub(crate) record_sources: Vec<(String, String, String)>,
    pub(crate) texts: Vec<TextRow>,
    pub(crate) field_provenance: Vec<FieldProvenanceRow>,
}

/// Collects problems while converting fixture records into rows.
struct Checker {
    problems: Vec<String>,
    file: String,
}

impl Checker {
    fn problem(&mut self, record: &str, message: impl fmt::Display) {
        self.problems
            .push(format!("{}: {record}: {message}", self.file));
    }

    fn slug(&mut self, kind: &str, id: &str) {
        let ok = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            self.problem(&format!("{kind} {id:?}"), "id must match [a-z0-9-]+");
        }
    }

    fn vocab<T: std::str::FromStr<Err = String>>(
        &mut self,
        record: &str,
        field: &str,
        value: Option<&str>,
    ) -> Option<String> {
        let value = value?;
        match value.parse::<T>() {
            Ok(_) => Some(value.to_owned()),
            Err(e) => {
                self.problem(record, format!("{field}: {e}"));
                None
            }
        }
    }

    fn date(&mut self, record: &str, field: &str, value: Option<&str>) -> Option<PartialDate> {
        let value = value?;
        match value.parse::<PartialDate>() {
            Ok(d) => Some(d),
            Err(e) => {
                self.problem(record, format!("{field}: {e}"));
                None
            }
        }
    }
}

fn parse_toml<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| format!("{name}: {e}"))
}

/// The `fixtures/` directory as it was when this binary was built, so a first start serves the
/// real data from any working directory.
pub static EMBEDDED: include_dir::Dir<'_> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/fixtures");

/// The fixture files of a set, by file name.
const FILES: [&str; 5] = [
    "sources.toml",
    "institutions.toml",
    "plan.toml",
    "commitments.toml",
    "progress.toml",
];

impl PlanFixtures {
    /// Reads and checks the fixture files in `dir` (`progress.toml` may be absent).
    pub fn read_dir(dir: &Path) -> Result<Self, FixtureError> {
        let mut texts = Vec::new();
        let mut problems = Vec::new();
        for name in FILES {
            let path: PathBuf = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => texts.push((path.display().to_string(), text)),
                Err(_) if name == "progress.toml" && !path.exists() => {
                    texts.push((path.display().to_string(), String::new()))
                }
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            }
        }
        if !problems.is_empty() {
            return Err(FixtureError { problems });
        }
        Self::parse(&texts)
    }

    /// The fixtures of `fixtures/plan/` as they were when this binary was built.
    pub fn embedded() -> Result<Self, FixtureError> {
        let texts: Vec<(String, String)> = FILES
            .iter()
            .map(|name| {
                let path = format!("plan/{name}");
                let body = EMBEDDED
                    .get_file(&path)
                    .and_then(|f| f.contents_utf8())
                    .unwrap_or_default();
                (format!("(built-in) fixtures/{path}"), body.to_owned())
            })
            .collect();
        Self::parse(&texts)
    }

    /// Parses and checks the five files, given as (display name, contents) in `FILES` order.
    fn parse(files: &[(String, String)]) -> Result<Self, FixtureError> {
        let mut problems = Vec::new();
        let [sources, institutions, plan, commitments, progress] = files else {
            return Err(FixtureError {
                problems: vec!["expected the five fixture files".into()],
            });
        };
        let sources: Option<SourcesFile> = parse_toml(&sources.0, &sources.1)
            .map_err(|e| problems.push(e))
            .ok();
        let institutions: Option<InstitutionsFile> = parse_toml(&institutions.0, &institutions.1)
            .map_err(|e| problems.push(e))
            .ok();
        let plan: Option<PlanFile> = parse_toml(&plan.0, &plan.1)
            .map_err(|e| problems.push(e))
            .ok();
        let commitments: Option<CommitmentsFile> = parse_toml(&commitments.0, &commitments.1)
            .map_err(|e| problems.push(e))
            .ok();
        let progress: Option<ProgressFile> = parse_toml(&progress.0, &progress.1)
            .map_err(|e| problems.push(e))
            .ok();
        let names: Vec<String> = files.iter().map(|(name, _)| name.clone()).collect();
        match (sources, institutions, plan, commitments, progress) {
            (Some(s), Some(i), Some(p), Some(c), Some(g)) if problems.is_empty() => {
                Self::check(&names, s, i, p, c, g)
            }
            _ => Err(FixtureError { problems }),
        }
    }

    fn check(
        names: &[String],
        sources_file: SourcesFile,
        institutions_file: InstitutionsFile,
        plan_file: PlanFile,
        commitments_file: CommitmentsFile,
        progress_file: ProgressFile,
    ) -> Result<Self, FixtureError> {
        let mut out = PlanFixtures::default();
        let mut c = Checker {
            problems: Vec::new(),
            file: names[0].clone(),
        };
        let mut seen: HashSet<(String, String)> = HashSet::new();
        let mut unique = |c: &mut Checker, kind: &str, id: &str| {
            c.slug(kind, id);
            if !seen.insert((kind.to_owned(), id.to_owned())) {
                c.problem(&format!("{kind} {id}"), "duplicate id");
            }
        };

        for s in sources_file.sources {
            let record = format!("source {}", s.id);
            unique(&mut c, "source", &s.id);
            if s.lang.parse::<Lang>().is_err() && s.lang.len() != 2 {
                c.problem(
                    &record,
                    format!("lang {:?} is not a two-letter code", s.lang),
                );
            }
            if s.url.is_none() && s.seed_file.is_none() {
                c.problem(&record, "a source needs a url or a seed_file");
            }
            out.sources.push(Source {
                id: s.id,
                title: s.title,
                url: s.url,
                seed_file: s.seed_file,
                publisher: s.publisher,
                lang: s.lang,
                excerpt_cut: s.excerpt_cut,
                note: s.note,
            });
        }
        let source_ids: HashSet<String> = out.sources.iter().map(|s| s.id.clone()).collect();
        let institution_ids: HashSet<String> = institutions_file
            .institutions
            .iter()
            .map(|i| i.id.clone())
            .collect();
        let commitment_ids: HashSet<String> = commitments_file
            .commitments
            .iter()
            .map(|c| c.id.clone())
            .collect();
        let milestone_ids: HashSet<String> = commitments_file
            .commitments
            .iter()
            .flat_map(|c| c.milestones.iter().map(|m| m.id.clone()))
            .collect();
        let plan_ids: HashSet<String> = HashSet::from([plan_file.plan.id.clone()]);

        // Records the provenance and texts of one record, checking both. `facts` lists the
        // record's non-text fields and whether each has a value: only those can name a source of
        // their own (`fact_sources`) or be marked as the project's classification (`classified`).
        let attach = |c: &mut Checker,
                      out: &mut PlanFixtures,
                      entity_type: &str,
                      id: &str,
                      prov: &Prov,
                      texts: &[(&str, &Texts)],
                      facts: &[(&str, bool)]| {
            let record = format!("{entity_type} {id}");
            if prov.sources.is_empty() {
                c.problem(&record, "names no source (sources = [...])");
            }
            for sid in &prov.sources {
                if source_ids.contains(sid) {
                    out.record_sources
                        .push((entity_type.to_owned(), id.to_owned(), sid.clone()));
                } else {
                    c.problem(&record, format!("unknown source {sid:?}"));
                }
            }
            for (lang, sid) in &prov.text_sources {
                if lang.parse::<Lang>().is_err() {
                    c.problem(
                        &record,
                        format!("text_sources: unsupported language {lang:?}"),
                    );
                }
                if !source_ids.contains(sid) {
                    c.problem(
                        &record,
                        format!("text_sources.{lang}: unknown source {sid:?}"),
                    );
                } else if !prov.sources.contains(sid) {
                    c.problem(
                        &record,
                        format!("text_sources.{lang}: {sid:?} is not among the record's sources"),
                    );
                }
            }
            for (field, by_lang) in &prov.field_sources {
                for (lang, sid) in by_lang {
                    if !source_ids.contains(sid) {
                        c.problem(
                            &record,
                            format!("field_sources.{field}.{lang}: unknown source {sid:?}"),
                        );
                    } else if !prov.sources.contains(sid) {
                        c.problem(
                            &record,
                            format!(
                                "field_sources.{field}.{lang}: {sid:?} is not among the record's sources"
                            ),
                        );
                    }
                }
            }
            for (field, by_lang) in &prov.wording {
                let text = texts.iter().find(|(name, _)| name == field).map(|t| t.1);
                for (lang, kind) in by_lang {
                    if text.is_none_or(|t| !t.contains_key(lang)) {
                        c.problem(
                            &record,
                            format!("wording.{field}.{lang}: the record has no such text"),
                        );
                    }
                    if !matches!(
                        kind.parse::<Wording>(),
                        Ok(Wording::Summary | Wording::Project)
                    ) {
                        c.problem(
                            &record,
                            format!("wording.{field}.{lang}: {kind:?} is not summary or project"),
                        );
                    }
                }
            }
            for (field, by_lang) in texts {
                for (lang, value) in by_lang.iter() {
                    if lang.parse::<Lang>().is_err() {
                        c.problem(
                            &record,
                            format!("{field}.{lang}: unsupported language (use uk, en, es)"),
                        );
                        continue;
                    }
                    if value.trim().is_empty() {
                        c.problem(
                            &record,
                            format!("{field}.{lang} is empty: leave the language out instead"),
                        );
                        continue;
                    }
                    let wording = prov
                        .wording
                        .get(*field)
                        .and_then(|by_lang| by_lang.get(lang.as_str()))
                        .and_then(|kind| kind.parse::<Wording>().ok())
                        .unwrap_or_default();
                    let source = prov
                        .field_sources
                        .get(*field)
                        .and_then(|by_lang| by_lang.get(lang.as_str()))
                        .or_else(|| prov.text_sources.get(lang.as_str()));
                    let source = match (wording, source) {
                        (Wording::Project, None) => None,
                        (Wording::Project, Some(sid)) => {
                            c.problem(
                                &record,
                                format!(
                                    "{field}.{lang}: the project's own wording is credited to \
                                     {sid:?}: leave the source out"
                                ),
                            );
                            continue;
                        }
                        (_, Some(sid)) => Some(sid.clone()),
                        (_, None) => {
                            c.problem(
                                &record,
                                format!(
                                    "{field}.{lang}: text_sources names no source for {lang:?}"
                                ),
                            );
                            continue;
                        }
                    };
                    out.texts.push(TextRow {
                        entity_type: entity_type.to_owned(),
                        entity_id: id.to_owned(),
                        field: (*field).to_owned(),
                        lang: lang.clone(),
                        text: StoredText {
                            value: value.trim().to_owned(),
                            source,
                            wording,
                        },
                    });
                }
            }
            let has_value = |field: &str| facts.iter().any(|(name, set)| *name == field && *set);
            for (field, sid) in &prov.fact_sources {
                if !has_value(field) {
                    c.problem(
                        &record,
                        format!("fact_sources.{field}: not a field of this record with a value"),
                    );
                } else if !prov.sources.contains(sid) {
                    c.problem(
                        &record,
                        format!("fact_sources.{field}: {sid:?} is not among the record's sources"),
                    );
                } else if prov.classified.contains_key(field) {
                    c.problem(
                        &record,
                        format!("{field}: both sourced (fact_sources) and classified"),
                    );
                } else {
                    out.field_provenance.push(FieldProvenanceRow::new(
                        entity_type,
                        id,
                        field,
                        FieldProvenance::Source(sid.clone()),
                    ));
                }
            }
            for (field, basis) in &prov.classified {
                if !has_value(field) {
                    c.problem(
                        &record,
                        format!("classified.{field}: not a field of this record with a value"),
                    );
                } else if basis.trim().is_empty() {
                    c.problem(
                        &record,
                        format!("classified.{field}: say what the classification is based on"),
                    );
                } else if !prov.fact_sources.contains_key(field) {
                    out.field_provenance.push(FieldProvenanceRow::new(
                        entity_type,
                        id,
                        field,
                        FieldProvenance::Classified(basis.trim().to_owned()),
                    ));
                }
            }
        };

        // institutions.toml
        let mut involvement_ids: HashSet<String> = HashSet::new();
        c.file = names[1].clone();
        for i in &institutions_file.institutions {
            let record = format!("institution {}", i.id);
            unique(&mut c, "institution", &i.id);
            let kind = c.vocab::<InstitutionKind>(&record, "kind", Some(&i.kind));
            if let Some(parent) = &i.parent_id
                && !institution_ids.contains(parent)
            {
                c.problem(&record, format!("unknown parent_id {parent:?}"));
            }
            if i.name.is_empty() {
                c.problem(&record, "has no name in any language");
            }
            attach(
                &mut c,
                &mut out,
                entity::INSTITUTION,
                &i.id,
                &i.prov,
                &[("name", &i.name), ("short_name", &i.short_name)],
                &[
                    ("kind", true),
                    ("parent_id", i.parent_id.is_some()),
                    ("homepage", i.homepage.is_some()),
                    ("edrpou", i.edrpou.is_some()),
                ],
            );
            out.institutions.push(InstitutionRow {
                id: i.id.clone(),
                kind: kind.unwrap_or_default(),
                parent_id: i.parent_id.clone(),
                homepage: i.homepage.clone(),
                edrpou: i.edrpou.clone(),
            });
        }
        for v in &institutions_file.involvements {
            let subjects = [&v.plan_id, &v.commitment_id, &v.milestone_id];
            let subject = subjects
                .iter()
                .filter_map(|s| s.as_ref())
                .collect::<Vec<_>>();
            let record = format!(
                "involvement of {} ({}) in {}",
                v.institution_id,
                v.role,
                subject.first().map(|s| s.as_str()).unwrap_or("?")
            );
            if subject.len() != 1 {
                c.problem(
                    &record,
                    "needs exactly one of plan_id, commitment_id, milestone_id",
                );
                continue;
            }
            let subject_id = subject[0].clone();
            let known = match (&v.plan_id, &v.commitment_id) {
                (Some(p), _) => plan_ids.contains(p),
                (_, Some(cm)) => commitment_ids.contains(cm),
                _ => milestone_ids.contains(&subject_id),
            };
            if !known {
                c.problem(&record, format!("unknown subject {subject_id:?}"));
            }
            if !institution_ids.contains(&v.institution_id) {
                c.problem(
                    &record,
                    format!("unknown institution_id {:?}", v.institution_id),
                );
            }
            let role = c.vocab::<Role>(&record, "role", Some(&v.role));
            let id = format!("{}:{}:{}", v.institution_id, v.role, subject_id);
            if !involvement_ids.insert(id.clone()) {
                c.problem(&record, "duplicate involvement");
            }
            attach(
                &mut c,
                &mut out,
                entity::INVOLVEMENT,
                &id,
                &Prov {
                    sources: v.sources.clone(),
                    fact_sources: v.fact_sources.clone(),
                    classified: v.classified.clone(),
                    ..Prov::default()
                },
                &[],
                &[
                    ("role", true),
                    ("institution_id", true),
                    ("plan_id", v.plan_id.is_some()),
                    ("commitment_id", v.commitment_id.is_some()),
                    ("milestone_id", v.milestone_id.is_some()),
                ],
            );
            out.involvements.push(InvolvementRow {
                id,
                institution_id: v.institution_id.clone(),
                action_plan_id: v.plan_id.clone(),
                commitment_id: v.commitment_id.clone(),
                milestone_id: v.milestone_id.clone(),
                role: role.unwrap_or_default(),
                source_label: v.source_label.clone(),
            });
        }

        // plan.toml
        c.file = names[2].clone();
        let m = &plan_file.member;
        unique(&mut c, "member", &m.id);
        attach(
            &mut c,
            &mut out,
            entity::MEMBER,
            &m.id,
            &m.prov,
            &[("name", &m.name)],
            &[
                ("country", true),
                ("ogp_track", true),
                ("joined_year", m.joined_year.is_some()),
                ("katottg", m.katottg.is_some()),
                ("koatuu", m.koatuu.is_some()),
                ("ogp_url", m.ogp_url.is_some()),
            ],
        );
        out.members.push(MemberRow {
            id: m.id.clone(),
            country: m.country.clone(),
            ogp_track: m.ogp_track.clone(),
            joined_year: m.joined_year,
            katottg: m.katottg.clone(),
            koatuu: m.koatuu.clone(),
            ogp_url: m.ogp_url.clone(),
        });
        let p = &plan_file.plan;
        let record = format!("plan {}", p.id);
        unique(&mut c, "plan", &p.id);
        if p.member_id != m.id {
            c.problem(&record, format!("unknown member_id {:?}", p.member_id));
        }
        let date_submitted = c.date(&record, "date_submitted", p.date_submitted.as_deref());
        let end_date = c.date(&record, "end_date", p.end_date.as_deref());
        let qualifier = c.vocab::<CountQualifier>(
            &record,
            "invitations_qualifier",
            p.invitations_qualifier.as_deref(),
        );
        let oversight = c.vocab::<OversightBodyStatus>(
            &record,
            "oversight_body_status",
            p.oversight_body_status.as_deref(),
        );
        attach(
            &mut c,
            &mut out,
            entity::ACTION_PLAN,
            &p.id,
            &p.prov,
            &[
                ("title", &p.title),
                ("lead_institution_text", &p.lead_institution_text),
                ("description", &p.description),
                ("vision", &p.vision),
                ("achievements", &p.achievements),
                ("challenges", &p.challenges),
                ("legal_basis", &p.legal_basis),
                ("coordination", &p.coordination),
                ("participants", &p.participants),
                ("diversity_measures", &p.diversity_measures),
                ("monitoring", &p.monitoring),
                ("oversight_body", &p.oversight_body),
            ],
            &[
                ("member_id", true),
                ("ogp_id", p.ogp_id.is_some()),
                ("year_of_submission", p.year_of_submission.is_some()),
                ("date_submitted", p.date_submitted.is_some()),
                ("end_date", p.end_date.is_some()),
                (
                    "locally_approved_period",
                    p.locally_approved_period.is_some(),
                ),
                ("participant_groups", p.participant_groups.is_some()),
                ("public_meetings", p.public_meetings.is_some()),
                ("invitations", p.invitations.is_some()),
                ("invitations_qualifier", p.invitations_qualifier.is_some()),
                ("oversight_body_status", p.oversight_body_status.is_some()),
            ],
        );
        out.plans.push(PlanRow {
            id: p.id.clone(),
            member_id: p.member_id.clone(),
            ogp_id: p.ogp_id.clone(),
            year_of_submission: p.year_of_submission,
            date_submitted: date_submitted.map(|d| d.to_string()),
            end_date: end_date.map(|d| d.to_string()),
            locally_approved_period: p.locally_approved_period.clone(),
            participant_groups: p.participant_groups,
            public_meetings: p.public_meetings,
            invitations: p.invitations,
            invitations_qualifier: qualifier,
            oversight_body_status: oversight,
        });
        for (seq, s) in plan_file.spaces.iter().enumerate() {
            let record = format!("space {}", s.id);
            unique(&mut c, "space", &s.id);
            let channel = c.vocab::<Channel>(&record, "channel", s.channel.as_deref());
            if let Some(inst) = &s.institution_id
                && !institution_ids.contains(inst)
            {
                c.problem(&record, format!("unknown institution_id {inst:?}"));
            }
            attach(
                &mut c,
                &mut out,
                entity::SPACE,
                &s.id,
                &s.prov,
                &[("name", &s.name)],
                &[
                    ("channel", s.channel.is_some()),
                    ("institution_id", s.institution_id.is_some()),
                ],
            );
            out.spaces.push(SpaceRow {
                id: s.id.clone(),
                action_plan_id: p.id.clone(),
                seq: seq as i32 + 1,
                channel,
                institution_id: s.institution_id.clone(),
            });
        }
        for (seq, e) in plan_file.endorsements.iter().enumerate() {
            let record = format!("endorsement {}", e.id);
            unique(&mut c, "endorsement", &e.id);
            if let Some(inst) = &e.institution_id
                && !institution_ids.contains(inst)
            {
                c.problem(&record, format!("unknown institution_id {inst:?}"));
            }
            attach(
                &mut c,
                &mut out,
                entity::ENDORSEMENT,
                &e.id,
                &e.prov,
                &[("affiliation", &e.affiliation)],
                &[
                    ("endorser", true),
                    ("institution_id", e.institution_id.is_some()),
                ],
            );
            out.endorsements.push(EndorsementRow {
                id: e.id.clone(),
                action_plan_id: p.id.clone(),
                seq: seq as i32 + 1,
                endorser: e.endorser.clone(),
                institution_id: e.institution_id.clone(),
            });
        }

        // commitments.toml
        c.file = names[3].clone();
        for cm in &commitments_file.commitments {
            let record = format!("commitment {}", cm.id);
            unique(&mut c, "commitment", &cm.id);
            if !plan_ids.contains(&cm.plan_id) {
                c.problem(&record, format!("unknown plan_id {:?}", cm.plan_id));
            }
            if cm.title.is_empty() {
                c.problem(&record, "has no title in any language");
            }
            let start = c.date(&record, "start_date", cm.start_date.as_deref());
            let end = c.date(&record, "end_date", cm.end_date.as_deref());
            for v in &cm.ogp_values {
                if c.vocab::<OgpValue>(&record, "ogp_values", Some(v))
                    .is_some()
                {
                    out.ogp_values.push((cm.id.clone(), v.clone()));
                }
            }
            attach(
                &mut c,
                &mut out,
                entity::COMMITMENT,
                &cm.id,
                &cm.prov,
                &[
                    ("title", &cm.title),
                    ("problem", &cm.problem),
                    ("action", &cm.action),
                    ("ambition", &cm.ambition),
                    ("strategic_goal", &cm.strategic_goal),
                    ("ogp_values_relevance", &cm.ogp_values_relevance),
                ],
                &[
                    ("plan_id", true),
                    ("number", true),
                    ("ogp_id", cm.ogp_id.is_some()),
                    ("ogp_url", cm.ogp_url.is_some()),
                    ("ogp_values", !cm.ogp_values.is_empty()),
                    ("start_date", cm.start_date.is_some()),
                    ("end_date", cm.end_date.is_some()),
                ],
            );
            out.commitments.push(CommitmentRow {
                id: cm.id.clone(),
                action_plan_id: cm.plan_id.clone(),
                number: cm.number,
                ogp_id: cm.ogp_id.clone(),
                ogp_url: cm.ogp_url.clone(),
                start_date: start.map(|d| d.to_string()),
                end_date: end.map(|d| d.to_string()),
            });
            for ms in &cm.milestones {
                let record = format!("milestone {}", ms.id);
                unique(&mut c, "milestone", &ms.id);
                let status = c.vocab::<MilestoneStatus>(&record, "status", ms.status.as_deref());
                match (&ms.status, &ms.status_source) {
                    (Some(_), None) => c.problem(&record, "a status needs a status_source"),
                    (None, Some(_)) => c.problem(&record, "status_source without a status"),
                    (_, Some(sid)) if !source_ids.contains(sid) => {
                        c.problem(&record, format!("unknown status_source {sid:?}"))
                    }
                    _ => {}
                }
                let start = c.date(&record, "start_date", ms.start_date.as_deref());
                let due = c.date(&record, "due_date", ms.due_date.as_deref());
                if ms.title.is_empty() {
                    c.problem(&record, "has no title in any language");
                }
                attach(
                    &mut c,
                    &mut out,
                    entity::MILESTONE,
                    &ms.id,
                    &ms.prov,
                    &[("title", &ms.title)],
                    // No status without a source: `status` is never classified, and its source
                    // is `status_source`.
                    &[
                        ("commitment_id", true),
                        ("seq", true),
                        ("start_date", ms.start_date.is_some()),
                        ("due_date", ms.due_date.is_some()),
                    ],
                );
                out.milestones.push(MilestoneRow {
                    id: ms.id.clone(),
                    commitment_id: cm.id.clone(),
                    seq: ms.seq,
                    status,
                    status_source_id: ms.status_source.clone(),
                    start_date: start.map(|d| d.to_string()),
                    due_date: due.map(|d| d.to_string()),
                    due_earliest: due.map(|d| d.earliest().to_string()),
                    due_latest: due.map(|d| d.latest().to_string()),
                });
            }
            for a in &cm.assessments {
                let record = format!("assessment {}", a.id);
                unique(&mut c, "assessment", &a.id);
                let kind = c.vocab::<AssessmentKind>(&record, "kind", Some(&a.kind));
                let published = c.date(&record, "published", a.published.as_deref());
                let pfr = c.vocab::<PotentialForResults>(
                    &record,
                    "potential_for_results",
                    a.potential_for_results.as_deref(),
                );
                let completion =
                    c.vocab::<Completion>(&record, "completion", a.completion.as_deref());
                let diog = c.vocab::<DidItOpenGovernment>(
                    &record,
                    "did_it_open_government",
                    a.did_it_open_government.as_deref(),
                );
                attach(
                    &mut c,
                    &mut out,
                    entity::ASSESSMENT,
                    &a.id,
                    &a.prov,
                    &[("summary", &a.summary)],
                    &[
                        ("kind", true),
                        ("evaluator", a.evaluator.is_some()),
                        ("published", a.published.is_some()),
                        ("url", a.url.is_some()),
                        ("verifiable", a.verifiable.is_some()),
                        ("relevant_to_ogp_values", a.relevant_to_ogp_values.is_some()),
                        ("potential_for_results", a.potential_for_results.is_some()),
                        ("completion", a.completion.is_some()),
                        ("did_it_open_government", a.did_it_open_government.is_some()),
                    ],
                );
                out.assessments.push(AssessmentRow {
                    id: a.id.clone(),
                    action_plan_id: None,
                    commitment_id: Some(cm.id.clone()),
                    kind: kind.unwrap_or_default(),
                    evaluator: a.evaluator.clone(),
                    published: published.map(|d| d.to_string()),
                    url: a.url.clone(),
                    verifiable: a.verifiable,
                    relevant_to_ogp_values: a.relevant_to_ogp_values,
                    potential_for_results: pfr,
                    completion,
                    did_it_open_government: diog,
                });
            }
        }

        // progress.toml
        c.file = names[4].clone();
        for u in &progress_file.progress_updates {
            let record = format!("progress update {}", u.id);
            unique(&mut c, "progress_update", &u.id);
            let subjects = [&u.plan_id, &u.commitment_id, &u.milestone_id];
            if subjects.iter().filter(|s| s.is_some()).count() != 1 {
                c.problem(
                    &record,
                    "needs exactly one of plan_id, commitment_id, milestone_id",
                );
            }
            if let Some(pid) = &u.plan_id
                && !plan_ids.contains(pid)
            {
                c.problem(&record, format!("unknown plan_id {pid:?}"));
            }
            if let Some(cid) = &u.commitment_id
                && !commitment_ids.contains(cid)
            {
                c.problem(&record, format!("unknown commitment_id {cid:?}"));
            }
            if let Some(mid) = &u.milestone_id
                && !milestone_ids.contains(mid)
            {
                c.problem(&record, format!("unknown milestone_id {mid:?}"));
            }
            if u.claim.is_empty() {
                c.problem(&record, "has no claim in any language");
            }
            if u.value.is_some_and(|v| !v.is_finite()) {
                c.problem(&record, "value must be a finite number");
            }
            let reported_on = c.date(&record, "reported_on", u.reported_on.as_deref());
            let occurred = c.date(&record, "occurred", u.occurred.as_deref());
            // A date means one thing and names the source that gives it.
            for (field, date) in [("reported_on", &u.reported_on), ("occurred", &u.occurred)] {
                if date.is_some() && !u.prov.fact_sources.contains_key(field) {
                    c.problem(
                        &record,
                        format!("{field}: name the source that gives it (fact_sources.{field})"),
                    );
                }
            }
            attach(
                &mut c,
                &mut out,
                entity::PROGRESS_UPDATE,
                &u.id,
                &u.prov,
                &[("claim", &u.claim)],
                &[
                    ("plan_id", u.plan_id.is_some()),
                    ("commitment_id", u.commitment_id.is_some()),
                    ("milestone_id", u.milestone_id.is_some()),
                    ("reported_on", u.reported_on.is_some()),
                    ("occurred", u.occurred.is_some()),
                    ("metric", u.metric.is_some()),
                    ("value", u.value.is_some()),
                ],
            );
            out.progress_updates.push(ProgressUpdateRow {
                id: u.id.clone(),
                action_plan_id: u.plan_id.clone(),
                commitment_id: u.commitment_id.clone(),
                milestone_id: u.milestone_id.clone(),
                reported_on: reported_on.map(|d| d.to_string()),
                occurred: occurred.map(|d| d.to_string()),
                metric: u.metric.clone(),
                value: u.value,
            });
        }

        if c.problems.is_empty() {
            Ok(out)
        } else {
            Err(FixtureError {
                problems: c.problems,
            })
        }
    }

    /// Replaces all plan data with these fixtures in one transaction.
    pub fn replace_all(&self, conn: &mut DbConn) -> Result<LoadSummary, FixtureError> {
        conn.write_transaction(|conn| self.replace_all_in(conn))
    }

    /// Replaces all plan data inside the caller's transaction.
    pub fn replace_all_in(&self, conn: &mut DbConn) -> Result<LoadSummary, FixtureError> {
        delete_plan_data(conn)?;
        self.insert(conn)
    }

    fn insert(&self, conn: &mut DbConn) -> Result<LoadSummary, FixtureError> {
        // Sources may also be cited by registries, so they are updated in place, not replaced.
        for s in &self.sources {
            let updated = diesel::update(sources::table.find(&s.id))
                .set(s)
                .execute(conn)?;
            if updated == 0 {
                diesel::insert_into(sources::table)
                    .values(s)
                    .execute(conn)?;
            }
        }
        // Parents are linked after every institution exists, whatever the file order.
        for i in &self.institutions {
            let without_parent = InstitutionRow {
                parent_id: None,
                ..i.clone()
            };
            diesel::insert_into(institutions::table)
                .values(&without_parent)
                .execute(conn)?;
        }
        for i in self.institutions.iter().filter(|i| i.parent_id.is_some()) {
            diesel::update(institutions::table.find(&i.id))
                .set(institutions::parent_id.eq(&i.parent_id))
                .execute(conn)?;
        }
        for m in &self.members {
            diesel::insert_into(members::table)
                .values(m)
                .execute(conn)?;
        }
        for p in &self.plans {
            diesel::insert_into(action_plans::table)
                .values(p)
                .execute(conn)?;
        }
        for s in &self.spaces {
            diesel::insert_into(co_creation_spaces::table)
                .values(s)
                .execute(conn)?;
        }
        for e in &self.endorsements {
            diesel::insert_into(endorsements::table)
                .values(e)
                .execute(conn)?;
        }
        for cm in &self.commitments {
            diesel::insert_into(commitments::table)
                .values(cm)
                .execute(conn)?;
        }
        for (commitment_id, value) in &self.ogp_values {
            diesel::insert_into(commitment_ogp_values::table)
                .values((
                    commitment_ogp_values::commitment_id.eq(commitment_id),
                    commitment_ogp_values::ogp_value.eq(value),
                ))
                .execute(conn)?;
        }
        for m in &self.milestones {
            diesel::insert_into(milestones::table)
                .values(m)
                .execute(conn)?;
        }
        for v in &self.involvements {
            diesel::insert_into(involvements::table)
                .values(v)
                .execute(conn)?;
        }
        for a in &self.assessments {
            diesel::insert_into(assessments::table)
                .values(a)
                .execute(conn)?;
        }
        for u in &self.progress_updates {
            diesel::insert_into(progress_updates::table)
                .values(u)
                .execute(conn)?;
        }
        for (entity_type, entity_id, source_id) in &self.record_sources {
            insert_record_source(conn, entity_type, entity_id, source_id)?;
        }
        for text in &self.texts {
            insert_text(conn, text)?;
        }
        for row in &self.field_provenance {
            insert_field(conn, row)?;
        }
        Ok(LoadSummary {
            sources: self.sources.len(),
            institutions: self.institutions.len(),
            involvements: self.involvements.len(),
            plans: self.plans.len(),
            commitments: self.commitments.len(),
            milestones: self.milestones.len(),
            assessments: self.assessments.len(),
            progress_updates: self.progress_updates.len(),
            co_creation_spaces: self.spaces.len(),
            endorsements: self.endorsements.len(),
            texts: self.texts.len(),
        })
    }
}

/// Kinds of records the plan fixtures own (registries own theirs).
pub(crate) const PLAN_ENTITIES: [&str; 10] = [
    entity::MEMBER,
    entity::ACTION_PLAN,
    entity::COMMITMENT,
    entity::MILESTONE,
    entity::INSTITUTION,
    entity::SPACE,
    entity::ENDORSEMENT,
    entity::INVOLVEMENT,
    entity::ASSESSMENT,
    entity::PROGRESS_UPDATE,
];

/// Deletes every plan record, children first so foreign keys hold at each step, and the sources
/// nothing cites any more.
fn delete_plan_data(conn: &mut DbConn) -> QueryResult<()> {
    diesel::delete(
        localized_texts::table.filter(localized_texts::entity_type.eq_any(PLAN_ENTITIES)),
    )
    .execute(conn)?;
    diesel::delete(
        field_provenance::table.filter(field_provenance::entity_type.eq_any(PLAN_ENTITIES)),
    )
    .execute(conn)?;
    diesel::delete(record_sources::table.filter(record_sources::entity_type.eq_any(PLAN_ENTITIES)))
        .execute(conn)?;
    diesel::delete(progress_updates::table).execute(conn)?;
    diesel::delete(assessments::table).execute(conn)?;
    diesel::delete(involvements::table).execute(conn)?;
    diesel::delete(endorsements::table).execute(conn)?;
    diesel::delete(co_creation_spaces::table).execute(conn)?;
    diesel::delete(milestones::table).execute(conn)?;
    diesel::delete(commitment_ogp_values::table).execute(conn)?;
    diesel::delete(commitments::table).execute(conn)?;
    diesel::delete(action_plans::table).execute(conn)?;
    diesel::delete(members::table).execute(conn)?;
    diesel::update(institutions::table)
        .set(institutions::parent_id.eq(None::<String>))
        .execute(conn)?;
    diesel::delete(institutions::table).execute(conn)?;
    let cited_by_records = record_sources::table.select(record_sources::source_id);
    let cited_by_texts = localized_texts::table
        .filter(localized_texts::source_id.is_not_null())
        .select(localized_texts::source_id.assume_not_null());
    let cited_by_fields = field_provenance::table
        .filter(field_provenance::source_id.is_not_null())
        .select(field_provenance::source_id.assume_not_null());
    diesel::delete(
        sources::table
            .filter(sources::id.ne_all(cited_by_records))
            .filter(sources::id.ne_all(cited_by_texts))
            .filter(sources::id.ne_all(cited_by_fields)),
    )
    .execute(conn)?;
    Ok(())
}

/// True when no plan has been loaded yet (first start).
pub fn is_empty(conn: &mut DbConn) -> QueryResult<bool> {
    let plans: i64 = action_plans::table.count().get_result(conn)?;
    Ok(plans == 0)
}

/// Number of records per kind, for the CLI and tests.
pub fn counts(conn: &mut DbConn) -> QueryResult<HashMap<&'static str, i64>> {
    Ok(HashMap::from([
        ("sources", sources::table.count().get_result(conn)?),
        (
            "institutions",
            institutions::table.count().get_result(conn)?,
        ),
        ("plans", action_plans::table.count().get_result(conn)?),
        ("commitments", commitments::table.count().get_result(conn)?),
        ("milestones", milestones::table.count().get_result(conn)?),
        ("texts", localized_texts::table.count().get_result(conn)?),
    ]))
}
