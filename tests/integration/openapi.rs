//! The committed `openapi/openapi.json` is exactly what the code generates, and the document
//! covers every route with its parameters and error responses.
//! Regenerate with `UPDATE_OPENAPI=1 cargo test openapi`.

use serde_json::Value;

const COMMITTED: &str = "openapi/openapi.json";

fn generated() -> String {
    opengov_api::api::openapi().to_pretty_json().unwrap() + "\n"
}

#[test]
fn committed_spec_matches_the_code() {
    let fresh = generated();
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::create_dir_all("openapi").unwrap();
        std::fs::write(COMMITTED, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == fresh,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test openapi` and commit it"
    );
}

/// Collects every `$ref` in the document.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let spec: Value = serde_json::from_str(&generated()).unwrap();
    let mut found = Vec::new();
    refs(&spec, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let (kind, name) = r
            .strip_prefix("#/components/")
            .and_then(|rest| rest.split_once('/'))
            .expect("a reference into components");
        assert!(
            ["schemas", "parameters", "responses", "headers"].contains(&kind),
            "{r}"
        );
        assert!(
            spec["components"][kind][name].is_object(),
            "{r} is not defined"
        );
    }
}

/// An operation's parameters and responses with references to `components` followed.
fn resolved<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(r) => {
            let (kind, name) = r
                .strip_prefix("#/components/")
                .and_then(|rest| rest.split_once('/'))
                .unwrap();
            &spec["components"][kind][name]
        }
        None => value,
    }
}

/// Every text of the document reads as written: no run of spaces or tab (the mark of a string
/// continued without `\` in the source), no space before or after a line break, no leading or
/// trailing blanks.
#[test]
fn descriptions_have_no_stray_whitespace() {
    fn check(value: &Value, at: &str, checked: &mut usize) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    let here = format!("{at}/{key}");
                    if let (true, Some(text)) = (
                        ["description", "summary", "title"].contains(&key.as_str()),
                        v.as_str(),
                    ) {
                        *checked += 1;
                        for defect in ["  ", "\t", " \n", "\n "] {
                            assert!(!text.contains(defect), "{here} has {defect:?}: {text:?}");
                        }
                        assert_eq!(text.trim(), text, "{here} has blanks at an end");
                    }
                    check(v, &here, checked);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    check(v, &format!("{at}/{i}"), checked);
                }
            }
            _ => {}
        }
    }
    let spec: Value = serde_json::from_str(&generated()).unwrap();
    let mut checked = 0;
    check(&spec, "", &mut checked);
    assert!(checked > 300, "only {checked} texts found");
}

/// A JSON body is described as JSON: no `application/*json` content is a bare string.
#[test]
fn json_bodies_have_object_schemas() {
    let spec: Value = serde_json::from_str(&generated()).unwrap();
    let mut json_contents = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                let response = resolved(&spec, response);
                for (media_type, content) in response["content"].as_object().into_iter().flatten() {
                    let essence = media_type.split(';').next().unwrap();
                    if essence.ends_with("json") && essence != "application/x-ndjson" {
                        json_contents += 1;
                        let schema = resolved(&spec, &content["schema"]);
                        let described = schema["type"] == "object"
                            || ["allOf", "oneOf"].iter().any(|k| schema[k].is_array());
                        assert!(described, "{method} {path} {status} {media_type}: {schema}");
                    }
                }
            }
        }
    }
    assert!(json_contents > 40);
    let geojson = &spec["paths"]["/api/v1/registries/{slug}/items.geojson"]["get"]["responses"]["200"]
        ["content"]["application/geo+json"]["schema"]["$ref"];
    assert_eq!(geojson, "#/components/schemas/FeatureCollection");
    let catalog = &spec["paths"]["/api/v1/catalog.jsonld"]["get"]["responses"]["200"]["content"]["application/ld+json"]
        ["schema"]["$ref"];
    assert_eq!(catalog, "#/components/schemas/JsonLdDocument");
}

/// Parameters and responses shared by several operations are defined once in `components`.
#[test]
fn repeated_definitions_live_in_components() {
    let spec: Value = serde_json::from_str(&generated()).unwrap();
    let mut inline_parameters = std::collections::HashMap::<String, usize>::new();
    let mut inline_problems = 0;
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["$ref"].is_null() {
                    *inline_parameters.entry(p.to_string()).or_default() += 1;
                }
            }
            for response in op["responses"].as_object().unwrap().values() {
                if response["content"]["application/problem+json"].is_object() {
                    inline_problems += 1;
                }
                for header in response["headers"].as_object().into_iter().flatten() {
                    assert!(
                        header.1["$ref"].is_string()
                            || !["ETag", "Cache-Control"].contains(&header.0.as_str()),
                        "{} is inline",
                        header.0
                    );
                }
            }
        }
    }
    for (parameter, count) in inline_parameters {
        assert_eq!(count, 1, "{parameter} is repeated inline");
    }
    // Only problems an operation words itself (e.g. the catalog's 400, the change feed's 410).
    assert!(
        inline_problems < 10,
        "{inline_problems} inline problem responses"
    );
    for name in ["NotFound", "NotModified", "InternalError"] {
        assert!(spec["components"]["responses"][name].is_object(), "{name}");
    }
}

#[test]
fn every_operation_documents_params_and_problems() {
    let spec: Value = serde_json::from_str(&generated()).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    for expected in [
        "/api/v1",
        "/api/v1/plans",
        "/api/v1/plans.csv",
        "/api/v1/plans/{plan_id}",
        "/api/v1/commitments",
        "/api/v1/commitments.csv",
        "/api/v1/commitments/{commitment_id}",
        "/api/v1/milestones",
        "/api/v1/milestones.csv",
        "/api/v1/milestones/{milestone_id}",
        "/api/v1/institutions",
        "/api/v1/institutions.csv",
        "/api/v1/institutions/{institution_id}",
        "/api/v1/sources",
        "/api/v1/sources.csv",
        "/api/v1/sources/{source_id}",
        "/api/v1/catalog.jsonld",
        "/api/v1/catalog.ttl",
        "/api/v1/registries/{slug}/items.csv-metadata.json",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(expected), "{expected} is documented");
    }
    let mut writes = 0;
    for (path, item) in paths {
        for method in ["post", "patch"] {
            let op = &item[method];
            if op.is_null() {
                continue;
            }
            writes += 1;
            assert!(op["operationId"].is_string(), "{method} {path}");
            assert_eq!(
                op["security"][0]["bearer"],
                serde_json::json!([]),
                "{method} {path} needs a token"
            );
            // Every refusal a write can give, each a problem; 409 only where a write can run
            // twice at once (an upload's idempotency key).
            let upload = path.ends_with("/imports");
            let statuses = [
                "400", "401", "403", "404", "412", "413", "415", "422", "429", "500", "503",
            ];
            for status in statuses.iter().chain(upload.then_some(&"409")) {
                assert_eq!(
                    resolved(&spec, &op["responses"][status])["content"]["application/problem+json"]
                        ["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
            assert_eq!(
                op["responses"]["409"].is_null(),
                !upload,
                "{method} {path} 409"
            );
            // The 422 says how several faults are reported, and the 400 when it applies.
            let invalid = resolved(&spec, &op["responses"]["422"])["description"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(invalid.contains("`errors`"), "{method} {path}: {invalid}");
            let malformed = resolved(&spec, &op["responses"]["400"])["description"]
                .as_str()
                .unwrap()
                .to_owned();
            if upload {
                assert!(invalid.contains("allow_empty=true"), "{invalid}");
                let names: Vec<&str> = op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| resolved(&spec, p)["name"].as_str().unwrap())
                    .collect();
                assert!(names.contains(&"allow_empty"), "{names:?}");
                let body = op["requestBody"]["content"].as_object().unwrap();
                for media_type in ["text/csv", "application/geo+json", "application/json"] {
                    assert!(body.contains_key(media_type), "{path} takes {media_type}");
                }
            } else {
                assert!(invalid.contains("pointer"), "{invalid}");
                assert!(malformed.contains("not JSON"), "{malformed}");
            }
        }
        let op = &item["get"];
        if op.is_null() {
            continue;
        }
        assert!(op["operationId"].is_string(), "{path}");
        assert!(op["summary"].is_string(), "{path} has a summary");
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.contains_key("200"), "{path}");
        for status in ["404", "500", "503"] {
            assert_eq!(
                resolved(&spec, &responses[status])["content"]["application/problem+json"]["schema"]
                    ["$ref"],
                "#/components/schemas/Problem",
                "{path} {status}"
            );
        }
        // Data resources share language, paging and CSV; machine feeds (releases, change feed,
        // catalog, Atom) have their own fixed formats.
        let tag = op["tags"][0].as_str().unwrap_or_default();
        // Uploads and the audit log are private records for token holders, not open data.
        let is_private = op["security"].is_array();
        let is_feed = ["releases", "catalog", "feeds"].contains(&tag) || is_private;
        if path.starts_with("/api/v1/") {
            assert!(responses.contains_key("400"), "{path} documents 400");
        }
        if path.starts_with("/api/v1/") && !is_feed {
            let names: Vec<&str> = op["parameters"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|p| resolved(&spec, p)["name"].as_str().unwrap())
                .collect();
            // Documents that carry every language at once have no `lang`.
            let all_languages =
                path.starts_with("/api/v1/catalog.") || path.ends_with("/items.csv-metadata.json");
            assert_eq!(
                names.contains(&"lang"),
                !all_languages,
                "{path} documents lang, unless it carries every language"
            );
            let is_collection = !path.contains('{') && !all_languages;
            if is_collection {
                for name in ["limit", "cursor", "format"] {
                    assert!(names.contains(&name), "{path} documents {name}");
                }
                let content = responses["200"]["content"].as_object().unwrap();
                assert!(content.contains_key("text/csv"), "{path} documents CSV");
            }
        }
    }
    assert_eq!(
        writes, 3,
        "milestone edit, progress update, registry upload"
    );
}
