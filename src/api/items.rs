//! Registry items on the wire: JSON pages, CSV (with spreadsheet options), GeoJSON and NDJSON,
//! and complete exports streamed in bounded batches from one read snapshot.

use std::sync::Arc;

use actix_web::web::Bytes;
use serde_json::{Map, Value};

use crate::api::csv::neutralise_formula;
use crate::api::negotiate::Format;
use crate::api::release::ReleaseRef;
use crate::db::items::{self, ItemRow, Select};
use crate::db::{PooledConn, ReadSnapshot};
use crate::models::lang::Lang;
use crate::models::registries::Registry;
use crate::models::registries::geometry::{self, GeometryKind, geojson_to_wkt};
use crate::models::registries::query;
use crate::models::registries::schema::FieldType;

/// Rows read per batch of a streamed export.
pub const EXPORT_BATCH: i64 = 2000;

/// Column separators a CSV can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    Comma,
    Semicolon,
    Tab,
}

impl Delimiter {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "comma" => Some(Delimiter::Comma),
            "semicolon" => Some(Delimiter::Semicolon),
            "tab" => Some(Delimiter::Tab),
            _ => None,
        }
    }

    fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
            Delimiter::Tab => b'\t',
        }
    }
}

/// CSV options for spreadsheets.
#[derive(Debug, Clone, Copy)]
pub struct CsvOptions {
    pub bom: bool,
    pub delimiter: Delimiter,
    /// Column labels (in the request's language) instead of field names.
    pub labels: bool,
    pub neutralise_formulas: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            bom: false,
            delimiter: Delimiter::Comma,
            labels: false,
            neutralise_formulas: true,
        }
    }
}

/// Turns stored item rows into bytes of one format.
pub struct Renderer {
    pub registry: Arc<Registry>,
    pub format: Format,
    /// Fields to output, in order; `None` = all, as stored.
    pub fields: Option<Vec<String>>,
    pub csv: CsvOptions,
    pub lang: Lang,
    /// The release read, stated in GeoJSON bodies.
    pub release: Option<ReleaseRef>,
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

impl Renderer {
    fn field_names(&self) -> Vec<&str> {
        match &self.fields {
            Some(fields) => fields.iter().map(String::as_str).collect(),
            None => self
                .registry
                .fields
                .iter()
                .map(|f| f.name.as_str())
                .collect(),
        }
    }

    fn has_geometry(&self) -> bool {
        self.registry.geometry != GeometryKind::None
    }

    /// The item's properties as JSON text: stored as-is, or re-serialised with the chosen fields.
    fn properties(&self, row: &ItemRow) -> String {
        match &self.fields {
            None => row.data.clone(),
            Some(fields) => {
                let stored: Map<String, Value> =
                    serde_json::from_str(&row.data).unwrap_or_default();
                let chosen: Map<String, Value> = fields
                    .iter()
                    .map(|f| (f.clone(), stored.get(f).cloned().unwrap_or(Value::Null)))
                    .collect();
                Value::Object(chosen).to_string()
            }
        }
    }

    /// `{"id":…,"properties":{…},"geometry":…}` — with every field, the canonical form
    /// (`registries::write_canonical_item`) a release's checksum is computed over.
    pub fn item_json(&self, row: &ItemRow, out: &mut String) {
        out.push_str("{\"id\":");
        out.push_str(&json_string(&row.item_id));
        out.push_str(",\"properties\":");
        out.push_str(&self.properties(row));
        out.push_str(",\"geometry\":");
        out.push_str(row.geometry.as_deref().unwrap_or("null"));
        out.push('}');
    }

    /// One item on its own: the item's members, then its registry, sample flag and release.
    pub fn item_record_json(&self, row: &ItemRow, release: Option<&ReleaseRef>, out: &mut String) {
        self.item_json(row, out);
        out.pop(); // the item's closing brace
        out.push_str(",\"registry\":");
        out.push_str(&json_string(self.registry.slug()));
        out.push_str(",\"sample\":");
        out.push_str(if self.registry.row.sample {
            "true"
        } else {
            "false"
        });
        out.push_str(",\"release\":");
        out.push_str(&serde_json::to_string(&release).unwrap_or_else(|_| "null".to_owned()));
        out.push('}');
    }

    /// An RFC 7946 Feature.
    fn feature(&self, row: &ItemRow, out: &mut String) {
        out.push_str("{\"type\":\"Feature\",\"id\":");
        out.push_str(&json_string(&row.item_id));
        out.push_str(",\"geometry\":");
        out.push_str(row.geometry.as_deref().unwrap_or("null"));
        out.push_str(",\"properties\":");
        out.push_str(&self.properties(row));
        out.push('}');
    }

    /// What comes before the first row.
    pub fn prologue(&self) -> Vec<u8> {
        match self.format {
            Format::Csv => {
                let mut out = Vec::new();
                if self.csv.bom {
                    out.extend_from_slice(b"\xEF\xBB\xBF");
                }
                let mut writer = self.csv_writer(&mut out);
                let mut header: Vec<String> = self
                    .field_names()
                    .into_iter()
                    .map(|name| {
                        if self.csv.labels {
                            self.registry
                                .field_texts
                                .get(name)
                                .and_then(|t| t.pick("label", self.lang))
                                .map(|t| t.value)
                                .unwrap_or_else(|| name.to_owned())
                        } else {
                            name.to_owned()
                        }
                    })
                    .collect();
                if self.has_geometry() {
                    header.extend(geometry::CSV_COLUMNS.map(|column| {
                        match (self.csv.labels, geometry::column_label(column, self.lang)) {
                            (true, Some(label)) => label.to_owned(),
                            _ => column.to_owned(),
                        }
                    }));
                }
                let _ = writer.write_record(&header);
                drop(writer);
                out
            }
            Format::GeoJson => format!(
                "{{\"type\":\"FeatureCollection\",\"registry\":{},\"sample\":{},\"release\":{},\"features\":[",
                json_string(self.registry.slug()),
                self.registry.row.sample,
                serde_json::to_string(&self.release).unwrap_or_else(|_| "null".into())
            )
            .into_bytes(),
            Format::Json | Format::NdJson => Vec::new(),
        }
    }

    /// What comes after the last row: for GeoJSON the `next` link and, on an empty page, the
    /// `hint` saying why.
    pub fn epilogue(&self, next: Option<&str>, hint: Option<&str>) -> Vec<u8> {
        match self.format {
            Format::GeoJson => {
                let mut out = String::from("]");
                if let Some(href) = next {
                    out.push_str(&format!(
                        ",\"links\":[{{\"rel\":\"next\",\"type\":\"application/geo+json\",\"href\":{}}}]",
                        json_string(href)
                    ));
                }
                if let Some(hint) = hint {
                    out.push_str(",\"hint\":");
                    out.push_str(&json_string(hint));
                }
                out.push('}');
                out.into_bytes()
            }
            _ => Vec::new(),
        }
    }

    fn csv_writer<'w>(&self, out: &'w mut Vec<u8>) -> csv::Writer<&'w mut Vec<u8>> {
        csv::WriterBuilder::new()
            .delimiter(self.csv.delimiter.byte())
            .terminator(csv::Terminator::CRLF)
            .from_writer(out)
    }

    /// Rows of a batch; `first` says whether rows were already written (for separators).
    pub fn rows(&self, rows: &[ItemRow], first: bool) -> Vec<u8> {
        match self.format {
            Format::Csv => self.csv_rows(rows),
            _ => {
                let mut out = String::with_capacity(rows.iter().map(|r| r.data.len() + 128).sum());
                self.json_rows_into(rows, first, &mut out);
                out.into_bytes()
            }
        }
    }

    /// JSON-family rows appended to `out` (items, features or NDJSON lines).
    pub fn json_rows_into(&self, rows: &[ItemRow], first: bool, out: &mut String) {
        for (i, row) in rows.iter().enumerate() {
            match self.format {
                Format::NdJson => {
                    self.item_json(row, out);
                    out.push('\n');
                }
                _ => {
                    if i > 0 || !first {
                        out.push(',');
                    }
                    if self.format == Format::GeoJson {
                        self.feature(row, out);
                    } else {
                        self.item_json(row, out);
                    }
                }
            }
        }
    }

    fn csv_rows(&self, rows: &[ItemRow]) -> Vec<u8> {
        let names = self.field_names();
        let kinds: Vec<FieldType> = names
            .iter()
            .map(|n| self.registry.field(n).map_or(FieldType::Text, |f| f.kind))
            .collect();
        let mut out = Vec::with_capacity(rows.len() * 128);
        let mut writer = self.csv_writer(&mut out);
        let mut record: Vec<String> = Vec::with_capacity(names.len() + 3);
        for row in rows {
            record.clear();
            let stored: Map<String, Value> = serde_json::from_str(&row.data).unwrap_or_default();
            for (name, kind) in names.iter().zip(&kinds) {
                let cell = match stored.get(*name) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s))
                        if *kind == FieldType::Text && self.csv.neutralise_formulas =>
                    {
                        neutralise_formula(s).into_owned()
                    }
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                };
                record.push(cell);
            }
            if self.has_geometry() {
                record.push(row.lon.map(coordinate).unwrap_or_default());
                record.push(row.lat.map(coordinate).unwrap_or_default());
                record.push(
                    row.geometry
                        .as_deref()
                        .and_then(geojson_to_wkt)
                        .unwrap_or_default(),
                );
            }
            let _ = writer.write_record(&record);
        }
        drop(writer);
        out
    }
}

/// A coordinate to 7 decimals (about 1 cm), without trailing zeros.
fn coordinate(value: f64) -> String {
    let text = format!("{value:.7}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The sort values (as JSON) and `seq` of a row, for a cursor or the next batch.
pub fn position_after(row: &ItemRow, select: &Select) -> (Vec<Value>, i64) {
    (query::sort_values(&select.sort, &row.data), row.seq)
}

/// Streams every item matching `select` through `tx` in batches read from one snapshot. Runs on a
/// blocking thread; stops early when the client goes away (the channel closes). A failure after
/// the first bytes ends the stream with an error, which aborts the response: an export is never
/// silently cut short.
pub fn stream_export(
    conn: PooledConn,
    renderer: Renderer,
    select: Select,
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let send = |bytes: Vec<u8>| -> bool {
        bytes.is_empty() || tx.blocking_send(Ok(Bytes::from(bytes))).is_ok()
    };
    let fail = |message: String| {
        log::error!("export of {} failed: {message}", renderer.registry.slug());
        let _ = tx.blocking_send(Err(std::io::Error::other(message)));
    };
    let mut snapshot = match ReadSnapshot::begin(conn) {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    if !send(renderer.prologue()) {
        return;
    }
    let table = renderer.registry.row.table_name.clone();
    let mut first = true;
    let mut client_left = false;
    let position = |row: &ItemRow| {
        let (values, seq) = position_after(row, &select);
        query::sort_values_from_cursor(&renderer.registry, &select.sort, &values).map(|v| (v, seq))
    };
    let read = items::for_each_batch(
        snapshot.conn(),
        &table,
        &select,
        EXPORT_BATCH,
        position,
        |rows| {
            let sent = send(renderer.rows(rows, first));
            first = false;
            client_left = !sent;
            Ok(sent)
        },
    );
    if let Err(e) = read {
        return fail(e.to_string());
    }
    if client_left {
        return;
    }
    send(renderer.epilogue(None, None));
}
