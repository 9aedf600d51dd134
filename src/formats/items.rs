//! Registry items on the wire: JSON pages and single items, CSV (with spreadsheet options),
//! GeoJSON and NDJSON, written from stored rows without parsing them where the format allows.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::Format;
use super::csv::neutralise_formula;
use crate::models::lang::{Lang, LocalizedText};
use crate::models::params::ParamError;
use crate::models::registries::Registry;
use crate::models::registries::geometry::{self, GeometryKind, geojson_to_wkt};
use crate::models::registries::items::{ItemParams, ItemRow};
use crate::models::registries::schema::FieldType;
use crate::models::releases::ReleaseRef;

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

impl CsvOptions {
    /// The CSV options of an item request; they are refused for any format but CSV.
    pub fn from_params(params: &ItemParams, format: Format) -> Result<Self, ParamError> {
        let options = CsvOptions {
            bom: params.flag("bom", false)?,
            delimiter: match params.get("delimiter") {
                None => Delimiter::Comma,
                Some(d) => Delimiter::parse(d).ok_or_else(|| {
                    ParamError::new("delimiter", format!("{d:?} is not comma, semicolon or tab"))
                })?,
            },
            labels: match params.get("header") {
                None | Some("names") => false,
                Some("labels") => true,
                Some(other) => {
                    return Err(ParamError::new(
                        "header",
                        format!("{other:?} is not names or labels"),
                    ));
                }
            },
            neutralise_formulas: params.flag("neutralise_formulas", true)?,
        };
        if format != Format::Csv {
            for name in ["bom", "delimiter", "header", "neutralise_formulas"] {
                if params.get(name).is_some() {
                    return Err(ParamError::new(name, "applies to CSV only"));
                }
            }
        }
        Ok(options)
    }
}

/// What a page says besides its items (the JSON envelope; GeoJSON writes the next link and hint).
pub struct PageEnvelope<'a> {
    /// The sample notice in the request's language; written for sample registries only.
    pub sample_note: Option<&'a LocalizedText>,
    pub total: i64,
    pub total_exact: bool,
    pub limit: u32,
    pub next_cursor: Option<&'a str>,
    pub self_link: &'a str,
    pub next_link: Option<&'a str>,
    pub hint: Option<&'a str>,
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

    /// One page in the renderer's format: a JSON page's envelope around its items, or the rows
    /// between prologue and epilogue.
    pub fn page(&self, rows: &[ItemRow], page: &PageEnvelope) -> Vec<u8> {
        if self.format != Format::Json {
            let mut out = self.prologue();
            out.extend(self.rows(rows, true));
            out.extend(self.epilogue(page.next_link, page.hint));
            return out;
        }
        let mut out =
            String::with_capacity(rows.iter().map(|r| r.data.len() + 128).sum::<usize>() + 512);
        out.push_str("{\"registry\":");
        out.push_str(&json_string(self.registry.slug()));
        out.push_str(&format!(",\"sample\":{}", self.registry.row.sample));
        if self.registry.row.sample {
            out.push_str(",\"sample_note\":");
            out.push_str(
                &serde_json::to_string(&page.sample_note).unwrap_or_else(|_| "null".into()),
            );
        }
        out.push_str(",\"release\":");
        out.push_str(&serde_json::to_string(&self.release).unwrap_or_else(|_| "null".into()));
        out.push_str(",\"items\":[");
        self.json_rows_into(rows, true, &mut out);
        out.push_str(&format!(
            "],\"total\":{},\"total_exact\":{},\"limit\":{},\"next_cursor\":{},\"links\":{{\"self\":{},\"next\":{}}}",
            page.total,
            page.total_exact,
            page.limit,
            serde_json::to_string(&page.next_cursor).unwrap_or_default(),
            json_string(page.self_link),
            serde_json::to_string(&page.next_link).unwrap_or_default(),
        ));
        if let Some(hint) = page.hint {
            out.push_str(",\"hint\":");
            out.push_str(&json_string(hint));
        }
        out.push('}');
        out.into_bytes()
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
