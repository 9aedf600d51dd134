//! Property-based tests (proptest): arbitrary query strings, cursors and import files never make
//! the service panic or answer 5xx. Over HTTP every answer is a 2xx or a 4xx problem+json with a
//! `detail`; an import is accepted or refused with problems, never a database error, and a
//! refusal leaves the release as it was. One app (and database) per property and backend.

use std::fmt::Debug;

use actix_web::rt::{System, SystemRunner};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use opengov_api::api::pagination;
use opengov_api::db::Backend;
use opengov_api::db::items;
use opengov_api::models::registries::{self, import};
use opengov_api::models::releases;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::hostile::{Client, assert_client_safe, enc};

/// Runs a property over `cases` inputs against one fixture-loaded app per backend.
fn on_each_backend<S>(
    cases: u32,
    strategy: S,
    property: impl Fn(&SystemRunner, &Client, &TestApp, S::Value),
) where
    S: Strategy,
    S::Value: Debug,
{
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = TestApp::for_backend(backend, true) else {
            continue;
        };
        let system = System::new();
        let client = system.block_on(Client::new(&app));
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let outcome = runner.run(&strategy, |value| {
            property(&system, &client, &app, value);
            Ok(())
        });
        if let Err(e) = outcome {
            panic!("{backend:?}: {e}");
        }
    }
}

/// Requests every URI and checks that the answer is client-safe.
fn all_client_safe(system: &SystemRunner, client: &Client, uris: &[String]) {
    for uri in uris {
        let res = system.block_on(client.get(uri));
        assert_client_safe(uri, &res);
    }
}

const PATHS: &[&str] = &[
    "/api/v1",
    "/api/v1/plans",
    "/api/v1/plans.csv",
    "/api/v1/commitments",
    "/api/v1/commitments.csv",
    "/api/v1/commitments/khm-2021-2025-c1",
    "/api/v1/milestones",
    "/api/v1/milestones.csv",
    "/api/v1/institutions",
    "/api/v1/sources",
    "/api/v1/registries",
    "/api/v1/registries/territorial-units",
    "/api/v1/registries/territorial-units/items",
    "/api/v1/registries/territorial-units/items.csv",
    "/api/v1/registries/housing-stock/items",
    "/api/v1/registries/housing-stock/items.geojson",
    "/api/v1/registries/digital-learning-hubs/items.ndjson",
    "/api/v1/registries/road-monitoring/items",
    "/api/v1/registries/budget-on-map/items.csv",
    "/api/v1/registries/cultural-heritage/items/1",
    "/api/v1/registries/territorial-units/releases",
    "/api/v1/plan/releases",
    "/api/v1/changes",
    "/api/v1/feeds/plan.atom",
    "/api/v1/registries/housing-stock/feed.atom",
    "/api/v1/catalog.jsonld",
];

/// Parameter names: every known control parameter and filter, field filters with operators,
/// and arbitrary names.
fn key() -> impl Strategy<Value = String> {
    let known = prop::sample::select(vec![
        "limit",
        "cursor",
        "lang",
        "format",
        "release",
        "expand",
        "plan",
        "member",
        "status",
        "due_from",
        "due_to",
        "kind",
        "role",
        "ogp_value",
        "institution",
        "commitment",
        "since",
        "dataset",
        "count",
        "bom",
        "delimiter",
        "header",
        "download",
        "neutralise_formulas",
        "sort",
        "fields",
        "q",
        "bbox",
    ])
    .prop_map(str::to_owned);
    let field = prop::sample::select(vec![
        "katottg",
        "name_uk",
        "category",
        "floors",
        "total_area_m2",
        "year_built",
        "address",
        "is_village",
        "opened_on",
        "computers",
        "length_m",
        "inspected_on",
        "amount_uah",
        "id",
    ]);
    let op = prop::sample::select(vec![
        "",
        "__eq",
        "__ne",
        "__gt",
        "__gte",
        "__lt",
        "__lte",
        "__in",
        "__contains",
        "__startswith",
        "__isnull",
        "__",
        "__like",
    ]);
    prop_oneof![
        3 => known,
        3 => (field, op).prop_map(|(f, o)| format!("{f}{o}")),
        1 => any::<String>(),
    ]
}

/// Values: numbers of every shape, field values, strange text and raw bytes.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "-?[0-9]{0,24}(\\.[0-9]{0,6})?([eE][-+]?[0-9]{1,4})?".prop_map(String::into_bytes),
        prop::sample::select(vec![
            "true",
            "false",
            "exact",
            "csv",
            "json",
            "geojson",
            "ndjson",
            "uk",
            "en",
            "xx",
            "NaN",
            "Infinity",
            "-0",
            "1e308",
            "names",
            "labels",
            "semicolon",
            "tab",
            "2024-01-01",
            "2024-02-30",
            "2024-05-01T10:00:00Z",
            "plan",
            "registries/housing-stock",
            "-name_uk,katottg",
            "floors,-year_built",
            "26.9,49.4,27.1,49.5",
            "%",
            "_",
            "' OR 1=1--",
            "milestones",
            "complete",
            "cso",
            "lead",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        any::<String>().prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..40),
    ]
}

/// A query string: encoded pairs, or raw bytes where only what a URI cannot hold is escaped
/// (so stray `%`, `&`, `=` and `+` reach the parsers as they are).
fn query() -> impl Strategy<Value = String> {
    let pairs = prop::collection::vec((key(), value()), 0..5).prop_map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k.as_bytes()), enc(v)))
            .collect::<Vec<_>>()
            .join("&")
    });
    let raw = prop::collection::vec(any::<u8>(), 0..60).prop_map(|bytes| {
        bytes
            .iter()
            .map(|&b| {
                if b.is_ascii_alphanumeric() || b"%&=+-_.,~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    });
    prop_oneof![4 => pairs, 1 => raw]
}

#[test]
fn arbitrary_query_strings_never_yield_5xx() {
    let strategy = (prop::sample::select(PATHS), query());
    on_each_backend(256, strategy, |system, client, _, (path, query)| {
        all_client_safe(system, client, &[format!("{path}?{query}")]);
    });
}

#[test]
fn arbitrary_path_segments_never_yield_5xx() {
    let segment = prop::collection::vec(any::<u8>(), 0..30).prop_map(|b| enc(&b));
    let strategy = (segment.clone(), segment);
    on_each_backend(128, strategy, |system, client, _, (a, b)| {
        all_client_safe(
            system,
            client,
            &[
                format!("/api/v1/commitments/{a}"),
                format!("/api/v1/registries/{a}/items?limit=1"),
                format!("/api/v1/registries/territorial-units/items/{a}"),
                format!("/api/v1/registries/{a}/items/{b}"),
                format!("/api/v1/registries/{a}/releases/{b}"),
                format!("/api/v1/plan/releases/{a}/records"),
            ],
        );
    });
}

/// JSON values a forged cursor may carry where sort values belong.
fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::from),
    ]
}

/// Forged cursors: well-formed for the query they are sent with (so they reach the database),
/// with arbitrary positions; and arbitrary text.
#[test]
fn forged_cursors_never_yield_5xx() {
    let sorts = prop::sample::select(vec![
        ("territorial-units", ""),
        ("territorial-units", "-name_uk,katottg"),
        ("housing-stock", "floors,-total_area_m2"),
        ("digital-learning-hubs", "opened_on,is_village"),
        ("road-monitoring", "-inspected_on"),
    ]);
    let forged = (
        sorts,
        prop::collection::vec(json_leaf(), 0..4),
        any::<i64>(),
        prop_oneof![
            Just(None),
            (-3i64..5).prop_map(Some),
            any::<i64>().prop_map(Some)
        ],
        any::<String>(),
        prop::collection::vec(any::<u8>(), 0..64),
    );
    on_each_backend(
        192,
        forged,
        |system, client, _, ((slug, sort), after, seq, release, text, bytes)| {
            let canonical: Vec<(String, String)> = if sort.is_empty() {
                vec![]
            } else {
                vec![("sort".to_owned(), sort.to_owned())]
            };
            let fingerprint = pagination::item_fingerprint(slug, &canonical);
            let item_cursor = pagination::encode_item_cursor(
                pagination::ItemCursor {
                    after: after.clone(),
                    seq,
                    release,
                },
                &fingerprint,
            );
            let sort_param = if sort.is_empty() {
                String::new()
            } else {
                format!("&sort={}", enc(sort.as_bytes()))
            };
            let key_after = after
                .first()
                .and_then(Value::as_str)
                .unwrap_or(&text)
                .to_owned();
            let plan_cursor =
                pagination::encode(&key_after, &pagination::fingerprint("sources", &[]));
            let registries_cursor =
                pagination::encode(&key_after, &pagination::fingerprint("registries", &[]));
            let feed_cursor = URL_SAFE_NO_PAD
                .encode(serde_json::to_vec(&json!({"v": 1, "change": seq})).unwrap());
            let base = format!("/api/v1/registries/{slug}/items");
            all_client_safe(
                system,
                client,
                &[
                    format!("{base}?limit=5&cursor={item_cursor}{sort_param}"),
                    format!("{base}.ndjson?limit=5&cursor={item_cursor}{sort_param}"),
                    format!("{base}.csv?cursor={item_cursor}{sort_param}"),
                    format!("/api/v1/sources?limit=2&cursor={plan_cursor}"),
                    format!("/api/v1/registries?limit=2&cursor={registries_cursor}"),
                    format!("/api/v1/changes?limit=2&since={feed_cursor}"),
                    format!("{base}?cursor={}", enc(text.as_bytes())),
                    format!("{base}?cursor={}", URL_SAFE_NO_PAD.encode(&bytes)),
                    format!("/api/v1/commitments?cursor={}", enc(text.as_bytes())),
                    format!("/api/v1/changes?since={}", URL_SAFE_NO_PAD.encode(&bytes)),
                ],
            );
        },
    );
}

const UNITS_HEADER: &str =
    "katottg,category,name_uk,level1_oblast,level2_raion,level3_hromada,koatuu_legacy";

/// Words of the libraries that read import files (serde_json, geojson, csv, wkt, std::io): a
/// problem that says one passes a library's message on instead of saying what is wrong.
const LIBRARY_WORDS: [&str; 9] = [
    "IO Error",
    "EOF while",
    "failed to fill",
    "invalid type:",
    "at line 1 column",
    "Error while deserializing",
    "CSV parse error",
    "Expected GeoJSON type",
    "os error",
];

/// Imports `bytes` into `slug`; the import must be accepted or refused with problems, and a
/// refusal must leave the registry's latest release as it was.
fn import_holds(
    app: &TestApp,
    slug: &str,
    format: import::FileFormat,
    bytes: &[u8],
) -> Result<(), TestCaseError> {
    let mut conn = app.pool().get().unwrap();
    let registry = registries::find_schema(&mut conn, slug).unwrap().unwrap();
    let dataset = releases::registry_dataset(slug);
    let before = releases::latest(&mut conn, &dataset).unwrap();
    let outcome = import::import(
        &mut conn,
        &registry,
        format,
        bytes,
        "property",
        import::Publish::IfChanged,
    );
    match outcome {
        Ok(summary) => {
            // The rows the import reports are the items the registry now holds, counted apart.
            let stored = items::count(
                &mut conn,
                &registry.row.table_name,
                items::Version::Current,
                &[],
                None,
            )
            .unwrap();
            prop_assert_eq!(summary.rows, stored);
        }
        Err(import::ImportError::Refused { problems, total }) => {
            prop_assert!(total >= problems.len() && !problems.is_empty());
            prop_assert!(problems.iter().all(|p| !p.message.is_empty()));
            // Problems speak the caller's words, never a library's (unless the file says them).
            let file = String::from_utf8_lossy(bytes);
            for p in &problems {
                for library in LIBRARY_WORDS {
                    prop_assert!(
                        file.contains(library) || !p.message.contains(library),
                        "{:?} speaks a library's words",
                        p.message
                    );
                }
            }
            let after = releases::latest(&mut conn, &dataset).unwrap();
            prop_assert_eq!(
                before.map(|r| (r.number, r.sha256)),
                after.map(|r| (r.number, r.sha256))
            );
        }
        Err(import::ImportError::Empty { .. }) => {
            let after = releases::latest(&mut conn, &dataset).unwrap();
            prop_assert_eq!(
                before.map(|r| (r.number, r.sha256)),
                after.map(|r| (r.number, r.sha256))
            );
        }
        Err(e @ (import::ImportError::Database(_) | import::ImportError::Precondition(_))) => {
            prop_assert!(false, "a file reached the database unchecked: {e}");
        }
    }
    Ok(())
}

/// CSV cells: plausible values, strange text, formula prefixes and raw bytes.
fn cell() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "UA[0-9]{17}".prop_map(String::into_bytes),
        prop::sample::select(vec![
            "O", "P", "H", "C", "", " ", "=1+1", "\"", "\"\"", ",", ";", "\r\n"
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        any::<String>().prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..12),
    ]
}

/// Structured CSV rows of the territorial-units schema, then mutated: cells quoted or not,
/// rows cut, bytes flipped.
#[test]
fn mutated_csv_imports_are_accepted_or_refused() {
    let rows = prop::collection::vec(prop::collection::vec(cell(), 5..9), 0..6);
    let mutations = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3);
    let strategy = (rows, any::<bool>(), mutations, any::<bool>());
    on_each_backend(
        128,
        strategy,
        |_, _, app, (rows, quote, mutations, header_ok)| {
            let mut file = if header_ok {
                format!("{UNITS_HEADER}\n").into_bytes()
            } else {
                b"katottg;name_uk;extra\n".to_vec()
            };
            for row in &rows {
                let cells: Vec<Vec<u8>> = row
                    .iter()
                    .map(|c| {
                        if quote {
                            [b"\"".as_slice(), &c.replace_quotes(), b"\""].concat()
                        } else {
                            c.clone()
                        }
                    })
                    .collect();
                file.extend(cells.join(&b","[..]));
                file.push(b'\n');
            }
            for (at, byte) in mutations {
                if !file.is_empty() {
                    let i = at.index(file.len());
                    file[i] = byte;
                }
            }
            if let Err(e) = import_holds(app, "territorial-units", import::FileFormat::Csv, &file) {
                panic!("{e}");
            }
        },
    );
}

trait ReplaceQuotes {
    fn replace_quotes(&self) -> Vec<u8>;
}

impl ReplaceQuotes for Vec<u8> {
    /// CSV quoting: a quote inside a quoted cell is doubled.
    fn replace_quotes(&self) -> Vec<u8> {
        self.iter()
            .flat_map(|&b| if b == b'"' { vec![b'"', b'"'] } else { vec![b] })
            .collect()
    }
}

/// GeoJSON features of the road-monitoring schema with arbitrary values in their properties,
/// ids and coordinates, and the file text then mutated.
#[test]
fn mutated_geojson_imports_are_accepted_or_refused() {
    let number = prop_oneof![
        any::<f64>().prop_map(|f| json!(f)),
        (-180.0f64..180.0).prop_map(|f| json!(f)),
        Just(json!("1e400")),
        Just(json!(null)),
    ];
    let coordinates = prop::collection::vec(
        prop::collection::vec(number.clone(), 0..4).prop_map(Value::from),
        0..4,
    );
    let geometry = (
        prop::sample::select(vec![
            "LineString",
            "Point",
            "Polygon",
            "MultiLineString",
            "Nope",
        ]),
        coordinates,
    )
        .prop_map(|(kind, coords)| json!({"type": kind, "coordinates": coords}));
    let property = prop_oneof![json_leaf(), number.clone()];
    let feature = (
        prop_oneof![
            "RD-[0-9]{1,4}".prop_map(Value::from),
            json_leaf(),
        ],
        prop::collection::btree_map(
            prop::sample::select(vec![
                "street", "surface", "condition", "length_m", "inspected_on", "last_repair_year",
                "unknown",
            ]),
            property,
            0..7,
        ),
        prop_oneof![Just(Value::Null), geometry],
        prop_oneof![Just(Value::Null), json_leaf()],
    )
        .prop_map(|(id, props, geometry, feature_id)| {
            let mut properties = serde_json::Map::new();
            properties.insert("segment_id".into(), id);
            for (k, v) in props {
                properties.insert(k.into(), v);
            }
            json!({"type": "Feature", "id": feature_id, "properties": properties, "geometry": geometry})
        });
    let strategy = (
        prop::collection::vec(feature, 0..5),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..2),
    );
    on_each_backend(128, strategy, |_, _, app, (features, mutations)| {
        let mut file =
            serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features}))
                .unwrap();
        for (at, byte) in mutations {
            let i = at.index(file.len());
            file[i] = byte;
        }
        if let Err(e) = import_holds(app, "road-monitoring", import::FileFormat::GeoJson, &file) {
            panic!("{e}");
        }
    });
}

/// Arbitrary bytes as a CSV or a GeoJSON file.
#[test]
fn random_bytes_imports_are_refused_or_accepted() {
    let strategy = (
        prop::collection::vec(any::<u8>(), 0..200),
        any::<bool>(),
        any::<bool>(),
    );
    on_each_backend(96, strategy, |_, _, app, (bytes, csv, with_header)| {
        let (slug, format, file) = if csv {
            let mut file = if with_header {
                format!("{UNITS_HEADER}\n").into_bytes()
            } else {
                vec![]
            };
            file.extend(&bytes);
            ("territorial-units", import::FileFormat::Csv, file)
        } else {
            let mut file = if with_header {
                br#"{"type":"FeatureCollection","features":["#.to_vec()
            } else {
                vec![]
            };
            file.extend(&bytes);
            ("road-monitoring", import::FileFormat::GeoJson, file)
        };
        if let Err(e) = import_holds(app, slug, format, &file) {
            panic!("{e}");
        }
    });
}
