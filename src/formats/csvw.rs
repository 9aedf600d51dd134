//! W3C CSV on the Web (CSVW) table metadata for a registry's `items.csv`: its dialect, its columns
//! in the order the CSV export writes them, their datatypes, constraints and labels.
//!
//! Built from the registry's schema and texts only; nothing is said that the schema does not say.

use serde_json::{Map, Value, json};

use crate::models::catalog::SYNTHETIC_DATA;
use crate::models::institutions::Institution;
use crate::models::lang::{Lang, TextBundle};
use crate::models::registries::Registry;
use crate::models::registries::geometry::{self, GeometryKind};
use crate::models::registries::schema::FieldType;

/// The CSVW datatype of a field type, as the CSV export writes its values.
pub fn datatype(kind: FieldType) -> Value {
    match kind {
        FieldType::Text => json!("string"),
        FieldType::Integer => json!("integer"),
        // Stored as a double and written in its shortest form, which can use an exponent
        // (`1e-7`), so `number` (xsd:double) rather than `decimal`.
        FieldType::Decimal => json!("number"),
        FieldType::Boolean => json!({"base": "boolean", "format": "true|false"}),
        FieldType::Date => json!("date"),
        FieldType::Datetime => json!("dateTime"),
    }
}

/// JSON-LD values of a text in every language it exists in.
fn texts(bundle: &TextBundle, field: &str) -> Option<Value> {
    let values: Vec<Value> = bundle
        .all(field)
        .map(|(lang, value)| json!({"@value": value, "@language": lang.code()}))
        .collect();
    (!values.is_empty()).then(|| Value::Array(values))
}

/// Escapes a value for an ECMAScript regular expression.
fn regex_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if "\\^$.|?*+()[]{}/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The metadata document. `api` is the absolute API root, e.g. `https://host/api/v1`.
pub fn table_metadata(registry: &Registry, publisher: Option<&Institution>, api: &str) -> Value {
    let slug = registry.slug();
    let mut columns: Vec<Value> = Vec::with_capacity(registry.fields.len() + 3);
    for field in &registry.fields {
        let field_texts = registry.field_texts.get(&field.name);
        let mut column = Map::new();
        column.insert("name".into(), json!(field.name));
        if let Some(bundle) = field_texts {
            let titles: Map<String, Value> = bundle
                .all("label")
                .map(|(lang, label)| (lang.code().to_owned(), json!(label)))
                .collect();
            if !titles.is_empty() {
                column.insert("titles".into(), Value::Object(titles));
            }
            if let Some(description) = texts(bundle, "description") {
                column.insert("dc:description".into(), description);
            }
        }
        let mut datatype = datatype(field.kind);
        if let Some(allowed) = &field.allowed_values {
            // Allowed values are only declared for text fields.
            let pattern = allowed
                .iter()
                .map(|v| regex_escape(v))
                .collect::<Vec<_>>()
                .join("|");
            datatype = json!({"base": "string", "format": format!("^(?:{pattern})$")});
        }
        column.insert("datatype".into(), datatype);
        column.insert("required".into(), json!(field.required));
        if let Some(unit) = &field.unit {
            column.insert("schema:unitText".into(), json!(unit));
        }
        columns.push(Value::Object(column));
    }
    if registry.geometry != GeometryKind::None {
        let descriptions = [
            "Longitude (WGS84, 7 decimals) of the point, or of the geometry's centroid; empty without geometry.",
            "Latitude (WGS84, 7 decimals) of the point, or of the geometry's centroid; empty without geometry.",
            "The geometry as Well-Known Text (WGS84); empty without geometry.",
        ];
        for (column, description) in geometry::CSV_COLUMNS.into_iter().zip(descriptions) {
            let titles: Map<String, Value> = Lang::ALL
                .iter()
                .filter_map(|&lang| {
                    geometry::column_label(column, lang)
                        .map(|label| (lang.code().to_owned(), json!(label)))
                })
                .collect();
            columns.push(json!({
                "name": column,
                "titles": titles,
                "datatype": if column == "wkt" { "string" } else { "decimal" },
                "required": false,
                "dc:description": [{"@value": description, "@language": "en"}],
            }));
        }
    }

    let mut doc = Map::new();
    doc.insert("@context".into(), json!("http://www.w3.org/ns/csvw"));
    doc.insert(
        "url".into(),
        json!(format!("{api}/registries/{slug}/items.csv")),
    );
    if let Some(title) = texts(&registry.texts, "title") {
        doc.insert("dc:title".into(), title);
    }
    if let Some(description) = texts(&registry.texts, "description") {
        doc.insert("dc:description".into(), description);
    }
    if let Some(url) = &registry.row.license_url {
        doc.insert("dc:license".into(), json!({"@id": url}));
    }
    if let Some(institution) = publisher {
        let mut agent = Map::new();
        agent.insert(
            "@id".into(),
            json!(format!("{api}/institutions/{}", institution.row.id)),
        );
        if let Some(names) = texts(&institution.texts, "name") {
            agent.insert("schema:name".into(), names);
        }
        doc.insert("dc:publisher".into(), Value::Object(agent));
    }
    if registry.row.sample {
        doc.insert("dc:type".into(), json!({"@id": SYNTHETIC_DATA.iri}));
        if let Some(note) = texts(&registry.texts, "sample_note") {
            doc.insert("rdfs:comment".into(), note);
        }
    }
    doc.insert(
        "notes".into(),
        json!([{
            "@value": "Describes the default export (no fields=, delimiter=, header= or bom=). Text cells that a spreadsheet would evaluate (starting with =, +, -, @, tab or carriage return) are written with a leading apostrophe unless neutralise_formulas=false. Empty cells are nulls.",
            "@language": "en"
        }]),
    );
    doc.insert(
        "dialect".into(),
        json!({
            "encoding": "utf-8",
            "delimiter": ",",
            "quoteChar": "\"",
            "doubleQuote": true,
            "lineTerminators": ["\r\n"],
            "header": true,
            "headerRowCount": 1,
            "skipInitialSpace": false,
            "trim": false,
        }),
    );
    doc.insert(
        "tableSchema".into(),
        json!({
            "columns": columns,
            "primaryKey": registry.row.id_field,
            "aboutUrl": format!("{api}/registries/{slug}/items/{{{}}}", registry.row.id_field),
        }),
    );
    Value::Object(doc)
}
