//! Opaque keyset cursors. A cursor carries the last key served and a fingerprint of the filters it
//! was issued for, so reusing it with other filters is refused instead of returning a wrong page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::AppError;

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

/// The wire form of every cursor: a format version, the position after which to continue, and
/// the fingerprint of the filters (and sort) it was issued for.
#[derive(Serialize, Deserialize)]
struct Cursor<P> {
    v: u8,
    #[serde(flatten)]
    position: P,
    f: String,
}

/// Position in a collection ordered by id.
#[derive(Serialize, Deserialize)]
struct KeyPosition {
    after: String,
}

/// Position in registry items: the sort values and `seq` of the last item served.
#[derive(Serialize, Deserialize)]
struct ItemPosition {
    after: Vec<serde_json::Value>,
    seq: i64,
    /// The release the first page was read at, so every page comes from the same one (absent:
    /// the latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    release: Option<i64>,
}

/// Where an item page continues: after these sort values and `seq`, in this release.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemCursor {
    pub after: Vec<serde_json::Value>,
    pub seq: i64,
    pub release: Option<i64>,
}

fn encode_cursor<P: Serialize>(position: P, fingerprint: &str) -> String {
    let cursor = Cursor {
        v: 1,
        position,
        f: fingerprint.to_owned(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).unwrap_or_default())
}

/// The position to continue after, if the cursor is well formed, ours, and was issued for these
/// filters.
fn decode_cursor<P: serde::de::DeserializeOwned>(
    cursor: &str,
    fingerprint: &str,
) -> Result<P, AppError> {
    let bad = || {
        AppError::invalid(
            "cursor",
            "is not a cursor this API issued; start again without it",
        )
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .map_err(|_| bad())?;
    // A cursor is client input: a NUL in its position would reach the database, which
    // PostgreSQL refuses in text. The API never issues one.
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if holds_nul(&json) {
        return Err(bad());
    }
    let data: Cursor<P> = serde_json::from_value(json).map_err(|_| bad())?;
    if data.v != 1 {
        return Err(bad());
    }
    if data.f != fingerprint {
        return Err(AppError::invalid(
            "cursor",
            "was issued for different filters or sort; repeat them or start again without a cursor",
        ));
    }
    Ok(data.position)
}

fn holds_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(holds_nul),
        serde_json::Value::Object(members) => members
            .iter()
            .any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

/// A stable fingerprint of a collection (`scope`, e.g. its path) and its filter parameters
/// (name=value pairs in a fixed order).
pub fn fingerprint(scope: &str, filters: &[(&str, Option<&str>)]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(scope.as_bytes());
    hasher.update([0]);
    for (name, value) in filters {
        if let Some(value) = value {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(value.as_bytes());
            hasher.update([0]);
        }
    }
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn encode(after: &str, fingerprint: &str) -> String {
    encode_cursor(
        KeyPosition {
            after: after.to_owned(),
        },
        fingerprint,
    )
}

/// The key to continue after (see [`decode_cursor`]).
pub fn decode(cursor: &str, fingerprint: &str) -> Result<String, AppError> {
    decode_cursor::<KeyPosition>(cursor, fingerprint).map(|p| p.after)
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
    match raw {
        None => Ok(default),
        Some(text) => match text.parse::<u64>() {
            Ok(n) if (1..=u64::from(max)).contains(&n) => Ok(n as u32),
            Ok(n) => Err(AppError::invalid(
                "limit",
                format!("{n} is outside 1..={max}"),
            )),
            Err(_) => Err(AppError::invalid(
                "limit",
                format!("{text:?} is not a whole number between 1 and {max}"),
            )),
        },
    }
}

pub fn encode_item_cursor(cursor: ItemCursor, fingerprint: &str) -> String {
    encode_cursor(
        ItemPosition {
            after: cursor.after,
            seq: cursor.seq,
            release: cursor.release,
        },
        fingerprint,
    )
}

/// The position to continue after (see [`decode_cursor`]).
pub fn decode_item_cursor(cursor: &str, fingerprint: &str) -> Result<ItemCursor, AppError> {
    decode_cursor::<ItemPosition>(cursor, fingerprint).map(|p| ItemCursor {
        after: p.after,
        seq: p.seq,
        release: p.release,
    })
}

/// Fingerprint of an item query from its canonical `name=value` pairs.
pub fn item_fingerprint(slug: &str, canonical: &[(String, String)]) -> String {
    let pairs: Vec<(&str, Option<&str>)> = canonical
        .iter()
        .map(|(k, v)| (k.as_str(), Some(v.as_str())))
        .collect();
    fingerprint(&format!("registries/{slug}/items"), &pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_binds_to_filters() {
        let f = fingerprint("commitments", &[("plan", Some("p1")), ("status", None)]);
        let c = encode("khm-2021-2025-c1", &f);
        assert_eq!(decode(&c, &f).unwrap(), "khm-2021-2025-c1");
        let other = fingerprint("commitments", &[("plan", Some("p2"))]);
        assert!(decode(&c, &other).is_err());
        let other_collection = fingerprint("milestones", &[("plan", Some("p1"))]);
        assert!(decode(&c, &other_collection).is_err());
        assert!(decode("not a cursor", &f).is_err());
    }

    #[test]
    fn item_cursor_wire_form_is_stable() {
        // bench/helpers.py computes this cursor independently; the layout must not drift.
        let position = ItemCursor {
            after: vec![],
            seq: 150_000,
            release: None,
        };
        let c = encode_item_cursor(position.clone(), "ce58725dfd22f124");
        assert_eq!(
            c,
            "eyJ2IjoxLCJhZnRlciI6W10sInNlcSI6MTUwMDAwLCJmIjoiY2U1ODcyNWRmZDIyZjEyNCJ9"
        );
        assert_eq!(
            decode_item_cursor(&c, "ce58725dfd22f124").unwrap(),
            position
        );
        let pinned = ItemCursor {
            release: Some(3),
            ..position
        };
        let c = encode_item_cursor(pinned.clone(), "ce58725dfd22f124");
        assert_eq!(decode_item_cursor(&c, "ce58725dfd22f124").unwrap(), pinned);
        assert!(
            decode(&c, "ce58725dfd22f124").is_err(),
            "an item cursor is not a key cursor"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// JSON leaves a cursor's sort values can hold (and some they cannot).
        fn leaf() -> impl Strategy<Value = serde_json::Value> {
            prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<f64>().prop_map(serde_json::Value::from),
                any::<String>().prop_map(serde_json::Value::from),
            ]
        }

        fn item_cursor() -> impl Strategy<Value = ItemCursor> {
            (
                prop::collection::vec(leaf(), 0..6),
                any::<i64>(),
                any::<Option<i64>>(),
            )
                .prop_map(|(after, seq, release)| ItemCursor {
                    after,
                    seq,
                    release,
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn arbitrary_text_never_panics(raw in any::<String>(), f in "[0-9a-f]{16}") {
                let _ = decode(&raw, &f);
                let _ = decode_item_cursor(&raw, &f);
            }

            #[test]
            fn arbitrary_bytes_behind_base64_never_panic(bytes in any::<Vec<u8>>()) {
                let raw = URL_SAFE_NO_PAD.encode(&bytes);
                prop_assert!(decode(&raw, "f").is_err());
                let _ = decode_item_cursor(&raw, "f");
            }

            #[test]
            fn item_cursors_round_trip_and_bind(cursor in item_cursor(), f in "[0-9a-f]{16}") {
                let encoded = encode_item_cursor(cursor.clone(), &f);
                let holds_nul = cursor.after.iter().any(|v| v.as_str().is_some_and(|s| s.contains('\0')));
                match decode_item_cursor(&encoded, &f) {
                    // Floats round-trip through JSON text; NaN and infinities become null.
                    Ok(back) => {
                        prop_assert!(!holds_nul);
                        prop_assert_eq!(back.seq, cursor.seq);
                        prop_assert_eq!(back.release, cursor.release);
                        prop_assert_eq!(back.after.len(), cursor.after.len());
                    }
                    Err(_) => prop_assert!(holds_nul),
                }
                prop_assert!(decode_item_cursor(&encoded, "0000000000000000").is_err() || f == "0000000000000000");
            }

            #[test]
            fn key_cursors_round_trip(after in any::<String>(), f in "[0-9a-f]{16}") {
                let encoded = encode(&after, &f);
                match decode(&encoded, &f) {
                    Ok(back) => prop_assert_eq!(back, after),
                    Err(_) => prop_assert!(after.contains('\0')),
                }
            }

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
