//! The plan's resources through HTTP: lists, records, filters, expansions, rollups.

use crate::both_backends;
use serde_json::Value;

/// The languages of the localized texts in a body (objects with `value`, `lang` and `fallback`),
/// as `Content-Language` must list them: each once, in the order uk, en, es.
fn served_languages(body: &Value) -> String {
    fn collect(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(object) => {
                if let (Some(Value::String(lang)), true, true) = (
                    object.get("lang"),
                    object.contains_key("value"),
                    object.contains_key("fallback"),
                ) {
                    found.push(lang.clone());
                }
                object.values().for_each(|v| collect(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    collect(body, &mut found);
    ["uk", "en", "es"]
        .into_iter()
        .filter(|code| found.iter().any(|lang| lang == code))
        .collect::<Vec<_>>()
        .join(", ")
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

both_backends!(index_links_every_collection, |app| {
    let res = app.get("/api/v1").await;
    assert_eq!(res.status, 200);
    let body = res.json();
    for (name, path) in [
        ("plans", "/api/v1/plans"),
        ("commitments", "/api/v1/commitments"),
        ("milestones", "/api/v1/milestones"),
        ("institutions", "/api/v1/institutions"),
        ("openapi", "/api/v1/openapi.json"),
    ] {
        assert_eq!(body["links"][name], path);
        if name != "openapi" {
            assert_eq!(app.get(path).await.status, 200, "{path}");
        }
    }
});

both_backends!(plan_carries_the_sourced_facts, |app| {
    let res = app.get("/api/v1/plans/khm-2021-2025").await;
    assert_eq!(res.status, 200);
    let plan = res.json();
    assert_eq!(plan["date_submitted"]["value"], "2021-09-10");
    assert_eq!(plan["date_submitted"]["precision"], "day");
    assert_eq!(plan["end_date"]["value"], "2025-08");
    assert_eq!(plan["end_date"]["precision"], "month");
    assert_eq!(
        plan["ogp_id"],
        Value::Null,
        "OGP's plan id is not confirmed"
    );
    assert_eq!(plan["member"]["katottg"], "UA68040470000053519");
    assert_eq!(plan["co_creation"]["participant_groups"], 3);
    assert_eq!(plan["co_creation"]["public_meetings"], 3);
    assert_eq!(plan["co_creation"]["invitations"]["count"], 30);
    assert_eq!(plan["co_creation"]["invitations"]["qualifier"], "more_than");
    assert_eq!(
        plan["co_creation"]["oversight_body"]["status"],
        "to_be_determined"
    );
    assert!(plan["co_creation"]["spaces"].as_array().unwrap().len() >= 5);
    assert!(!plan["sources"].as_array().unwrap().is_empty());
    // Rollup over all milestones equals the sum of its parts.
    let p = &plan["progress"];
    let total = p["milestones_total"].as_i64().unwrap();
    assert!(total > 0);
    let parts: i64 = ["complete", "in_progress", "not_started", "unknown"]
        .iter()
        .map(|k| p[k].as_i64().unwrap())
        .sum();
    assert_eq!(parts, total);
});

both_backends!(plan_expands_to_leads_and_commitments, |app| {
    let plan = app
        .get("/api/v1/plans/khm-2021-2025?expand=commitments,institutions")
        .await
        .json();
    assert_eq!(plan["commitments"].as_array().unwrap().len(), 3);
    let leads: Vec<&Value> = plan["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["role"] == "lead")
        .collect();
    assert_eq!(leads.len(), 5, "the plan names five lead institutions");
    let leads_list = app.get("/api/v1/institutions?role=lead").await.json();
    assert_eq!(leads_list["total"], 5);
});

both_backends!(commitments_list_and_confirmed_ogp_id, |app| {
    let body = app.get("/api/v1/commitments").await.json();
    assert_eq!(body["total"], 3);
    assert_eq!(
        ids(&body),
        ["khm-2021-2025-c1", "khm-2021-2025-c2", "khm-2021-2025-c3"]
    );
    let with_ogp: Vec<&Value> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["ogp_id"].is_null())
        .collect();
    assert_eq!(with_ogp.len(), 1, "only UAKLY0003 is confirmed");
    assert_eq!(with_ogp[0]["ogp_id"], "UAKLY0003");
    assert_eq!(with_ogp[0]["start_date"]["value"], "2021-10");
    assert_eq!(with_ogp[0]["end_date"]["value"], "2022-06");
});

both_backends!(commitment_filters, |app| {
    let civic = app
        .get("/api/v1/commitments?ogp_value=civic_participation")
        .await
        .json();
    for item in civic["items"].as_array().unwrap() {
        assert!(
            item["ogp_values"]
                .as_array()
                .unwrap()
                .contains(&Value::from("civic_participation"))
        );
    }
    assert!(civic["total"].as_i64().unwrap() >= 1);
    let all = app.get("/api/v1/commitments").await.json()["total"]
        .as_i64()
        .unwrap();
    assert!(civic["total"].as_i64().unwrap() <= all);

    let by_institution = app
        .get("/api/v1/commitments?institution=spetskomuntrans")
        .await
        .json();
    assert_eq!(ids(&by_institution), ["khm-2021-2025-c2"]);
    let none = app
        .get("/api/v1/commitments?plan=no-such-plan")
        .await
        .json();
    assert_eq!(none["total"], 0);
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
});

both_backends!(commitment_expansions, |app| {
    let c = app
        .get("/api/v1/commitments/khm-2021-2025-c2?expand=milestones,institutions,assessments,progress_updates")
        .await
        .json();
    let milestones = c["milestones"].as_array().unwrap();
    assert_eq!(
        milestones.len() as i64,
        c["progress"]["milestones_total"].as_i64().unwrap()
    );
    assert!(
        milestones
            .iter()
            .all(|m| m["commitment_id"] == "khm-2021-2025-c2")
    );
    assert!(
        c["institutions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["institution_id"] == "spetskomuntrans")
    );
    assert!(
        c["assessments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "inception_report")
    );
    assert!(c["progress_updates"].is_array());
    // Without expand, the embedded lists are absent rather than empty.
    let plain = app.get("/api/v1/commitments/khm-2021-2025-c2").await.json();
    assert!(plain.get("milestones").is_none());
});

both_backends!(milestone_filters_and_status, |app| {
    let all = app.get("/api/v1/milestones").await.json();
    let total = all["total"].as_i64().unwrap();
    let complete = app.get("/api/v1/milestones?status=complete").await.json();
    let unknown = app.get("/api/v1/milestones?status=unknown").await.json();
    for m in complete["items"].as_array().unwrap() {
        assert_eq!(m["status"], "complete");
        assert!(
            m["status_source"]["id"].is_string(),
            "a status names its source"
        );
    }
    for m in unknown["items"].as_array().unwrap() {
        assert!(m["status"].is_null());
        assert!(m["status_source"].is_null());
    }
    let counted = complete["total"].as_i64().unwrap()
        + unknown["total"].as_i64().unwrap()
        + app
            .get("/api/v1/milestones?status=in_progress")
            .await
            .json()["total"]
            .as_i64()
            .unwrap()
        + app
            .get("/api/v1/milestones?status=not_started")
            .await
            .json()["total"]
            .as_i64()
            .unwrap();
    assert_eq!(counted, total);

    let c1 = app
        .get("/api/v1/milestones?commitment=khm-2021-2025-c1")
        .await
        .json();
    assert!(
        c1["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["commitment_id"] == "khm-2021-2025-c1")
    );
    let by_plan = app
        .get("/api/v1/milestones?plan=khm-2021-2025")
        .await
        .json();
    assert_eq!(by_plan["total"], total);
    // Via its commitment, Spetskomuntrans is involved in commitment 2's milestones.
    let by_inst = app
        .get("/api/v1/milestones?institution=spetskomuntrans")
        .await
        .json();
    assert!(by_inst["total"].as_i64().unwrap() > 0);
    assert!(
        by_inst["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["commitment_id"] == "khm-2021-2025-c2")
    );
});

both_backends!(milestone_due_dates_filter_by_whole_period, |app| {
    // Give one milestone a month-precision due date and check both range ends.
    use diesel::prelude::*;
    use opengov_api::db::schema::milestones;
    let mut conn = app.pool().get().unwrap();
    diesel::update(milestones::table.find("khm-2021-2025-c1-m1"))
        .set((
            milestones::due_date.eq("2025-08"),
            milestones::due_earliest.eq("2025-08-01"),
            milestones::due_latest.eq("2025-08-31"),
        ))
        .execute(&mut conn)
        .unwrap();
    drop(conn);
    for (query, expected) in [
        ("due_from=2025-08-31", 1),
        ("due_from=2025-09", 0),
        ("due_to=2025-08-01", 1),
        ("due_to=2025-07", 0),
        ("due_from=2025&due_to=2025", 1),
    ] {
        let body = app.get(&format!("/api/v1/milestones?{query}")).await.json();
        assert_eq!(body["total"], expected, "{query}");
    }
    let m = app
        .get("/api/v1/milestones/khm-2021-2025-c1-m1")
        .await
        .json();
    assert_eq!(m["due_date"]["value"], "2025-08");
    assert_eq!(m["due_date"]["precision"], "month");
});

both_backends!(institutions_and_involvements, |app| {
    let body = app
        .get("/api/v1/institutions?expand=involvements")
        .await
        .json();
    assert!(body["total"].as_i64().unwrap() >= 10);
    for inst in body["items"].as_array().unwrap() {
        assert!(
            inst["name"]["value"].is_string(),
            "every institution has a name"
        );
        assert!(
            !inst["sources"].as_array().unwrap().is_empty(),
            "and a source"
        );
        for inv in inst["involvements"].as_array().unwrap() {
            assert_eq!(inv["institution_id"], inst["id"]);
        }
    }
    let one = app
        .get("/api/v1/institutions/spetskomuntrans?expand=involvements")
        .await
        .json();
    let subjects: Vec<&str> = one["involvements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["subject_type"].as_str().unwrap())
        .collect();
    assert!(subjects.contains(&"plan") && subjects.contains(&"commitment"));
    let by_commitment = app
        .get("/api/v1/institutions?commitment=khm-2021-2025-c2")
        .await
        .json();
    assert!(ids(&by_commitment).contains(&"spetskomuntrans".to_owned()));
    let cso = app.get("/api/v1/institutions?kind=cso").await.json();
    assert!(
        cso["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["kind"] == "cso")
    );
});

both_backends!(every_record_names_a_real_source, |app| {
    let sources = app.get("/api/v1/sources?limit=1000").await.json();
    let known: Vec<String> = ids(&sources);
    for path in [
        "/api/v1/plans",
        "/api/v1/commitments",
        "/api/v1/milestones",
        "/api/v1/institutions",
    ] {
        for item in app.get(path).await.json()["items"].as_array().unwrap() {
            let cited = item["sources"].as_array().unwrap();
            assert!(!cited.is_empty(), "{path} {} has no source", item["id"]);
            for s in cited {
                assert!(known.contains(&s["id"].as_str().unwrap().to_owned()));
            }
        }
    }
    let one = &known[0];
    let source = app.get(&format!("/api/v1/sources/{one}")).await.json();
    assert_eq!(source["id"], one.as_str());
});

both_backends!(unknown_records_are_404_problems, |app| {
    for path in [
        "/api/v1/plans/nope",
        "/api/v1/commitments/nope",
        "/api/v1/milestones/nope",
        "/api/v1/institutions/nope",
        "/api/v1/sources/nope",
    ] {
        let p = app.get(path).await.problem(404);
        assert!(p["detail"].as_str().unwrap().contains("\"nope\""), "{p}");
        assert_eq!(p["instance"], path);
    }
});

both_backends!(role_filters_apply_to_the_same_involvement, |app| {
    // Spetskomuntrans leads the plan and is "involved" in commitment 2: combined filters must not
    // mix the two.
    let leads_of_c2 = app
        .get("/api/v1/institutions?commitment=khm-2021-2025-c2&role=lead")
        .await
        .json();
    assert!(!ids(&leads_of_c2).contains(&"spetskomuntrans".to_owned()));
    let involved_in_c2 = app
        .get("/api/v1/institutions?commitment=khm-2021-2025-c2&role=involved")
        .await
        .json();
    assert!(ids(&involved_in_c2).contains(&"spetskomuntrans".to_owned()));
    let plan_leads = app
        .get("/api/v1/institutions?plan=khm-2021-2025&role=lead")
        .await
        .json();
    assert_eq!(plan_leads["total"], 5);
});

both_backends!(each_text_names_its_source, |app| {
    let c = app
        .get("/api/v1/commitments/khm-2021-2025-c2?lang=en")
        .await
        .json();
    assert_eq!(c["action"]["source"], "ogp-eoc-c2", "a per-field source");
    assert_eq!(c["title"]["source"], "ogp-uakly0003");
    let es = app
        .get("/api/v1/commitments/khm-2021-2025-c2?lang=es")
        .await
        .json();
    assert_eq!(es["title"]["source"], "ogp-plan-es");
    let csv = app.get("/api/v1/milestones.csv").await.text();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let ids_col = header.iter().position(|h| h == "source_ids").unwrap();
    for row in reader.records() {
        assert!(
            !row.unwrap()[ids_col].is_empty(),
            "every row names its sources"
        );
    }
});

both_backends!(content_language_only_when_texts_are_served, |app| {
    let sources = app.get("/api/v1/sources").await;
    assert!(sources.header("content-language").is_none());
    for uri in [
        "/api/v1/plans",
        "/api/v1/plans?lang=uk",
        "/api/v1/commitments?lang=es",
    ] {
        let res = app.get(uri).await;
        let expected = served_languages(&res.json());
        assert!(!expected.is_empty(), "{uri} serves texts");
        assert_eq!(
            res.header("content-language"),
            Some(expected.as_str()),
            "{uri}"
        );
    }
});
