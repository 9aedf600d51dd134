//! JSON and CSV: chosen by extension, `?format=` or `Accept`; CSV is RFC 4180 with fixed columns.

use crate::both_backends;

fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

both_backends!(csv_by_extension_param_and_accept_agree, |app| {
    let by_ext = app.get("/api/v1/commitments.csv").await;
    let by_param = app.get("/api/v1/commitments?format=csv").await;
    let by_accept = app
        .get_with("/api/v1/commitments", &[("Accept", "text/csv")])
        .await;
    for res in [&by_ext, &by_param, &by_accept] {
        assert_eq!(res.status, 200);
        assert_eq!(res.header("content-type"), Some("text/csv; charset=utf-8"));
    }
    assert_eq!(by_ext.body, by_param.body);
    assert_eq!(by_ext.body, by_accept.body);
    // Browsers' Accept (*/* last) and no Accept both give JSON.
    let browser = app
        .get_with(
            "/api/v1/commitments",
            &[("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
        )
        .await;
    assert_eq!(browser.header("content-type"), Some("application/json"));
    let weighted = app
        .get_with(
            "/api/v1/commitments",
            &[("Accept", "application/json;q=0.5, text/csv;q=0.9")],
        )
        .await;
    assert_eq!(
        weighted.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
});

both_backends!(csv_has_one_row_per_record_in_documented_columns, |app| {
    for (collection, first_columns) in [
        (
            "plans",
            vec!["id", "ogp_id", "member_id", "title", "title_lang"],
        ),
        (
            "commitments",
            vec!["id", "plan_id", "number", "ogp_id", "title", "title_lang"],
        ),
        (
            "milestones",
            vec![
                "id",
                "commitment_id",
                "seq",
                "title",
                "title_lang",
                "status",
            ],
        ),
        ("institutions", vec!["id", "kind", "name", "name_lang"]),
        ("sources", vec!["id", "title", "url"]),
    ] {
        let json = app.get(&format!("/api/v1/{collection}")).await.json();
        let text = app.get(&format!("/api/v1/{collection}.csv")).await.text();
        assert!(text.ends_with("\r\n"), "RFC 4180 line ends");
        let (header, rows) = parse_csv(&text);
        assert_eq!(
            &header[..first_columns.len()],
            first_columns.as_slice(),
            "{collection}"
        );
        let items = json["items"].as_array().unwrap();
        assert_eq!(rows.len(), items.len(), "{collection}: one row per record");
        for (row, item) in rows.iter().zip(items) {
            assert_eq!(row.len(), header.len());
            assert_eq!(row[0], item["id"].as_str().unwrap(), "same order as JSON");
        }
    }
});

both_backends!(csv_keeps_json_values, |app| {
    let json = app.get("/api/v1/commitments?lang=es").await.json();
    let text = app.get("/api/v1/commitments.csv?lang=es").await.text();
    let (header, rows) = parse_csv(&text);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (row, item) in rows.iter().zip(json["items"].as_array().unwrap()) {
        assert_eq!(row[col("title")], item["title"]["value"].as_str().unwrap());
        assert_eq!(
            row[col("title_lang")],
            item["title"]["lang"].as_str().unwrap()
        );
        assert_eq!(
            row[col("milestones_total")],
            item["progress"]["milestones_total"].to_string()
        );
        let values: Vec<&str> = item["ogp_values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(row[col("ogp_values")], values.join("; "));
    }
});

both_backends!(csv_neutralises_formulas, |app| {
    use diesel::prelude::*;
    use opengov_api::db::schema::localized_texts;
    let mut conn = app.pool().get().unwrap();
    diesel::update(
        localized_texts::table
            .filter(localized_texts::entity_type.eq("milestone"))
            .filter(localized_texts::entity_id.eq("khm-2021-2025-c1-m1"))
            .filter(localized_texts::field.eq("title")),
    )
    .set(localized_texts::value.eq("=HYPERLINK(\"http://evil\")"))
    .execute(&mut conn)
    .unwrap();
    drop(conn);
    let text = app
        .get("/api/v1/milestones.csv?commitment=khm-2021-2025-c1")
        .await
        .text();
    let (header, rows) = parse_csv(&text);
    let title = header.iter().position(|h| h == "title").unwrap();
    let row = rows.iter().find(|r| r[0] == "khm-2021-2025-c1-m1").unwrap();
    assert_eq!(row[title], "'=HYPERLINK(\"http://evil\")");
    // JSON is data, not a spreadsheet: it is served unchanged.
    let json = app
        .get("/api/v1/milestones/khm-2021-2025-c1-m1")
        .await
        .json();
    assert_eq!(json["title"]["value"], "=HYPERLINK(\"http://evil\")");
});

both_backends!(responses_compress_on_request, |app| {
    let res = app
        .get_with(
            "/api/v1/plans?expand=commitments",
            &[("Accept-Encoding", "gzip")],
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    let res = app
        .get_with(
            "/api/v1/plans?expand=commitments",
            &[("Accept-Encoding", "br")],
        )
        .await;
    assert_eq!(res.header("content-encoding"), Some("br"));
});

both_backends!(docs_and_spec_are_served, |app| {
    let spec = app.get("/api/v1/openapi.json").await;
    assert_eq!(spec.status, 200);
    assert_eq!(spec.json()["openapi"], "3.1.0");
    let ui = app.get("/docs/").await;
    assert_eq!(ui.status, 200);
    assert!(ui.header("content-type").unwrap().starts_with("text/html"));
    let redirect = app.get("/docs").await;
    assert_eq!(redirect.status, 308);
    assert_eq!(redirect.header("location"), Some("/docs/"));
});
