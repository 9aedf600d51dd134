//! Language negotiation: `?lang=`, `Accept-Language`, visible fallbacks, `Content-Language`.

use crate::both_backends;
use serde_json::Value;

/// Every localized text object in a JSON document.
fn texts(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Object(map)
            if map.contains_key("value")
                && map.contains_key("lang")
                && map.contains_key("fallback") =>
        {
            out.push(value.clone())
        }
        Value::Object(map) => map.values().for_each(|v| texts(v, out)),
        Value::Array(items) => items.iter().for_each(|v| texts(v, out)),
        _ => {}
    }
}

both_backends!(lang_param_picks_the_language_and_says_so, |app| {
    let es = app.get("/api/v1/plans/khm-2021-2025?lang=es").await;
    let body = es.json();
    assert_eq!(body["title"]["lang"], "es");
    assert_eq!(body["title"]["fallback"], false);
    let en = app.get("/api/v1/plans/khm-2021-2025?lang=en").await.json();
    assert_eq!(en["title"]["lang"], "en");
    assert_ne!(en["title"]["value"], body["title"]["value"]);
    // Every text says its language; fallback is true exactly when it differs from the request.
    for requested in ["uk", "en", "es"] {
        let doc = app
            .get(&format!(
                "/api/v1/plans/khm-2021-2025?lang={requested}&expand=commitments,institutions"
            ))
            .await;
        let mut found = Vec::new();
        texts(&doc.json(), &mut found);
        assert!(!found.is_empty());
        let mut served: Vec<String> = Vec::new();
        for t in &found {
            let lang = t["lang"].as_str().unwrap();
            assert_eq!(t["fallback"], lang != requested, "{t}");
            if !served.iter().any(|s| s == lang) {
                served.push(lang.to_owned());
            }
        }
        let header = doc.header("content-language").unwrap().to_owned();
        let mut listed: Vec<&str> = header.split(", ").collect();
        listed.sort();
        served.sort();
        assert_eq!(
            listed, served,
            "Content-Language lists the languages served"
        );
        assert!(doc.header("vary").unwrap().contains("Accept-Language"));
    }
});

both_backends!(accept_language_is_negotiated, |app| {
    let res = app
        .get_with(
            "/api/v1/plans/khm-2021-2025",
            &[("Accept-Language", "de-DE, es-ES;q=0.8, en;q=0.5")],
        )
        .await;
    assert_eq!(res.json()["title"]["lang"], "es");
    let res = app
        .get_with(
            "/api/v1/plans/khm-2021-2025",
            &[("Accept-Language", "uk;q=0.2, es;q=0.9")],
        )
        .await;
    let body = res.json();
    assert_eq!(body["title"]["lang"], "es");
    // ?lang wins over the header.
    let res = app
        .get_with(
            "/api/v1/plans/khm-2021-2025?lang=en",
            &[("Accept-Language", "es")],
        )
        .await;
    assert_eq!(res.json()["title"]["lang"], "en");
    // No header, no parameter: English.
    let res = app.get("/api/v1/plans").await.json();
    assert_eq!(res["lang"], "en");
});

both_backends!(missing_language_falls_back_visibly, |app| {
    // No source gives the milestones in Ukrainian: the Spanish seed text is served as a fallback.
    let m = app
        .get("/api/v1/milestones/khm-2021-2025-c1-m1?lang=uk")
        .await;
    let body = m.json();
    assert_ne!(body["title"]["lang"], "uk");
    assert_eq!(body["title"]["fallback"], true);
    assert!(!m.header("content-language").unwrap().contains("uk"));
});
