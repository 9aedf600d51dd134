//! Registry definitions from fixtures (`fixtures/registries/<slug>/registry.toml`, described in
//! `fixtures/registries/FORMAT.md`): parsed, checked, and stored with their items table.

use std::collections::{BTreeMap, HashSet};

use diesel::prelude::*;
use serde::Deserialize;

use crate::db::DbConn;
use crate::db::items;
use crate::db::schema::{
    commitments, field_provenance, institutions, localized_texts, record_sources, registries,
    sources,
};
use crate::models::entity;
use crate::models::lang::{Lang, StoredText, Wording};
use crate::models::partial_date::PartialDate;
use crate::models::provenance::{
    FieldProvenance, FieldProvenanceRow, TextRow, insert_field, insert_record_source, insert_text,
};
use crate::models::registries::geometry::GeometryKind;
use crate::models::registries::import::FileFormat;
use crate::models::registries::schema::{Field, FieldType, valid_field_name};
use crate::models::registries::{RegistryRow, field_entity_id};
use crate::models::vocab::UpdateFrequency;

type Texts = BTreeMap<String, String>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFx {
    slug: String,
    sample: bool,
    #[serde(default)]
    sample_note: Texts,
    #[serde(default)]
    title: Texts,
    #[serde(default)]
    description: Texts,
    #[serde(default)]
    keywords: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    purpose: Texts,
    #[serde(default)]
    attribution: Texts,
    license: Option<String>,
    license_url: Option<String>,
    publisher_id: Option<String>,
    contact_name: Option<String>,
    contact_email: Option<String>,
    update_frequency: Option<String>,
    #[serde(default)]
    language: Vec<String>,
    issued: Option<String>,
    modified: Option<String>,
    spatial: Option<String>,
    related_commitment_id: Option<String>,
    geometry: String,
    id_field: String,
    items_file: String,
    lon_column: Option<String>,
    lat_column: Option<String>,
    wkt_column: Option<String>,
    #[serde(default)]
    indexes: Vec<Vec<String>>,
    #[serde(default)]
    sources: Vec<String>,
    /// Source ids of the standards the registry's structure follows (each with a URL).
    #[serde(default)]
    conforms_to: Vec<String>,
    #[serde(default)]
    text_sources: BTreeMap<String, String>,
    /// Whose words the registry's texts in a language are, when not their source's: language →
    /// `summary` or `project` (the project's own words, credited to no source).
    #[serde(default)]
    text_wording: BTreeMap<String, String>,
    /// Exceptions for single texts: field → language → `source`, `summary` or `project`.
    #[serde(default)]
    wording: BTreeMap<String, BTreeMap<String, String>>,
    /// Passport fields stated by one particular source: field → source id.
    #[serde(default)]
    fact_sources: BTreeMap<String, String>,
    /// Passport fields whose value is the project's own choice or classification: field → why.
    #[serde(default)]
    classified: BTreeMap<String, String>,
    fields: Vec<FieldFx>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldFx {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    required: bool,
    unit: Option<String>,
    allowed_values: Option<Vec<String>>,
    #[serde(default)]
    label: Texts,
    #[serde(default)]
    description: Texts,
}

/// Parses and checks a fixture registry (`fixtures/registries/<slug>/registry.toml`). Fixture
/// registries are the project's own, served under its interface: on top of [`parse`]'s checks,
/// every field has a label in every language the API serves (uk, en, es), and no two fields
/// share a label in one language (CSV `header=labels` would be ambiguous). A definition given to
/// `define-registry` keeps [`parse`]'s rule: labels are optional per language, and a missing one
/// is served as a marked fallback.
pub fn parse_fixture(name: &str, text: &str) -> Result<RegistryDefinition, Vec<String>> {
    let mut problems = Vec::new();
    if let Ok(fx) = toml::from_str::<RegistryFx>(text) {
        for lang in Lang::ALL {
            let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
            for f in &fx.fields {
                match f.label.get(lang.code()).map(|l| l.trim()) {
                    None | Some("") => problems.push(format!(
                        "{name}: registry {}: field {}: label.{lang} is missing (fixture \
                         registries label every field in uk, en and es)",
                        fx.slug, f.name
                    )),
                    Some(label) => {
                        if let Some(other) = seen.insert(label, &f.name) {
                            problems.push(format!(
                                "{name}: registry {}: fields {other} and {} share the label.{lang} \
                                 {label:?}",
                                fx.slug, f.name
                            ));
                        }
                    }
                }
            }
        }
    }
    match parse(name, text) {
        Ok(definition) if problems.is_empty() => Ok(definition),
        Ok(_) => Err(problems),
        Err(mut refused) => {
            refused.extend(problems);
            Err(refused)
        }
    }
}

/// A checked registry definition, ready to store, with its items file.
#[derive(Debug, Clone)]
pub struct RegistryDefinition {
    pub row: RegistryRow,
    pub items_file: String,
    pub items_format: FileFormat,
    sources: Vec<String>,
    conforms_to: Vec<String>,
    texts: Vec<TextRow>,
    field_provenance: Vec<FieldProvenanceRow>,
}

/// Parses and checks one `registry.toml`; `name` is used in messages.
pub fn parse(name: &str, text: &str) -> Result<RegistryDefinition, Vec<String>> {
    let fx: RegistryFx = toml::from_str(text).map_err(|e| vec![format!("{name}: {e}")])?;
    let mut problems = Vec::new();
    let mut problem = |m: String| problems.push(format!("{name}: registry {}: {m}", fx.slug));
    let slug_ok = !fx.slug.is_empty()
        && fx.slug.len() <= 48
        && fx
            .slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !slug_ok {
        problem("slug must match [a-z0-9-]+ and be at most 48 characters".into());
    }
    if fx.sample && fx.sample_note.is_empty() {
        problem("sample registries need a sample_note saying so in plain words".into());
    }
    if fx.title.is_empty() {
        problem("has no title in any language".into());
    }
    if fx.sources.is_empty() {
        problem("names no source".into());
    }
    let geometry: Option<GeometryKind> = fx.geometry.parse().map_err(|e: String| problem(e)).ok();
    let frequency = fx.update_frequency.as_deref().map(|f| {
        f.parse::<UpdateFrequency>()
            .map_err(|e| problem(format!("update_frequency: {e}")))
    });
    for (key, value) in [("issued", &fx.issued), ("modified", &fx.modified)] {
        if let Some(v) = value
            && let Err(e) = v.parse::<PartialDate>()
        {
            problem(format!("{key}: {e}"));
        }
    }
    for (key, value, expected) in [
        ("lon_column", &fx.lon_column, "lon"),
        ("lat_column", &fx.lat_column, "lat"),
        ("wkt_column", &fx.wkt_column, "wkt"),
    ] {
        if value.as_deref().is_some_and(|v| v != expected) {
            problem(format!("{key}: geometry columns are named {expected:?}"));
        }
    }
    let items_format = FileFormat::from_path(std::path::Path::new(&fx.items_file));
    if items_format.is_none() {
        problem(format!(
            "items_file {:?} must end in .csv or .geojson",
            fx.items_file
        ));
    }
    let mut fields = Vec::new();
    let mut names = HashSet::new();
    for f in &fx.fields {
        if !valid_field_name(&f.name) {
            problem(format!(
                "field {:?}: names match [a-z][a-z0-9_]* (at most 48)",
                f.name
            ));
        }
        if !names.insert(f.name.clone()) {
            problem(format!("field {:?} is declared twice", f.name));
        }
        if ["lon", "lat", "wkt", "geometry"].contains(&f.name.as_str())
            && geometry != Some(GeometryKind::None)
        {
            problem(format!(
                "field {:?} clashes with the geometry columns",
                f.name
            ));
        }
        match f.kind.parse::<FieldType>() {
            Ok(kind) => {
                if f.allowed_values.is_some() && kind != FieldType::Text {
                    problem(format!(
                        "field {}: allowed_values are for text fields",
                        f.name
                    ));
                }
                fields.push(Field {
                    name: f.name.clone(),
                    kind,
                    required: f.required || f.name == fx.id_field,
                    unit: f.unit.clone(),
                    allowed_values: f.allowed_values.clone(),
                });
            }
            Err(e) => problem(format!("field {}: {e}", f.name)),
        }
    }
    if !names.contains(&fx.id_field) {
        problem(format!(
            "id_field {:?} is not a declared field",
            fx.id_field
        ));
    }
    for index in &fx.indexes {
        for f in index {
            if !names.contains(f) {
                problem(format!("index on unknown field {f:?}"));
            }
        }
    }
    for lang in &fx.language {
        if lang.len() != 2 {
            problem(format!("language {lang:?} is not a two-letter code"));
        }
    }

    for (lang, kind) in &fx.text_wording {
        if kind == "project" && fx.text_sources.contains_key(lang) {
            problem(format!(
                "text_wording.{lang} is the project's own wording: leave text_sources.{lang} out"
            ));
        }
    }
    // Texts: each language used must name its source, unless the text is the project's own
    // wording. The fields' labels and descriptions are always the project's interface words.
    let mut texts = Vec::new();
    let mut add = |problems: &mut Vec<String>,
                   entity_type: &str,
                   id: &str,
                   field: &str,
                   by_lang: &Texts| {
        for (lang, value) in by_lang {
            if lang.parse::<Lang>().is_err() {
                problems.push(format!(
                    "{name}: {entity_type} {id}: {field}.{lang}: unsupported language"
                ));
                continue;
            }
            let wording = if entity_type == entity::REGISTRY_FIELD {
                Wording::Project
            } else {
                let kind = fx
                    .wording
                    .get(field)
                    .and_then(|w| w.get(lang))
                    .or_else(|| fx.text_wording.get(lang));
                match kind.map(|k| (k, k.parse::<Wording>())) {
                    None => Wording::Source,
                    Some((_, Ok(w))) => w,
                    Some((kind, Err(_))) => {
                        problems.push(format!(
                            "{name}: {field}.{lang}: wording {kind:?} is not source, summary or project"
                        ));
                        continue;
                    }
                }
            };
            let source = match (wording, fx.text_sources.get(lang)) {
                (Wording::Project, _) => None,
                (_, Some(source)) => Some(source.clone()),
                (_, None) => {
                    problems.push(format!(
                        "{name}: {entity_type} {id}: {field}.{lang}: text_sources names no source for {lang:?}"
                    ));
                    continue;
                }
            };
            texts.push(TextRow {
                entity_type: entity_type.to_owned(),
                entity_id: id.to_owned(),
                field: field.to_owned(),
                lang: lang.clone(),
                text: StoredText {
                    value: value.trim().to_owned(),
                    source,
                    wording,
                },
            });
        }
    };
    let keywords: Texts = fx
        .keywords
        .iter()
        .map(|(lang, words)| (lang.clone(), words.join("; ")))
        .collect();
    for (field, by_lang) in [
        ("title", &fx.title),
        ("description", &fx.description),
        ("keywords", &keywords),
        ("purpose", &fx.purpose),
        ("attribution", &fx.attribution),
        ("sample_note", &fx.sample_note),
    ] {
        add(&mut problems, entity::REGISTRY, &fx.slug, field, by_lang);
    }
    for f in &fx.fields {
        let id = field_entity_id(&fx.slug, &f.name);
        add(
            &mut problems,
            entity::REGISTRY_FIELD,
            &id,
            "label",
            &f.label,
        );
        add(
            &mut problems,
            entity::REGISTRY_FIELD,
            &id,
            "description",
            &f.description,
        );
    }
    let passport_facts = [
        ("license", fx.license.is_some()),
        ("license_url", fx.license_url.is_some()),
        ("publisher_id", fx.publisher_id.is_some()),
        ("contact_name", fx.contact_name.is_some()),
        ("contact_email", fx.contact_email.is_some()),
        ("update_frequency", fx.update_frequency.is_some()),
        ("issued", fx.issued.is_some()),
        ("modified", fx.modified.is_some()),
        ("spatial", fx.spatial.is_some()),
        ("related_commitment_id", fx.related_commitment_id.is_some()),
    ];
    let has_value = |field: &str| passport_facts.iter().any(|(n, set)| *n == field && *set);
    let mut field_provenance = Vec::new();
    for (field, sid) in &fx.fact_sources {
        if !has_value(field) {
            problems.push(format!(
                "{name}: fact_sources.{field}: not a passport field with a value"
            ));
        } else if !fx.sources.contains(sid) {
            problems.push(format!(
                "{name}: fact_sources.{field}: {sid:?} is not among the registry's sources"
            ));
        } else if fx.classified.contains_key(field) {
            problems.push(format!(
                "{name}: {field}: both sourced (fact_sources) and classified"
            ));
        } else {
            field_provenance.push(FieldProvenanceRow::new(
                entity::REGISTRY,
                &fx.slug,
                field,
                FieldProvenance::Source(sid.clone()),
            ));
        }
    }
    for (field, basis) in &fx.classified {
        if !has_value(field) {
            problems.push(format!(
                "{name}: classified.{field}: not a passport field with a value"
            ));
        } else if basis.trim().is_empty() {
            problems.push(format!(
                "{name}: classified.{field}: say what the classification is based on"
            ));
        } else if !fx.fact_sources.contains_key(field) {
            field_provenance.push(FieldProvenanceRow::new(
                entity::REGISTRY,
                &fx.slug,
                field,
                FieldProvenance::Classified(basis.trim().to_owned()),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let frequency = frequency.and_then(Result::ok);
    Ok(RegistryDefinition {
        row: RegistryRow {
            slug: fx.slug.clone(),
            sample: fx.sample,
            geometry_kind: geometry.map(|g| g.as_str()).unwrap_or("none").to_owned(),
            id_field: fx.id_field.clone(),
            fields_json: serde_json::to_string(&fields).unwrap_or_default(),
            indexes_json: serde_json::to_string(&fx.indexes).unwrap_or_default(),
            license: fx.license.clone(),
            license_url: fx.license_url.clone(),
            publisher_id: fx.publisher_id.clone(),
            contact_name: fx.contact_name.clone(),
            contact_email: fx.contact_email.clone(),
            update_frequency: frequency.map(|f| f.as_str().to_owned()),
            languages: fx.language.join(","),
            issued: fx.issued.clone(),
            modified: fx.modified.clone(),
            spatial: fx.spatial.clone(),
            related_commitment_id: fx.related_commitment_id.clone(),
            table_name: items::table_name(&fx.slug),
            item_count: 0,
            imported_at: None,
        },
        items_file: fx.items_file.clone(),
        items_format: items_format.unwrap_or(FileFormat::Csv),
        sources: fx.sources.clone(),
        conforms_to: fx.conforms_to.clone(),
        texts,
        field_provenance,
    })
}

impl RegistryDefinition {
    pub fn slug(&self) -> &str {
        &self.row.slug
    }

    /// Checks references against the database and stores the definition (inside the caller's
    /// transaction). The items table is rebuilt only when the schema changed; items are then
    /// imported separately.
    pub fn store(&self, conn: &mut DbConn) -> Result<(), Vec<String>> {
        let slug = self.slug().to_owned();
        let db = |e: diesel::result::Error| vec![format!("registry {slug}: database: {e}")];
        let mut problems = Vec::new();
        if let Some(p) = &self.row.publisher_id {
            let found: i64 = institutions::table
                .find(p)
                .count()
                .get_result(conn)
                .map_err(db)?;
            if found == 0 {
                problems.push(format!("registry {slug}: unknown publisher_id {p:?}"));
            }
        }
        if let Some(c) = &self.row.related_commitment_id {
            let found: i64 = commitments::table
                .find(c)
                .count()
                .get_result(conn)
                .map_err(db)?;
            if found == 0 {
                problems.push(format!(
                    "registry {slug}: unknown related_commitment_id {c:?}"
                ));
            }
        }
        let mut wanted: Vec<&String> = self.sources.iter().collect();
        wanted.extend(self.texts.iter().filter_map(|t| t.text.source.as_ref()));
        for s in wanted {
            let found: i64 = sources::table
                .find(s)
                .count()
                .get_result(conn)
                .map_err(db)?;
            if found == 0 {
                problems.push(format!("registry {slug}: unknown source {s:?}"));
            }
        }
        for s in &self.conforms_to {
            // A standard is named by its URL (the catalog's dct:conformsTo), so it needs one.
            let url: Option<Option<String>> = sources::table
                .find(s)
                .select(sources::url)
                .first(conn)
                .optional()
                .map_err(db)?;
            match url {
                None => problems.push(format!(
                    "registry {slug}: conforms_to: unknown source {s:?}"
                )),
                Some(None) => problems.push(format!(
                    "registry {slug}: conforms_to: source {s:?} has no url to name the standard by"
                )),
                Some(Some(_)) => {}
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let existing: Option<RegistryRow> = registries::table
            .find(&slug)
            .select(RegistryRow::as_select())
            .first(conn)
            .optional()
            .map_err(db)?;
        let same_table = existing.as_ref().is_some_and(|e| {
            e.fields_json == self.row.fields_json
                && e.indexes_json == self.row.indexes_json
                && e.geometry_kind == self.row.geometry_kind
        });
        if !same_table {
            // Item history lives in the table; a new layout would lose every release.
            let dataset = crate::models::releases::registry_dataset(&slug);
            let published = crate::models::releases::count(conn, &dataset).map_err(db)?;
            if existing.is_some() && published > 0 {
                return Err(vec![format!(
                    "registry {slug}: its fields, indexes or geometry differ from the stored \
                     definition, and {published} release(s) are published from its items; \
                     releases are kept forever, so define the new layout under a new slug"
                )]);
            }
            items::drop_table(conn, &self.row.table_name).map_err(db)?;
            let registry =
                crate::models::registries::Registry::from_row(self.row.clone()).map_err(db)?;
            items::create_table(conn, &registry.table_spec()).map_err(db)?;
        }
        let mut row = self.row.clone();
        if let Some(e) = existing.filter(|_| same_table) {
            row.item_count = e.item_count;
            row.imported_at = e.imported_at;
        }
        diesel::delete(registries::table.find(&slug))
            .execute(conn)
            .map_err(db)?;
        diesel::insert_into(registries::table)
            .values(&row)
            .execute(conn)
            .map_err(db)?;
        delete_provenance(conn, &slug).map_err(db)?;
        for s in &self.sources {
            insert_record_source(conn, entity::REGISTRY, &slug, s).map_err(db)?;
        }
        for s in &self.conforms_to {
            insert_record_source(conn, entity::REGISTRY_STANDARD, &slug, s).map_err(db)?;
        }
        for text in &self.texts {
            insert_text(conn, text).map_err(db)?;
        }
        for row in &self.field_provenance {
            insert_field(conn, row).map_err(db)?;
        }
        Ok(())
    }
}

/// Removes a registry's texts and sources (its fields' texts too).
pub fn delete_provenance(conn: &mut DbConn, slug: &str) -> QueryResult<()> {
    diesel::delete(
        record_sources::table
            .filter(
                record_sources::entity_type.eq_any([entity::REGISTRY, entity::REGISTRY_STANDARD]),
            )
            .filter(record_sources::entity_id.eq(slug)),
    )
    .execute(conn)?;
    diesel::delete(
        localized_texts::table
            .filter(localized_texts::entity_type.eq(entity::REGISTRY))
            .filter(localized_texts::entity_id.eq(slug)),
    )
    .execute(conn)?;
    diesel::delete(
        localized_texts::table
            .filter(localized_texts::entity_type.eq(entity::REGISTRY_FIELD))
            .filter(localized_texts::entity_id.like(format!("{slug}/%"))),
    )
    .execute(conn)?;
    diesel::delete(
        field_provenance::table
            .filter(field_provenance::entity_type.eq(entity::REGISTRY))
            .filter(field_provenance::entity_id.eq(slug)),
    )
    .execute(conn)?;
    Ok(())
}
