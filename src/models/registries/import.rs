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
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;

use crate::db::DbConn;
use crate::db::items::{self, NewItem, SqlValue};
use crate::db::schema::registries;
use crate::models::json_text;
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
    /// GeoJSON only: a JSON Pointer (RFC 6901) to the member at fault, e.g.
    /// `/features/2/properties/floors` (`""` for the whole document).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    pub message: String,
}

impl fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A GeoJSON problem names its feature and pointer; a CSV problem its line and column.
        match (&self.pointer, self.line, &self.column) {
            (Some(p), Some(n), _) => write!(f, "feature {n} ({p}): {}", self.message),
            (Some(p), None, _) if !p.is_empty() => write!(f, "{p}: {}", self.message),
            (Some(_), None, _) => write!(f, "{}", self.message),
            (None, Some(l), Some(c)) => write!(f, "line {l}, column {c}: {}", self.message),
            (None, Some(l), None) => write!(f, "line {l}: {}", self.message),
            (None, None, Some(c)) => write!(f, "column {c}: {}", self.message),
            (None, None, None) => write!(f, "{}", self.message),
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
    /// The file is valid but has no items: publishing it would remove every item, which needs
    /// the caller's explicit consent (`ImportOptions::allow_empty`).
    Empty {
        registry: String,
        /// Items the registry has now.
        items: i64,
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
            ImportError::Empty { registry, items } => write!(
                f,
                "import refused, nothing changed: {}",
                empty_file_message(registry, *items)
            ),
            ImportError::Database(e) => write!(f, "database: {e}"),
            ImportError::Precondition(detail) => f.write_str(detail),
        }
    }
}

impl std::error::Error for ImportError {}

/// Why a file without items is refused (the caller adds how to consent).
pub fn empty_file_message(registry: &str, items: i64) -> String {
    format!("the file has no items; publishing it would remove all {items} item(s) of {registry}")
}

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
        self.push(line, column, None, message.into());
    }

    /// A problem of a GeoJSON file: feature number (if any), property and JSON Pointer.
    fn add_at(
        &mut self,
        feature: Option<u64>,
        column: Option<&str>,
        pointer: String,
        message: impl Into<String>,
    ) {
        self.push(feature, column, Some(pointer), message.into());
    }

    fn push(
        &mut self,
        line: Option<u64>,
        column: Option<&str>,
        pointer: Option<String>,
        message: String,
    ) {
        self.total += 1;
        if self.kept.len() < ERROR_CAP {
            self.kept.push(ImportProblem {
                line,
                column: column.map(str::to_owned),
                pointer,
                message,
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
                problems.add(line, None, too_many_rows(max));
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

fn too_many_rows(max: u64) -> String {
    format!("the file has more than {max} rows, the most one import may have")
}

/// The id of a row: the id field's value as text.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Text(s) | Value::Date(s) | Value::Datetime(s) => Some(s.trim().to_owned()),
        other => Some(other.to_json().to_string()),
    }
}

/// Replaces `registry`'s items with the file at `path` (format from its extension). A file
/// without items is refused unless `allow_empty`.
pub fn import_file(
    conn: &mut DbConn,
    registry: &Registry,
    path: &Path,
    publish: Publish,
    allow_empty: bool,
) -> Result<ImportSummary, ImportError> {
    let refuse = |message: String| ImportError::Refused {
        problems: vec![ImportProblem {
            line: None,
            column: None,
            pointer: None,
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
    let file = std::fs::File::open(path)
        .map_err(|e| refuse(format!("cannot open {}: {}", path.display(), io_reason(&e))))?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let options = ImportOptions {
        origin: &format!("import {name}"),
        publish,
        max_rows: None,
        allow_empty,
    };
    import_with(conn, registry, format, file, &options, |_, _| Ok(()))
}

/// An I/O error in plain words (the operating system's text without its error number).
fn io_reason(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "no such file",
        ErrorKind::PermissionDenied => "permission denied",
        ErrorKind::IsADirectory => "it is a directory",
        _ => "it cannot be read",
    }
}

/// Publishes the contents of `reader` as the next release of `registry`'s items, all or nothing:
/// the file is validated into a staging table, then only its differences from the current
/// release are written, each with a change event. `origin` says what made the release. A file
/// without items is refused ([`ImportError::Empty`]); see [`import_with`] to allow one.
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
        allow_empty: false,
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
    /// Accept a file without items, which removes every item. Off unless the caller asked for
    /// it (`?allow_empty=true`, `import --allow-empty`): an empty file is more often an accident
    /// (a failed export, the wrong file) than a wish to empty the registry.
    pub allow_empty: bool,
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
        if writer.rows == 0 && !options.allow_empty {
            return Err(ImportError::Empty {
                registry: registry.slug().to_owned(),
                items: registry.row.item_count,
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
        problems.add(
            None,
            None,
            format!("the file cannot be read: {}", io_reason(&e)),
        );
        return Ok(());
    }
    if first.is_empty() {
        problems.add(
            None,
            None,
            "the file is empty (0 bytes): a CSV file starts with its header line",
        );
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
            let (column, message) = csv_problem(&e, None);
            problems.add(Some(1), column.as_deref(), message);
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
                let (column, message) = csv_problem(&e, Some(&header));
                problems.add(line, column.as_deref(), message);
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
            conn, writer, problems, before, line, None, id_index, values, geometry, &mut seq,
        )?;
    }
    Ok(())
}

/// A CSV reading error in the caller's words: the column (by header name) and what is wrong.
fn csv_problem(e: &csv::Error, header: Option<&csv::StringRecord>) -> (Option<String>, String) {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            let column = header.and_then(|h| h.get(err.field())).map_or_else(
                || format!("{}", err.field() + 1),
                |name| name.trim().to_owned(),
            );
            (
                Some(column),
                "is not UTF-8 text: save the file as UTF-8 (in Excel: \"CSV UTF-8\")".into(),
            )
        }
        csv::ErrorKind::Io(e) => (None, format!("the file cannot be read: {}", io_reason(e))),
        _ => (None, "is not a well-formed CSV record".into()),
    }
}

/// Adds a checked row, or records why it cannot be added. `id_pointer` is the JSON Pointer of
/// a GeoJSON feature's id (CSV rows have none).
#[allow(clippy::too_many_arguments)]
fn accept_row(
    conn: &mut DbConn,
    writer: &mut Writer<'_>,
    problems: &mut Problems,
    problems_before: usize,
    line: Option<u64>,
    id_pointer: Option<String>,
    id_index: usize,
    values: Vec<Value>,
    geometry: Option<StoredGeometry>,
    seq: &mut i64,
) -> QueryResult<()> {
    let id_field = &writer.registry.row.id_field;
    let report = |problems: &mut Problems, message: String| match &id_pointer {
        Some(pointer) => problems.add_at(line, Some(id_field), pointer.clone(), message),
        None => problems.add(line, Some(id_field), message),
    };
    let Some(id) = id_text(&values[id_index]) else {
        if problems.total == problems_before {
            report(problems, "the item id is empty".into());
        }
        return Ok(());
    };
    if writer.is_duplicate(conn, &id)? {
        report(problems, format!("duplicate id {id:?}"));
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

/// Reads a GeoJSON FeatureCollection as a stream, one feature at a time, so a large file never
/// sits in memory whole. serde walks the document: members other than `type` and `features`
/// (`bbox`, `crs`, `name`, …) are skipped; each feature is read as JSON and checked here, so
/// every refusal names the feature and the JSON Pointer of the member at fault, in our words.
fn read_geojson(
    conn: &mut DbConn,
    writer: &mut Writer<'_>,
    problems: &mut Problems,
    reader: impl Read,
) -> QueryResult<()> {
    let mut reader = BufReader::new(reader);
    let bom = match reader.fill_buf() {
        Err(e) => {
            problems.add(
                None,
                None,
                format!("the file cannot be read: {}", io_reason(&e)),
            );
            return Ok(());
        }
        Ok([]) => {
            problems.add_at(
                None,
                None,
                String::new(),
                "the file is empty (0 bytes): send a GeoJSON FeatureCollection",
            );
            return Ok(());
        }
        // Editors on Windows save JSON with a UTF-8 byte order mark; RFC 8259 lets a reader
        // ignore it.
        Ok(start) => start.starts_with(b"\xEF\xBB\xBF"),
    };
    if bom {
        reader.consume(3);
    }
    let registry = writer.registry;
    let id_index = registry
        .fields
        .iter()
        .position(|f| f.name == registry.row.id_field)
        .expect("id field is in the schema");
    let mut sink = FeatureSink {
        conn,
        writer,
        problems,
        id_index,
        seq: 0,
        features: 0,
        in_features: false,
        in_feature: false,
        stopped: false,
        failed: None,
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let read = Document(&mut sink)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    if let Some(e) = sink.failed.take() {
        return Err(e);
    }
    if let Err(e) = read
        && !sink.stopped
    {
        let why = json_text::syntax_problem(&e);
        let (feature, pointer, message) = if sink.in_feature {
            (
                Some(sink.features + 1),
                format!("/features/{}", sink.features),
                format!("not valid JSON: {why}"),
            )
        } else if sink.in_features {
            let after = match sink.features {
                0 => "at the start of the features".to_owned(),
                n => format!("after feature {n}"),
            };
            (
                None,
                "/features".to_owned(),
                format!("not valid JSON {after}: {why}"),
            )
        } else {
            (None, String::new(), format!("not valid JSON: {why}"))
        };
        sink.problems.add_at(feature, None, pointer, message);
    }
    Ok(())
}

/// The GeoJSON types a geometry may have.
const GEOMETRY_TYPES: &str =
    "Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon or GeometryCollection";

/// What a GeoJSON import has read so far, and where its features go.
struct FeatureSink<'a, 'r> {
    conn: &'a mut DbConn,
    writer: &'a mut Writer<'r>,
    problems: &'a mut Problems,
    id_index: usize,
    seq: i64,
    /// Features read so far.
    features: u64,
    /// Inside the `features` array (a JSON error there is placed after the last feature read).
    in_features: bool,
    /// Inside one feature (a JSON error there names it).
    in_feature: bool,
    /// Reading stopped on purpose, after recording why.
    stopped: bool,
    /// A database error while staging: the import fails with it.
    failed: Option<diesel::result::Error>,
}

impl FeatureSink<'_, '_> {
    /// Ends the reading (the problem is recorded already).
    fn stop<E: de::Error>(&mut self) -> E {
        self.stopped = true;
        E::custom("import stopped")
    }

    /// Refuses a document that is not a FeatureCollection object.
    fn not_a_collection<E: de::Error>(&mut self, found: String) -> E {
        let hint = if found.contains("array") {
            " (a list of features goes in the collection's \"features\" member)"
        } else {
            ""
        };
        self.problems.add_at(
            None,
            None,
            String::new(),
            format!(
                "expected a GeoJSON FeatureCollection {{\"type\": \"FeatureCollection\", \
                 \"features\": […]}}, found {found}{hint}"
            ),
        );
        self.stop()
    }

    /// Refuses a `features` member that is not an array.
    fn not_features<E: de::Error>(&mut self, found: String) -> E {
        self.problems.add_at(
            None,
            None,
            "/features".into(),
            format!("expected an array of GeoJSON Features, found {found}"),
        );
        self.stop()
    }

    /// Checks and stages one feature; false when reading must stop.
    fn feature(&mut self, value: Json) -> bool {
        self.features += 1;
        let n = self.features;
        let at = format!("/features/{}", n - 1);
        if let Some(max) = self.writer.max_rows
            && n > max
        {
            self.problems.add_at(Some(n), None, at, too_many_rows(max));
            return false;
        }
        let before = self.problems.total;
        let (values, geometry) = self.read_feature(n, &at, value);
        let id_pointer = format!(
            "{at}/properties/{}",
            json_text::pointer_token(&self.writer.registry.row.id_field)
        );
        let staged = accept_row(
            self.conn,
            self.writer,
            self.problems,
            before,
            Some(n),
            Some(id_pointer),
            self.id_index,
            values,
            geometry,
            &mut self.seq,
        );
        match staged {
            Ok(()) => true,
            Err(e) => {
                self.failed = Some(e);
                false
            }
        }
    }

    /// A feature's field values (in schema order) and geometry; every problem is recorded with
    /// the feature's number and the member's pointer.
    fn read_feature(
        &mut self,
        n: u64,
        at: &str,
        value: Json,
    ) -> (Vec<Value>, Option<StoredGeometry>) {
        let registry = self.writer.registry;
        let line = Some(n);
        let problems = &mut *self.problems;
        let nulls = || vec![Value::Null; registry.fields.len()];
        let Json::Object(mut feature) = value else {
            problems.add_at(
                line,
                None,
                at.to_owned(),
                format!(
                    "expected a GeoJSON Feature {{\"type\": \"Feature\", \"geometry\": …, \
                     \"properties\": {{…}}}}, found {}",
                    json_text::found(&value)
                ),
            );
            return (nulls(), None);
        };
        let type_at = format!("{at}/type");
        match feature.get("type") {
            Some(Json::String(t)) if t == "Feature" => {}
            Some(Json::String(t)) => problems.add_at(
                line,
                None,
                type_at,
                format!("is {t:?}: each element of \"features\" is a \"Feature\""),
            ),
            Some(other) => problems.add_at(
                line,
                None,
                type_at,
                format!(
                    "expected the string \"Feature\", found {}",
                    json_text::found(other)
                ),
            ),
            None => problems.add_at(
                line,
                None,
                type_at,
                "is missing: a feature says \"type\": \"Feature\"",
            ),
        }
        let properties_at = format!("{at}/properties");
        let properties = match feature.remove("properties") {
            Some(Json::Object(p)) => p,
            Some(Json::Null) => serde_json::Map::new(),
            Some(other) => {
                problems.add_at(
                    line,
                    None,
                    properties_at.clone(),
                    format!(
                        "expected an object of the item's fields (or null), found {}",
                        json_text::found(&other)
                    ),
                );
                serde_json::Map::new()
            }
            None => {
                problems.add_at(
                    line,
                    None,
                    properties_at.clone(),
                    "is missing: RFC 7946 gives every feature \"properties\" (an object of the \
                     item's fields, or null)",
                );
                serde_json::Map::new()
            }
        };
        let property_at =
            |name: &str| format!("{properties_at}/{}", json_text::pointer_token(name));
        for name in properties.keys() {
            if registry.field(name).is_none() {
                problems.add_at(
                    line,
                    Some(name),
                    property_at(name),
                    "is not a field of this registry's schema",
                );
            }
        }
        let mut values = Vec::with_capacity(registry.fields.len());
        for field in &registry.fields {
            let json = properties.get(&field.name).unwrap_or(&Json::Null);
            let value = parse_json_value(field.kind, json).and_then(|v| field.check(&v).map(|_| v));
            match value {
                Ok(v) => values.push(v),
                Err(message) => {
                    problems.add_at(line, Some(&field.name), property_at(&field.name), message);
                    values.push(Value::Null);
                }
            }
        }
        // A feature id stands in for a missing id property.
        let id_at = format!("{at}/id");
        let feature_id = match feature.get("id") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(Json::Number(n)) => Some(n.to_string()),
            Some(other) => {
                problems.add_at(
                    line,
                    Some("id"),
                    id_at.clone(),
                    format!(
                        "expected a string or a number, found {}",
                        json_text::found(other)
                    ),
                );
                None
            }
        };
        if values[self.id_index].is_null()
            && let Some(text) = feature_id
        {
            match registry.fields[self.id_index].parse(&text) {
                Ok(v) => values[self.id_index] = v,
                Err(message) => problems.add_at(line, Some("id"), id_at, message),
            }
        }
        let geometry_at = format!("{at}/geometry");
        let geometry = match feature.remove("geometry") {
            None => {
                problems.add_at(
                    line,
                    Some("geometry"),
                    geometry_at,
                    "is missing: RFC 7946 gives every feature a \"geometry\" (null for an item \
                     without a location)",
                );
                None
            }
            Some(Json::Null) => None,
            Some(_) if registry.geometry == GeometryKind::None => {
                problems.add_at(
                    line,
                    Some("geometry"),
                    geometry_at,
                    "this registry has no geometry: give \"geometry\": null",
                );
                None
            }
            Some(g) => match read_geometry(registry.geometry, g) {
                Ok(stored) => Some(stored),
                Err((member, message)) => {
                    problems.add_at(
                        line,
                        Some("geometry"),
                        format!("{geometry_at}{member}"),
                        message,
                    );
                    None
                }
            },
        };
        (values, geometry)
    }
}

/// A GeoJSON geometry object as a stored geometry of `kind`, or the member at fault (a pointer
/// relative to the geometry) and why.
fn read_geometry(kind: GeometryKind, value: Json) -> Result<StoredGeometry, (String, String)> {
    let Json::Object(object) = &value else {
        return Err((
            String::new(),
            format!(
                "expected a GeoJSON geometry object (or null), found {}",
                json_text::found(&value)
            ),
        ));
    };
    let name = match object.get("type") {
        Some(Json::String(t)) => t.clone(),
        Some(other) => {
            return Err((
                "/type".into(),
                format!(
                    "expected a geometry type ({GEOMETRY_TYPES}), found {}",
                    json_text::found(other)
                ),
            ));
        }
        None => return Err(("/type".into(), format!("is missing: give {GEOMETRY_TYPES}"))),
    };
    let shape = match name.as_str() {
        "Point" => "[longitude, latitude]",
        "MultiPoint" | "LineString" => "an array of [longitude, latitude] positions",
        "Polygon" | "MultiLineString" => "an array of arrays of [longitude, latitude] positions",
        "MultiPolygon" => "an array of polygons, each an array of rings of positions",
        "GeometryCollection" => "an array of geometry objects",
        other => {
            return Err((
                "/type".into(),
                format!("{other:?} is not a GeoJSON geometry type: use {GEOMETRY_TYPES}"),
            ));
        }
    };
    let member = if name == "GeometryCollection" {
        "/geometries"
    } else {
        "/coordinates"
    };
    if !object.contains_key(&member[1..]) {
        return Err((member.into(), format!("is missing: a {name} needs {shape}")));
    }
    let parsed: geojson::Geometry = serde_json::from_value(value).map_err(|_| {
        (
            member.to_owned(),
            format!("does not hold the coordinates of a {name}: expected {shape}"),
        )
    })?;
    geometry::from_geojson(kind, parsed).map_err(|message| (String::new(), message))
}

/// The whole GeoJSON document: an object with `type` and `features`.
struct Document<'s, 'a, 'r>(&'s mut FeatureSink<'a, 'r>);

impl<'de> DeserializeSeed<'de> for Document<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a GeoJSON FeatureCollection")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let sink = self.0;
        let mut collection = false;
        let mut typed = false;
        let mut features = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => {
                    typed = true;
                    let message = match map.next_value::<Json>()? {
                        Json::String(t) if t == "FeatureCollection" => {
                            collection = true;
                            continue;
                        }
                        Json::String(t) if t == "Feature" => "is \"Feature\": the file is a \
                            single feature, but an upload replaces every item of the registry; \
                            send a FeatureCollection with all items in \"features\""
                            .to_owned(),
                        Json::String(t) if GEOMETRY_TYPES.contains(t.as_str()) => format!(
                            "is {t:?}: the file is a bare geometry; send a FeatureCollection \
                             whose features carry the items' properties and geometries"
                        ),
                        Json::String(t) => {
                            format!("is {t:?}: expected \"FeatureCollection\"")
                        }
                        other => format!(
                            "expected the string \"FeatureCollection\", found {}",
                            json_text::found(&other)
                        ),
                    };
                    sink.problems.add_at(None, None, "/type".into(), message);
                    return Err(sink.stop());
                }
                "features" => {
                    if features {
                        sink.problems.add_at(
                            None,
                            None,
                            "/features".into(),
                            "appears twice: give every item in one \"features\" array",
                        );
                        return Err(sink.stop());
                    }
                    features = true;
                    sink.in_features = true;
                    map.next_value_seed(Features(&mut *sink))?;
                    sink.in_features = false;
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let missing = match (typed, features) {
            (true, true) => None,
            (true, false) => Some((
                "/features",
                "is missing: a FeatureCollection lists its items in \"features\": […]",
            )),
            (false, true) => Some((
                "/type",
                "is missing: a GeoJSON FeatureCollection says \"type\": \"FeatureCollection\"",
            )),
            (false, false) => Some((
                "",
                "expected a GeoJSON FeatureCollection {\"type\": \"FeatureCollection\", \
                 \"features\": […]}, found an object with neither \"type\" nor \"features\"",
            )),
        };
        debug_assert!(collection || !typed);
        if let Some((pointer, message)) = missing {
            sink.problems.add_at(None, None, pointer.into(), message);
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.0.not_a_collection("a JSON array".into()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Err(self.0.not_a_collection(json_text::found(&Json::from(v))))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        Err(self.0.not_a_collection(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        Err(self.0.not_a_collection(format!("the number {v}")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        Err(self.0.not_a_collection(format!("the number {v}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        Err(self.0.not_a_collection(format!("the number {v}")))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.0.not_a_collection("null".into()))
    }
}

/// One element of `features`, read as JSON (marked, so a JSON error inside it names it).
struct OneFeature<'s, 'a, 'r>(&'s mut FeatureSink<'a, 'r>);

impl<'de> DeserializeSeed<'de> for OneFeature<'_, '_, '_> {
    type Value = Json;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        self.0.in_feature = true;
        let feature = serde::Deserialize::deserialize(deserializer)?;
        self.0.in_feature = false;
        Ok(feature)
    }
}

/// The `features` array, read one feature at a time.
struct Features<'s, 'a, 'r>(&'s mut FeatureSink<'a, 'r>);

impl<'de> DeserializeSeed<'de> for Features<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Features<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of GeoJSON Features")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(feature) = seq.next_element_seed(OneFeature(&mut *self.0))? {
            if !self.0.feature(feature) {
                return Err(self.0.stop());
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.0.not_features("an object".into()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Err(self.0.not_features(json_text::found(&Json::from(v))))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        Err(self.0.not_features(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        Err(self.0.not_features(format!("the number {v}")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        Err(self.0.not_features(format!("the number {v}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        Err(self.0.not_features(format!("the number {v}")))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.0.not_features("null".into()))
    }
}
