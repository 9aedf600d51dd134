//! Parsing of query parameters with errors that name the parameter at fault.

use std::collections::BTreeSet;
use std::str::FromStr;

use crate::error::AppError;
use crate::models::params::ParamError;

impl From<ParamError> for AppError {
    fn from(e: ParamError) -> Self {
        match e.parameter {
            Some(parameter) => AppError::invalid(parameter, e.detail),
            None => AppError::InvalidParameter {
                parameter: None,
                detail: e.detail,
            },
        }
    }
}

/// Declares a collection's query parameters: the given filters plus `limit`, `cursor`, `lang` and
/// `format`. Unknown parameters are refused (serde `deny_unknown_fields`), so a typo never
/// silently returns unfiltered data. Values stay strings here and are parsed with precise errors.
macro_rules! list_params {
    ($(#[$meta:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            $($body)*
            /// Page size, 1 to 1000 (default 100). A value outside the range is refused, never clamped.
            #[param(value_type = Option<u32>, minimum = 1, maximum = 1000, example = 100)]
            pub limit: Option<String>,
            /// Opaque cursor from the previous page's `next_cursor` (or its `Link: rel="next"`
            /// header). It is bound to the filters it was issued for.
            pub cursor: Option<String>,
            /// Language of texts: `uk`, `en` or `es`. Overrides `Accept-Language`; default `en`.
            /// Each text says the language it is in, so a fallback is visible.
            #[param(value_type = Option<crate::models::lang::Lang>)]
            pub lang: Option<String>,
            /// `json` or `csv`. Overrides `Accept`; not needed with the `.csv` path.
            #[param(value_type = Option<crate::api::params::FormatName>)]
            pub format: Option<String>,
        }

        impl $name {
            pub fn common(&self) -> crate::api::respond::CommonParams<'_> {
                crate::api::respond::CommonParams {
                    limit: self.limit.as_deref(),
                    cursor: self.cursor.as_deref(),
                    lang: self.lang.as_deref(),
                    format: self.format.as_deref(),
                }
            }
        }
    };
}
pub(crate) use list_params;

/// Declares a single record's query parameters: the given ones plus `lang`.
macro_rules! record_params {
    ($(#[$meta:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            $($body)*
            /// Language of texts: `uk`, `en` or `es`. Overrides `Accept-Language`; default `en`.
            /// Each text says the language it is in, so a fallback is visible.
            #[param(value_type = Option<crate::models::lang::Lang>)]
            pub lang: Option<String>,
        }
    };
}
pub(crate) use record_params;

/// The query of an operation that takes no parameters: any parameter is unknown and refused
/// with 400, as everywhere else.
#[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoParams {}

/// Output formats of collections.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Documentation only: values are parsed in `negotiate::format`.
pub enum FormatName {
    Json,
    Csv,
}

/// Parses an optional parameter with `FromStr`, naming it in the error.
pub fn parse<T: FromStr<Err = String>>(
    name: &str,
    raw: Option<&str>,
) -> Result<Option<T>, AppError> {
    raw.map(|v| v.parse::<T>().map_err(|e| AppError::invalid(name, e)))
        .transpose()
}

/// A non-empty identifier parameter.
pub fn id(name: &str, raw: Option<&str>) -> Result<Option<String>, AppError> {
    match raw {
        Some("") => Err(AppError::invalid(name, "is empty")),
        other => Ok(other.map(str::to_owned)),
    }
}

/// Parses `expand=a,b` against the names this resource can embed.
pub fn expand<'a>(
    raw: Option<&'a str>,
    allowed: &[&'static str],
) -> Result<BTreeSet<&'a str>, AppError> {
    let mut chosen = BTreeSet::new();
    for name in raw.into_iter().flat_map(|r| r.split(',')).map(str::trim) {
        if !allowed.contains(&name) {
            return Err(AppError::invalid(
                "expand",
                format!(
                    "{name:?} cannot be expanded here; choose from {}",
                    allowed.join(", ")
                ),
            ));
        }
        chosen.insert(name);
    }
    Ok(chosen)
}

/// Refuses `expand` on CSV, which has one row per record and no room for embedded lists.
pub fn no_expand_in_csv(
    expand: &BTreeSet<&str>,
    format: crate::http::negotiate::Format,
) -> Result<(), AppError> {
    if format == crate::http::negotiate::Format::Csv && !expand.is_empty() {
        return Err(AppError::invalid(
            "expand",
            "is available for JSON only (CSV has one row per record); request the related collection as CSV instead",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// `expand` takes exactly the allowed names; anything else is refused by name.
        #[test]
        fn expand_accepts_only_allowed_names(raw in "(milestones|institutions|sources|[^,]{0,6})(,(milestones|institutions|[^,]{0,4})){0,4}") {
            let allowed = ["milestones", "institutions", "sources"];
            let names: Vec<&str> = raw.split(',').map(str::trim).collect();
            match expand(Some(&raw), &allowed) {
                Ok(chosen) => {
                    prop_assert!(names.iter().all(|n| allowed.contains(n)));
                    prop_assert!(chosen.iter().all(|n| allowed.contains(n)));
                }
                Err(AppError::InvalidParameter { parameter, detail }) => {
                    prop_assert!(names.iter().any(|n| !allowed.contains(n)));
                    prop_assert_eq!(parameter.as_deref(), Some("expand"));
                    prop_assert!(!detail.is_empty());
                }
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }

        #[test]
        fn ids_and_parsed_values_never_panic(raw in any::<String>()) {
            let id_result = id("plan", Some(&raw));
            prop_assert_eq!(id_result.is_err(), raw.is_empty());
            let _ = parse::<crate::models::lang::Lang>("lang", Some(&raw));
        }
    }
}
