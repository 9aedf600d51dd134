//! Registries through HTTP: metadata, every operator, sort, cursors, bbox, q, formats, CSV
//! options, refused imports and streamed exports. Expected results are computed in the test
//! from the registry's complete export, never written in by hand.

use std::collections::HashSet;

use serde_json::Value;

use crate::both_backends;
use crate::common::TestApp;

/// What `X-Sample-Data` says on the items and record of a registry of generated data.
const SAMPLE_DATA_HEADER: &str = "true; generated sample data, not real records";

/// Every item of a registry, in import order, from the complete NDJSON export.
async fn all_items(app: &TestApp, slug: &str) -> Vec<Value> {
    let res = app
        .get(&format!("/api/v1/registries/{slug}/items.ndjson"))
        .await;
    assert_eq!(res.status, 200);
    res.text()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON item per line"))
        .collect()
}

fn ids_of(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Follows `next_cursor` from `first` to the end, returning every item id.
async fn walk(app: &TestApp, first: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut uri = first.to_owned();
    loop {
        let res = app.get(&uri).await;
        assert_eq!(res.status, 200, "{uri}: {}", res.text());
        let body = res.json();
        ids.extend(ids_of(body["items"].as_array().unwrap()));
        match body["links"]["next"].as_str() {
            Some(next) => uri = next.to_owned(),
            None => break,
        }
    }
    ids
}

/// Which items a filter should select, computed in the test.
type Predicate = Box<dyn Fn(&Value) -> bool>;

fn prop<'a>(item: &'a Value, field: &str) -> &'a Value {
    &item["properties"][field]
}

both_backends!(registries_describe_passport_schema_and_sample_flag, |app| {
    let list = app.get("/api/v1/registries").await.json();
    let slugs: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["slug"].as_str().unwrap())
        .collect();
    for expected in [
        "territorial-units",
        "cultural-heritage",
        "communal-property",
        "housing-stock",
        "road-monitoring",
        "budget-on-map",
        "digital-learning-hubs",
    ] {
        assert!(slugs.contains(&expected), "{expected}");
    }
    for r in list["items"].as_array().unwrap() {
        assert!(r["title"]["value"].is_string());
        assert!(!r["sources"].as_array().unwrap().is_empty());
        if r["sample"] == true {
            assert!(
                r["sample_note"]["value"]
                    .as_str()
                    .unwrap()
                    .to_lowercase()
                    .contains("sample")
            );
        } else {
            assert!(r["sample_note"].is_null());
        }
        let items = app.get(r["links"]["items"].as_str().unwrap()).await;
        assert_eq!(items.json()["total"], r["item_count"], "{}", r["slug"]);
        assert_eq!(items.json()["sample"], r["sample"]);
        let expected = (r["sample"] == true).then_some(SAMPLE_DATA_HEADER);
        assert_eq!(items.header("x-sample-data"), expected);
    }
    let units = app.get("/api/v1/registries/territorial-units").await.json();
    assert_eq!(units["sample"], false);
    assert_eq!(units["id_field"], "katottg");
    let category = units["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "category")
        .unwrap();
    assert_eq!(category["allowed_values"].as_array().unwrap().len(), 6);
    assert!(
        category["operators"]
            .as_array()
            .unwrap()
            .contains(&Value::from("startswith"))
    );
    app.get("/api/v1/registries/nope").await.problem(404);
    app.get("/api/v1/registries/nope/items").await.problem(404);
    let csv = app.get("/api/v1/registries.csv").await.text();
    assert_eq!(csv.lines().count(), slugs.len() + 1);
});

both_backends!(every_operator_matches_a_computed_expectation, |app| {
    let items = all_items(&app, "housing-stock").await;
    assert!(items.len() > 100);
    let year = |i: &Value| prop(i, "year_built").as_i64();
    let area = |i: &Value| prop(i, "total_area_m2").as_f64();
    let material = |i: &Value| prop(i, "wall_material").as_str().map(str::to_owned);
    let cases: Vec<(String, Predicate)> = vec![
        (
            "year_built=1974".into(),
            Box::new(move |i| year(i) == Some(1974)),
        ),
        (
            "year_built__ne=1974".into(),
            Box::new(move |i| year(i).is_some_and(|y| y != 1974)),
        ),
        (
            "year_built__gt=2000".into(),
            Box::new(move |i| year(i).is_some_and(|y| y > 2000)),
        ),
        (
            "year_built__gte=2000".into(),
            Box::new(move |i| year(i).is_some_and(|y| y >= 2000)),
        ),
        (
            "year_built__lt=1970".into(),
            Box::new(move |i| year(i).is_some_and(|y| y < 1970)),
        ),
        (
            "year_built__lte=1970".into(),
            Box::new(move |i| year(i).is_some_and(|y| y <= 1970)),
        ),
        (
            "total_area_m2__gt=5000.5".into(),
            Box::new(move |i| area(i).is_some_and(|a| a > 5000.5)),
        ),
        (
            "wall_material__in=brick,panel".into(),
            Box::new(move |i| matches!(material(i).as_deref(), Some("brick" | "panel"))),
        ),
        (
            "energy_class__isnull=true".into(),
            Box::new(|i| prop(i, "energy_class").is_null()),
        ),
        (
            "energy_class__isnull=false".into(),
            Box::new(|i| !prop(i, "energy_class").is_null()),
        ),
        (
            "address__contains=%D0%A8%D0%B5%D0%B2".into(),
            Box::new(|i| {
                prop(i, "address")
                    .as_str()
                    .is_some_and(|a| a.contains("Шев"))
            }),
        ),
        (
            "address__startswith=%D0%B2%D1%83%D0%BB".into(),
            Box::new(|i| {
                prop(i, "address")
                    .as_str()
                    .is_some_and(|a| a.starts_with("вул"))
            }),
        ),
        (
            "wall_material=brick&year_built__gte=1990".into(),
            Box::new(move |i| {
                material(i).as_deref() == Some("brick") && year(i).is_some_and(|y| y >= 1990)
            }),
        ),
    ];
    for (query, keep) in cases {
        let expected: Vec<String> = ids_of(
            &items
                .iter()
                .filter(|i| keep(i))
                .cloned()
                .collect::<Vec<_>>(),
        );
        let got = walk(
            &app,
            &format!("/api/v1/registries/housing-stock/items?limit=37&{query}"),
        )
        .await;
        assert_eq!(got, expected, "{query}");
        let counted = app
            .get(&format!(
                "/api/v1/registries/housing-stock/items?limit=1&count=exact&{query}"
            ))
            .await
            .json();
        assert_eq!(counted["total"], expected.len() as i64, "{query}");
        assert_eq!(counted["total_exact"], true);
    }
    // Booleans and dates on another registry.
    let hubs = all_items(&app, "digital-learning-hubs").await;
    let village: Vec<String> = ids_of(
        &hubs
            .iter()
            .filter(|i| prop(i, "is_village") == true)
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        walk(
            &app,
            "/api/v1/registries/digital-learning-hubs/items?is_village=true"
        )
        .await,
        village
    );
    let late: Vec<String> = ids_of(
        &hubs
            .iter()
            .filter(|i| {
                prop(i, "opened_on")
                    .as_str()
                    .is_some_and(|d| d > "2023-01-01")
            })
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        walk(
            &app,
            "/api/v1/registries/digital-learning-hubs/items?opened_on__gt=2023-01-01"
        )
        .await,
        late
    );
});

both_backends!(bad_filters_are_refused_by_name, |app| {
    for (query, parameter) in [
        ("yeer=2000", "yeer"),
        ("year_built__gt=abc", "year_built__gt"),
        ("year_built__contains=19", "year_built__contains"),
        ("address__gt=a", "address__gt"),
        ("year_built__between=1,2", "year_built__between"),
        ("energy_class__isnull=maybe", "energy_class__isnull"),
        ("year_built=", "year_built"),
        ("total_area_m2=NaN", "total_area_m2"),
        ("total_area_m2=1e999", "total_area_m2"),
        ("year_built=99999999999999999999", "year_built"),
        ("sort=nope", "sort"),
        ("fields=nope", "fields"),
        ("q=%20%20", "q"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=27,49,26,50", "bbox"),
        ("bbox=200,0,201,1", "bbox"),
        ("limit=0", "limit"),
        ("count=approximate", "count"),
        ("delimiter=pipe&format=csv", "delimiter"),
        ("bom=true", "bom"),
        ("year_built=1&year_built=2", "year_built"),
    ] {
        let p = app
            .get(&format!("/api/v1/registries/housing-stock/items?{query}"))
            .await
            .problem(400);
        assert_eq!(p["parameter"], parameter, "{query}: {p}");
    }
    let p = app
        .get("/api/v1/registries/territorial-units/items?bbox=26,49,27,50")
        .await
        .problem(400);
    assert!(p["detail"].as_str().unwrap().contains("no geometry"));
    app.get("/api/v1/registries/territorial-units/items.geojson")
        .await
        .problem(406);
});

both_backends!(sorted_keyset_pages_cover_every_item_once_in_order, |app| {
    let items = all_items(&app, "housing-stock").await;
    for sort in [
        "year_built",
        "-year_built",
        "energy_class,-total_area_m2",
        "-energy_class,address",
        "wall_material,-year_built,address",
    ] {
        let mut expected = items.clone();
        let keys: Vec<(&str, bool)> = sort
            .split(',')
            .map(|k| k.strip_prefix('-').map_or((k, false), |f| (f, true)))
            .collect();
        // Nulls last in every direction, ties in import order (the sort is stable).
        expected.sort_by(|a, b| {
            for (field, desc) in &keys {
                let (x, y) = (prop(a, field), prop(b, field));
                let ord = match (x.is_null(), y.is_null()) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => std::cmp::Ordering::Greater,
                    (false, true) => std::cmp::Ordering::Less,
                    _ => {
                        let o = match (x.as_f64(), y.as_f64()) {
                            (Some(p), Some(q)) => p.total_cmp(&q),
                            _ => x
                                .as_str()
                                .unwrap()
                                .as_bytes()
                                .cmp(y.as_str().unwrap().as_bytes()),
                        };
                        if *desc { o.reverse() } else { o }
                    }
                };
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
            }
            std::cmp::Ordering::Equal
        });
        let got = walk(
            &app,
            &format!("/api/v1/registries/housing-stock/items?limit=23&sort={sort}"),
        )
        .await;
        assert_eq!(got, ids_of(&expected), "sort={sort}");
        let unique: HashSet<&String> = got.iter().collect();
        assert_eq!(unique.len(), items.len());
    }
});

both_backends!(cursor_is_bound_to_filters_and_sort, |app| {
    let first = app
        .get("/api/v1/registries/housing-stock/items?limit=5&sort=year_built")
        .await
        .json();
    let cursor = first["next_cursor"].as_str().unwrap();
    let p = app
        .get(&format!(
            "/api/v1/registries/housing-stock/items?limit=5&sort=-year_built&cursor={cursor}"
        ))
        .await
        .problem(400);
    assert_eq!(p["parameter"], "cursor");
    let p = app
        .get(&format!(
            "/api/v1/registries/communal-property/items?limit=5&sort=year_built&cursor={cursor}"
        ))
        .await
        .problem(400);
    assert_eq!(p["parameter"], "cursor");
});

both_backends!(search_is_cyrillic_aware, |app| {
    let items = all_items(&app, "housing-stock").await;
    let needle = "кам'янецька";
    let expected: Vec<String> = ids_of(
        &items
            .iter()
            .filter(|i| {
                i["properties"]
                    .as_object()
                    .unwrap()
                    .values()
                    .filter_map(|v| v.as_str())
                    .any(|t| {
                        t.to_lowercase()
                            .replace(['\u{2019}', '\u{02BC}'], "'")
                            .contains(needle)
                    })
            })
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert!(!expected.is_empty(), "the fixtures have Кам'янецька street");
    // Upper case and a typographic apostrophe find the same items.
    let got = walk(&app, "/api/v1/registries/housing-stock/items?q=%D0%9A%D0%90%D0%9C%E2%80%99%D0%AF%D0%9D%D0%95%D0%A6%D0%AC%D0%9A%D0%90").await;
    assert_eq!(got, expected);
    let none = app.get("/api/v1/registries/housing-stock/items?q=%D0%B6%D0%BE%D0%B4%D0%B5%D0%BD%D0%B8%D0%B9xyz").await.json();
    assert_eq!(none["total"], 0);
});

both_backends!(bbox_selects_intersecting_geometries, |app| {
    let (min_lon, min_lat, max_lon, max_lat) = (26.95, 49.40, 27.00, 49.44);
    for slug in ["housing-stock", "road-monitoring", "budget-on-map"] {
        let items = all_items(&app, slug).await;
        let expected: Vec<String> = ids_of(
            &items
                .iter()
                .filter(|i| {
                    let g = &i["geometry"];
                    if g.is_null() {
                        return false;
                    }
                    let geom: geojson::Geometry = serde_json::from_value(g.clone()).unwrap();
                    let geo: geo_types::Geometry<f64> = geom.try_into().unwrap();
                    use geo::BoundingRect;
                    let r = geo.bounding_rect().unwrap();
                    r.max().x >= min_lon
                        && r.min().x <= max_lon
                        && r.max().y >= min_lat
                        && r.min().y <= max_lat
                })
                .cloned()
                .collect::<Vec<_>>(),
        );
        assert!(
            !expected.is_empty() && expected.len() < items.len(),
            "{slug}: a real subset"
        );
        let got = walk(
            &app,
            &format!(
                "/api/v1/registries/{slug}/items?bbox={min_lon},{min_lat},{max_lon},{max_lat}"
            ),
        )
        .await;
        assert_eq!(got, expected, "{slug}");
    }
});

both_backends!(formats_carry_the_same_items_and_geometry, |app| {
    let json = app
        .get("/api/v1/registries/budget-on-map/items?limit=1000")
        .await
        .json();
    let items = json["items"].as_array().unwrap();
    // GeoJSON: a valid FeatureCollection with the same ids and geometries.
    let text = app
        .get("/api/v1/registries/budget-on-map/items.geojson")
        .await
        .text();
    let fc: geojson::FeatureCollection = text
        .parse::<geojson::GeoJson>()
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(fc.features.len(), items.len());
    for (f, i) in fc.features.iter().zip(items) {
        assert_eq!(
            serde_json::to_value(f.id.as_ref().unwrap()).unwrap(),
            i["id"]
        );
        assert_eq!(
            serde_json::to_value(f.geometry.as_ref().unwrap()).unwrap(),
            i["geometry"]
        );
    }
    let raw: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(raw["sample"], true, "GeoJSON says it is sample data");
    // CSV: lon/lat is the centroid, wkt the same polygon.
    let csv_text = app
        .get("/api/v1/registries/budget-on-map/items.csv")
        .await
        .text();
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(
        &header.iter().collect::<Vec<_>>()[header.len() - 3..],
        ["lon", "lat", "wkt"]
    );
    for (row, item) in reader.records().zip(items) {
        let row = row.unwrap();
        let wkt: wkt::Wkt<f64> = row[header.len() - 1].parse().unwrap();
        let from_wkt: geo_types::Geometry<f64> = wkt.try_into().unwrap();
        let from_json: geo_types::Geometry<f64> =
            serde_json::from_value::<geojson::Geometry>(item["geometry"].clone())
                .unwrap()
                .try_into()
                .unwrap();
        assert_eq!(from_wkt, from_json);
        use geo::Centroid;
        let c = from_json.centroid().unwrap();
        let lon: f64 = row[header.len() - 3].parse().unwrap();
        assert!((lon - c.x()).abs() < 1e-6);
        assert_eq!(row[0], *item["id"].as_str().unwrap());
    }
    // Accept and ?format= choose the same representations.
    let by_accept = app
        .get_with(
            "/api/v1/registries/budget-on-map/items",
            &[("Accept", "application/geo+json")],
        )
        .await;
    assert_eq!(
        by_accept.header("content-type"),
        Some("application/geo+json")
    );
    let by_param = app
        .get("/api/v1/registries/budget-on-map/items?format=ndjson")
        .await;
    assert_eq!(
        by_param.header("content-type"),
        Some("application/x-ndjson")
    );
    assert_eq!(by_param.text().lines().count(), items.len());
    // One item, and 404 for an unknown one.
    let first_id = items[0]["id"].as_str().unwrap();
    let one = app
        .get(&format!(
            "/api/v1/registries/budget-on-map/items/{first_id}"
        ))
        .await
        .json();
    // The page's item, plus what a record on its own says (registry, sample, release).
    for member in ["id", "properties", "geometry"] {
        assert_eq!(one[member], items[0][member], "{member}");
    }
    assert_eq!(one["registry"], "budget-on-map");
    app.get("/api/v1/registries/budget-on-map/items/nope")
        .await
        .problem(404);
});

both_backends!(csv_options_for_spreadsheets, |app| {
    let plain = app.get("/api/v1/registries/housing-stock/items.csv").await;
    assert!(!plain.body.starts_with(b"\xEF\xBB\xBF"));
    let bom = app
        .get("/api/v1/registries/housing-stock/items.csv?bom=true")
        .await;
    assert!(bom.body.starts_with(b"\xEF\xBB\xBF"));
    assert_eq!(&bom.body[3..], &plain.body[..]);
    let semicolon = app
        .get("/api/v1/registries/housing-stock/items.csv?delimiter=semicolon")
        .await
        .text();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(semicolon.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[0], "id");
    assert_eq!(reader.records().count(), plain.text().lines().count() - 1);
    let tab = app
        .get("/api/v1/registries/housing-stock/items.csv?delimiter=tab&limit=3")
        .await
        .text();
    assert!(tab.lines().next().unwrap().contains('\t'));
    let labels = app
        .get("/api/v1/registries/housing-stock/items.csv?header=labels&lang=en&limit=1")
        .await
        .text();
    let registry = app
        .get("/api/v1/registries/housing-stock?lang=en")
        .await
        .json();
    let first_label = registry["fields"][0]["label"]["value"].as_str().unwrap();
    assert!(labels.starts_with(first_label), "{labels}");
    let download = app
        .get("/api/v1/registries/housing-stock/items.csv?download=true")
        .await;
    let disposition = download.header("content-disposition").unwrap();
    assert!(disposition.starts_with("attachment; filename=\"housing-stock-"));
    assert!(disposition.ends_with(".csv\""));
    let fields = app
        .get("/api/v1/registries/housing-stock/items.csv?fields=year_built,address&limit=2")
        .await
        .text();
    assert!(fields.starts_with("id,year_built,address,lon,lat,wkt\r\n"));
});

both_backends!(registry_csv_neutralises_formulas_by_default, |app| {
    let items = all_items(&app, "budget-on-map").await;
    let risky: Vec<&Value> = items
        .iter()
        .filter(|i| {
            prop(i, "title")
                .as_str()
                .is_some_and(|t| t.starts_with(['=', '+', '-', '@']))
        })
        .collect();
    assert!(!risky.is_empty(), "the fixtures contain formula-like text");
    let id = risky[0]["id"].as_str().unwrap();
    let title = prop(risky[0], "title").as_str().unwrap();
    for (query, expected) in [
        ("", format!("'{title}")),
        ("?neutralise_formulas=false", title.to_owned()),
    ] {
        let text = app
            .get(&format!(
                "/api/v1/registries/budget-on-map/items.csv{query}"
            ))
            .await
            .text();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let row = reader
            .records()
            .map(|r| r.unwrap())
            .find(|r| &r[0] == id)
            .unwrap();
        assert_eq!(&row[1], expected.as_str(), "{query}");
    }
    // Numbers are never prefixed, even negative ones.
    let text = app
        .get("/api/v1/registries/budget-on-map/items.csv")
        .await
        .text();
    assert!(!text.contains(",'-0") && !text.contains(",'1"));
});

both_backends!(
    refused_imports_change_nothing_and_list_every_problem,
    |app| {
        use opengov_api::models::registries::{self, import};
        let before = app
            .get("/api/v1/registries/housing-stock/items.csv")
            .await
            .body;
        let header = "id,address,floors,apartments,year_built,total_area_m2,wall_material,management,energy_class,lon,lat\n";
        let bad = format!(
            "{header}1,a,1,1,2000,10.5,brick,m,A,27.0,49.4\n\
         2,b,two,1,2000,10.5,brick,m,A,27.0,49.4\n\
         3,c,1,1,2000,10.5,steel,m,A,27.0,49.4\n\
         1,d,1,1,2000,10.5,brick,m,A,27.0,49.4\n\
         4,e,1,1,2000,10.5,brick,m,A,190.0,49.4\n\
         ,f,1,1,2000,10.5,brick,m,A,27.0,49.4\n\
         2,g,1,1,2000,10.5,brick,m,A,27.0,49.4\n"
        );
        let mut conn = app.pool().get().unwrap();
        let registry = registries::find_schema(&mut conn, "housing-stock")
            .unwrap()
            .unwrap();
        let err = import::import(
            &mut conn,
            &registry,
            import::FileFormat::Csv,
            bad.as_bytes(),
            "test",
            import::Publish::Always,
        )
        .unwrap_err();
        let import::ImportError::Refused { problems, total } = err else {
            panic!("refused")
        };
        assert_eq!(total, problems.len());
        let at: Vec<(Option<u64>, Option<String>)> = problems
            .iter()
            .map(|p| (p.line, p.column.clone()))
            .collect();
        for expected in [
            (Some(3), Some("floors".to_owned())),
            (Some(4), Some("wall_material".to_owned())),
            (Some(5), Some("id".to_owned())),
            (Some(6), Some("lon/lat".to_owned())),
            (Some(7), Some("id".to_owned())),
            // A duplicate of a row that was itself refused is still named.
            (Some(8), Some("id".to_owned())),
        ] {
            assert!(at.contains(&expected), "{expected:?} in {at:?}");
        }
        let unknown_column = "id,address,colour\n1,a,red\n";
        let err = import::import(
            &mut conn,
            &registry,
            import::FileFormat::Csv,
            unknown_column.as_bytes(),
            "test",
            import::Publish::Always,
        )
        .unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        let not_geojson = r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[27,49.4]},"properties":{"id":"x"}}]}"#;
        let err = import::import(
            &mut conn,
            &registry,
            import::FileFormat::GeoJson,
            not_geojson.as_bytes(),
            "test",
            import::Publish::Always,
        )
        .unwrap_err();
        assert!(err.to_string().contains("id"), "{err}");
        drop(conn);
        assert_eq!(
            app.get("/api/v1/registries/housing-stock/items.csv")
                .await
                .body,
            before,
            "nothing changed"
        );
    }
);

both_backends!(streamed_export_spans_many_batches, |app| {
    use opengov_api::models::registries::items::EXPORT_BATCH;
    use opengov_api::models::registries::{self, import};
    let rows = EXPORT_BATCH as usize * 2 + 345;
    let mut file = String::from(
        "katottg,category,name_uk,level1_oblast,level2_raion,level3_hromada,koatuu_legacy\n",
    );
    for n in 0..rows {
        file.push_str(&format!("UA{n:017},C,Село {n},UA1,UA2,UA3,{n}\n"));
    }
    let mut conn = app.pool().get().unwrap();
    let registry = registries::find_schema(&mut conn, "territorial-units")
        .unwrap()
        .unwrap();
    let summary = import::import(
        &mut conn,
        &registry,
        import::FileFormat::Csv,
        file.as_bytes(),
        "test",
        import::Publish::Always,
    )
    .unwrap();
    assert_eq!(summary.rows as usize, rows);
    drop(conn);
    let csv_text = app
        .get("/api/v1/registries/territorial-units/items.csv")
        .await
        .text();
    let lines: Vec<&str> = csv_text.lines().collect();
    assert_eq!(lines.len(), rows + 1, "header and every row, nothing cut");
    assert!(lines[1].starts_with(&format!("UA{:017},", 0)));
    assert!(lines[rows].starts_with(&format!("UA{:017},", rows - 1)));
    let ndjson = app
        .get("/api/v1/registries/territorial-units/items.ndjson?category=C")
        .await
        .text();
    assert_eq!(ndjson.lines().count(), rows);
    let page = app
        .get("/api/v1/registries/territorial-units/items?category=C&limit=1")
        .await
        .json();
    assert_eq!(page["total"], 1000, "filtered totals are capped");
    assert_eq!(page["total_exact"], false);
    let exact = app
        .get("/api/v1/registries/territorial-units/items?category=C&limit=1&count=exact")
        .await
        .json();
    assert_eq!(exact["total"], rows as i64);
});

/// The first line of a CSV (after a BOM) as cells.
fn csv_header(body: &str, delimiter: u8) -> Vec<String> {
    let body = body.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(body.as_bytes());
    reader
        .records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect()
}

both_backends!(every_field_has_its_own_label_in_every_language, |app| {
    let list = app.get("/api/v1/registries?limit=100").await.json();
    for registry in list["items"].as_array().unwrap() {
        let slug = registry["slug"].as_str().unwrap();
        let metadata = app
            .get(&format!(
                "/api/v1/registries/{slug}/items.csv-metadata.json"
            ))
            .await
            .json();
        let columns = metadata["tableSchema"]["columns"].as_array().unwrap();
        for lang in ["uk", "en", "es"] {
            let passport = app
                .get(&format!("/api/v1/registries/{slug}?lang={lang}"))
                .await
                .json();
            let fields = passport["fields"].as_array().unwrap();
            let mut labels: Vec<String> = Vec::new();
            for (field, column) in fields.iter().zip(columns) {
                let label = &field["label"];
                let at = format!("{slug} {} ({lang}): {label}", field["name"]);
                assert_eq!(label["lang"], lang, "{at}");
                assert_eq!(label["fallback"], false, "{at}");
                assert!(label["source"].is_null(), "labels are our words: {at}");
                let value = label["value"].as_str().unwrap();
                assert!(!value.trim().is_empty(), "{at}");
                if lang == "uk" {
                    assert!(
                        value
                            .chars()
                            .any(|c| ('\u{0400}'..='\u{04ff}').contains(&c)),
                        "a Ukrainian label: {at}"
                    );
                }
                assert_eq!(column["titles"][lang], value, "CSVW titles: {at}");
                labels.push(value.to_owned());
            }
            let distinct: HashSet<&String> = labels.iter().collect();
            assert_eq!(distinct.len(), labels.len(), "{slug} ({lang}): {labels:?}");
            // Geometry columns have titles in every language too, and CSV labels use them.
            for column in &columns[fields.len()..] {
                let title = column["titles"][lang].as_str().unwrap();
                labels.push(title.to_owned());
            }
            let csv = app
                .get(&format!(
                    "/api/v1/registries/{slug}/items.csv?header=labels&lang={lang}&limit=1"
                ))
                .await
                .text();
            assert_eq!(csv_header(&csv, b','), labels, "{slug} ({lang})");
        }
    }
});

/// Fixture registries label every field in uk, en and es, each label its own; a definition for
/// `define-registry` may leave languages out (served as a marked fallback).
#[test]
fn fixture_registries_need_every_label_once_per_language() {
    use opengov_api::models::registries::definition;
    let text = include_str!("../../fixtures/registries/territorial-units/registry.toml");
    definition::parse_fixture("units", text).expect("the fixture is complete");
    // The first field's label without its Spanish wording.
    let line = text.lines().find(|l| l.starts_with("label = {")).unwrap();
    let without_es = line[..line.find(", es = ").unwrap()].to_owned() + " }";
    let incomplete = text.replacen(line, &without_es, 1);
    let problems = definition::parse_fixture("units", &incomplete).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("field katottg: label.es is missing")),
        "{problems:?}"
    );
    definition::parse("units", &incomplete).expect("define-registry keeps the looser rule");
    // Two fields with one label in a language.
    let labels: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("label = {"))
        .collect();
    let twice = text.replacen(labels[1], labels[0], 1);
    let problems = definition::parse_fixture("units", &twice).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("fields katottg and category share the label.uk")),
        "{problems:?}"
    );
}

/// Runs `csvwvalidate` (the `csvw` package from PyPI) on a metadata document and its CSV, written
/// side by side; returns its exit status and output.
fn csvw_validate(tool: &std::path::Path, metadata: &Value, csv: &[u8]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut local = metadata.clone();
    // The document names the CSV by its absolute URL; the test serves no network, so the copy
    // names the file beside it.
    local["url"] = Value::from("items.csv");
    std::fs::write(dir.path().join("items.csv"), csv).unwrap();
    let path = dir.path().join("items.csv-metadata.json");
    std::fs::write(&path, serde_json::to_vec(&local).unwrap()).unwrap();
    let out = std::process::Command::new(tool)
        .arg("--verbose")
        .arg(&path)
        .output()
        .expect("run csvwvalidate");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (
        out.status.success() && text.trim_end().ends_with("OK"),
        text,
    )
}

both_backends!(csvw_validator_accepts_every_registry_csv, |app| {
    let Some(tool) = crate::tools::python_tool("csvwvalidate") else {
        return;
    };
    let list = app.get("/api/v1/registries?limit=100").await.json();
    for registry in list["items"].as_array().unwrap() {
        let slug = registry["slug"].as_str().unwrap();
        let metadata = app
            .get(&format!(
                "/api/v1/registries/{slug}/items.csv-metadata.json"
            ))
            .await
            .json();
        let csv = app
            .get(&format!("/api/v1/registries/{slug}/items.csv"))
            .await
            .body;
        let (valid, output) = csvw_validate(&tool, &metadata, &csv);
        assert!(valid, "{slug}: {output}");
        println!("csvwvalidate {slug}: OK");
    }
    // The validator really reads the values: an integer cell that is not one fails.
    let metadata = app
        .get("/api/v1/registries/housing-stock/items.csv-metadata.json")
        .await
        .json();
    let csv = app
        .get("/api/v1/registries/housing-stock/items.csv")
        .await
        .text();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes());
    let mut rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let floors = rows[0].iter().position(|h| h == "floors").unwrap();
    let mut cells: Vec<String> = rows[1].iter().map(str::to_owned).collect();
    cells[floors] = "many".into();
    rows[1] = csv::StringRecord::from(cells);
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in &rows {
        writer.write_record(row).unwrap();
    }
    let broken = writer.into_inner().unwrap();
    let (valid, output) = csvw_validate(&tool, &metadata, &broken);
    assert!(!valid && output.contains("many"), "{output}");
});

both_backends!(
    a_single_item_says_its_registry_sample_flag_and_release,
    |app| {
        // Every JSON body names the release it was read from; a single item too, with the sample
        // label that every answer serving sample data carries.
        let real = app
            .get("/api/v1/registries/territorial-units/items/UA68040470010096613")
            .await;
        assert_eq!(real.status, 200);
        let body = real.json();
        assert_eq!(body["id"], "UA68040470010096613");
        assert_eq!(body["registry"], "territorial-units");
        assert_eq!(body["sample"], false);
        let header = real.header("data-release").unwrap().to_owned();
        assert_eq!(
            format!(
                "{}@{}",
                body["release"]["dataset"].as_str().unwrap(),
                body["release"]["number"]
            ),
            header
        );
        assert_eq!(body["release"]["pinned"], false);
        let pinned = app
            .get("/api/v1/registries/territorial-units/items/UA68040470010096613?release=1")
            .await
            .json();
        assert_eq!(pinned["release"]["number"], 1);
        assert_eq!(pinned["release"]["pinned"], true);
        let sample = app
            .get("/api/v1/registries/road-monitoring/items/RD-0001")
            .await;
        assert_eq!(sample.json()["sample"], true);
        assert_eq!(sample.header("x-sample-data"), Some(SAMPLE_DATA_HEADER));
    }
);

both_backends!(a_bbox_in_the_wrong_order_is_refused_or_explained, |app| {
    // Khmelnytskyi lies around longitude 26.9–27.1, latitude 49.4–49.5.
    let items = |query: &str| format!("/api/v1/registries/housing-stock/items?{query}");
    // Corners that cannot be longitude,latitude: 400, with the box in the right order.
    let p = app
        .get(&items("bbox=49.38,126.9,49.46,127.07"))
        .await
        .problem(400);
    assert_eq!(p["parameter"], "bbox");
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("longitude first"), "{detail}");
    assert!(detail.contains("bbox=126.9,49.38,127.07,49.46"), "{detail}");
    // Valid corners in latitude,longitude order: no items, and a hint with the swapped box.
    let swapped = app.get(&items("bbox=49.38,26.9,49.46,27.07")).await;
    assert_eq!(swapped.status, 200);
    let body = swapped.json();
    assert_eq!(body["total"], 0);
    let hint = body["hint"].as_str().expect("a hint");
    assert!(
        hint.contains("did you mean bbox=26.9,49.38,27.07,49.46"),
        "{hint}"
    );
    let right = app.get(&items("bbox=26.9,49.38,27.07,49.46")).await.json();
    assert!(right["total"].as_i64().unwrap() > 0);
    assert!(right.get("hint").is_none(), "no hint when items match");
    // A valid box far from the data: the hint says where the items are, without a suggestion.
    let far = app.get(&items("bbox=2.2,48.8,2.4,48.9")).await.json();
    assert_eq!(far["total"], 0);
    let hint = far["hint"].as_str().expect("a hint");
    assert!(hint.contains("lie within bbox="), "{hint}");
    assert!(!hint.contains("did you mean"), "{hint}");
    // GeoJSON pages carry it as a foreign member.
    let geojson = app
        .get("/api/v1/registries/housing-stock/items.geojson?bbox=49.38,26.9,49.46,27.07&limit=10")
        .await
        .json();
    assert_eq!(geojson["features"].as_array().unwrap().len(), 0);
    assert!(geojson["hint"].as_str().unwrap().contains("did you mean"));
    // An empty page for another reason (a filter) gets no hint.
    let filtered = app
        .get(&items("bbox=26.9,49.38,27.07,49.46&floors__gt=1000"))
        .await
        .json();
    assert_eq!(filtered["total"], 0);
    assert!(filtered.get("hint").is_none());
});
