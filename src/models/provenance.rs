//! Texts and sources attached to records of any kind.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{localized_texts, record_sources, sources};
use crate::models::lang::{Lang, TextBundle};
use crate::models::sources::Source;

/// Texts of the given records, keyed by record id. Records without texts are absent.
pub fn load_texts(
    conn: &mut DbConn,
    entity_type: &str,
    ids: &[String],
) -> QueryResult<HashMap<String, TextBundle>> {
    let rows: Vec<(String, String, String, String, Option<String>)> = localized_texts::table
        .filter(localized_texts::entity_type.eq(entity_type))
        .filter(localized_texts::entity_id.eq_any(ids))
        .select((
            localized_texts::entity_id,
            localized_texts::field,
            localized_texts::lang,
            localized_texts::value,
            localized_texts::source_id,
        ))
        .load(conn)?;
    let mut bundles: HashMap<String, TextBundle> = HashMap::new();
    for (entity_id, field, lang, value, source) in rows {
        // Only languages the loader accepted are stored; anything else is skipped, not guessed.
        if let Ok(lang) = lang.parse::<Lang>() {
            bundles
                .entry(entity_id)
                .or_default()
                .insert(&field, lang, value, source);
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

/// Stores one text of a record in one language, with the source its wording comes from (an empty
/// source id: none, the project's own words).
pub fn insert_text(
    conn: &mut DbConn,
    (entity_type, entity_id, field, lang, value, source_id): &TextRow,
) -> QueryResult<()> {
    diesel::insert_into(localized_texts::table)
        .values((
            localized_texts::entity_type.eq(entity_type),
            localized_texts::entity_id.eq(entity_id),
            localized_texts::field.eq(field),
            localized_texts::lang.eq(lang),
            localized_texts::value.eq(value),
            localized_texts::source_id.eq((!source_id.is_empty()).then_some(source_id)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// (entity type, entity id, field, language, wording, source id), as fixtures produce them.
pub type TextRow = (String, String, String, String, String, String);

/// Texts and sources of a set of records, loaded together.
pub struct Provenance {
    pub texts: HashMap<String, TextBundle>,
    pub sources: HashMap<String, Vec<Source>>,
}

impl Provenance {
    pub fn load(conn: &mut DbConn, entity_type: &str, ids: &[String]) -> QueryResult<Self> {
        Ok(Self {
            texts: load_texts(conn, entity_type, ids)?,
            sources: load_sources(conn, entity_type, ids)?,
        })
    }

    /// Takes the texts and sources of one record (empty when it has none).
    pub fn take(&mut self, id: &str) -> (TextBundle, Vec<Source>) {
        (
            self.texts.remove(id).unwrap_or_default(),
            self.sources.remove(id).unwrap_or_default(),
        )
    }
}
