//! A registry's declared item schema: fields, their types and constraints, and how a raw cell
//! becomes a typed value.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The type of a registry field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Integer,
    Decimal,
    Boolean,
    Date,
    Datetime,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Decimal => "decimal",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
        }
    }

    /// Types whose values have an order (`gt`, `lt`, ranges, sorting by value).
    pub fn is_ordered(self) -> bool {
        !matches!(self, FieldType::Boolean)
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FieldType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(FieldType::Text),
            "integer" => Ok(FieldType::Integer),
            "decimal" => Ok(FieldType::Decimal),
            "boolean" => Ok(FieldType::Boolean),
            "date" => Ok(FieldType::Date),
            "datetime" => Ok(FieldType::Datetime),
            other => Err(format!(
                "{other:?} is not a field type: use text, integer, decimal, boolean, date or datetime"
            )),
        }
    }
}

/// A typed value of a field, as stored and compared.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Integer(i64),
    Decimal(f64),
    Boolean(bool),
    /// `YYYY-MM-DD`.
    Date(String),
    /// RFC 3339 UTC, second precision: `YYYY-MM-DDTHH:MM:SSZ`.
    Datetime(String),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Text(s) | Value::Date(s) | Value::Datetime(s) => s.clone().into(),
            Value::Integer(i) => (*i).into(),
            Value::Decimal(d) => serde_json::Number::from_f64(*d)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Boolean(b) => (*b).into(),
        }
    }
}

/// Parses one raw value (a CSV cell, a query parameter) as `kind`. Empty text is null.
pub fn parse_value(kind: FieldType, raw: &str) -> Result<Value, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(Value::Null);
    }
    match kind {
        // PostgreSQL cannot store NUL in text (SQLite can): refuse it so both backends agree.
        FieldType::Text if raw.contains('\0') => {
            Err("contains a NUL character (U+0000), which cannot be stored".into())
        }
        FieldType::Text => Ok(Value::Text(raw.to_owned())),
        FieldType::Integer => text
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|_| format!("{text:?} is not an integer")),
        FieldType::Decimal => match text.parse::<f64>() {
            // Refuse NaN, infinities and exponent-free overflow: they are not decimals.
            Ok(d)
                if d.is_finite()
                    && text
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+') =>
            {
                Ok(Value::Decimal(d))
            }
            _ => Err(format!(
                "{text:?} is not a decimal number (digits with a dot, e.g. 1234.5)"
            )),
        },
        FieldType::Boolean => match text {
            "true" => Ok(Value::Boolean(true)),
            "false" => Ok(Value::Boolean(false)),
            _ => Err(format!("{text:?} is not a boolean: use true or false")),
        },
        FieldType::Date => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .filter(|d| d.format("%Y-%m-%d").to_string() == text)
            .map(|d| Value::Date(d.format("%Y-%m-%d").to_string()))
            .ok_or_else(|| format!("{text:?} is not a date (YYYY-MM-DD)")),
        FieldType::Datetime => DateTime::parse_from_rfc3339(text)
            .map(|d| {
                Value::Datetime(
                    d.with_timezone(&Utc)
                        .to_rfc3339_opts(SecondsFormat::Secs, true),
                )
            })
            .map_err(|_| {
                format!("{text:?} is not an RFC 3339 date-time (e.g. 2024-05-01T10:00:00Z)")
            }),
    }
}

/// Parses a JSON property (GeoJSON import) as `kind`.
pub fn parse_json_value(kind: FieldType, value: &serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as J;
    match (kind, value) {
        (_, J::Null) => Ok(Value::Null),
        (FieldType::Integer, J::Number(n)) => n
            .as_i64()
            .map(Value::Integer)
            .ok_or_else(|| format!("{n} is not an integer")),
        (FieldType::Decimal, J::Number(n)) => n
            .as_f64()
            .filter(|d| d.is_finite())
            .map(Value::Decimal)
            .ok_or_else(|| format!("{n} is not a finite decimal")),
        (FieldType::Boolean, J::Bool(b)) => Ok(Value::Boolean(*b)),
        (_, J::String(s)) => parse_value(kind, s),
        (FieldType::Text, J::Number(n)) => Ok(Value::Text(n.to_string())),
        (kind, other) => Err(format!(
            "expected {}, found {}",
            match kind {
                FieldType::Text => "a text",
                FieldType::Integer => "an integer",
                FieldType::Decimal => "a decimal number",
                FieldType::Boolean => "true or false",
                FieldType::Date => "a date (YYYY-MM-DD)",
                FieldType::Datetime => "an RFC 3339 date-time",
            },
            crate::models::json_text::found(other)
        )),
    }
}

/// One field of a registry's schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_values: Option<Vec<String>>,
}

impl Field {
    /// Checks a typed value against the field's constraints.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        if value.is_null() {
            return if self.required {
                Err("is required".into())
            } else {
                Ok(())
            };
        }
        if let (Some(allowed), Value::Text(t)) = (&self.allowed_values, value)
            && !allowed.iter().any(|a| a == t)
        {
            return Err(format!("{t:?} is not one of {}", allowed.join(", ")));
        }
        Ok(())
    }

    pub fn parse(&self, raw: &str) -> Result<Value, String> {
        let value = parse_value(self.kind, raw)?;
        self.check(&value)?;
        Ok(value)
    }
}

/// Is this a valid field name (also a safe SQL identifier suffix)?
pub fn valid_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 48
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_type_strictly() {
        assert_eq!(
            parse_value(FieldType::Integer, "-12").unwrap(),
            Value::Integer(-12)
        );
        assert!(parse_value(FieldType::Integer, "1.5").is_err());
        assert_eq!(
            parse_value(FieldType::Decimal, "1234.5").unwrap(),
            Value::Decimal(1234.5)
        );
        for bad in ["NaN", "inf", "1e400", "1,5", "0x10"] {
            assert!(parse_value(FieldType::Decimal, bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_value(FieldType::Boolean, "true").unwrap(),
            Value::Boolean(true)
        );
        assert!(parse_value(FieldType::Boolean, "yes").is_err());
        assert!(parse_value(FieldType::Date, "2024-02-30").is_err());
        assert_eq!(
            parse_value(FieldType::Datetime, "2024-05-01T12:00:00+02:00").unwrap(),
            Value::Datetime("2024-05-01T10:00:00Z".into())
        );
        assert_eq!(parse_value(FieldType::Text, "  ").unwrap(), Value::Null);
        assert!(parse_value(FieldType::Text, "a\0b").is_err());
    }

    #[test]
    fn field_names_are_safe_identifiers() {
        assert!(valid_field_name("area_m2"));
        for bad in ["", "2x", "Area", "a-b", "a\"b", "a b"] {
            assert!(!valid_field_name(bad), "{bad}");
        }
    }
}
