//! The write API: tokens and scopes, milestone edits, progress updates, registry uploads,
//! optimistic concurrency, idempotent retries, the audit log — each write atomic and visible in
//! the change feed.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use opengov_api::models::tokens::{self, Scope};

use crate::both_backends;
use crate::common::{Response, TestApp};

const MILESTONE: &str = "khm-2021-2025-c1-m3";
const UNITS: &str = "/api/v1/registries/territorial-units";

fn token(app: &TestApp, scopes: &[Scope]) -> String {
    let mut conn = app.pool().get().unwrap();
    tokens::create(&mut conn, "test department", scopes)
        .unwrap()
        .1
}

async fn send(
    app: &TestApp,
    method: Method,
    uri: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: impl Into<actix_web::web::Bytes>,
) -> Response {
    let mut req = TestRequest::default().method(method).uri(uri);
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    for (name, value) in headers {
        req = req.insert_header((*name, *value));
    }
    app.call(req.set_payload(body.into())).await
}

async fn patch_milestone(
    app: &TestApp,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &Value,
) -> Response {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    send(
        app,
        Method::PATCH,
        &format!("/api/v1/milestones/{MILESTONE}"),
        token,
        &all,
        body.to_string(),
    )
    .await
}

fn completed() -> Value {
    json!({
        "status": "complete",
        "completion": 100,
        "note": {"lang": "en", "text": "The geoportal is online with its registers."},
        "evidence": [{"url": "https://mkk.khm.gov.ua/", "title": "Geoportal of Khmelnytskyi"}]
    })
}

async fn plan_release_count(app: &TestApp) -> u64 {
    app.get("/api/v1/plan/releases").await.json()["total"]
        .as_u64()
        .unwrap()
}

async fn upload(app: &TestApp, token: &str, headers: &[(&str, &str)], body: &str) -> Response {
    let mut all = vec![("Content-Type", "text/csv")];
    all.extend_from_slice(headers);
    send(
        app,
        Method::POST,
        &format!("{UNITS}/imports"),
        Some(token),
        &all,
        body.to_owned(),
    )
    .await
}

/// The fixture CSV of territorial units with one name changed.
fn edited_units() -> String {
    let original = include_str!("../../fixtures/registries/territorial-units/items.csv");
    original.replacen("Хмельницька", "Хмельницька область", 1)
}

async fn registry_releases(app: &TestApp) -> Vec<Value> {
    app.get(&format!("{UNITS}/releases")).await.json()["items"]
        .as_array()
        .unwrap()
        .clone()
}

both_backends!(writes_need_a_valid_token_with_the_scope, |app| {
    let before = plan_release_count(&app).await;
    let none = patch_milestone(&app, None, &[], &completed()).await;
    let p = none.problem(401);
    assert!(p["detail"].as_str().unwrap().contains("Authorization"));
    assert_eq!(
        none.header("www-authenticate"),
        Some("Bearer realm=\"opengov-api\"")
    );

    let unknown = patch_milestone(&app, Some("ogt_not-a-real-token"), &[], &completed()).await;
    unknown.problem(401);
    assert!(
        unknown
            .header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );

    let publisher = token(&app, &[Scope::PublishRegistry("territorial-units".into())]);
    let p = patch_milestone(&app, Some(&publisher), &[], &completed())
        .await
        .problem(403);
    assert!(p["detail"].as_str().unwrap().contains("plan:write"), "{p}");

    let writer = token(&app, &[Scope::PlanWrite]);
    let id = {
        let mut conn = app.pool().get().unwrap();
        let all = tokens::list(&mut conn).unwrap();
        let id = all
            .iter()
            .find(|t| t.scopes == "plan:write")
            .unwrap()
            .id
            .clone();
        assert!(tokens::revoke(&mut conn, &id).unwrap());
        id
    };
    let revoked = patch_milestone(&app, Some(&writer), &[], &completed()).await;
    revoked.problem(401);
    // The audit log is for admins only.
    let p = app
        .get_with(
            "/api/v1/audit",
            &[("Authorization", &format!("Bearer {publisher}"))],
        )
        .await
        .problem(403);
    assert!(p["detail"].as_str().unwrap().contains("admin"));
    assert_eq!(
        plan_release_count(&app).await,
        before,
        "refused writes change nothing"
    );
    assert!(id.starts_with("tok_"));
});

both_backends!(
    a_milestone_update_publishes_a_plan_release_with_its_evidence,
    |app| {
        let writer = token(&app, &[Scope::PlanWrite]);
        let admin = token(&app, &[Scope::Admin]);
        let before = app.get("/api/v1/plan/releases?limit=1").await.json()["items"][0]["number"]
            .as_i64()
            .unwrap();
        let old = app
            .get(&format!("/api/v1/milestones/{MILESTONE}"))
            .await
            .json();

        let res = patch_milestone(&app, Some(&writer), &[], &completed()).await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.text());
        let written = res.json();
        assert_eq!(written["release"]["number"].as_i64(), Some(before + 1));
        assert_eq!(
            res.header("data-release"),
            Some(format!("plan@{}", before + 1).as_str())
        );

        let now = app
            .get(&format!(
                "/api/v1/milestones/{MILESTONE}?expand=progress_updates&lang=en"
            ))
            .await
            .json();
        assert_eq!(now["status"], "complete");
        let status_source = now["status_source"]["id"].as_str().unwrap().to_owned();
        let source = app
            .get(&format!("/api/v1/sources/{status_source}"))
            .await
            .json();
        assert_eq!(source["url"], "https://mkk.khm.gov.ua/");
        assert!(source["note"].as_str().unwrap().contains("test department"));
        let update = now["progress_updates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["metric"] == "completion_percent")
            .expect("the completion is a progress update");
        assert_eq!(update["value"], 100.0);
        assert_eq!(
            update["claim"]["value"],
            "The geoportal is online with its registers."
        );

        // The change feed and the plan's Atom feed see it.
        let changes = app
            .get("/api/v1/changes?dataset=plan&limit=1000")
            .await
            .json();
        assert!(changes["events"].as_array().unwrap().iter().any(|e| {
            e["record_type"] == "milestones" && e["record_id"] == MILESTONE && e["op"] == "updated"
        }));
        let atom = app.get("/api/v1/feeds/plan.atom").await.text();
        assert!(
            atom.contains(MILESTONE),
            "the plan feed names the milestone"
        );

        // Audited with before and after.
        let audit = app
            .get_with(
                "/api/v1/audit",
                &[("Authorization", &format!("Bearer {admin}"))],
            )
            .await;
        assert_eq!(audit.header("cache-control"), Some("private, no-store"));
        let entries = audit.json()["entries"].as_array().unwrap().clone();
        let entry = entries
            .iter()
            .find(|e| e["action"] == "milestone.update")
            .unwrap();
        assert_eq!(entry["target"], format!("milestones/{MILESTONE}"));
        assert_eq!(entry["before"]["status"], old["status"]);
        assert_eq!(entry["after"]["milestone"]["status"], "complete");
        assert!(entry["actor"].as_str().unwrap().contains("test department"));
        assert!(entry["release_id"].is_i64());
        // The token is never echoed anywhere.
        assert!(!serde_json::to_string(&entries).unwrap().contains(&writer));

        // A progress update without a status change.
        let res = send(
        &app,
        Method::POST,
        &format!("/api/v1/milestones/{MILESTONE}/progress-updates"),
        Some(&writer),
        &[("Content-Type", "application/json")],
        json!({"reported_on": "2026-11-20", "claim": {"lang": "uk", "text": "Опубліковано 95 реєстрів"},
               "metric": "open_data_registers", "value": 95, "evidence": [{"url": "https://mkk.khm.gov.ua/registers"}]}).to_string(),
    )
    .await;
        assert_eq!(res.status.as_u16(), 201, "{}", res.text());
        assert!(res.header("location").unwrap().contains(MILESTONE));
        assert_eq!(res.json()["release"]["number"].as_i64(), Some(before + 2));
    }
);

/// Sends `raw` as the body of a JSON write.
async fn write_raw(
    app: &TestApp,
    method: Method,
    uri: &str,
    token: &str,
    raw: impl Into<actix_web::web::Bytes>,
) -> Response {
    send(
        app,
        method,
        uri,
        Some(token),
        &[("Content-Type", "application/json")],
        raw,
    )
    .await
}

/// The one fault of a 422 `invalid-body`: `pointer`, `detail` (the pointer, then what is
/// wrong) and `errors` all say it.
fn assert_one_fault(p: &Value, pointer: &str, detail: &str, case: &str) {
    assert_eq!(
        p["type"], "tag:opengov-api,2026:problem/invalid-body",
        "{case}: {p}"
    );
    assert_eq!(p["pointer"], pointer, "{case}: {p}");
    let full = if pointer.is_empty() {
        detail.to_owned()
    } else {
        format!("{pointer}: {detail}")
    };
    assert_eq!(p["detail"], full, "{case}");
    assert_eq!(
        p["errors"],
        json!([{"pointer": pointer, "detail": detail}]),
        "{case}"
    );
}

both_backends!(write_bodies_are_judged_one_way_naming_each_member, |app| {
    let writer = token(&app, &[Scope::PlanWrite]);
    let before = plan_release_count(&app).await;
    let milestone = format!("/api/v1/milestones/{MILESTONE}");
    let ok = json!([{"url": "https://mkk.khm.gov.ua/"}]);
    // Missing, empty, null, mistyped, unknown, out of range, too large to hold, across members,
    // not an object: every fault of a JSON body is a 422 naming its member.
    let cases: Vec<(String, &str, &str)> = vec![
        (
            json!({"status": "complete"}).to_string(),
            "/evidence",
            "is required: give 1 to 10 documents that show the progress (every fact needs a source)",
        ),
        (
            json!({"status": "complete", "evidence": []}).to_string(),
            "/evidence",
            "give 1 to 10 documents that show the progress (every fact needs a source); found 0",
        ),
        (
            json!({"status": "complete", "evidence": null}).to_string(),
            "/evidence",
            "is required: give 1 to 10 documents that show the progress (every fact needs a source)",
        ),
        (
            json!({"status": null, "evidence": ok}).to_string(),
            "",
            "give at least one of status, completion or note (evidence alone changes nothing)",
        ),
        (
            json!({"status": "done", "evidence": ok}).to_string(),
            "/status",
            "\"done\" is not one of not_started, in_progress, complete",
        ),
        (
            json!({"status": 3, "evidence": ok}).to_string(),
            "/status",
            "expected one of not_started, in_progress, complete, found the number 3",
        ),
        (
            json!({"completion": "50", "evidence": ok}).to_string(),
            "/completion",
            "expected a number from 0 to 100 (percent), found the string \"50\"",
        ),
        (
            json!({"completion": 101, "evidence": ok}).to_string(),
            "/completion",
            "101 is outside 0 to 100 (percent)",
        ),
        (
            r#"{"completion": 1e400, "evidence": [{"url": "https://mkk.khm.gov.ua/"}]}"#.into(),
            "/completion",
            "is a number too large to hold (beyond ±1.8e308)",
        ),
        (
            json!({"status": "complete", "evidence": ok, "sneaky": 1}).to_string(),
            "/sneaky",
            "is not a member of a milestone change {status, completion, note, evidence}; the \
             members are status, completion, note, evidence",
        ),
        (
            json!({"note": {"lang": "fr", "text": "x"}, "evidence": ok}).to_string(),
            "/note/lang",
            "\"fr\" is not uk, en or es",
        ),
        (
            json!({"note": {"text": "x"}, "evidence": ok}).to_string(),
            "/note/lang",
            "is required: uk, en or es",
        ),
        (
            json!({"note": {"lang": "en", "text": "a\u{0000}b"}, "evidence": ok}).to_string(),
            "/note/text",
            "contains control characters",
        ),
        (
            json!({"note": "done", "evidence": ok}).to_string(),
            "/note",
            "expected a text {lang, text}, found the string \"done\"",
        ),
        (
            json!({"status": "complete", "evidence": [{"url": "javascript:alert(1)"}]})
                .to_string(),
            "/evidence/0/url",
            "must be an http or https URL with a host, found the string \"javascript:alert(1)\"",
        ),
        (
            json!({"status": "complete", "evidence": [{"url": "file:///etc/passwd"}]})
                .to_string(),
            "/evidence/0/url",
            "must be an http or https URL with a host, found the string \"file:///etc/passwd\"",
        ),
        (
            json!({"status": "complete", "evidence": [{"url": "khm.gov.ua/report"}]}).to_string(),
            "/evidence/0/url",
            "expected an absolute http or https URL (e.g. https://khm.gov.ua/…), found the string \
             \"khm.gov.ua/report\"",
        ),
        (
            json!({"status": "complete", "evidence": [{"url": "https://user:secret@khm.gov.ua/"}]})
                .to_string(),
            "/evidence/0/url",
            "must not hold a user name or password: the URL is published as a source",
        ),
        (
            json!({"status": "complete", "evidence": [{"url": "https://khm.gov.ua/a"}, {"url": "https://khm.gov.ua/a"}]})
                .to_string(),
            "/evidence/1/url",
            "repeats /evidence/0/url",
        ),
        (
            json!({"status": "complete", "evidence": [{"title": "A report"}]}).to_string(),
            "/evidence/0/url",
            "is required: the document's http or https URL",
        ),
        (
            "[]".into(),
            "",
            "expected a milestone change {status, completion, note, evidence}, found an empty \
             array",
        ),
    ];
    for (raw, pointer, detail) in cases {
        let p = write_raw(&app, Method::PATCH, &milestone, &writer, raw.clone())
            .await
            .problem(422);
        assert_one_fault(&p, pointer, detail, &raw);
    }
    // Several faults: each listed (unknown members first, then in the documented order); the
    // detail names the first and counts the rest.
    let p = write_raw(
        &app,
        Method::PATCH,
        &milestone,
        &writer,
        json!({"status": "done", "completion": -1, "evidence": [{"url": "ftp://x.org/"}], "x": 1})
            .to_string(),
    )
    .await
    .problem(422);
    assert_eq!(p["pointer"], "/x");
    assert_eq!(
        p["detail"],
        "/x: is not a member of a milestone change {status, completion, note, evidence}; the \
         members are status, completion, note, evidence (and 3 more: see errors)"
    );
    let pointers: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        ["/x", "/status", "/completion", "/evidence/0/url"]
    );
    // Only a body that is not JSON at all is 400 `malformed-body`: where it stops being JSON.
    let deep = format!("{{\"note\": {{\"text\": {}", "[".repeat(200));
    for (raw, detail) in [
        (
            "{",
            "the body is not valid JSON: line 1, column 1: the JSON text ends before it is \
             complete (cut off, or a string, array or object left open)",
        ),
        (
            r#"{"status": "complete", "evidence": [{"url": "https://mkk.khm"#,
            "the body is not valid JSON: line 1, column 60: the JSON text ends before it is \
             complete (cut off, or a string, array or object left open) (inside \
             /evidence/0/url)",
        ),
        (
            "status=complete",
            "the body is not valid JSON: line 1, column 1: expected a JSON value (an object, \
             array, string, number, true, false or null)",
        ),
        (
            "{\"status\": \"complete\",}",
            "the body is not valid JSON: line 1, column 23: a comma stands before a closing ']' \
             or '}'",
        ),
        (
            "{} {}",
            "the body is not valid JSON: line 1, column 4: more text follows the end of the JSON value",
        ),
        ("  ", "the body is empty: send a JSON object"),
        (
            deep.as_str(),
            "the body is not valid JSON: line 1, column 144: arrays or objects are nested more \
             than 128 levels deep (inside /note/text/0/0/…)",
        ),
    ] {
        let p = write_raw(&app, Method::PATCH, &milestone, &writer, raw.to_owned())
            .await
            .problem(400);
        assert_eq!(
            p["type"], "tag:opengov-api,2026:problem/malformed-body",
            "{raw}"
        );
        assert_eq!(p["detail"], detail, "{raw}");
        assert!(p.get("pointer").is_none(), "{raw}: {p}");
    }
    // A JSON body must say it is JSON.
    let p = send(
        &app,
        Method::PATCH,
        &milestone,
        Some(&writer),
        &[],
        completed().to_string(),
    )
    .await
    .problem(415);
    assert_eq!(
        p["detail"],
        "Content-Type is missing: send the body as JSON with Content-Type: application/json"
    );
    // A byte order mark before the JSON is ignored (RFC 8259 allows it).
    let with_bom = [
        b"\xEF\xBB\xBF".as_slice(),
        completed().to_string().as_bytes(),
    ]
    .concat();
    let res = write_raw(&app, Method::PATCH, &milestone, &writer, with_bom).await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text());
    let p = send(
        &app,
        Method::PATCH,
        "/api/v1/milestones/no-such-milestone",
        Some(&writer),
        &[("Content-Type", "application/json")],
        completed().to_string(),
    )
    .await
    .problem(404);
    assert!(p["detail"].as_str().unwrap().contains("no-such-milestone"));
    assert_eq!(
        plan_release_count(&app).await,
        before + 1,
        "refused writes change nothing (the one accepted write published one release)"
    );
});

both_backends!(progress_updates_take_the_value_space_reads_serve, |app| {
    let writer = token(&app, &[Scope::PlanWrite]);
    let uri = format!("/api/v1/milestones/{MILESTONE}/progress-updates");
    let before = plan_release_count(&app).await;
    let claim = json!({"lang": "uk", "text": "Опубліковано 12 нових реєстрів"});
    let ok = json!([{"url": "https://mkk.khm.gov.ua/"}]);
    // Partial dates, as reads serve them: a month and a day, a year.
    let res = write_raw(
        &app,
        Method::POST,
        &uri,
        &writer,
        json!({"reported_on": "2024-11", "occurred": "2024-10-30", "claim": claim,
               "metric": "open_data_registers", "value": 95, "evidence": ok})
        .to_string(),
    )
    .await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.text());
    let month_id = res.json()["progress_update_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = write_raw(
        &app,
        Method::POST,
        &uri,
        &writer,
        json!({"reported_on": "2024", "claim": claim, "evidence": ok}).to_string(),
    )
    .await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.text());
    let year_id = res.json()["progress_update_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = app
        .get(&format!(
            "/api/v1/milestones/{MILESTONE}?expand=progress_updates"
        ))
        .await
        .json();
    let update = |id: &str| {
        read["progress_updates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == id)
            .unwrap()
            .clone()
    };
    let month = update(&month_id);
    assert_eq!(
        month["reported_on"],
        json!({"value": "2024-11", "precision": "month"})
    );
    assert_eq!(
        month["occurred"],
        json!({"value": "2024-10-30", "precision": "day"})
    );
    assert_eq!(
        (&month["metric"], &month["value"]),
        (&json!("open_data_registers"), &json!(95.0))
    );
    assert_eq!(
        month["claim"]["wording"], "summary",
        "the writer's words about the evidence"
    );
    let year = update(&year_id);
    assert_eq!(
        year["reported_on"],
        json!({"value": "2024", "precision": "year"})
    );
    assert_eq!(year["occurred"], Value::Null);
    assert_eq!(plan_release_count(&app).await, before + 2);

    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"claim": claim, "metric": "open_data_registers", "evidence": ok}),
            "/value",
            "is required with metric: the figure the metric reports",
        ),
        (
            json!({"claim": claim, "value": 95, "evidence": ok}),
            "/metric",
            "is required with value: the name of what the value measures (a-z, 0-9, _)",
        ),
        (
            json!({"claim": claim, "metric": "Open Data", "value": 1, "evidence": ok}),
            "/metric",
            "\"Open Data\" is not a metric name: 1 to 64 characters of a-z, 0-9 and _",
        ),
        (
            json!({"claim": claim, "metric": "completion_percent", "value": 120, "evidence": ok}),
            "/value",
            "120 is outside 0 to 100 (completion_percent is a percentage)",
        ),
        (
            json!({"claim": claim, "value": "95", "metric": "x", "evidence": ok}),
            "/value",
            "expected a number, found the string \"95\"",
        ),
        (
            json!({"reported_on": "2024-13", "claim": claim, "evidence": ok}),
            "/reported_on",
            "\"2024-13\" is not a date: use YYYY, YYYY-MM or YYYY-MM-DD",
        ),
        (
            json!({"reported_on": "20.11.2024", "claim": claim, "evidence": ok}),
            "/reported_on",
            "\"20.11.2024\" is not a date: use YYYY, YYYY-MM or YYYY-MM-DD",
        ),
        (
            json!({"reported_on": 2024, "claim": claim, "evidence": ok}),
            "/reported_on",
            "expected a date: YYYY, YYYY-MM or YYYY-MM-DD, found the number 2024",
        ),
        (
            json!({"reported_on": "2999-01", "claim": claim, "evidence": ok}),
            "/reported_on",
            "2999-01 is in the future: a report is dated when it was made (leave it out for today)",
        ),
        (
            json!({"reported_on": "2024-10", "occurred": "2024-11-02", "claim": claim, "evidence": ok}),
            "/occurred",
            "2024-11-02 is after reported_on 2024-10: an event is reported after it happens",
        ),
        (
            json!({"evidence": ok}),
            "/claim",
            "is required: what the update reports, {lang, text}",
        ),
        (
            json!({"claim": {"lang": "en", "text": "   "}, "evidence": ok}),
            "/claim/text",
            "must not be empty",
        ),
    ];
    for (body, pointer, detail) in cases {
        let p = write_raw(&app, Method::POST, &uri, &writer, body.to_string())
            .await
            .problem(422);
        assert_one_fault(&p, pointer, detail, &body.to_string());
    }
    assert_eq!(
        plan_release_count(&app).await,
        before + 2,
        "refused updates publish nothing"
    );
});

both_backends!(if_match_refuses_a_write_based_on_a_stale_copy, |app| {
    let writer = token(&app, &[Scope::PlanWrite]);
    let read = app.get(&format!("/api/v1/milestones/{MILESTONE}")).await;
    let etag = read.header("etag").unwrap().to_owned();
    let ok = patch_milestone(&app, Some(&writer), &[("If-Match", &etag)], &completed()).await;
    assert_eq!(ok.status.as_u16(), 200, "{}", ok.text());
    let count = plan_release_count(&app).await;

    // The same stale copy again: the milestone changed after the release it names.
    let stale = patch_milestone(&app, Some(&writer), &[("If-Match", &etag)], &completed()).await;
    let p = stale.problem(412);
    assert!(p["detail"].as_str().unwrap().contains(MILESTONE), "{p}");
    // A tag from another dataset, or garbage, is no precondition this API can check.
    for other in ["\"registries/territorial-units@1.abc\"", "\"not-ours\""] {
        patch_milestone(&app, Some(&writer), &[("If-Match", other)], &completed())
            .await
            .problem(412);
    }
    // A fresh read succeeds; a change to another milestone does not make it stale.
    let fresh = app
        .get(&format!("/api/v1/milestones/{MILESTONE}"))
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let other = send(
        &app,
        Method::PATCH,
        "/api/v1/milestones/khm-2021-2025-c2-m1",
        Some(&writer),
        &[("Content-Type", "application/json")],
        json!({"status": "in_progress", "evidence": [{"url": "https://khm.gov.ua/"}]}).to_string(),
    )
    .await;
    assert_eq!(other.status.as_u16(), 200, "{}", other.text());
    assert_eq!(plan_release_count(&app).await, count + 1);
    let res = patch_milestone(
        &app,
        Some(&writer),
        &[("If-Match", &fresh)],
        &json!({"status": "in_progress", "evidence": [{"url": "https://khm.gov.ua/"}]}),
    )
    .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text());
});

both_backends!(
    an_upload_becomes_the_next_release_and_a_refused_one_changes_nothing,
    |app| {
        let publisher = token(&app, &[Scope::PublishRegistry("territorial-units".into())]);
        let admin = token(&app, &[Scope::Admin]);
        let before = app.get(&format!("{UNITS}/items.ndjson")).await.body;

        let res = upload(
            &app,
            &publisher,
            &[(
                "Content-Disposition",
                "attachment; filename=\"units-2026.csv\"",
            )],
            &edited_units(),
        )
        .await;
        assert_eq!(res.status.as_u16(), 201, "{}", res.text());
        let outcome = res.json();
        assert_eq!(outcome["release"]["number"], 2);
        assert_eq!(outcome["upload"]["status"], "published");
        assert_eq!(outcome["upload"]["file_name"], "units-2026.csv");
        let location = res.header("location").unwrap().to_owned();
        let record = app
            .get_with(
                &location,
                &[("Authorization", &format!("Bearer {publisher}"))],
            )
            .await
            .json();
        assert_eq!(record["release_id"], outcome["release"]["id"]);
        let items = app.get(&format!("{UNITS}/items?limit=1000")).await.text();
        assert!(items.contains("Хмельницька область"));
        let published = app.get(&format!("{UNITS}/items.ndjson")).await.body;
        assert_ne!(published, before);

        // A file that does not match the schema: 422 with each line, nothing published.
        let bad =
            edited_units().replacen("\nUA68040000000086061,P,", "\nUA68040000000086061,Q,", 1)
                + "x,y\n";
        let res = upload(&app, &publisher, &[], &bad).await;
        let p = res.problem(422);
        let errors = p["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["line"] == 3 && e["column"] == "category"),
            "{p}"
        );
        assert!(p["detail"].as_str().unwrap().contains("nothing changed"));
        // The fixture file has CRLF line ends (as Excel writes them); LF ends name the same lines.
        assert!(bad.contains("\r\n"));
        let lf = upload(&app, &publisher, &[], &bad.replace("\r\n", "\n")).await;
        assert_eq!(lf.problem(422)["errors"], p["errors"]);
        assert_eq!(registry_releases(&app).await.len(), 2);
        assert_eq!(
            app.get(&format!("{UNITS}/items.ndjson")).await.body,
            published
        );

        // Both are recorded and audited.
        let list = app
            .get_with(
                &format!("{UNITS}/imports"),
                &[("Authorization", &format!("Bearer {admin}"))],
            )
            .await
            .json();
        let statuses: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["status"].as_str().unwrap())
            .collect();
        // Newest first: the LF copy and the CRLF file refused, the first file published.
        assert_eq!(statuses, ["rejected", "rejected", "published"]);
        assert_eq!(list["items"][0]["problem"]["status"], 422);
        let audit = app
            .get_with(
                "/api/v1/audit",
                &[("Authorization", &format!("Bearer {admin}"))],
            )
            .await
            .json();
        let actions: Vec<&str> = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(
            actions.contains(&"import.published") && actions.contains(&"import.rejected"),
            "{actions:?}"
        );

        // The publisher of one registry may not publish another.
        let res = send(
            &app,
            Method::POST,
            "/api/v1/registries/housing-stock/imports",
            Some(&publisher),
            &[("Content-Type", "text/csv")],
            "id\n".to_owned(),
        )
        .await;
        res.problem(403);
    }
);

both_backends!(
    a_retried_upload_with_the_same_idempotency_key_publishes_once,
    |app| {
        let publisher = token(&app, &[Scope::PublishAnyRegistry]);
        let key = [("Idempotency-Key", "units-2026-11-27")];
        let first = upload(&app, &publisher, &key, &edited_units()).await;
        assert_eq!(first.status.as_u16(), 201, "{}", first.text());
        // A key belongs to one registry: the same key and file sent to another registry is
        // imported there (and refused by its schema), not answered with the first upload.
        let elsewhere = send(
            &app,
            Method::POST,
            "/api/v1/registries/housing-stock/imports",
            Some(&publisher),
            &[("Content-Type", "text/csv"), key[0]],
            edited_units(),
        )
        .await;
        elsewhere.problem(422);
        assert_eq!(elsewhere.header("idempotent-replayed"), None);
        let again = upload(&app, &publisher, &key, &edited_units()).await;
        assert_eq!(again.status.as_u16(), 200, "{}", again.text());
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.json()["release"], first.json()["release"]);
        assert_eq!(registry_releases(&app).await.len(), 2, "published once");
        // The same key with another file is a client error, not a silent replay.
        let p = upload(&app, &publisher, &key, &(edited_units() + "\n"))
            .await
            .problem(422);
        assert!(p["detail"].as_str().unwrap().contains("Idempotency-Key"));
        // A refused upload replays its refusal.
        let bad_key = [("Idempotency-Key", "bad-file")];
        upload(&app, &publisher, &bad_key, "katottg\n1\n")
            .await
            .problem(422);
        let replayed = upload(&app, &publisher, &bad_key, "katottg\n1\n").await;
        replayed.problem(422);
        assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
        assert_eq!(registry_releases(&app).await.len(), 2);
    }
);

both_backends!(
    an_upload_with_if_match_fails_when_a_release_came_since,
    |app| {
        let publisher = token(&app, &[Scope::PublishRegistry("territorial-units".into())]);
        let etag = app
            .get(&format!("{UNITS}/items?limit=1"))
            .await
            .header("etag")
            .unwrap()
            .to_owned();
        assert!(
            etag.starts_with("\"registries/territorial-units@1."),
            "{etag}"
        );
        let ok = upload(&app, &publisher, &[("If-Match", &etag)], &edited_units()).await;
        assert_eq!(ok.status.as_u16(), 201, "{}", ok.text());
        let stale = upload(&app, &publisher, &[("If-Match", &etag)], &edited_units()).await;
        let p = stale.problem(412);
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("territorial-units@1"),
            "{p}"
        );
        assert_eq!(registry_releases(&app).await.len(), 2);
    }
);

both_backends!(uploads_are_limited_with_clear_errors, |app| {
    let mut app = app;
    app.state.uploads.max_bytes = 2000;
    app.state.uploads.max_rows = 5;
    let publisher = token(&app, &[Scope::PublishRegistry("territorial-units".into())]);
    let original = include_str!("../../fixtures/registries/territorial-units/items.csv");
    let p = upload(&app, &publisher, &[], &original.repeat(3))
        .await
        .problem(413);
    assert!(p["detail"].as_str().unwrap().contains("2000 bytes"), "{p}");
    let small: String = original.lines().take(8).collect::<Vec<_>>().join("\n");
    let p = upload(&app, &publisher, &[], &small).await.problem(422);
    assert!(
        p["detail"].as_str().unwrap().contains("more than 5 rows"),
        "{p}"
    );
    let p = send(
        &app,
        Method::POST,
        &format!("{UNITS}/imports"),
        Some(&publisher),
        &[("Content-Type", "text/plain")],
        "a".to_owned(),
    )
    .await
    .problem(415);
    assert!(p["detail"].as_str().unwrap().contains("text/csv"));
    for name in ["../../etc/passwd.csv", "a\\\\b.csv", ".."] {
        let header = format!("attachment; filename=\"{name}\"");
        let p = upload(
            &app,
            &publisher,
            &[("Content-Disposition", &header)],
            original,
        )
        .await
        .problem(400);
        assert_eq!(p["parameter"], "Content-Disposition", "{name}");
    }
    let p = upload(&app, &publisher, &[("Idempotency-Key", "")], original)
        .await
        .problem(400);
    assert_eq!(p["parameter"], "Idempotency-Key");
    assert_eq!(
        registry_releases(&app).await.len(),
        1,
        "nothing was published"
    );
});

const ROADS: &str = "/api/v1/registries/road-monitoring";

/// Words of the libraries that read uploads; a refusal that says one passes their message on.
const LIBRARY_WORDS: [&str; 8] = [
    "IO Error",
    "failed to fill",
    "EOF while",
    "expected value at",
    "invalid type:",
    "Error while deserializing",
    "CSV parse error",
    "os error",
];

/// The refusal of an upload: 422 `import-refused`, in the caller's words, and its detail.
fn refusal(res: &Response) -> (Value, String) {
    let p = res.problem(422);
    assert_eq!(
        p["type"], "tag:opengov-api,2026:problem/import-refused",
        "{p}"
    );
    let text = p.to_string();
    for library in LIBRARY_WORDS {
        assert!(!text.contains(library), "{library:?} in {p}");
    }
    let detail = p["detail"].as_str().unwrap().to_owned();
    (p, detail)
}

async fn item_count(app: &TestApp, registry: &str) -> u64 {
    app.get(&format!("{registry}/items?limit=1")).await.json()["total"]
        .as_u64()
        .unwrap()
}

async fn upload_to(
    app: &TestApp,
    registry: &str,
    query: &str,
    token: &str,
    content_type: &str,
    body: impl Into<actix_web::web::Bytes>,
) -> Response {
    send(
        app,
        Method::POST,
        &format!("{registry}/imports{query}"),
        Some(token),
        &[("Content-Type", content_type)],
        body,
    )
    .await
}

both_backends!(
    an_upload_without_items_needs_allow_empty_in_either_format,
    |app| {
        let publisher = token(&app, &[Scope::PublishAnyRegistry]);
        let units = item_count(&app, UNITS).await;
        let roads = item_count(&app, ROADS).await;
        assert!(units > 0 && roads > 0);
        let header_only =
            "katottg,category,name_uk,level1_oblast,level2_raion,level3_hromada,koatuu_legacy\r\n";
        let empty_collection = r#"{"type":"FeatureCollection","features":[]}"#;
        let flag = "send the file again with ?allow_empty=true";
        // Without the flag, both formats are refused alike, naming the count and the flag.
        for (registry, slug, count, content_type, body) in [
            (UNITS, "territorial-units", units, "text/csv", header_only),
            (
                ROADS,
                "road-monitoring",
                roads,
                "application/geo+json",
                empty_collection,
            ),
            (
                ROADS,
                "road-monitoring",
                roads,
                "application/json",
                empty_collection,
            ),
        ] {
            let res = upload_to(&app, registry, "", &publisher, content_type, body).await;
            let (p, detail) = refusal(&res);
            let said = format!(
                "the file has no items; publishing it would remove all {count} item(s) of {slug}"
            );
            assert_eq!(
                detail,
                format!(
                    "the file was refused, nothing changed: {said}; to remove every item \
                     deliberately, {flag}"
                ),
                "{content_type}"
            );
            assert_eq!(
                p["errors"],
                json!([{"line": null, "column": null, "message": said}])
            );
            let res = upload_to(
                &app,
                registry,
                "?allow_empty=false",
                &publisher,
                content_type,
                body,
            )
            .await;
            assert_eq!(refusal(&res).1, detail);
        }
        assert_eq!(item_count(&app, UNITS).await, units, "nothing removed");
        assert_eq!(item_count(&app, ROADS).await, roads, "nothing removed");
        // The flag must be true or false.
        let p = upload_to(
            &app,
            UNITS,
            "?allow_empty=yes",
            &publisher,
            "text/csv",
            header_only,
        )
        .await
        .problem(400);
        assert_eq!(p["parameter"], "allow_empty");
        assert_eq!(p["detail"], "allow_empty: \"yes\" is not true or false");
        // With it, the registry is emptied by a release, in either format.
        for (registry, content_type, body) in [
            (UNITS, "text/csv", header_only),
            (ROADS, "application/geo+json", empty_collection),
        ] {
            let res = upload_to(
                &app,
                registry,
                "?allow_empty=true",
                &publisher,
                content_type,
                body,
            )
            .await;
            assert_eq!(res.status.as_u16(), 201, "{}", res.text());
            assert_eq!(res.json()["release"]["row_count"], 0, "{}", res.text());
            assert_eq!(item_count(&app, registry).await, 0);
        }
    }
);

both_backends!(upload_refusals_say_what_was_expected_and_where, |app| {
    let publisher = token(&app, &[Scope::PublishAnyRegistry]);
    let before_units = app.get(&format!("{UNITS}/items.ndjson")).await.body;
    let before_roads = app.get(&format!("{ROADS}/items.ndjson")).await.body;
    let road = |geometry: &str| {
        format!(
            r#"{{"type":"Feature","properties":{{"segment_id":"RD-9001","street":"вул. Тестова","surface":"asphalt","condition":"good","length_m":12.5,"inspected_on":"2024-05-01","last_repair_year":null}}{geometry}}}"#
        )
    };
    let line = r#","geometry":{"type":"LineString","coordinates":[[26.98,49.43],[26.99,49.44]]}"#;
    let collection = |features: &[String]| {
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        )
    };
    let refused = "the file was refused, nothing changed: 1 problem(s); first: ";
    // (content type, body, the first problem as the detail says it)
    let cases: Vec<(&str, String, String)> = vec![
        (
            "application/json",
            "{}".into(),
            "expected a GeoJSON FeatureCollection {\"type\": \"FeatureCollection\", \"features\": \
             […]}, found an object with neither \"type\" nor \"features\""
                .into(),
        ),
        (
            "application/geo+json",
            r#"{"a":1}"#.into(),
            "expected a GeoJSON FeatureCollection {\"type\": \"FeatureCollection\", \"features\": \
             […]}, found an object with neither \"type\" nor \"features\""
                .into(),
        ),
        (
            "application/json",
            "[]".into(),
            "expected a GeoJSON FeatureCollection {\"type\": \"FeatureCollection\", \"features\": \
             […]}, found a JSON array (a list of features goes in the collection's \"features\" \
             member)"
                .into(),
        ),
        (
            "application/geo+json",
            road(line),
            "/type: is \"Feature\": the file is a single feature, but an upload replaces every \
             item of the registry; send a FeatureCollection with all items in \"features\""
                .into(),
        ),
        (
            "application/geo+json",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"segment_id":"RD-1""#.into(),
            "feature 1 (/features/0): not valid JSON: line 1, column 91: the JSON text ends before \
             it is complete (cut off, or a string, array or object left open)"
                .into(),
        ),
        (
            "application/geo+json",
            r#"{"type":"FeatureCollection","features":{}}"#.into(),
            "/features: expected an array of GeoJSON Features, found an object".into(),
        ),
        (
            "application/geo+json",
            r#"{"features":[]}"#.into(),
            "/type: is missing: a GeoJSON FeatureCollection says \"type\": \"FeatureCollection\""
                .into(),
        ),
        (
            "application/geo+json",
            collection(&[road("")]),
            "feature 1 (/features/0/geometry): is missing: RFC 7946 gives every feature a \
             \"geometry\" (null for an item without a location)"
                .into(),
        ),
        (
            "application/geo+json",
            collection(&[road(r#","geometry":{"type":"Point","coordinates":[26.98,49.43]}"#)]),
            "feature 1 (/features/0/geometry): expected a line geometry (LineString or \
             MultiLineString), found a Point"
                .into(),
        ),
        (
            "application/geo+json",
            collection(&[road(r#","geometry":{"type":"LineString","coordinates":[26.98,49.43]}"#)]),
            "feature 1 (/features/0/geometry/coordinates): does not hold the coordinates of a \
             LineString: expected an array of [longitude, latitude] positions"
                .into(),
        ),
        (
            "application/geo+json",
            collection(&[road(r#","geometry":{"type":"Line","coordinates":[]}"#)]),
            "feature 1 (/features/0/geometry/type): \"Line\" is not a GeoJSON geometry type: use \
             Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon or \
             GeometryCollection"
                .into(),
        ),
        (
            "application/geo+json",
            collection(&[road(line).replace("12.5", "true")]),
            "feature 1 (/features/0/properties/length_m): expected a decimal number, found true"
                .into(),
        ),
        (
            "application/geo+json",
            "".into(),
            "the file is empty (0 bytes): send a GeoJSON FeatureCollection".into(),
        ),
    ];
    // Cut after a whole feature: the fault is placed after it.
    let cut = format!(
        r#"{{"type":"FeatureCollection","features":[{}"#,
        road(line).replace("вул. Тестова", "Test street")
    );
    let cases = cases.into_iter().chain([(
        "application/geo+json",
        cut.clone(),
        format!(
            "/features: not valid JSON after feature 1: line 1, column {}: the JSON text ends \
             before it is complete (cut off, or a string, array or object left open)",
            cut.len()
        ),
    )]);
    for (content_type, body, first) in cases {
        let res = upload_to(&app, ROADS, "", &publisher, content_type, body.clone()).await;
        let (_, detail) = refusal(&res);
        assert_eq!(detail, format!("{refused}{first}"), "{body}");
    }
    // Each GeoJSON problem names its feature, property and pointer in `errors` too.
    let res = upload_to(
        &app,
        ROADS,
        "",
        &publisher,
        "application/geo+json",
        collection(&[road(line), road("").replace("RD-9001", "RD-9002")]),
    )
    .await;
    let (p, _) = refusal(&res);
    assert_eq!(
        p["errors"],
        json!([{"line": 2, "column": "geometry", "pointer": "/features/1/geometry",
                "message": "is missing: RFC 7946 gives every feature a \"geometry\" (null for an item without a location)"}])
    );
    // CSV: the line and the column by its header name.
    let res = upload_to(&app, UNITS, "", &publisher, "text/csv", "").await;
    assert_eq!(
        refusal(&res).1,
        format!("{refused}the file is empty (0 bytes): a CSV file starts with its header line")
    );
    let cp1251 = [
        b"katottg,category,name_uk,level1_oblast,level2_raion,level3_hromada,koatuu_legacy\n".as_slice(),
        b"UA68000000000099709,O,\xD5\xEC\xE5\xEB\xFC\xED\xE8\xF6\xFC\xEA\xE0,UA68000000000099709,,,\n",
    ]
    .concat();
    let res = upload_to(&app, UNITS, "", &publisher, "text/csv", cp1251).await;
    assert_eq!(
        refusal(&res).1,
        format!(
            "{refused}line 2, column name_uk: is not UTF-8 text: save the file as UTF-8 (in \
             Excel: \"CSV UTF-8\")"
        )
    );
    // Media types: what is accepted is listed; a form is not the file; UTF-8 only.
    for (content_type, detail) in [
        (
            "multipart/form-data; boundary=x",
            "Content-Type multipart/form-data: send the file itself as the body, not a form (curl \
             --data-binary @file.csv, not -F); accepted: text/csv (UTF-8, comma or semicolon), \
             application/geo+json or application/json (a GeoJSON FeatureCollection)",
        ),
        (
            "text/plain",
            "Content-Type \"text/plain\": accepted: text/csv (UTF-8, comma or semicolon), \
             application/geo+json or application/json (a GeoJSON FeatureCollection); without a \
             Content-Type, a file name ending in .csv, .geojson or .json in Content-Disposition",
        ),
        (
            "text/csv; charset=windows-1251",
            "Content-Type \"text/csv; charset=windows-1251\": files are read as UTF-8 only; save \
             the file as UTF-8 (in Excel: \"CSV UTF-8\") and send charset=utf-8 or no charset",
        ),
    ] {
        let p = upload_to(&app, UNITS, "", &publisher, content_type, "katottg\n")
            .await
            .problem(415);
        assert_eq!(p["detail"], detail, "{content_type}");
    }
    // The upload records' own parameters too.
    let bearer = format!("Bearer {publisher}");
    for (query, parameter, detail) in [
        (
            "?limit=abc",
            "limit",
            "limit: \"abc\" is not a whole number between 1 and 200",
        ),
        (
            "?before=x",
            "before",
            "before: \"x\" is not an upload id (a whole number, from next_before)",
        ),
        (
            "?allow_empty=true",
            "allow_empty",
            "unknown query parameter `allow_empty`; /api/v1/registries/territorial-units/imports \
             accepts: limit, before",
        ),
    ] {
        let p = app
            .get_with(
                &format!("{UNITS}/imports{query}"),
                &[("Authorization", &bearer)],
            )
            .await
            .problem(400);
        assert_eq!(
            (&p["parameter"], &p["detail"]),
            (&json!(parameter), &json!(detail))
        );
    }
    let p = app
        .get_with(
            &format!("{UNITS}/imports/abc"),
            &[("Authorization", &bearer)],
        )
        .await
        .problem(404);
    assert_eq!(
        p["detail"],
        "registry \"territorial-units\" has no upload \"abc\" (upload ids are whole numbers)"
    );
    assert_eq!(
        app.get(&format!("{UNITS}/items.ndjson")).await.body,
        before_units
    );
    assert_eq!(
        app.get(&format!("{ROADS}/items.ndjson")).await.body,
        before_roads
    );
    // A GeoJSON FeatureCollection sent as application/json (GeoJSON is JSON) is published, with
    // foreign members and a byte order mark ignored.
    let file = [
        b"\xEF\xBB\xBF".as_slice(),
        format!(
            r#"{{"type":"FeatureCollection","name":"roads","bbox":[26,49,27,50],"features":[{}]}}"#,
            road(line)
        )
        .as_bytes(),
    ]
    .concat();
    let res = upload_to(&app, ROADS, "", &publisher, "application/json", file).await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.text());
    assert_eq!(res.json()["upload"]["media_type"], "application/json");
    let items = app.get(&format!("{ROADS}/items")).await.json();
    assert_eq!(items["total"], 1);
    assert_eq!(items["items"][0]["id"], "RD-9001");
});

both_backends!(
    write_routes_name_their_methods_and_stay_closed_to_other_origins,
    |app| {
        let res = send(
            &app,
            Method::DELETE,
            &format!("/api/v1/milestones/{MILESTONE}"),
            None,
            &[],
            "",
        )
        .await;
        res.problem(405);
        assert_eq!(res.header("allow"), Some("GET, HEAD, PATCH"));
        let preflight = app
            .call(
                TestRequest::default()
                    .method(Method::OPTIONS)
                    .uri(&format!("{UNITS}/imports"))
                    .insert_header(("Origin", "https://evil.example"))
                    .insert_header(("Access-Control-Request-Method", "POST"))
                    .insert_header(("Access-Control-Request-Headers", "authorization")),
            )
            .await;
        assert!(
            preflight.header("access-control-allow-origin").is_none()
                || !preflight.status.is_success(),
            "a browser on another origin may not send writes"
        );
    }
);

both_backends!(
    if_match_sees_every_change_to_what_a_milestone_holds,
    |app| {
        // A reads c3-m1; B changes something the milestone's answer holds; A's write on its copy
        // must be 412 whatever B changed (not only the status), and the milestone must keep B's data.
        const TARGET: &str = "khm-2021-2025-c3-m1";
        let writer = token(&app, &[Scope::PlanWrite]);
        let evidence = json!([{"url": "https://khm.gov.ua/", "title": "City council"}]);
        let changes: Vec<(&str, Method, String, Value)> = vec![
            (
                "completion",
                Method::PATCH,
                format!("/api/v1/milestones/{TARGET}"),
                json!({"completion": 10, "evidence": evidence}),
            ),
            (
                "note",
                Method::PATCH,
                format!("/api/v1/milestones/{TARGET}"),
                json!({"note": {"lang": "en", "text": "Courses started."}, "evidence": evidence}),
            ),
            (
                "progress update",
                Method::POST,
                format!("/api/v1/milestones/{TARGET}/progress-updates"),
                json!({"claim": {"lang": "en", "text": "First course held."}, "evidence": evidence}),
            ),
            (
                "status",
                Method::PATCH,
                format!("/api/v1/milestones/{TARGET}"),
                json!({"status": "in_progress", "evidence": evidence}),
            ),
        ];
        for (what, method, uri, body) in changes {
            let a_read = app.get(&format!("/api/v1/milestones/{TARGET}")).await;
            let a_tag = a_read.header("etag").unwrap().to_owned();
            let b = send(
                &app,
                method,
                &uri,
                Some(&writer),
                &[("Content-Type", "application/json")],
                body.to_string(),
            )
            .await;
            assert!(b.status.is_success(), "B's {what}: {}", b.text());
            let b_view = app
                .get(&format!(
                    "/api/v1/milestones/{TARGET}?expand=progress_updates"
                ))
                .await
                .text();
            let a_write = send(
                &app,
                Method::PATCH,
                &format!("/api/v1/milestones/{TARGET}"),
                Some(&writer),
                &[("Content-Type", "application/json"), ("If-Match", &a_tag)],
                json!({"completion": 20, "evidence": evidence}).to_string(),
            )
            .await;
            let p = a_write.problem(412);
            assert!(
                p["detail"].as_str().unwrap().contains(TARGET),
                "after B's {what}: {p}"
            );
            let after = app
                .get(&format!(
                    "/api/v1/milestones/{TARGET}?expand=progress_updates"
                ))
                .await
                .text();
            assert_eq!(
                after, b_view,
                "A's refused write after B's {what} changed nothing"
            );
        }
    }
);

/// Every operation that takes a bearer token (its `security` in the OpenAPI document), with its
/// path parameters filled in. A write (any method but GET/HEAD/OPTIONS) must be one of them.
fn gated_operations() -> Vec<(Method, String)> {
    let doc = serde_json::to_value(opengov_api::api::openapi()).unwrap();
    let mut gated = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            if !["GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "DELETE"]
                .contains(&method.as_str())
            {
                continue;
            }
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            let writes = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
            assert!(secured || !writes, "{method} {path} writes without a token");
            if secured {
                let uri = path
                    .replace("{milestone_id}", MILESTONE)
                    .replace("{slug}", "territorial-units")
                    .replace("{upload_id}", "1");
                assert!(!uri.contains('{'), "fill in the parameters of {path}");
                gated.push((method, uri));
            }
        }
    }
    gated
}

/// Sends `body` as a stream of 1 KiB chunks and counts the bytes the server pulls from it.
async fn send_counted(
    app: &TestApp,
    method: &Method,
    uri: &str,
    authorization: Option<&str>,
    headers: &[(&str, String)],
    body: &[u8],
) -> (Response, usize) {
    use futures_util::StreamExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let read = Arc::new(AtomicUsize::new(0));
    let counter = read.clone();
    let chunks: Vec<actix_web::web::Bytes> = body
        .chunks(1024)
        .map(actix_web::web::Bytes::copy_from_slice)
        .collect();
    let stream = futures_util::stream::iter(chunks).map(move |chunk| {
        counter.fetch_add(chunk.len(), Ordering::SeqCst);
        Ok::<_, actix_web::error::PayloadError>(chunk)
    });
    let payload = actix_web::dev::Payload::from(stream.boxed_local());
    let mut req = TestRequest::default().method(method.clone()).uri(uri);
    if let Some(value) = authorization {
        req = req.insert_header(("Authorization", value));
    }
    for (name, value) in headers {
        req = req.insert_header((*name, value.as_str()));
    }
    let res = app.call_with_payload(req, payload).await;
    (res, read.load(Ordering::SeqCst))
}

/// The bodies a caller may send: none of them is read before its token is checked.
fn hostile_bodies(limit: usize) -> Vec<(&'static str, Vec<u8>, bool)> {
    let over = format!("{{\"note\": \"{}\"}}", "x".repeat(limit * 4)).into_bytes();
    vec![
        ("{}", b"{}".to_vec(), true),
        ("malformed JSON", b"{\"evidence\": [".to_vec(), true),
        ("over the limit, length declared", over.clone(), true),
        ("over the limit, streamed", over, false),
    ]
}

both_backends!(every_gated_route_checks_the_token_before_the_body, |app| {
    let mut app = app;
    app.state.limits.max_body_bytes = 2000;
    app.state.uploads.max_bytes = 2000;
    let operations = gated_operations();
    for expected in [
        (Method::PATCH, format!("/api/v1/milestones/{MILESTONE}")),
        (
            Method::POST,
            format!("/api/v1/milestones/{MILESTONE}/progress-updates"),
        ),
        (Method::POST, format!("{UNITS}/imports")),
    ] {
        assert!(operations.contains(&expected), "{expected:?} is gated");
    }
    let before = plan_release_count(&app).await;
    let plan_only = token(&app, &[Scope::PlanWrite]);
    let publisher = token(&app, &[Scope::PublishRegistry("territorial-units".into())]);
    // A token of another registry may do none of these, not even see territorial-units' uploads.
    let outsider = token(&app, &[Scope::PublishRegistry("housing-stock".into())]);
    let refusals = [
        (None, 401),
        (Some("Bearer ogt_not-a-real-token".to_owned()), 401),
        (Some("Basic dXNlcjpwYXNz".to_owned()), 401),
        (Some("Bearer".to_owned()), 401),
        (Some(format!("Bearer {outsider}")), 403),
    ];
    for (method, uri) in &operations {
        for (authorization, status) in &refusals {
            for content_type in ["application/json", "text/csv"] {
                for (what, body, declare_length) in hostile_bodies(2000) {
                    let mut headers = vec![("Content-Type", content_type.to_owned())];
                    if declare_length {
                        headers.push(("Content-Length", body.len().to_string()));
                    }
                    let (res, read) =
                        send_counted(&app, method, uri, authorization.as_deref(), &headers, &body)
                            .await;
                    let p = res.problem(*status);
                    let case = format!("{method} {uri} with {authorization:?} and {what}: {p}");
                    assert_eq!(read, 0, "the body was read: {case}");
                    if *status == 401 {
                        assert!(
                            res.header("www-authenticate")
                                .unwrap()
                                .starts_with("Bearer realm="),
                            "{case}"
                        );
                    } else {
                        assert!(
                            p["detail"].as_str().unwrap().contains("lacks the scope"),
                            "{case}"
                        );
                    }
                }
            }
        }
    }
    // The gates are per route: a plan writer may not upload, a publisher may not edit the plan.
    let (res, read) = send_counted(
        &app,
        &Method::POST,
        &format!("{UNITS}/imports"),
        Some(&format!("Bearer {plan_only}")),
        &[("Content-Type", "text/csv".to_owned())],
        b"code,name\n",
    )
    .await;
    res.problem(403);
    assert_eq!(read, 0);
    let (res, read) = send_counted(
        &app,
        &Method::PATCH,
        &format!("/api/v1/milestones/{MILESTONE}"),
        Some(&format!("Bearer {publisher}")),
        &[("Content-Type", "application/json".to_owned())],
        b"{}",
    )
    .await;
    res.problem(403);
    assert_eq!(read, 0);

    // With a valid token the body is read and judged as before.
    for uri in [
        format!("/api/v1/milestones/{MILESTONE}"),
        format!("/api/v1/milestones/{MILESTONE}/progress-updates"),
    ] {
        let method = if uri.ends_with("updates") {
            Method::POST
        } else {
            Method::PATCH
        };
        let bearer = format!("Bearer {plan_only}");
        let json = [("Content-Type", "application/json".to_owned())];
        let (res, read) = send_counted(&app, &method, &uri, Some(&bearer), &json, b"{}").await;
        let p = res.problem(422);
        assert!(
            p["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["pointer"] == "/evidence"),
            "{p}"
        );
        assert_eq!(read, 2, "{uri}: the body was read");
        let (res, _) = send_counted(
            &app,
            &method,
            &uri,
            Some(&bearer),
            &json,
            b"{\"evidence\": [",
        )
        .await;
        res.problem(400);
        let over = hostile_bodies(2000).pop().unwrap().1;
        let (res, read) = send_counted(&app, &method, &uri, Some(&bearer), &json, &over).await;
        let p = res.problem(413);
        assert!(p["detail"].as_str().unwrap().contains("2000 bytes"), "{p}");
        assert!(
            read > 2000,
            "{uri}: the streamed body was read up to the limit"
        );
    }
    let bearer = format!("Bearer {publisher}");
    let (res, read) = send_counted(
        &app,
        &Method::POST,
        &format!("{UNITS}/imports"),
        Some(&bearer),
        &[("Content-Type", "text/csv".to_owned())],
        &hostile_bodies(2000).pop().unwrap().1,
    )
    .await;
    let p = res.problem(413);
    assert!(p["detail"].as_str().unwrap().contains("2000 bytes"), "{p}");
    assert!(read > 2000, "the upload was streamed up to the limit");
    let (res, _) = send_counted(
        &app,
        &Method::POST,
        &format!("{UNITS}/imports"),
        Some(&bearer),
        &[("Content-Type", "application/json".to_owned())],
        b"{}",
    )
    .await;
    // application/json is taken as GeoJSON: judged, and refused as a file.
    let p = res.problem(422);
    assert_eq!(
        p["type"], "tag:opengov-api,2026:problem/import-refused",
        "{p}"
    );

    assert_eq!(
        plan_release_count(&app).await,
        before,
        "nothing was written"
    );
    assert_eq!(
        registry_releases(&app).await.len(),
        1,
        "nothing was published"
    );
});
