//! Wire formats: every writer that turns records into bytes of a published format — CSV
//! (RFC 4180, formula-safe), registry items (JSON, CSV, GeoJSON, NDJSON), Atom, RDF (Turtle,
//! JSON-LD) and CSVW metadata. Writers take model records and give bytes; they know neither HTTP
//! nor the database, so the API, the web pages and the command line share them.

pub mod atom;
pub mod csv;
pub mod csvw;
pub mod items;
pub mod rdf;

/// The formats a registry's items are served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    GeoJson,
    NdJson,
}

impl Format {
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::GeoJson => "application/geo+json",
            Format::NdJson => "application/x-ndjson",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::GeoJson => "geojson",
            Format::NdJson => "ndjson",
        }
    }

    /// Whether an `Accept` media range selects this format.
    pub fn matches(self, range: &str) -> bool {
        matches!(
            (range, self),
            ("*/*", _)
                | ("application/json" | "application/*", Format::Json)
                | ("text/csv" | "text/*", Format::Csv)
                | ("application/geo+json", Format::GeoJson)
                | (
                    "application/x-ndjson" | "application/jsonl" | "application/ndjson",
                    Format::NdJson
                )
        )
    }
}
