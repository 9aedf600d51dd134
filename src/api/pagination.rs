//! Page sizes, and the cursors of `models::cursor` as request parameters.

use crate::error::AppError;
pub use crate::models::cursor::{
    ItemCursor, encode, encode_item_cursor, fingerprint, item_fingerprint,
};
use crate::models::params;

pub use crate::models::params::{DEFAULT_LIMIT, MAX_LIMIT};

/// The key to continue after, or why `cursor` is refused.
pub fn decode(cursor: &str, fingerprint: &str) -> Result<String, AppError> {
    crate::models::cursor::decode(cursor, fingerprint).map_err(cursor_error)
}

/// The item position to continue after, or why `cursor` is refused.
pub fn decode_item_cursor(cursor: &str, fingerprint: &str) -> Result<ItemCursor, AppError> {
    crate::models::cursor::decode_item_cursor(cursor, fingerprint).map_err(cursor_error)
}

pub fn cursor_error(e: crate::models::cursor::CursorError) -> AppError {
    AppError::invalid("cursor", e.to_string())
}

/// Page size for a format: CSV without `limit` is a complete export (every matching record);
/// otherwise `limit` as parsed by [`limit`].
pub fn page_size(
    format: crate::http::negotiate::Format,
    raw: Option<&str>,
) -> Result<u32, AppError> {
    match (format, raw) {
        (crate::http::negotiate::Format::Csv, None) => Ok(u32::MAX),
        _ => limit(raw),
    }
}

/// Parses `limit`: default 100, 1..=1000, anything else refused.
pub fn limit(raw: Option<&str>) -> Result<u32, AppError> {
    limit_within(raw, DEFAULT_LIMIT, MAX_LIMIT)
}

/// Parses a `limit` of 1..=`max` (`default` when absent); anything else is refused, never clamped.
pub fn limit_within(raw: Option<&str>, default: u32, max: u32) -> Result<u32, AppError> {
    Ok(params::limit_within(raw, default, max)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn limits_are_whole_numbers_in_range(raw in "[-+]?[0-9]{0,22}|.{0,12}") {
                let expected = raw.parse::<u64>().ok().filter(|n| (1..=1000).contains(n));
                match limit(Some(&raw)) {
                    Ok(n) => prop_assert_eq!(Some(u64::from(n)), expected),
                    Err(AppError::InvalidParameter { parameter, detail }) => {
                        prop_assert!(expected.is_none());
                        prop_assert_eq!(parameter.as_deref(), Some("limit"));
                        prop_assert!(!detail.is_empty());
                    }
                    Err(other) => prop_assert!(false, "{other:?}"),
                }
            }
        }
    }

    #[test]
    fn limit_bounds() {
        assert_eq!(limit(None).unwrap(), 100);
        assert_eq!(limit(Some("1000")).unwrap(), 1000);
        for bad in ["0", "1001", "-1", "ten", "", "99999999999999999999"] {
            assert!(limit(Some(bad)).is_err(), "{bad}");
        }
    }
}
