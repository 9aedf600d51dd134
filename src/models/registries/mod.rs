//! Registries: datasets with a resolution-835 passport, a declared item schema and items.

pub mod definition;
pub mod geometry;
pub mod import;
pub mod items;
pub mod query;
pub mod schema;
pub mod search;

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::items::{Column, ColumnType, ItemRow, Select, TableSpec, Version};
use crate::db::schema::registries;
use crate::models::lang::TextBundle;
use crate::models::provenance::{FieldProvenances, Provenance, RecordProvenance, load_texts};
use crate::models::releases;
use crate::models::sources::Source;
use crate::models::{Page, PageRequest, entity};
use geometry::GeometryKind;
use schema::{Field, FieldType};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = registries)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct RegistryRow {
    pub slug: String,
    pub sample: bool,
    pub geometry_kind: String,
    pub id_field: String,
    pub fields_json: String,
    pub indexes_json: String,
    pub license: Option<String>,
    pub license_url: Option<String>,
    pub publisher_id: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub update_frequency: Option<String>,
    pub languages: String,
    pub issued: Option<String>,
    pub modified: Option<String>,
    pub spatial: Option<String>,
    pub related_commitment_id: Option<String>,
    pub table_name: String,
    pub item_count: i64,
    pub imported_at: Option<String>,
}

/// A registry with its schema parsed and, when loaded for display, its texts and sources.
#[derive(Debug, Clone)]
pub struct Registry {
    pub row: RegistryRow,
    pub geometry: GeometryKind,
    pub fields: Vec<Field>,
    pub indexes: Vec<Vec<String>>,
    pub texts: TextBundle,
    /// Labels and descriptions per field name.
    pub field_texts: HashMap<String, TextBundle>,
    pub sources: Vec<Source>,
    /// Provenance of single passport fields (a source of their own, or the project's
    /// classification, e.g. a licence the project chose for its transcription).
    pub provenance: FieldProvenances,
}

/// Entity id of a field's texts.
pub fn field_entity_id(slug: &str, field: &str) -> String {
    format!("{slug}/{field}")
}

impl Registry {
    fn from_row(row: RegistryRow) -> QueryResult<Self> {
        let corrupt = |what: &str, e: String| {
            diesel::result::Error::DeserializationError(
                format!("registry {}: {what}: {e}", row.slug).into(),
            )
        };
        let fields: Vec<Field> =
            serde_json::from_str(&row.fields_json).map_err(|e| corrupt("fields", e.to_string()))?;
        let indexes: Vec<Vec<String>> = serde_json::from_str(&row.indexes_json)
            .map_err(|e| corrupt("indexes", e.to_string()))?;
        let geometry = row
            .geometry_kind
            .parse()
            .map_err(|e: String| corrupt("geometry", e))?;
        Ok(Registry {
            row,
            geometry,
            fields,
            indexes,
            texts: TextBundle::default(),
            field_texts: HashMap::new(),
            sources: Vec::new(),
            provenance: FieldProvenances::new(),
        })
    }

    pub fn slug(&self) -> &str {
        &self.row.slug
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn table_spec(&self) -> TableSpec {
        TableSpec {
            table: self.row.table_name.clone(),
            columns: self
                .fields
                .iter()
                .map(|f| Column {
                    field: f.name.clone(),
                    kind: column_type(f.kind),
                })
                .collect(),
            indexes: self.indexes.clone(),
        }
    }
}

pub fn column_type(kind: FieldType) -> ColumnType {
    match kind {
        FieldType::Text | FieldType::Date | FieldType::Datetime => ColumnType::Text,
        FieldType::Integer => ColumnType::BigInt,
        FieldType::Decimal => ColumnType::Double,
        FieldType::Boolean => ColumnType::Bool,
    }
}

fn with_texts(conn: &mut DbConn, rows: Vec<RegistryRow>) -> QueryResult<Vec<Registry>> {
    let slugs: Vec<String> = rows.iter().map(|r| r.slug.clone()).collect();
    let mut provenance = Provenance::load(conn, entity::REGISTRY, &slugs)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut registry = Registry::from_row(row)?;
        let field_ids: Vec<String> = registry
            .fields
            .iter()
            .map(|f| field_entity_id(registry.slug(), &f.name))
            .collect();
        let mut field_texts = load_texts(conn, entity::REGISTRY_FIELD, &field_ids)?;
        registry.field_texts = registry
            .fields
            .iter()
            .map(|f| {
                let texts = field_texts
                    .remove(&field_entity_id(registry.slug(), &f.name))
                    .unwrap_or_default();
                (f.name.clone(), texts)
            })
            .collect();
        let RecordProvenance {
            texts,
            sources,
            fields,
        } = provenance.take(registry.slug());
        registry.texts = texts;
        registry.sources = sources;
        registry.provenance = fields;
        out.push(registry);
    }
    Ok(out)
}

pub fn list(conn: &mut DbConn, page: &PageRequest) -> QueryResult<Page<Registry>> {
    let total = registries::table.count().get_result(conn)?;
    let mut query = registries::table.into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(registries::slug.gt(after.clone()));
    }
    let rows = query
        .order(registries::slug)
        .limit(i64::from(page.limit) + 1)
        .select(RegistryRow::as_select())
        .load(conn)?;
    let page = Page::from_overfetch(rows, page.limit, total, |r| r.slug.clone());
    Ok(Page {
        items: with_texts(conn, page.items)?,
        next_after: page.next_after,
        total: page.total,
    })
}

/// Every registry with texts and sources, in slug order (the catalog lists them all).
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Registry>> {
    let rows = registries::table
        .order(registries::slug)
        .select(RegistryRow::as_select())
        .load(conn)?;
    with_texts(conn, rows)
}

/// A registry with texts and sources, for display.
pub fn find(conn: &mut DbConn, slug: &str) -> QueryResult<Option<Registry>> {
    let row = find_row(conn, slug)?;
    Ok(row
        .map(|r| with_texts(conn, vec![r]))
        .transpose()?
        .and_then(|mut v| v.pop()))
}

/// A registry's row only (item queries need its schema, not its texts).
pub fn find_row(conn: &mut DbConn, slug: &str) -> QueryResult<Option<RegistryRow>> {
    registries::table
        .find(slug)
        .select(RegistryRow::as_select())
        .first(conn)
        .optional()
}

/// Loads a registry's own texts (title, sample note, …) but not its fields' or sources: one query.
pub fn load_own_texts(conn: &mut DbConn, registry: &mut Registry) -> QueryResult<()> {
    let slug = registry.slug().to_owned();
    registry.texts = load_texts(conn, entity::REGISTRY, std::slice::from_ref(&slug))?
        .remove(&slug)
        .unwrap_or_default();
    Ok(())
}

/// A registry with its schema parsed but no texts.
pub fn find_schema(conn: &mut DbConn, slug: &str) -> QueryResult<Option<Registry>> {
    find_row(conn, slug)?.map(Registry::from_row).transpose()
}

/// Appends an item's canonical line — `{"id":…,"properties":{…},"geometry":…}` and a newline,
/// exactly an NDJSON export line — to `out`.
pub fn write_canonical_item(row: &ItemRow, out: &mut String) {
    out.push_str("{\"id\":");
    out.push_str(&serde_json::Value::String(row.item_id.clone()).to_string());
    out.push_str(",\"properties\":");
    out.push_str(&row.data);
    out.push_str(",\"geometry\":");
    out.push_str(row.geometry.as_deref().unwrap_or("null"));
    out.push_str("}\n");
}

/// SHA-256 (hex) and size of the canonical export of release `number`: every item's canonical
/// line in the default order, i.e. the bytes of `items.ndjson?release=<number>`.
pub fn release_digest(
    conn: &mut DbConn,
    registry: &Registry,
    number: i64,
) -> QueryResult<releases::ExportDigest> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut byte_size = 0i64;
    let select = Select {
        version: Version::AsOf(number),
        ..Select::default()
    };
    let mut line = String::new();
    crate::db::items::for_each_batch(
        conn,
        &registry.row.table_name,
        &select,
        2000,
        |row| Some((Vec::new(), row.seq)),
        |rows| {
            for row in rows {
                line.clear();
                write_canonical_item(row, &mut line);
                hasher.update(line.as_bytes());
                byte_size += line.len() as i64;
            }
            Ok(true)
        },
    )?;
    Ok(releases::ExportDigest {
        sha256: hex(&hasher.finalize()),
        byte_size,
    })
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every registry slug, in order.
/// Adds the indexes newer versions create to every registry's item table (run at start), and
/// refreshes the planner's statistics of a table that got one.
pub fn ensure_indexes(conn: &mut DbConn) -> QueryResult<usize> {
    let mut created = 0;
    for slug in list_all_slugs(conn)? {
        let Some(registry) = find_schema(conn, &slug)? else {
            continue;
        };
        let added = crate::db::items::ensure_leading_field_indexes(conn, &registry.table_spec())?;
        if added > 0 {
            crate::db::items::analyze(conn, &registry.row.table_name)?;
        }
        created += added;
    }
    Ok(created)
}

pub fn list_all_slugs(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    registries::table
        .select(registries::slug)
        .order(registries::slug)
        .load(conn)
}
