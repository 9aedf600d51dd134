//! Every served fact is traceable (issue 12): each member of every record of the plan and of
//! every registry passport, in every language, is stated by a source — the record's `sources`, a
//! source of its own in `provenance`, or a text's `source` — or is marked as the project's own
//! classification (`provenance`) or wording (`wording: project`). The walk reads the API's own
//! answers, so a member added to a record without a way to trace it fails here.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::both_backends;
use crate::common::TestApp;

/// Members that are not facts about the world: identifiers and structure of our own, links,
/// derived figures (rollups, counts), the provenance itself, and our indexing words.
const NOT_FACTS: &[&str] = &[
    "id",
    "slug",
    "links",
    "sources",
    "provenance",
    "release",
    // Milestone counts by status, computed from the milestones (each with its own status source).
    "progress",
    // Which kind of record a link points at, and the machine name of a reported figure.
    "subject_type",
    "metric",
    // A registry's structure and bookkeeping: its schema, geometry kind, identifier field,
    // counts and import time; `sample` and `sample_note` are the project's statement about its
    // own data; keywords are search words the project assigns.
    "fields",
    "geometry",
    "id_field",
    "item_count",
    "imported_at",
    "sample",
    "keywords",
    "keywords_lang",
    // The source of a status is itself a citation (checked below).
    "status_source",
];

/// Members holding records that are checked on their own.
const NESTED_RECORDS: &[&str] = &[
    "member",
    "spaces",
    "endorsements",
    "commitments",
    "milestones",
    "institutions",
    "assessments",
    "progress_updates",
    "involvements",
];

/// Members whose text belongs to another record (an involvement shows its institution's name).
const BORROWED_TEXTS: &[&str] = &["institution_name"];

struct Walk<'a> {
    known_sources: &'a BTreeSet<String>,
    problems: Vec<String>,
    records: BTreeMap<&'static str, BTreeSet<String>>,
}

fn is_text(v: &Value) -> bool {
    v.get("value").is_some() && v.get("lang").is_some() && v.get("wording").is_some()
}

fn is_date(v: &Value) -> bool {
    v.get("value").is_some() && v.get("precision").is_some()
}

fn is_record(v: &Value) -> bool {
    v.get("sources").is_some_and(Value::is_array) && v.get("provenance").is_some()
}

/// The member at a dotted path of a record.
fn member<'v>(record: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(record, |v, key| v.get(key))
}

impl Walk<'_> {
    fn record(&mut self, kind: &'static str, at: &str, record: &Value) {
        let name = record["id"]
            .as_str()
            .or(record["slug"].as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| {
                format!(
                    "{}:{}:{}",
                    record["institution_id"], record["role"], record["subject_id"]
                )
            });
        self.records.entry(kind).or_default().insert(name.clone());
        let here = format!("{at} {kind} {name}");
        let own: BTreeSet<String> = record["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect();
        if own.is_empty() {
            self.problems.push(format!("{here}: names no source"));
        }
        for id in &own {
            if !self.known_sources.contains(id) {
                self.problems
                    .push(format!("{here}: source {id} is not in /api/v1/sources"));
            }
        }
        let provenance = record["provenance"].as_object().expect("provenance object");
        for (field, of) in provenance {
            match member(record, field) {
                None | Some(Value::Null) => self
                    .problems
                    .push(format!("{here}: provenance of {field}, which has no value")),
                Some(_) => {}
            }
            match (of.get("source"), of.get("classified")) {
                (Some(Value::String(id)), None) if own.contains(id) => {}
                (None, Some(Value::String(basis))) if !basis.trim().is_empty() => {}
                _ => self
                    .problems
                    .push(format!("{here}: provenance of {field} is {of}")),
            }
        }
        if !record["status"].is_null() && record["status_source"]["id"].as_str().is_none() {
            self.problems
                .push(format!("{here}: a status without a source"));
        }
        self.members(&here, record, "", &own);
    }

    /// Checks every member of `object` (a record, or a grouping object inside one).
    fn members(&mut self, here: &str, object: &Value, prefix: &str, own: &BTreeSet<String>) {
        for (key, value) in object.as_object().unwrap() {
            let path = format!("{prefix}{key}");
            if value.is_null() || NOT_FACTS.contains(&key.as_str()) {
                continue;
            }
            if NESTED_RECORDS.contains(&key.as_str()) {
                continue;
            }
            if is_text(value) {
                self.text(
                    here,
                    &path,
                    value,
                    own,
                    BORROWED_TEXTS.contains(&key.as_str()),
                );
            } else if value.is_object() && !is_date(value) && !is_record(value) {
                self.members(here, value, &format!("{path}."), own);
            }
            // Any other value (number, code, date, list of codes) is stated by the record's
            // sources or by its own provenance entry, both checked in `record`.
        }
    }

    fn text(
        &mut self,
        here: &str,
        path: &str,
        text: &Value,
        own: &BTreeSet<String>,
        borrowed: bool,
    ) {
        let source = text["source"].as_str();
        match (text["wording"].as_str(), source) {
            (Some("project"), None) => {}
            (Some("project"), Some(id)) => self.problems.push(format!(
                "{here}: {path} is the project's wording but credited to {id}"
            )),
            (Some("source" | "summary"), Some(id)) => {
                if !self.known_sources.contains(id) {
                    self.problems
                        .push(format!("{here}: {path} credited to unknown source {id}"));
                } else if !borrowed && !own.contains(id) {
                    self.problems.push(format!(
                        "{here}: {path} credited to {id}, not among the record's sources"
                    ));
                }
            }
            (wording, source) => self.problems.push(format!(
                "{here}: {path} has wording {wording:?} and source {source:?}"
            )),
        }
    }

    /// Every record in a collection answer, and the records nested in each.
    fn collection(&mut self, kind: &'static str, at: &str, body: &Value) {
        for item in body["items"].as_array().expect("items") {
            self.tree(kind, at, item);
        }
    }

    fn tree(&mut self, kind: &'static str, at: &str, record: &Value) {
        self.record(kind, at, record);
        let mut nested: Vec<(&'static str, &Value)> = Vec::new();
        let holders = [record, &record["co_creation"]];
        for holder in holders {
            for (key, child_kind) in [
                ("member", "member"),
                ("spaces", "space"),
                ("endorsements", "endorsement"),
                ("commitments", "commitment"),
                ("milestones", "milestone"),
                ("institutions", "involvement"),
                ("involvements", "involvement"),
                ("assessments", "assessment"),
                ("progress_updates", "progress_update"),
            ] {
                match &holder[key] {
                    Value::Array(items) => nested.extend(items.iter().map(|i| (child_kind, i))),
                    v @ Value::Object(_) => nested.push((child_kind, v)),
                    _ => {}
                }
            }
        }
        for (child_kind, child) in nested {
            self.tree(child_kind, at, child);
        }
    }
}

async fn walk_everything(app: &TestApp) -> Walk<'static> {
    let sources = app.get("/api/v1/sources?limit=1000").await.json();
    let known: BTreeSet<String> = sources["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    let known: &'static BTreeSet<String> = Box::leak(Box::new(known));
    let mut walk = Walk {
        known_sources: known,
        problems: Vec::new(),
        records: BTreeMap::new(),
    };
    for lang in ["uk", "en", "es"] {
        for (kind, path) in [
            (
                "plan",
                "/api/v1/plans?expand=commitments,institutions,progress_updates",
            ),
            (
                "commitment",
                "/api/v1/commitments?expand=milestones,institutions,assessments,progress_updates",
            ),
            (
                "milestone",
                "/api/v1/milestones?expand=institutions,progress_updates",
            ),
            ("institution", "/api/v1/institutions?expand=involvements"),
            ("registry", "/api/v1/registries"),
        ] {
            let url = format!(
                "{path}{}limit=1000&lang={lang}",
                if path.contains('?') { "&" } else { "?" }
            );
            let res = app.get(&url).await;
            assert_eq!(res.status, 200, "{url}");
            walk.collection(kind, &format!("[{lang}] {path}"), &res.json());
        }
    }
    walk
}

both_backends!(every_served_fact_has_a_source_or_the_project_mark, |app| {
    let walk = walk_everything(&app).await;
    assert!(
        walk.problems.is_empty(),
        "{} untraceable facts:\n{}",
        walk.problems.len(),
        walk.problems.join("\n")
    );
    // The walk reached every record the fixtures hold.
    let counts: BTreeMap<&str, usize> = walk
        .records
        .iter()
        .map(|(kind, ids)| (*kind, ids.len()))
        .collect();
    for (kind, collection) in [
        ("plan", "/api/v1/plans"),
        ("commitment", "/api/v1/commitments"),
        ("milestone", "/api/v1/milestones"),
        ("institution", "/api/v1/institutions"),
        ("registry", "/api/v1/registries"),
    ] {
        let total = app.get(collection).await.json()["total"].as_u64().unwrap();
        assert_eq!(counts[kind] as u64, total, "{kind} records walked");
    }
    for kind in [
        "member",
        "space",
        "endorsement",
        "assessment",
        "involvement",
        "progress_update",
    ] {
        assert!(
            counts.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} walked"
        );
    }
    assert_eq!(
        counts["progress_update"], 13,
        "every progress update walked"
    );
    assert_eq!(counts["involvement"], 16, "every involvement walked");
});

/// The walk itself fails on what it must catch (a test that cannot fail proves nothing).
#[test]
fn the_walk_catches_untraceable_facts() {
    let known: BTreeSet<String> = ["s1".to_owned()].into();
    let mut walk = Walk {
        known_sources: &known,
        problems: Vec::new(),
        records: BTreeMap::new(),
    };
    let text = |source: Value, wording: &str| serde_json::json!({"value": "x", "lang": "en", "fallback": false, "source": source, "wording": wording});
    let bad = serde_json::json!({"items": [
        {"id": "no-sources", "sources": [], "provenance": {}, "kind": "x"},
        {"id": "orphan-text", "sources": [{"id": "s1"}], "provenance": {}, "title": text(Value::Null, "source")},
        {"id": "credited-project", "sources": [{"id": "s1"}], "provenance": {}, "title": text("s1".into(), "project")},
        {"id": "foreign-source", "sources": [{"id": "s1"}], "provenance": {}, "title": text("s2".into(), "source")},
        {"id": "empty-basis", "sources": [{"id": "s1"}], "provenance": {"kind": {"classified": " "}}, "kind": "x"},
        {"id": "dangling", "sources": [{"id": "s1"}], "provenance": {"kind": {"source": "s1"}}},
        {"id": "bare-status", "sources": [{"id": "s1"}], "provenance": {}, "status": "complete", "status_source": null},
    ]});
    walk.collection("test", "unit", &bad);
    let flagged: BTreeSet<&str> = walk
        .problems
        .iter()
        .map(|p| p.split(' ').nth(2).unwrap())
        .collect();
    assert_eq!(
        flagged,
        [
            "no-sources:",
            "orphan-text:",
            "credited-project:",
            "foreign-source:",
            "empty-basis:",
            "dangling:",
            "bare-status:"
        ]
        .into(),
        "{:#?}",
        walk.problems
    );
}

both_backends!(classifications_reach_csv_and_pages, |app| {
    let commitments = app.get("/api/v1/commitments?limit=1000").await.json();
    let csv = app.get("/api/v1/commitments.csv").await.text();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let header = rows.headers().unwrap().clone();
    let col = header
        .iter()
        .position(|h| h == "classified_fields")
        .expect("column");
    let by_id: BTreeMap<String, String> = rows
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[col].to_owned())
        })
        .collect();
    let mut classified_somewhere = false;
    for c in commitments["items"].as_array().unwrap() {
        let expected: Vec<&str> = c["provenance"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, of)| of.get("classified").is_some())
            .map(|(field, _)| field.as_str())
            .collect();
        classified_somewhere |= !expected.is_empty();
        assert_eq!(by_id[c["id"].as_str().unwrap()], expected.join("; "));
        let page = app
            .get(&format!(
                "/commitments/{}?lang=uk",
                c["id"].as_str().unwrap()
            ))
            .await
            .text();
        assert_eq!(
            page.contains("класифікація проєкту"),
            !expected.is_empty(),
            "the commitment page marks its classified values"
        );
    }
    assert!(
        classified_somewhere,
        "the fixtures classify some OGP values"
    );
    let page = app.get("/institutions/ebrd?lang=en").await.text();
    let basis = "Read from the name (a European bank).";
    assert!(
        page.contains("the project&#39;s classification")
            || page.contains("the project's classification")
    );
    assert!(page.contains(basis), "the basis is on the page");
});
