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
        let name = r
            .strip_prefix("#/components/schemas/")
            .expect("local schema ref");
        assert!(
            spec["components"]["schemas"][name].is_object(),
            "{r} is not defined"
        );
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
            for status in ["401", "403", "412", "422", "500", "503"] {
                assert_eq!(
                    op["responses"][status]["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
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
                responses[status]["content"]["application/problem+json"]["schema"]["$ref"],
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
                .map(|p| p["name"].as_str().unwrap())
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
