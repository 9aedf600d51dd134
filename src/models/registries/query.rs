//! The item query language: `field=value`, `field__op=value`, `sort`, `fields`, `q`, `bbox`,
//! parsed against a registry's schema into storage conditions. Errors name the parameter.

use std::collections::BTreeMap;

use crate::db::items::{CompareOp, Condition, SortKey, SqlValue};
use crate::models::registries::geometry::GeometryKind;
use crate::models::registries::schema::{FieldType, Value, parse_json_value, parse_value};
use crate::models::registries::{Registry, column_type, search};

/// Most field filters in one request, values an `in` filter takes, sort keys, search words.
pub const MAX_FILTERS: usize = 20;
pub const MAX_IN_VALUES: usize = 100;
pub const MAX_SORT_KEYS: usize = 5;
pub const MAX_SEARCH_TOKENS: usize = 10;

/// A bad parameter, named.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryError {
    pub parameter: String,
    pub detail: String,
}

fn error(parameter: &str, detail: impl Into<String>) -> QueryError {
    QueryError {
        parameter: parameter.to_owned(),
        detail: detail.into(),
    }
}

/// Filter operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    Contains,
    StartsWith,
    IsNull,
}

impl Operator {
    pub const ALL: [(&'static str, Operator); 10] = [
        ("eq", Operator::Eq),
        ("ne", Operator::Ne),
        ("gt", Operator::Gt),
        ("gte", Operator::Gte),
        ("lt", Operator::Lt),
        ("lte", Operator::Lte),
        ("in", Operator::In),
        ("contains", Operator::Contains),
        ("startswith", Operator::StartsWith),
        ("isnull", Operator::IsNull),
    ];

    fn parse(name: &str) -> Option<Operator> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, op)| *op)
    }

    /// Whether the operator applies to a field of this type.
    pub fn applies_to(self, kind: FieldType) -> bool {
        match self {
            Operator::Eq | Operator::Ne | Operator::In | Operator::IsNull => true,
            Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte => {
                kind.is_ordered() && kind != FieldType::Text
            }
            Operator::Contains | Operator::StartsWith => kind == FieldType::Text,
        }
    }

    pub fn names_for(kind: FieldType) -> Vec<&'static str> {
        Self::ALL
            .iter()
            .filter(|(_, op)| op.applies_to(kind))
            .map(|(n, _)| *n)
            .collect()
    }
}

/// A parsed item query.
#[derive(Debug, Clone, Default)]
pub struct ItemQuery {
    pub conditions: Vec<Condition>,
    pub sort: Vec<SortKey>,
    /// Fields to return (the id field always included); `None` = all.
    pub fields: Option<Vec<String>>,
    /// Canonical `name=value` pairs of everything that selects or orders rows, for cursors.
    pub canonical: Vec<(String, String)>,
}

fn to_sql(value: Value, kind: FieldType) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null(column_type(kind)),
        Value::Text(s) | Value::Date(s) | Value::Datetime(s) => SqlValue::Text(s),
        Value::Integer(i) => SqlValue::BigInt(i),
        Value::Decimal(d) => SqlValue::Double(d),
        Value::Boolean(b) => SqlValue::Bool(b),
    }
}

fn typed(parameter: &str, kind: FieldType, raw: &str) -> Result<SqlValue, QueryError> {
    if raw.is_empty() {
        return Err(error(
            parameter,
            "is empty; use __isnull=true to select missing values",
        ));
    }
    // Text is matched exactly as given (no trimming): it is data, not syntax.
    let value = if kind == FieldType::Text {
        Value::Text(raw.to_owned())
    } else {
        parse_value(kind, raw)
            .map_err(|e| error(parameter, format!("{e} (the field is {kind})")))?
    };
    Ok(to_sql(value, kind))
}

/// Parses the non-control query parameters of an items request.
pub fn parse(registry: &Registry, params: &[(String, String)]) -> Result<ItemQuery, QueryError> {
    let mut query = ItemQuery::default();
    let mut seen = std::collections::HashSet::new();
    let mut canonical: BTreeMap<String, String> = BTreeMap::new();
    let mut filters = 0;
    for (key, raw) in params {
        if !seen.insert(key.as_str()) {
            return Err(error(key, "is given more than once"));
        }
        match key.as_str() {
            "sort" => query.sort = parse_sort(registry, raw)?,
            "fields" => query.fields = Some(parse_fields(registry, raw)?),
            "q" => {
                let tokens = search::tokens(raw);
                if tokens.is_empty() {
                    return Err(error("q", "has no words to search for"));
                }
                if tokens.len() > MAX_SEARCH_TOKENS
                    || tokens.iter().any(|t| t.chars().count() > 100)
                {
                    return Err(error(
                        "q",
                        format!("at most {MAX_SEARCH_TOKENS} words of up to 100 characters"),
                    ));
                }
                query.conditions.push(Condition::Search { tokens });
            }
            "bbox" => query.conditions.push(parse_bbox(registry, raw)?),
            _ => {
                filters += 1;
                if filters > MAX_FILTERS {
                    return Err(error(
                        key,
                        format!(
                            "is one filter too many: at most {MAX_FILTERS} field filters per request"
                        ),
                    ));
                }
                query.conditions.push(parse_filter(registry, key, raw)?)
            }
        }
        if key != "fields" {
            canonical.insert(key.clone(), raw.clone());
        }
    }
    query.canonical = canonical.into_iter().collect();
    Ok(query)
}

fn parse_filter(registry: &Registry, key: &str, raw: &str) -> Result<Condition, QueryError> {
    let (name, op) = match key.split_once("__") {
        Some((name, op)) => (
            name,
            Operator::parse(op).ok_or_else(|| {
                error(
                    key,
                    format!(
                        "unknown operator {op:?}; use one of {}",
                        Operator::ALL.map(|(n, _)| n).join(", ")
                    ),
                )
            })?,
        ),
        None => (key, Operator::Eq),
    };
    let field = registry.field(name).ok_or_else(|| {
        error(
            key,
            format!(
                "is not a field of registry {:?} nor a known parameter; fields: {}",
                registry.slug(),
                registry
                    .fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    if !op.applies_to(field.kind) {
        return Err(error(
            key,
            format!(
                "this operator does not apply to the {} field {name:?}; use one of {}",
                field.kind,
                Operator::names_for(field.kind).join(", ")
            ),
        ));
    }
    let compare = |op: CompareOp| -> Result<Condition, QueryError> {
        Ok(Condition::Compare {
            field: name.to_owned(),
            op,
            value: typed(key, field.kind, raw)?,
        })
    };
    match op {
        Operator::Eq => compare(CompareOp::Eq),
        Operator::Ne => compare(CompareOp::Ne),
        Operator::Gt => compare(CompareOp::Gt),
        Operator::Gte => compare(CompareOp::Gte),
        Operator::Lt => compare(CompareOp::Lt),
        Operator::Lte => compare(CompareOp::Lte),
        Operator::In => {
            let values: Vec<&str> = raw.split(',').collect();
            if values.len() > MAX_IN_VALUES {
                return Err(error(key, format!("takes at most {MAX_IN_VALUES} values")));
            }
            Ok(Condition::In {
                field: name.to_owned(),
                values: values
                    .into_iter()
                    .map(|v| typed(key, field.kind, v))
                    .collect::<Result<_, _>>()?,
            })
        }
        Operator::Contains | Operator::StartsWith => {
            if raw.is_empty() {
                return Err(error(key, "is empty"));
            }
            let (field, text) = (name.to_owned(), raw.to_owned());
            Ok(if op == Operator::Contains {
                Condition::Contains { field, text }
            } else {
                Condition::StartsWith { field, text }
            })
        }
        Operator::IsNull => match raw {
            "true" | "false" => Ok(Condition::IsNull {
                field: name.to_owned(),
                null: raw == "true",
            }),
            _ => Err(error(key, format!("{raw:?} is not true or false"))),
        },
    }
}

fn parse_sort(registry: &Registry, raw: &str) -> Result<Vec<SortKey>, QueryError> {
    let mut keys = Vec::new();
    for part in raw.split(',') {
        let (descending, name) = match part.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, part),
        };
        if registry.field(name).is_none() {
            return Err(error(
                "sort",
                format!("{name:?} is not a field of registry {:?}", registry.slug()),
            ));
        }
        if keys.iter().any(|k: &SortKey| k.field == name) {
            return Err(error("sort", format!("{name:?} appears twice")));
        }
        keys.push(SortKey {
            field: name.to_owned(),
            descending,
        });
    }
    if keys.len() > MAX_SORT_KEYS {
        return Err(error("sort", format!("at most {MAX_SORT_KEYS} fields")));
    }
    Ok(keys)
}

fn parse_fields(registry: &Registry, raw: &str) -> Result<Vec<String>, QueryError> {
    let mut fields = vec![registry.row.id_field.clone()];
    for name in raw.split(',') {
        if registry.field(name).is_none() {
            return Err(error(
                "fields",
                format!("{name:?} is not a field of registry {:?}", registry.slug()),
            ));
        }
        if !fields.iter().any(|f| f == name) {
            fields.push(name.to_owned());
        }
    }
    Ok(fields)
}

fn parse_bbox(registry: &Registry, raw: &str) -> Result<Condition, QueryError> {
    if registry.geometry == GeometryKind::None {
        return Err(error(
            "bbox",
            format!("registry {:?} has no geometry", registry.slug()),
        ));
    }
    let numbers: Vec<f64> = raw
        .split(',')
        .map(|n| n.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect::<Option<_>>()
        .ok_or_else(|| error("bbox", "must be four numbers: minLon,minLat,maxLon,maxLat"))?;
    let [min_lon, min_lat, max_lon, max_lat] = numbers[..] else {
        return Err(error(
            "bbox",
            "must be four numbers: minLon,minLat,maxLon,maxLat",
        ));
    };
    let wgs84 =
        |lon: f64, lat: f64| (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat);
    if !wgs84(min_lon, min_lat) || !wgs84(max_lon, max_lat) {
        let swapped = wgs84(min_lat, min_lon) && wgs84(max_lat, max_lon);
        return Err(error(
            "bbox",
            if swapped {
                format!(
                    "a latitude is outside -90..90: bbox takes longitude first \
                     (minLon,minLat,maxLon,maxLat); these look like latitude,longitude — did you \
                     mean bbox={min_lat},{min_lon},{max_lat},{max_lon}?"
                )
            } else {
                "is outside WGS84 (longitude -180..180, latitude -90..90)".to_owned()
            },
        ));
    }
    if min_lon > max_lon || min_lat > max_lat {
        return Err(error(
            "bbox",
            "minimum exceeds maximum (boxes across the antimeridian are not supported)",
        ));
    }
    Ok(Condition::BBox {
        min_lon,
        min_lat,
        max_lon,
        max_lat,
    })
}

/// Why a valid bbox matched nothing, when it lies wholly outside the `extent` of the registry's
/// located items (both `[min_lon, min_lat, max_lon, max_lat]`): says the extent, and suggests
/// the box with longitude and latitude swapped when that one meets the items.
pub fn bbox_hint(bbox: [f64; 4], extent: [f64; 4]) -> Option<String> {
    let meets =
        |a: [f64; 4], b: [f64; 4]| a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
    if meets(bbox, extent) {
        return None;
    }
    let [a, b, c, d] = extent;
    let mut hint = format!(
        "bbox lies wholly outside this registry's items, which lie within bbox={a},{b},{c},{d} \
         (minLon,minLat,maxLon,maxLat)"
    );
    let swapped = [bbox[1], bbox[0], bbox[3], bbox[2]];
    if meets(swapped, extent) {
        hint.push_str(&format!(
            "; bbox takes longitude first: did you mean bbox={},{},{},{}?",
            swapped[0], swapped[1], swapped[2], swapped[3]
        ));
    }
    Some(hint)
}

/// The sort values of a served row, read from its stored properties, for the next cursor.
pub fn sort_values(sort: &[SortKey], data: &str) -> Vec<serde_json::Value> {
    let properties: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(data).unwrap_or_default();
    sort.iter()
        .map(|k| {
            properties
                .get(&k.field)
                .cloned()
                .unwrap_or(serde_json::Value::Null)
        })
        .collect()
}

/// Converts cursor sort values back into typed storage values.
pub fn sort_values_from_cursor(
    registry: &Registry,
    sort: &[SortKey],
    values: &[serde_json::Value],
) -> Option<Vec<SqlValue>> {
    if values.len() != sort.len() {
        return None;
    }
    sort.iter()
        .zip(values)
        .map(|(key, json)| {
            let field = registry.field(&key.field)?;
            let value = parse_json_value(field.kind, json).ok()?;
            Some(match value {
                Value::Null => SqlValue::Null(column_type(field.kind)),
                other => to_sql(other, field.kind),
            })
        })
        .collect()
}
