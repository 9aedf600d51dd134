//! Releases, pinned reads, the change feed and HTTP caching.

use std::collections::BTreeMap;

use opengov_api::db::DbConn;
use opengov_api::models::registries::{self, import};
use opengov_api::models::{plan_release, releases};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::both_backends;
use crate::common::TestApp;

const UNITS: &str = "/api/v1/registries/territorial-units";

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The fixture CSV of territorial units with the first data row changed, the second removed and
/// one row added.
fn edited_units() -> (String, String, String, String) {
    let original = include_str!("../../fixtures/registries/territorial-units/items.csv");
    let mut lines: Vec<String> = original.lines().map(str::to_owned).collect();
    let changed_id = lines[1].split(',').next().unwrap().to_owned();
    let removed_id = lines[2].split(',').next().unwrap().to_owned();
    let mut cells: Vec<&str> = lines[1].split(',').collect();
    cells[2] = "Змінена назва";
    lines[1] = cells.join(",");
    lines.remove(2);
    let added_id = "UA68999999999999999".to_owned();
    lines.push(format!("{added_id},C,Нове село,UA68000000000099709,,,"));
    (lines.join("\n") + "\n", changed_id, removed_id, added_id)
}

/// Publishes `csv` as the territorial units' next release; some tests empty the registry on
/// purpose (a header-only file), so a file without items is allowed.
fn import_units(conn: &mut DbConn, csv: &str) -> import::ImportSummary {
    let registry = registries::find_schema(conn, "territorial-units")
        .unwrap()
        .unwrap();
    let options = import::ImportOptions {
        origin: "test",
        publish: import::Publish::Always,
        max_rows: None,
        allow_empty: true,
    };
    import::import_with(
        conn,
        &registry,
        import::FileFormat::Csv,
        csv.as_bytes(),
        &options,
        |_, _| Ok(()),
    )
    .unwrap()
}

/// Sets a milestone's status in the live tables and publishes the plan.
fn edit_milestone_status(conn: &mut DbConn, id: &str, status: Option<&str>) -> releases::Release {
    use diesel::prelude::*;
    use opengov_api::db::schema::milestones;
    conn.write_transaction(|conn| {
        diesel::update(milestones::table.find(id))
            .set(milestones::status.eq(status))
            .execute(conn)?;
        plan_release::publish(conn, "test")
    })
    .unwrap()
    .expect("a change makes a release")
}

both_backends!(an_import_publishes_only_its_differences, |app| {
    let csv = app.get(&format!("{UNITS}/items.csv")).await;
    let described = csv.header("link").expect("CSVW link");
    assert!(
        described.contains("items.csv-metadata.json>; rel=\"describedby\""),
        "{described}"
    );
    let before = app.get(&format!("{UNITS}/items.ndjson")).await;
    let first = app.get(&format!("{UNITS}/releases/1")).await.json();
    assert_eq!(first["added"], 28);
    assert_eq!(
        sha256_hex(&before.body),
        first["sha256"],
        "checksum = canonical export"
    );

    let (csv, changed, removed, added) = edited_units();
    let summary = import_units(&mut app.pool().get().unwrap(), &csv);
    let release = summary.release.unwrap();
    assert_eq!(release.number, 2);
    assert_eq!(
        (
            release.added,
            release.changed,
            release.removed,
            release.row_count
        ),
        (1, 1, 1, 28)
    );

    // Release 1 is served exactly as before, forever.
    let pinned = app.get(&format!("{UNITS}/items.ndjson?release=1")).await;
    assert_eq!(pinned.body, before.body);
    assert_eq!(
        pinned.header("data-release"),
        Some("registries/territorial-units@1")
    );
    assert!(
        pinned
            .header("cache-control")
            .unwrap()
            .contains("immutable")
    );
    let latest = app.get(&format!("{UNITS}/items.ndjson")).await;
    assert_eq!(
        latest.header("data-release"),
        Some("registries/territorial-units@2")
    );
    assert_eq!(sha256_hex(&latest.body), release.sha256);
    assert!(latest.text().contains("Змінена назва"));

    // Items: removed ones still exist in the old release only.
    app.get(&format!("{UNITS}/items/{removed}?release=1"))
        .await
        .json();
    let gone = app
        .get(&format!("{UNITS}/items/{removed}"))
        .await
        .problem(404);
    assert!(gone["detail"].as_str().unwrap().contains("release 2"));
    app.get(&format!("{UNITS}/items/{added}?release=1"))
        .await
        .problem(404);
    let old = app
        .get(&format!("{UNITS}/items/{changed}?release=1"))
        .await
        .json();
    assert_ne!(old["properties"]["name_uk"], "Змінена назва");

    // JSON pages name their release; their cursors stay on it.
    let page = app.get(&format!("{UNITS}/items?limit=5")).await.json();
    assert_eq!(page["release"]["number"], 2);
    assert_eq!(page["release"]["pinned"], false);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    import_units(
        &mut app.pool().get().unwrap(),
        "katottg,category,name_uk,level1_oblast,level2_raion,level3_hromada,koatuu_legacy\n",
    );
    let next = app
        .get(&format!("{UNITS}/items?limit=5&cursor={cursor}"))
        .await
        .json();
    assert_eq!(
        next["release"]["number"], 2,
        "later pages read the first page's release"
    );
    assert_eq!(next["items"].as_array().unwrap().len(), 5);
    let emptied = app.get(&format!("{UNITS}/items")).await.json();
    assert_eq!(emptied["total"], 0);
    assert_eq!(emptied["release"]["number"], 3);

    // Bad and unknown releases.
    let p = app
        .get(&format!("{UNITS}/items?release=abc"))
        .await
        .problem(400);
    assert_eq!(p["parameter"], "release");
    app.get(&format!("{UNITS}/items?release=0"))
        .await
        .problem(400);
    let p = app
        .get(&format!("{UNITS}/items.csv?release=99"))
        .await
        .problem(404);
    assert!(p["detail"].as_str().unwrap().contains("1 to 3"), "{p}");
    let p = app
        .get(&format!("{UNITS}/items?release=1&cursor={cursor}"))
        .await
        .problem(400);
    assert_eq!(p["parameter"], "cursor");

    let list = app.get(&format!("{UNITS}/releases")).await.json();
    let numbers: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1]);
    assert_eq!(list["items"][0]["removed"], 28);
    app.get("/api/v1/registries/nope/releases")
        .await
        .problem(404);
});

both_backends!(fixture_loads_that_change_nothing_publish_nothing, |app| {
    use opengov_api::models::fixture_set::FixtureSet;
    let count = |app: &TestApp| {
        let mut conn = app.pool().get().unwrap();
        releases::head(&mut conn).unwrap()
    };
    let before = count(&app);
    FixtureSet::embedded()
        .unwrap()
        .load(&mut app.pool().get().unwrap())
        .unwrap();
    assert_eq!(count(&app), before, "an identical load is not a release");
});

both_backends!(plan_reads_pin_to_a_release, |app| {
    let id = "khm-2021-2025-c1-m1";
    let original = app.get(&format!("/api/v1/milestones/{id}")).await.json();
    assert_eq!(original["release"]["number"], 1);
    let release = edit_milestone_status(&mut app.pool().get().unwrap(), id, Some("complete"));
    assert_eq!(release.number, 2);
    assert_eq!((release.added, release.changed, release.removed), (0, 1, 0));

    let now = app.get(&format!("/api/v1/milestones/{id}")).await;
    assert_eq!(now.header("data-release"), Some("plan@2"));
    assert_eq!(now.json()["status"], "complete");
    let then = app.get(&format!("/api/v1/milestones/{id}?release=1")).await;
    assert_eq!(then.header("data-release"), Some("plan@1"));
    let mut then = then.json();
    assert_eq!(then["status"], original["status"]);
    assert_eq!(then["release"]["pinned"], true);
    // Apart from the release member, release 1 is what was served before.
    then["release"] = Value::Null;
    let mut original = original;
    original["release"] = Value::Null;
    assert_eq!(then, original);

    // Collections and CSV too.
    let csv_then = app.get("/api/v1/milestones.csv?release=1").await.text();
    let csv_now = app.get("/api/v1/milestones.csv").await.text();
    assert_ne!(csv_then, csv_now);
    assert!(csv_now.contains("complete"));
    let listing = app
        .get("/api/v1/commitments?release=1&expand=milestones")
        .await
        .json();
    assert_eq!(listing["release"]["number"], 1);

    // The canonical export matches the checksum; unknown releases are 404.
    let described = app.get("/api/v1/plan/releases/2").await.json();
    let records = app.get("/api/v1/plan/releases/2/records").await;
    assert_eq!(sha256_hex(&records.body), described["sha256"]);
    assert_eq!(
        records.text().lines().count() as i64,
        described["row_count"].as_i64().unwrap()
    );
    app.get("/api/v1/milestones?release=7").await.problem(404);
    app.get("/api/v1/plan/releases/7").await.problem(404);
    app.get("/api/v1/plan/releases/x").await.problem(400);
    // Unchanged data publishes nothing.
    let mut conn = app.pool().get().unwrap();
    let again = conn
        .write_transaction(|c| plan_release::publish(c, "test"))
        .unwrap();
    assert!(again.is_none());
});

/// Follows the feed from the start with small pages and applies every event.
async fn replay(app: &TestApp, query: &str) -> BTreeMap<(String, String, String), Value> {
    let mut state = BTreeMap::new();
    let mut since: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = match &since {
            None => format!("/api/v1/changes?limit=37{query}"),
            Some(c) => format!("/api/v1/changes?limit=37{query}&since={c}"),
        };
        let page = app.get(&url).await.json();
        for e in page["events"].as_array().unwrap() {
            let key = (
                e["dataset"].as_str().unwrap().to_owned(),
                e["record_type"].as_str().unwrap().to_owned(),
                e["record_id"].as_str().unwrap().to_owned(),
            );
            match e["op"].as_str().unwrap() {
                "deleted" => {
                    assert!(e["data"].is_null(), "a tombstone carries no data");
                    assert!(
                        state.remove(&key).is_some(),
                        "deleted what existed: {key:?}"
                    );
                }
                op => {
                    assert!(!e["data"].is_null(), "{op} carries the record");
                    let existed = state.insert(key.clone(), e["data"].clone()).is_some();
                    assert_eq!(existed, op == "updated", "{op} {key:?}");
                }
            }
        }
        since = Some(page["next_cursor"].as_str().unwrap().to_owned());
        pages += 1;
        assert!(pages < 1000);
        if !page["more"].as_bool().unwrap() {
            break;
        }
    }
    // Polling again at the end yields nothing new.
    let tail = app
        .get(&format!("/api/v1/changes?since={}{query}", since.unwrap()))
        .await
        .json();
    assert_eq!(tail["events"].as_array().unwrap().len(), 0);
    state
}

/// The current data as (dataset, record type, record id) → record, from the API's own exports.
async fn current(app: &TestApp) -> BTreeMap<(String, String, String), Value> {
    let mut out = BTreeMap::new();
    let plan = app.get("/api/v1/plan/releases").await.json();
    let latest = plan["items"][0]["number"].as_i64().unwrap();
    let records = app
        .get(&format!("/api/v1/plan/releases/{latest}/records"))
        .await
        .text();
    for line in records.lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        out.insert(
            (
                "plan".to_owned(),
                r["record_type"].as_str().unwrap().to_owned(),
                r["record_id"].as_str().unwrap().to_owned(),
            ),
            r["document"].clone(),
        );
    }
    let registries = app.get("/api/v1/registries?limit=1000").await.json();
    for r in registries["items"].as_array().unwrap() {
        let slug = r["slug"].as_str().unwrap();
        let items = app
            .get(&format!("/api/v1/registries/{slug}/items.ndjson"))
            .await
            .text();
        for line in items.lines() {
            let item: Value = serde_json::from_str(line).unwrap();
            out.insert(
                (
                    format!("registries/{slug}"),
                    "item".to_owned(),
                    item["id"].as_str().unwrap().to_owned(),
                ),
                item,
            );
        }
    }
    out
}

both_backends!(replaying_the_change_feed_rebuilds_the_current_data, |app| {
    let (csv, _, removed, _) = edited_units();
    import_units(&mut app.pool().get().unwrap(), &csv);
    edit_milestone_status(
        &mut app.pool().get().unwrap(),
        "khm-2021-2025-c1-m1",
        Some("complete"),
    );
    // Everything removed, then a part restored: tombstones, then re-creations.
    import_units(
        &mut app.pool().get().unwrap(),
        "katottg,category,name_uk,level1_oblast,level2_raion,level3_hromada,koatuu_legacy\n",
    );
    let original = include_str!("../../fixtures/registries/territorial-units/items.csv");
    let half: String = original.lines().take(12).collect::<Vec<_>>().join("\n") + "\n";
    import_units(&mut app.pool().get().unwrap(), &half);
    edit_milestone_status(&mut app.pool().get().unwrap(), "khm-2021-2025-c1-m1", None);

    let replayed = replay(&app, "").await;
    let now = current(&app).await;
    assert_eq!(replayed.len(), now.len());
    assert!(
        replayed == now,
        "replaying every event yields exactly the current data"
    );

    // One dataset's feed rebuilds that dataset.
    let units = replay(&app, "&dataset=registries/territorial-units").await;
    assert_eq!(units.len(), 11);
    assert!(
        units
            .keys()
            .all(|(d, _, _)| d == "registries/territorial-units")
    );

    // The removed item's tombstone is in the feed.
    let feed = app
        .get("/api/v1/changes?dataset=registries/territorial-units&limit=1000")
        .await
        .json();
    assert!(feed["events"].as_array().unwrap().iter().any(|e| {
        e["op"] == "deleted" && e["record_id"] == removed.as_str() && e["release"] == 2
    }));
});

both_backends!(change_feed_cursors_fail_clearly, |app| {
    let p = app
        .get("/api/v1/changes?since=not-a-cursor")
        .await
        .problem(400);
    assert_eq!(p["parameter"], "since");
    let p = app
        .get("/api/v1/changes?dataset=elsewhere")
        .await
        .problem(400);
    assert_eq!(p["parameter"], "dataset");
    app.get("/api/v1/changes?limit=0").await.problem(400);
    app.get("/api/v1/changes?surprise=1").await.problem(400);

    let start = app.get("/api/v1/changes?limit=1").await.json();
    let early = start["next_cursor"].as_str().unwrap().to_owned();
    let (csv, _, _, _) = edited_units();
    import_units(&mut app.pool().get().unwrap(), &csv);
    let last_release = {
        let mut conn = app.pool().get().unwrap();
        releases::head(&mut conn).unwrap()
    };
    let pruned = {
        let mut conn = app.pool().get().unwrap();
        releases::prune_changes(&mut conn, last_release).unwrap()
    };
    assert!(pruned > 0);
    let p = app
        .get(&format!("/api/v1/changes?since={early}"))
        .await
        .problem(410);
    assert_eq!(p["parameter"], "since");
    let restart = &p["restart"];
    let snapshots = restart["snapshots"].as_array().unwrap();
    assert!(
        snapshots
            .iter()
            .any(|s| s["dataset"] == "registries/territorial-units" && s["release"] == 2)
    );
    for s in snapshots {
        let got = app.get(s["href"].as_str().unwrap()).await;
        assert_eq!(got.status.as_u16(), 200, "{s}");
    }
    // From the restart cursor the feed works again (nothing newer yet).
    let resumed = app
        .get(&format!(
            "/api/v1/changes?since={}",
            restart["since"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(resumed["events"].as_array().unwrap().len(), 0);
    // Without `since` the feed starts at the oldest retained event: the last release's.
    let retained = app.get("/api/v1/changes?limit=1000").await;
    assert_eq!(retained.status.as_u16(), 410, "the start itself was pruned");
});

both_backends!(conditional_requests_revalidate_cheaply, |app| {
    let url = "/api/v1/registries/territorial-units/items?limit=10";
    let first = app.get(url).await;
    let etag = first.header("etag").expect("an ETag").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong: {etag}"
    );
    assert_eq!(
        first.header("vary"),
        Some("Accept, Accept-Language, Accept-Encoding")
    );
    assert!(first.header("cache-control").unwrap().contains("max-age"));
    let last_modified = first.header("last-modified").unwrap().to_owned();

    let head = app
        .call(
            actix_web::test::TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri(url),
        )
        .await;
    assert_eq!(
        head.header("etag"),
        Some(etag.as_str()),
        "HEAD has GET's validators"
    );

    let again = app.get_with(url, &[("If-None-Match", &etag)]).await;
    assert_eq!(again.status.as_u16(), 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let since = app
        .get_with(url, &[("If-Modified-Since", &last_modified)])
        .await;
    assert_eq!(since.status.as_u16(), 304);
    let other = app
        .get_with(url, &[("If-None-Match", "\"something-else\"")])
        .await;
    assert_eq!(other.status.as_u16(), 200);
    // A different representation has a different tag.
    let csv = app
        .get("/api/v1/registries/territorial-units/items.csv?limit=10")
        .await;
    assert_ne!(csv.header("etag"), Some(etag.as_str()));
    let any = app.get_with(url, &[("Accept", "*/*")]).await;
    assert_eq!(any.header("etag"), Some(etag.as_str()), "no Accept is */*");
    let uk = app.get_with(url, &[("Accept-Language", "uk")]).await;
    assert_ne!(uk.header("etag"), Some(etag.as_str()));

    // A new release changes the tag; the old one no longer matches.
    let (edited, _, _, _) = edited_units();
    import_units(&mut app.pool().get().unwrap(), &edited);
    let after = app.get_with(url, &[("If-None-Match", &etag)]).await;
    assert_eq!(after.status.as_u16(), 200);
    assert_ne!(after.header("etag"), Some(etag.as_str()));

    // Pinned reads are immutable and revalidate without a lookup.
    let pinned_url = "/api/v1/registries/territorial-units/items?limit=10&release=1";
    let pinned = app.get(pinned_url).await;
    let pinned_tag = pinned.header("etag").unwrap().to_owned();
    assert_eq!(
        app.get(pinned_url).await.header("etag"),
        Some(pinned_tag.as_str())
    );
    assert_eq!(
        pinned.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let p304 = app
        .get_with(pinned_url, &[("If-None-Match", &pinned_tag)])
        .await;
    assert_eq!(p304.status.as_u16(), 304);

    // Plan resources and bodies without a release (passports) too.
    for url in [
        "/api/v1/commitments",
        "/api/v1/registries",
        "/api/v1/plan/releases/1",
    ] {
        let r = app.get(url).await;
        let tag = r
            .header("etag")
            .unwrap_or_else(|| panic!("{url} has an ETag"))
            .to_owned();
        let again = app.get_with(url, &[("If-None-Match", &tag)]).await;
        assert_eq!(again.status.as_u16(), 304, "{url}");
    }
    // Errors are never cached.
    let missing = app.get("/api/v1/milestones/nope").await;
    assert_eq!(missing.header("cache-control"), Some("no-store"));

    // Compression is negotiated, and each coding has its own tag.
    for coding in ["gzip", "br"] {
        let r = app.get_with(url, &[("Accept-Encoding", coding)]).await;
        assert_eq!(r.header("content-encoding"), Some(coding));
        let tag = r.header("etag").unwrap().to_owned();
        assert!(tag.ends_with(&format!("-{coding}\"")), "{tag}");
        let again = app
            .get_with(url, &[("Accept-Encoding", coding), ("If-None-Match", &tag)])
            .await;
        assert_eq!(again.status.as_u16(), 304, "{coding}");
    }
});

const HOUSING: &str = "/api/v1/registries/housing-stock";

/// The housing-stock fixture as (header, data lines).
fn housing_lines() -> (String, Vec<String>) {
    let original = include_str!("../../fixtures/registries/housing-stock/items.csv");
    let mut lines = original.lines().map(str::to_owned);
    let header = lines.next().unwrap();
    (header, lines.collect())
}

fn line_id(line: &str) -> String {
    line.split(';').next().unwrap().to_owned()
}

/// The line with its floor count raised by one (a change of content).
fn edited(line: &str) -> String {
    let mut cells: Vec<String> = line.split(';').map(str::to_owned).collect();
    cells[2] = (cells[2].parse::<i64>().unwrap() + 1).to_string();
    cells.join(";")
}

fn import_housing(
    conn: &mut DbConn,
    header: &str,
    lines: &[String],
    publish: import::Publish,
) -> import::ImportSummary {
    let registry = registries::find_schema(conn, "housing-stock")
        .unwrap()
        .unwrap();
    let csv = format!("{header}\n{}\n", lines.join("\n"));
    import::import(
        conn,
        &registry,
        import::FileFormat::Csv,
        csv.as_bytes(),
        "test",
        publish,
    )
    .unwrap()
}

/// The ids of `items.ndjson` (at `release`, or the latest), in the served order.
async fn served_ids(app: &TestApp, release: Option<i64>) -> Vec<String> {
    let query = release.map_or_else(String::new, |n| format!("?release={n}"));
    let body = app
        .get(&format!("{HOUSING}/items.ndjson{query}"))
        .await
        .text();
    body.lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// The ids of every page of `query` (limit 7), following `next_cursor`.
async fn paged_ids(app: &TestApp, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut url = format!("{HOUSING}/items?limit=7{query}");
    loop {
        let page = app.get(&url).await.json();
        ids.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => url = format!("{HOUSING}/items?limit=7{query}&cursor={cursor}"),
            None => return ids,
        }
    }
}

/// Row versions of the housing-stock table a release wrote.
fn versions_written(conn: &mut DbConn, release: i64) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!(
        "SELECT COUNT(*) AS n FROM items_housing_stock WHERE valid_from = {release}"
    ))
    .get_result::<N>(conn)
    .unwrap()
    .n
}

async fn events_of(app: &TestApp, release: i64) -> Vec<(String, String)> {
    let feed = app
        .get("/api/v1/changes?dataset=registries/housing-stock&limit=1000")
        .await
        .json();
    feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["release"] == release)
        .map(|e| {
            (
                e["op"].as_str().unwrap().to_owned(),
                e["record_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

both_backends!(a_release_lists_its_items_in_the_file_order, |app| {
    let (header, original) = housing_lines();
    let ids = |lines: &[String]| lines.iter().map(|l| line_id(l)).collect::<Vec<_>>();
    assert_eq!(served_ids(&app, None).await, ids(&original));
    let first = app.get(&format!("{HOUSING}/items.ndjson")).await.body;
    let sorted_first = paged_ids(&app, "&sort=-floors").await;

    // The issue's case: the first five rows changed stay first, and only they are written.
    let mut file = original.clone();
    for line in &mut file[..5] {
        *line = edited(line);
    }
    let summary = import_housing(
        &mut app.pool().get().unwrap(),
        &header,
        &file,
        import::Publish::Always,
    );
    let release = summary.release.unwrap();
    assert_eq!(
        (
            release.number,
            release.added,
            release.changed,
            release.removed
        ),
        (2, 0, 5, 0)
    );
    assert_eq!(served_ids(&app, None).await, ids(&file));
    assert_eq!(versions_written(&mut app.pool().get().unwrap(), 2), 5);
    let updated: Vec<(String, String)> = ids(&file[..5])
        .into_iter()
        .map(|id| ("updated".to_owned(), id))
        .collect();
    assert_eq!(events_of(&app, 2).await, updated, "events in file order");
    let csv = app.get(&format!("{HOUSING}/items.csv")).await.text();
    let csv_ids: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(csv_ids, ids(&file), "items.csv lists the file's order");

    // Reordered: the last row first, rows 10..20 reversed. No record changed: no event, and only
    // the rows out of their old order get a new version.
    let mut file = file.clone();
    let last = file.pop().unwrap();
    file.insert(0, last);
    file[10..21].reverse();
    let summary = import_housing(
        &mut app.pool().get().unwrap(),
        &header,
        &file,
        import::Publish::Always,
    );
    let release = summary.release.unwrap();
    assert_eq!(
        (
            release.number,
            release.added,
            release.changed,
            release.removed
        ),
        (3, 0, 0, 0)
    );
    assert_eq!(served_ids(&app, None).await, ids(&file));
    assert!(
        events_of(&app, 3).await.is_empty(),
        "a move is not a change"
    );
    assert_eq!(
        versions_written(&mut app.pool().get().unwrap(), 3),
        1 + 10,
        "the moved row, and all but one of the reversed run"
    );

    // A row inserted in the middle, one removed, one changed at the end.
    let mut file = file.clone();
    let inserted = "9001;вул. Нова, 1;3;9;2026;700.5;brick;ОСББ;;26.95;49.42".to_owned();
    file.insert(150, inserted);
    let removed = file.remove(100);
    let n = file.len();
    file[n - 1] = edited(&file[n - 1]);
    let summary = import_housing(
        &mut app.pool().get().unwrap(),
        &header,
        &file,
        import::Publish::Always,
    );
    let release = summary.release.unwrap();
    assert_eq!(
        (
            release.number,
            release.added,
            release.changed,
            release.removed
        ),
        (4, 1, 1, 1)
    );
    assert_eq!(served_ids(&app, None).await, ids(&file));
    assert_eq!(versions_written(&mut app.pool().get().unwrap(), 4), 2);
    assert_eq!(
        events_of(&app, 4).await,
        vec![
            ("created".to_owned(), "9001".to_owned()),
            ("updated".to_owned(), line_id(&file[n - 1])),
            ("deleted".to_owned(), line_id(&removed)),
        ]
    );

    // A file that only reorders is a release even where unchanged files are not (fixture loads).
    let mut reordered = file.clone();
    reordered.swap(0, 1);
    let summary = import_housing(
        &mut app.pool().get().unwrap(),
        &header,
        &reordered,
        import::Publish::IfChanged,
    );
    assert!(!summary.unchanged);
    assert_eq!(summary.release.unwrap().number, 5);
    let summary = import_housing(
        &mut app.pool().get().unwrap(),
        &header,
        &reordered,
        import::Publish::IfChanged,
    );
    assert!(summary.unchanged, "the same file again changes nothing");

    // Every release reads as it was published: bytes, checksum, order, sorted and keyset pages.
    assert_eq!(
        app.get(&format!("{HOUSING}/items.ndjson?release=1"))
            .await
            .body,
        first
    );
    for n in 1..=5 {
        let body = app
            .get(&format!("{HOUSING}/items.ndjson?release={n}"))
            .await
            .body;
        let listed = app.get(&format!("{HOUSING}/releases/{n}")).await.json();
        assert_eq!(sha256_hex(&body), listed["sha256"], "release {n}");
        assert_eq!(
            paged_ids(&app, &format!("&release={n}")).await,
            served_ids(&app, Some(n)).await,
            "keyset pages of release {n}"
        );
    }
    assert_eq!(
        paged_ids(&app, "&release=1&sort=-floors").await,
        sorted_first
    );
    assert_eq!(paged_ids(&app, "").await, ids(&reordered));
    // Ties of a sort are in the release's file order.
    let sorted = paged_ids(&app, "&sort=floors").await;
    let floors: std::collections::HashMap<String, i64> = reordered
        .iter()
        .map(|l| (line_id(l), l.split(';').nth(2).unwrap().parse().unwrap()))
        .collect();
    let mut expected = ids(&reordered);
    expected.sort_by_key(|id| floors[id]);
    assert_eq!(sorted, expected, "ties in file order");
});

both_backends!(tables_keyed_by_seq_alone_are_upgraded_in_place, |app| {
    use diesel::connection::SimpleConnection;
    let (header, original) = housing_lines();
    // Make the table what an older version left: `seq` alone as the key, numbered 1, 2, 3…
    {
        let mut conn = app.pool().get().unwrap();
        match conn.backend() {
            opengov_api::db::Backend::Postgres => conn
                .batch_execute(&format!(
                    "ALTER TABLE items_housing_stock DROP CONSTRAINT items_housing_stock_pkey; \
                     UPDATE items_housing_stock SET seq = seq / {gap}; \
                     ALTER TABLE items_housing_stock ADD PRIMARY KEY (seq)",
                    gap = opengov_api::db::item_order::GAP
                ))
                .unwrap(),
            opengov_api::db::Backend::Sqlite => {
                use diesel::prelude::*;
                #[derive(QueryableByName)]
                struct Sql {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    sql: String,
                }
                let ddl = diesel::sql_query(
                    "SELECT sql FROM sqlite_master WHERE name = 'items_housing_stock'",
                )
                .get_result::<Sql>(&mut conn)
                .unwrap()
                .sql;
                assert!(ddl.contains("PRIMARY KEY (seq, valid_from)"), "{ddl}");
                let old = ddl
                    .replace("\"items_housing_stock\"", "old_items")
                    .replace("seq BIGINT NOT NULL", "seq INTEGER PRIMARY KEY")
                    .replace(", PRIMARY KEY (seq, valid_from))", ")");
                conn.batch_execute(&format!(
                    "{old}; INSERT INTO old_items SELECT * FROM items_housing_stock ORDER BY seq; \
                     UPDATE old_items SET seq = seq / {gap}; \
                     DROP TABLE items_housing_stock; \
                     ALTER TABLE old_items RENAME TO items_housing_stock",
                    gap = opengov_api::db::item_order::GAP
                ))
                .unwrap();
            }
        }
    }
    let before = app
        .get(&format!("{HOUSING}/items.ndjson?release=1"))
        .await
        .body;
    // A row inserted after the 250th: no room between dense neighbours, so the 50 after it get a
    // new version once (no event), and the order holds.
    let mut file = original.clone();
    file.insert(
        250,
        "9002;вул. Нова, 2;4;12;2026;800.0;brick;ОСББ;;26.95;49.42".to_owned(),
    );
    file[10] = edited(&file[10]);
    let summary = import_housing(
        &mut app.pool().get().unwrap(),
        &header,
        &file,
        import::Publish::Always,
    );
    let release = summary.release.unwrap();
    assert_eq!((release.added, release.changed, release.removed), (1, 1, 0));
    let ids: Vec<String> = file.iter().map(|l| line_id(l)).collect();
    assert_eq!(served_ids(&app, None).await, ids);
    assert_eq!(
        versions_written(&mut app.pool().get().unwrap(), 2),
        1 + 1 + 50
    );
    assert_eq!(
        events_of(&app, 2).await,
        vec![
            ("updated".to_owned(), line_id(&file[10])),
            ("created".to_owned(), "9002".to_owned()),
        ]
    );
    assert_eq!(
        app.get(&format!("{HOUSING}/items.ndjson?release=1"))
            .await
            .body,
        before
    );
    assert_eq!(
        paged_ids(&app, "&release=1").await,
        served_ids(&app, Some(1)).await
    );
    assert_eq!(paged_ids(&app, "").await, ids);
    // The next insertion lands between gapped neighbours: one row written.
    file.insert(
        260,
        "9003;вул. Нова, 3;4;12;2026;800.0;brick;ОСББ;;26.95;49.42".to_owned(),
    );
    import_housing(
        &mut app.pool().get().unwrap(),
        &header,
        &file,
        import::Publish::Always,
    );
    assert_eq!(versions_written(&mut app.pool().get().unwrap(), 3), 1);
    assert_eq!(
        served_ids(&app, None).await,
        file.iter().map(|l| line_id(l)).collect::<Vec<_>>()
    );
});
