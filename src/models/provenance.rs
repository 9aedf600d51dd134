//! Where each served fact comes from: the sources of a record, the source (and kind of wording)
//! of each text, and, for single fields, the source that states the value or the mark that the
//! value is the project's own classification.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::{field_provenance, localized_texts, record_sources, sources};
use crate::models::lang::{Lang, StoredText, TextBundle};
use crate::models::sources::Source;

/// Where the value of one non-text field comes from, when it is not simply "the record's
/// sources": the one source that states it, or the project's own classification (with why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldProvenance {
    /// Id of the source that states this value (see `/api/v1/sources`).
    Source(String),
    /// The value is the project's own classification, credited to no source; the text says
    /// what it is based on.
    Classified(String),
}

/// Field name → its provenance, for the fields of one record that have one.
pub type FieldProvenances = BTreeMap<String, FieldProvenance>;

/// Texts of the given records, keyed by record id. Records without texts are absent.
pub fn load_texts(
    conn: &mut DbConn,
    entity_type: &str,
    ids: &[String],
) -> QueryResult<HashMap<String, TextBundle>> {
    type Row = (String, String, String, String, Option<String>, String);
    let rows: Vec<Row> = localized_texts::table
        .filter(localized_texts::entity_type.eq(entity_type))
        .filter(localized_texts::entity_id.eq_any(ids))
        .select((
            localized_texts::entity_id,
            localized_texts::field,
            localized_texts::lang,
            localized_texts::value,
            localized_texts::source_id,
            localized_texts::wording,
        ))
        .load(conn)?;
    let mut bundles: HashMap<String, TextBundle> = HashMap::new();
    for (entity_id, field, lang, value, source, wording) in rows {
        // Only languages the loader accepted are stored; anything else is skipped, not guessed.
        if let Ok(lang) = lang.parse::<Lang>() {
            let text = StoredText {
                value,
                source,
                // Written only by the loaders, which accept the three values.
                wording: wording.parse().unwrap_or_default(),
            };
            bundles
                .entry(entity_id)
                .or_default()
                .insert(&field, lang, text);
        }
    }
    Ok(bundles)
}

/// Sources of the given records, keyed by record id, each list ordered by source id.
pub fn load_sources(
    conn: &mut DbConn,
    entity_type: &str,
    ids: &[String],
) -> QueryResult<HashMap<String, Vec<Source>>> {
    let rows: Vec<(String, Source)> = record_sources::table
        .inner_join(sources::table)
        .filter(record_sources::entity_type.eq(entity_type))
        .filter(record_sources::entity_id.eq_any(ids))
        .order((record_sources::entity_id, sources::id))
        .select((record_sources::entity_id, Source::as_select()))
        .load(conn)?;
    let mut by_record: HashMap<String, Vec<Source>> = HashMap::new();
    for (entity_id, source) in rows {
        by_record.entry(entity_id).or_default().push(source);
    }
    Ok(by_record)
}

/// Field provenance of the given records, keyed by record id. Records without any are absent.
pub fn load_fields(
    conn: &mut DbConn,
    entity_type: &str,
    ids: &[String],
) -> QueryResult<HashMap<String, FieldProvenances>> {
    let rows: Vec<FieldProvenanceRow> = field_provenance::table
        .filter(field_provenance::entity_type.eq(entity_type))
        .filter(field_provenance::entity_id.eq_any(ids))
        .select(FieldProvenanceRow::as_select())
        .load(conn)?;
    let mut by_record: HashMap<String, FieldProvenances> = HashMap::new();
    for row in rows {
        if let Some(provenance) = row.provenance() {
            by_record
                .entry(row.entity_id)
                .or_default()
                .insert(row.field, provenance);
        }
    }
    Ok(by_record)
}

/// One row of `field_provenance`: exactly one of `source_id` and `classified` is set (a CHECK
/// constraint in both backends).
#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize, serde::Deserialize,
)]
#[diesel(table_name = field_provenance)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct FieldProvenanceRow {
    pub entity_type: String,
    pub entity_id: String,
    pub field: String,
    pub source_id: Option<String>,
    pub classified: Option<String>,
}

impl FieldProvenanceRow {
    pub fn new(entity_type: &str, entity_id: &str, field: &str, of: FieldProvenance) -> Self {
        let (source_id, classified) = match of {
            FieldProvenance::Source(id) => (Some(id), None),
            FieldProvenance::Classified(why) => (None, Some(why)),
        };
        FieldProvenanceRow {
            entity_type: entity_type.to_owned(),
            entity_id: entity_id.to_owned(),
            field: field.to_owned(),
            source_id,
            classified,
        }
    }

    pub fn provenance(&self) -> Option<FieldProvenance> {
        match (&self.source_id, &self.classified) {
            (Some(id), None) => Some(FieldProvenance::Source(id.clone())),
            (None, Some(why)) => Some(FieldProvenance::Classified(why.clone())),
            _ => None,
        }
    }
}

/// Records that `source_id` supports the record (`entity_type`, `entity_id`).
pub fn insert_record_source(
    conn: &mut DbConn,
    entity_type: &str,
    entity_id: &str,
    source_id: &str,
) -> QueryResult<()> {
    diesel::insert_into(record_sources::table)
        .values((
            record_sources::entity_type.eq(entity_type),
            record_sources::entity_id.eq(entity_id),
            record_sources::source_id.eq(source_id),
        ))
        .execute(conn)
        .map(|_| ())
}

/// One text of a record in one language, as the loaders store it.
#[derive(Debug, Clone, PartialEq)]
pub struct TextRow {
    pub entity_type: String,
    pub entity_id: String,
    pub field: String,
    pub lang: String,
    pub text: StoredText,
}

/// Stores one text of a record in one language, with the source its wording comes from.
pub fn insert_text(conn: &mut DbConn, row: &TextRow) -> QueryResult<()> {
    diesel::insert_into(localized_texts::table)
        .values((
            localized_texts::entity_type.eq(&row.entity_type),
            localized_texts::entity_id.eq(&row.entity_id),
            localized_texts::field.eq(&row.field),
            localized_texts::lang.eq(&row.lang),
            localized_texts::value.eq(&row.text.value),
            localized_texts::source_id.eq(&row.text.source),
            localized_texts::wording.eq(row.text.wording.as_str()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Stores the provenance of one field.
pub fn insert_field(conn: &mut DbConn, row: &FieldProvenanceRow) -> QueryResult<()> {
    diesel::insert_into(field_provenance::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// What one record carries besides its own columns.
#[derive(Debug, Clone, Default)]
pub struct RecordProvenance {
    pub texts: TextBundle,
    pub sources: Vec<Source>,
    pub fields: FieldProvenances,
}

/// Texts, sources and field provenance of a set of records, loaded together.
pub struct Provenance {
    pub texts: HashMap<String, TextBundle>,
    pub sources: HashMap<String, Vec<Source>>,
    pub fields: HashMap<String, FieldProvenances>,
}

impl Provenance {
    pub fn load(conn: &mut DbConn, entity_type: &str, ids: &[String]) -> QueryResult<Self> {
        Ok(Self {
            texts: load_texts(conn, entity_type, ids)?,
            sources: load_sources(conn, entity_type, ids)?,
            fields: load_fields(conn, entity_type, ids)?,
        })
    }

    /// Takes what one record carries (empty when it has nothing).
    pub fn take(&mut self, id: &str) -> RecordProvenance {
        RecordProvenance {
            texts: self.texts.remove(id).unwrap_or_default(),
            sources: self.sources.remove(id).unwrap_or_default(),
            fields: self.fields.remove(id).unwrap_or_default(),
        }
    }
}

/// A record with its texts, sources and field provenance, for kinds that carry nothing more.
#[derive(Debug, Clone)]
pub struct WithTexts<R> {
    pub row: R,
    pub texts: TextBundle,
    pub sources: Vec<Source>,
    /// Provenance of single fields (a source of their own, or the project's classification).
    pub fields: FieldProvenances,
}

/// Loads the provenance of `rows`, records of `entity_type` whose ids `id` gives, and attaches
/// it to each row, keeping the order.
pub fn with_texts<R>(
    conn: &mut DbConn,
    entity_type: &str,
    rows: Vec<R>,
    id: impl Fn(&R) -> &String,
) -> QueryResult<Vec<WithTexts<R>>> {
    let ids: Vec<String> = rows.iter().map(|r| id(r).clone()).collect();
    let mut provenance = Provenance::load(conn, entity_type, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let RecordProvenance {
                texts,
                sources,
                fields,
            } = provenance.take(id(&row));
            WithTexts {
                row,
                texts,
                sources,
                fields,
            }
        })
        .collect())
}
