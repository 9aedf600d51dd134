//! Importing a registry's items from CSV or GeoJSON: every row is validated against the schema;
//! any error refuses the whole import (listing errors by line and column, capped, with a count);
//! an accepted import replaces the registry's items in one transaction. Files are streamed, never
//! held in memory.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::items::{self, NewItem, SqlValue};
use crate::db::schema::registries;
use crate::models::registries::geometry::{self, GeometryKind, StoredGeometry};
use crate::models::registries::schema::{Value, parse_json_value};
use crate::models::registries::{Registry, column_type, search};
use crate::models::releases::{self, Release};

/// Errors kept in a refusal; the rest are only counted.
pub const ERROR_CAP: usize = 100;

/// The file formats an import accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    GeoJson,
}

impl FileFormat {
    /// From a file name's extension.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(FileFormat::Csv),
            "geojson" | "json" => Some(FileFormat::GeoJson),
            _ => None,
        }
    }
}

/// One problem with an import file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportProblem {
    /// CSV line (1 = header) or GeoJSON feature number (1-based); null for file-level problems.
    pub line: Option<u64>,
    /// The column or property at fault.
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, &self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: {}", self.message),
            (Some(l), None) => write!(f, "line {l}: {}", self.message),
            (None, Some(c)) => write!(f, "column {c}: {}", self.message),
            (None, None) => write!(f, "{}", self.message),
        }
    }
}

#[derive(Debug)]
pub enum ImportError {
    /// The file does not match the schema: nothing was changed.
    Refused {
        problems: Vec<ImportProblem>,
        total: usize,
    },
    Database(diesel::result::Error),
    /// The import's precondition (`If-Match`) failed once it held the publishing lock; nothing
    /// was changed.
    Precondition(String),
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Refused { problems, total } => {
                writeln!(f, "import refused, nothing changed: {total} problem(s)")?;
                for p in problems {
                    writeln!(f, "  - {p}")?;
                }
                if *total > problems.len() {
                    writeln!(f, "  … and {} more", total - problems.len())?;
                }
                Ok(())
            }
            ImportError::Database(e) => write!(f, "database: {e}"),
            ImportError::Precondition(detail) => f.write_str(detail),
        }
    }
}

impl std::error::Error for ImportError {}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::Database(e)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub registry: String,
    pub rows: i64,
    pub imported_at: String,
    /// The release the import published (or, when it changed nothing and was not to publish
    /// then, the current one).
    pub release: Option<Release>,
    /// True when the file matched the current release exactly and no release was made.
    pub unchanged: bool,
}

/// Whether an import that changes nothing still publishes a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publish {
    /// Every accepted import is a release (a publisher's explicit import: it dates the data).
    Always,
    /// Only when items differ (loading the built-in fixtures at every start).
    IfChanged,
}

/// Collects problems (the first `ERROR_CAP` kept) while rows keep being checked.
#[derive(Default)]
struct Problems {
    kept: Vec<ImportProblem>,
    total: usize,
}

impl Problems {
    fn add(&mut self, line: Option<u64>, column: Option<&str>, message: impl Into<String>) {
        self.total += 1;
        if self.kept.len() < ERROR_CAP {
            self.kept.push(ImportProblem {
                line,
                column: column.map(str::to_owned),
                message: message.into(),
            });
        }
    }
}

/// Turns checked rows into inserts, batch by batch, and finds duplicate ids without keeping
/// every id in memory: a 64-bit hash per id, confirmed against the rows already written.
struct Writer<'a> {
    registry: &'a Registry,
    spec: items::TableSpec,
    batch: Vec<NewItem>,
    batch_ids: HashSet<String>,
    /// Ids of rows refused for other reasons (not written), so a later duplicate is still named.
    rejected_ids: HashSet<String>,
    seen: HashSet<u64>,
    batch_size: usize,
    rows: i64,
    /// Most data rows a file may have (uploads); `None` for no limit.
    max_rows: Option<u64>,
}

impl<'a> Writer<'a> {
    fn new(registry: &'a Registry) -> Self {
        let spec = registry.table_spec();
        let batch_size = items::insert_batch_size(&spec);
        Writer {
            registry,
            spec,
            batch: Vec::with_capacity(batch_size),
            batch_ids: HashSet::new(),
            rejected_ids: HashSet::new(),
            seen: HashSet::new(),
            batch_size,
            rows: 0,
            max_rows: None,
        }
    }

    /// Records a problem and returns true when data row `n` (1-based) is beyond the limit.
    fn beyond_limit(&self, n: u64, line: Option<u64>, problems: &mut Problems) -> bool {
        match self.max_rows {
            Some(max) if n > max => {
                problems.add(
                    line,
                    None,
                    format!("the file has more than {max} rows, the most one import may have"),
                );
                true
            }
            _ => false,
        }
    }

    fn is_duplicate(&mut self, conn: &mut DbConn, id: &str) -> QueryResult<bool> {
        let mut hasher = DefaultHasher::new();
        id.hash(&mut hasher);
        if self.seen.insert(hasher.finish()) {
            return Ok(false);
        }
        if self.batch_ids.contains(id) || self.rejected_ids.contains(id) {
            return Ok(true);
        }
        items::is_staged(conn, id)
    }

    fn push(&mut self, conn: &mut DbConn, item: NewItem) -> QueryResult<()> {
        self.batch_ids.insert(item.item_id.clone());
        self.batch.push(item);
        self.rows += 1;
        if self.batch.len() >= self.batch_size {
            self.flush(conn)?;
        }
        Ok(())
    }

    fn flush(&mut self, conn: &mut DbConn) -> QueryResult<()> {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.batch_size));
        self.batch_ids.clear();
        items::stage(conn, &self.spec, batch)
    }

    /// Builds the stored row from typed values (in schema order) and geometry.
    fn item(
        &self,
        seq: i64,
        id: String,
        values: Vec<Value>,
        geometry: Option<StoredGeometry>,
    ) -> NewItem {
        let mut data = serde_json::Map::with_capacity(values.len());
        let mut search_text = String::new();
        let mut sql_values = Vec::with_capacity(values.len());
        for (field, value) in self.registry.fields.iter().zip(values) {
            data.insert(field.name.clone(), value.to_json());
            if let Value::Text(t) = &value {
                if !search_text.is_empty() {
                    search_text.push(' ');
                }
                search_text.push_str(t);
            }
            sql_values.push(match value {
                Value::Null => SqlValue::Null(column_type(field.kind)),
                Value::Text(s) | Value::Date(s) | Value::Datetime(s) => SqlValue::Text(s),
                Value::Integer(i) => SqlValue::BigInt(i),
                Value::Decimal(d) => SqlValue::Double(d),
                Value::Boolean(b) => SqlValue::Bool(b),
            });
        }
        let search = search::normalise(&search_text);
        NewItem {
            seq,
            item_id: id,
            data: serde_json::Value::Object(data).to_string(),
            point_and_bbox: geometry
                .as_ref()
                .map(|g| [g.lon, g.lat, g.min_lon, g.min_lat, g.max_lon, g.max_lat]),
            geometry: geometry.map(|g| g.geojson),
            search: (!search.is_empty()).then_some(search),
            values: sql_values,
        }
    }
}

/// The id of a row: the id field's value as text.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Text(s) | Value::Date(s) | Value::Datetime(s) => Some(s.trim().to_owned()),
        other => Some(other.to_json().to_string()),
    }
}

/// Replaces `registry`'s items with the file at `path` (format from its extension).
pub fn import_file(
    conn: &mut DbConn,
    registry: &Registry,
    path: &Path,
    publish: Publish,
) -> Result<ImportSummary, ImportError> {
    let refuse = |message: String| ImportError::Refused {
        problems: vec![ImportProblem {
            line: None,
            column: None,
            message,
        }],
        total: 1,
    };
    let format = FileFormat::from_path(path).ok_or_else(|| {
        refuse(format!(
            "{}: unknown file type; use a .csv or .geojson file",
            path.display()
        ))
    })?;
    let file = std::fs::File::open(path).map_err(|e| refuse(format!("{}: {e}", path.display())))?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    import(
        conn,
        registry,
        format,
        file,
        &format!("import {name}"),
        publish,
    )
}

/// Publishes the contents of `reader` as the next release of `registry`'s items, all or nothing:
/// the file is validated into a staging table, then only its differences from the current
/// release are written, each with a change event. `origin` says what made the release.
pub fn import(
    conn: &mut DbConn,
    registry: &Registry,
    format: FileFormat,
    reader: impl Read,
    origin: &str,
    publish: Publish,
) -> Result<ImportSummary, ImportError> {
    let options = ImportOptions {
        origin,
        publish,
        max_rows: None,
    };
    import_with(conn, registry, format, reader, &options, |_, _| Ok(()))
}

/// How an import runs.
#[derive(Debug, Clone)]
pub struct ImportOptions<'a> {
    /// What made the release (`import <file>`, `upload by <actor>`).
    pub origin: &'a str,
    pub publish: Publish,
    /// Refuse files with more data rows than this.
    pub max_rows: Option<u64>,
}

/// [`import`] with options, and `then`, which runs inside the import's transaction after a
/// release was published (to record the outcome atomically with it).
pub fn import_with(
    conn: &mut DbConn,
    registry: &Registry,
    format: FileFormat,
    reader: impl Read,
    options: &ImportOptions<'_>,
    then: impl FnOnce(&mut DbConn, &ImportSummary) -> Result<(), ImportError>,
) -> Result<ImportSummary, ImportError> {
    let (origin, publish) = (options.origin, options.publish);
    conn.write_transaction(|conn| {
        let mut writer = Writer::new(registry);
        writer.max_rows = options.max_rows;
        items::create_stage(conn, &writer.spec)?;
        let mut problems = Problems::default();
        match format {
            FileFormat::Csv => read_csv(conn, &mut writer, &mut problems, reader)?,
            FileFormat::GeoJson => read_geojson(conn, &mut writer, &mut problems, reader)?,
        }
        if problems.total > 0 {
            return Err(ImportError::Refused {
                problems: problems.kept,
                total: problems.total,
            });
        }
        writer.flush(conn)?;
        let draft = releases::open(conn, &releases::registry_dataset(registry.slug()), origin)?;
        let published = items::publish_stage(conn, &writer.spec, draft.number, draft.id)?;
        let rows = published.rows;
        items::drop_stage(conn)?;
        // A file that only reorders rows changes no record but the release's order: published.
        if publish == Publish::IfChanged
            && published.moved == 0
            && releases::change_count(conn, draft.id)? == 0
        {
            releases::discard(conn, &draft)?;
            let current = releases::latest(conn, &draft.dataset)?;
            return Ok(ImportSummary {
                registry: registry.slug().to_owned(),
                rows,
                imported_at: registry.row.imported_at.clone().unwrap_or_default(),
                release: current,
                unchanged: true,
            });
        }
        items::analyze(conn, &registry.row.table_name)?;
        let digest = super::release_digest(conn, registry, draft.number)?;
        let release = releases::finish(conn, &draft, rows, &digest)?;
        diesel::update(registries::table.find(registry.slug()))
            .set((
                registries::item_count.eq(rows),
                registries::imported_at.eq(Some(&release.created_at)),
            ))
            .execute(conn)?;
        let summary = ImportSummary {
            registry: registry.slug().to_owned(),
            rows,
            imported_at: release.created_at.clone(),
            release: Some(release),
            unchanged: false,
        };
        then(conn, &summary)?;
        Ok(summary)
    })
}

/// Where each schema field and the geometry come from in a CSV header.
struct CsvLayout {
    field_columns: Vec<Option<usize>>,
    lon: Option<usize>,
    lat: Option<usize>,
    wkt: Option<usize>,
}

fn csv_layout(
    registry: &Registry,
    header: &csv::StringRecord,
    problems: &mut Problems,
) -> CsvLayout {
    let position: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim(), i))
        .collect();
    let geometry_columns: Vec<&str> = if registry.geometry == GeometryKind::None {
        vec![]
    } else {
        ["lon", "lat", "wkt"].to_vec()
    };
    for name in header.iter().map(str::trim) {
        if registry.field(name).is_none() && !geometry_columns.contains(&name) {
            problems.add(
                Some(1),
                Some(name),
                "is not a field of this registry's schema",
            );
        }
    }
    let field_columns: Vec<Option<usize>> = registry
        .fields
        .iter()
        .map(|f| {
            let at = position.get(f.name.as_str()).copied();
            if at.is_none() && (f.required || f.name == registry.row.id_field) {
                problems.add(Some(1), Some(&f.name), "required column is missing");
            }
            at
        })
        .collect();
    let layout = CsvLayout {
        field_columns,
        lon: position.get("lon").copied(),
        lat: position.get("lat").copied(),
        wkt: position.get("wkt").copied(),
    };
    if registry.geometry != GeometryKind::None
        && layout.wkt.is_none()
        && (layout.lon.is_none() || layout.lat.is_none())
    {
        problems.add(
            Some(1),
            None,
            "no geometry columns: give lon and lat, or wkt",
        );
    }
    layout
}

fn read_csv(
    conn: &mut DbConn,
    writer: &mut Writer<'_>,
    problems: &mut Problems,
    reader: impl Read,
) -> QueryResult<()> {
    let mut reader = BufReader::new(reader);
    // The delimiter is whichever of ; and , the header line uses more; a UTF-8 BOM is skipped.
    let mut first = Vec::new();
    if let Err(e) = reader.read_until(b'\n', &mut first) {
        problems.add(None, None, format!("cannot read the file: {e}"));
        return Ok(());
    }
    let header_bytes = first
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&first)
        .to_vec();
    let semicolons = header_bytes.iter().filter(|&&b| b == b';').count();
    let commas = header_bytes.iter().filter(|&&b| b == b',').count();
    let delimiter = if semicolons > commas { b';' } else { b',' };
    // The csv crate reports a record after a CRLF terminator on the line of that terminator
    // (it starts counting the next line only at the `\n`): one line early for CRLF files (Excel
    // on Windows writes them), so problems would name the wrong line.
    let crlf_shift = u64::from(header_bytes.ends_with(b"\r\n"));
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(std::io::Cursor::new(header_bytes).chain(reader));
    let header = match csv.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.add(Some(1), None, format!("unreadable header: {e}"));
            return Ok(());
        }
    };
    let registry = writer.registry;
    let layout = csv_layout(registry, &header, problems);
    if problems.total > 0 {
        return Ok(());
    }
    let id_index = registry
        .fields
        .iter()
        .position(|f| f.name == registry.row.id_field)
        .expect("id field is in the schema (checked when the registry was defined)");
    let mut record = csv::StringRecord::new();
    let mut seq = 0i64;
    let mut data_rows = 0u64;
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line() + crlf_shift);
                problems.add(line, None, format!("malformed CSV: {e}"));
                if problems.total > ERROR_CAP * 10 {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map(|p| p.line() + crlf_shift);
        data_rows += 1;
        if writer.beyond_limit(data_rows, line, problems) {
            break;
        }
        if record.len() != header.len() {
            problems.add(
                line,
                None,
                format!(
                    "has {} cells, the header has {}",
                    record.len(),
                    header.len()
                ),
            );
            continue;
        }
        let before = problems.total;
        let mut values = Vec::with_capacity(registry.fields.len());
        for (field, column) in registry.fields.iter().zip(&layout.field_columns) {
            let raw = column.and_then(|i| record.get(i)).unwrap_or("");
            match field.parse(raw) {
                Ok(v) => values.push(v),
                Err(message) => {
                    problems.add(line, Some(&field.name), message);
                    values.push(Value::Null);
                }
            }
        }
        let geometry = if registry.geometry == GeometryKind::None {
            Ok(None)
        } else if let Some(wkt) = layout.wkt {
            geometry::from_wkt(registry.geometry, record.get(wkt).unwrap_or(""))
        } else {
            geometry::from_lon_lat(
                registry.geometry,
                layout.lon.and_then(|i| record.get(i)).unwrap_or(""),
                layout.lat.and_then(|i| record.get(i)).unwrap_or(""),
            )
        };
        let geometry = geometry.unwrap_or_else(|message| {
            let column = if layout.wkt.is_some() {
                "wkt"
            } else {
                "lon/lat"
            };
            problems.add(line, Some(column), message);
            None
        });
        accept_row(
            conn, writer, problems, before, line, id_index, values, geometry, &mut seq,
        )?;
    }
    Ok(())
}

/// Adds a checked row, or records why it cannot be added.
#[allow(clippy::too_many_arguments)]
fn accept_row(
    conn: &mut DbConn,
    writer: &mut Writer<'_>,
    problems: &mut Problems,
    problems_before: usize,
    line: Option<u64>,
    id_index: usize,
    values: Vec<Value>,
    geometry: Option<StoredGeometry>,
    seq: &mut i64,
) -> QueryResult<()> {
    let id_field = &writer.registry.row.id_field;
    let Some(id) = id_text(&values[id_index]) else {
        if problems.total == problems_before {
            problems.add(line, Some(id_field), "the item id is empty");
        }
        return Ok(());
    };
    if writer.is_duplicate(conn, &id)? {
        problems.add(line, Some(id_field), format!("duplicate id {id:?}"));
        return Ok(());
    }
    if problems.total > problems_before {
        // Bounded: past this many refused rows the import is hopeless anyway.
        if writer.rejected_ids.len() < 10_000 {
            writer.rejected_ids.insert(id);
        }
        return Ok(());
    }
    *seq += 1;
    let item = writer.item(*seq, id, values, geometry);
    writer.push(conn, item)
}

fn read_geojson(
    conn: &mut DbConn,
    writer: &mut Writer<'_>,
    problems: &mut Problems,
    reader: impl Read,
) -> QueryResult<()> {
    let registry = writer.registry;
    let id_index = registry
        .fields
        .iter()
        .position(|f| f.name == registry.row.id_field)
        .expect("id field is in the schema");
    let mut seq = 0i64;
    let features = geojson::FeatureReader::from_reader(BufReader::new(reader)).features();
    for (n, feature) in features.enumerate() {
        let line = Some(n as u64 + 1);
        if writer.beyond_limit(n as u64 + 1, line, problems) {
            break;
        }
        let feature = match feature {
            Ok(f) => f,
            Err(e) => {
                problems.add(line, None, format!("not a GeoJSON feature: {e}"));
                // A broken stream cannot be resynchronised: stop here.
                break;
            }
        };
        let before = problems.total;
        let properties = feature.properties.clone().unwrap_or_default();
        for name in properties.keys() {
            if registry.field(name).is_none() {
                problems.add(line, Some(name), "is not a field of this registry's schema");
            }
        }
        let mut values = Vec::with_capacity(registry.fields.len());
        for field in &registry.fields {
            let json = properties
                .get(&field.name)
                .cloned()
                .unwrap_or(serde_json::Value::Null);
            let value =
                parse_json_value(field.kind, &json).and_then(|v| field.check(&v).map(|_| v));
            match value {
                Ok(v) => values.push(v),
                Err(message) => {
                    problems.add(line, Some(&field.name), message);
                    values.push(Value::Null);
                }
            }
        }
        // A feature id stands in for a missing id property.
        if values[id_index].is_null()
            && let Some(id) = &feature.id
        {
            let text = match id {
                geojson::feature::Id::String(s) => s.clone(),
                geojson::feature::Id::Number(n) => n.to_string(),
            };
            match registry.fields[id_index].parse(&text) {
                Ok(v) => values[id_index] = v,
                Err(message) => problems.add(line, Some("id"), message),
            }
        }
        let geometry = match (registry.geometry, feature.geometry) {
            (GeometryKind::None, Some(_)) => {
                problems.add(line, Some("geometry"), "this registry has no geometry");
                None
            }
            (_, None) => None,
            (kind, Some(g)) => geometry::from_geojson(kind, g).map_or_else(
                |message| {
                    problems.add(line, Some("geometry"), message);
                    None
                },
                Some,
            ),
        };
        accept_row(
            conn, writer, problems, before, line, id_index, values, geometry, &mut seq,
        )?;
    }
    Ok(())
}
