//! `--read-database-url`: reads go to the read database, writes to the primary; `/readyz` checks
//! both; SQLite refuses a read database at startup.
//!
//! The read database of the PostgreSQL test is the test's own schema through sessions that are
//! read-only (`default_transaction_read_only`), so a write routed there would fail.

use std::process::Command;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use diesel::connection::SimpleConnection;
use opengov_api::db::{self, DatabaseUrl, PoolOptions};
use opengov_api::models::tokens::{self, Scope};
use serde_json::json;

use crate::binary::BIN;
use crate::common::{TestApp, pool_options};
use crate::metrics::{scrape, value};

/// The test database through read-only sessions (libpq `options`, appended to the schema's).
fn read_only_url(app: &TestApp) -> String {
    assert!(app.url.contains("options=-csearch_path"), "{}", app.url);
    format!("{}%20-cdefault_transaction_read_only%3Don", app.url)
}

fn pool_of(primary: &str, read: &str, options: &PoolOptions) -> db::DbPool {
    db::build_read_pool(&DatabaseUrl::parse(primary).unwrap(), read, options)
        .expect("a PostgreSQL read database beside a PostgreSQL primary")
}

/// Nothing listens there: connections are refused at once.
const NOWHERE: &str = "postgres://postgres@127.0.0.1:1/nowhere";

fn quick() -> PoolOptions {
    PoolOptions {
        connection_timeout: Duration::from_millis(500),
        ..pool_options()
    }
}

#[actix_web::test]
async fn reads_go_to_the_read_database_and_writes_to_the_primary() {
    let Some(app) = TestApp::postgres(true) else {
        return;
    };
    let mut app = app;
    let read_url = read_only_url(&app);
    let read_pool = pool_of(&app.url, &read_url, &pool_options());
    // The read database really refuses writes.
    let refused = read_pool
        .get()
        .unwrap()
        .batch_execute("CREATE TABLE replica_probe (id INTEGER)")
        .expect_err("a read-only session refuses writes");
    assert!(
        refused.to_string().contains("read-only transaction"),
        "{refused}"
    );
    let primary = app.state.clone();

    // 1. The primary is unreachable: every read still answers, so none of them touches it —
    // lists, records, pinned plan reads, item pages, streamed exports, the early 304, the
    // change feed, feeds, catalog, registries and releases.
    app.state = primary.clone().with_read_pool(read_pool.clone());
    app.state.pool = db::build_pool(&DatabaseUrl::parse(NOWHERE).unwrap(), &quick());
    app.state.db_gate = opengov_api::app::DbGate::for_pool(&app.state.pool);
    for uri in [
        "/api/v1",
        "/api/v1/plans",
        "/api/v1/milestones?limit=5",
        "/api/v1/milestones/khm-2021-2025-c1-m3",
        "/api/v1/commitments.csv",
        "/api/v1/institutions",
        "/api/v1/sources",
        "/api/v1/milestones?release=1",
        "/api/v1/registries",
        "/api/v1/registries/territorial-units",
        "/api/v1/registries/territorial-units/items?limit=3&sort=-katottg",
        "/api/v1/registries/territorial-units/items.csv",
        "/api/v1/registries/housing-stock/items.ndjson",
        "/api/v1/registries/territorial-units/items.csv-metadata.json",
        "/api/v1/registries/territorial-units/releases",
        "/api/v1/plan/releases",
        "/api/v1/plan/releases/1/records",
        "/api/v1/changes",
        "/api/v1/feeds/plan.atom",
        "/api/v1/catalog.ttl",
    ] {
        let res = app.get(uri).await;
        assert_eq!(res.status, 200, "{uri}: {}", res.text());
    }
    let etag = app
        .get("/api/v1/milestones")
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let again = app
        .get_with("/api/v1/milestones", &[("If-None-Match", &etag)])
        .await;
    assert_eq!(again.status, 304);
    // Readiness needs both databases.
    let p = app.get("/readyz").await.problem(503);
    assert!(p["detail"].as_str().is_some(), "{p}");

    // 2. Both reachable: writes go to the primary and succeed (the read database would refuse
    // them), and the next read through the read database shows them.
    app.state = primary.clone().with_read_pool(read_pool.clone());
    let writer = {
        let mut conn = app.pool().get().unwrap();
        tokens::create(
            &mut conn,
            "replica test",
            &[Scope::PlanWrite, Scope::PublishAnyRegistry, Scope::Admin],
        )
        .unwrap()
        .1
    };
    let bearer = format!("Bearer {writer}");
    let patched = app
        .call(
            TestRequest::default()
                .method(Method::PATCH)
                .uri("/api/v1/milestones/khm-2021-2025-c1-m3")
                .insert_header(("Authorization", bearer.as_str()))
                .insert_header(("Content-Type", "application/json"))
                .set_payload(
                    json!({
                        "status": "complete",
                        "completion": 100,
                        "evidence": [{"url": "https://mkk.khm.gov.ua/", "title": "Geoportal"}]
                    })
                    .to_string(),
                ),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    let edited = include_str!("../../fixtures/registries/territorial-units/items.csv").replacen(
        "Хмельницька",
        "Хмельницька область",
        1,
    );
    let uploaded = app
        .call(
            TestRequest::default()
                .method(Method::POST)
                .uri("/api/v1/registries/territorial-units/imports")
                .insert_header(("Authorization", bearer.as_str()))
                .insert_header(("Content-Type", "text/csv"))
                .set_payload(edited),
        )
        .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text());
    let upload_uri = uploaded.header("location").unwrap().to_owned();
    // Upload records (which mark interrupted uploads) and the audit log read the primary.
    for uri in [upload_uri.as_str(), "/api/v1/audit"] {
        let res = app
            .get_with(uri, &[("Authorization", bearer.as_str())])
            .await;
        assert_eq!(res.status, 200, "{uri}: {}", res.text());
    }
    let milestone = app.get("/api/v1/milestones/khm-2021-2025-c1-m3").await;
    assert_eq!(
        milestone.json()["status"],
        "complete",
        "{}",
        milestone.text()
    );
    let releases = app
        .get("/api/v1/registries/territorial-units/releases")
        .await
        .json();
    assert_eq!(releases["total"], 2);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 200, "{}", ready.text());

    // The read pool shows up in /metrics beside the primary, with the connections it opened.
    let samples = scrape(&app).await;
    let open = |pool| {
        ["idle", "in_use"]
            .iter()
            .map(|state| {
                value(
                    &samples,
                    "db_pool_connections",
                    &[("pool", pool), ("state", state)],
                )
                .unwrap()
            })
            .sum::<f64>()
    };
    assert!(open("read") >= 1.0, "the reads opened connections");
    assert!(open("primary") >= 1.0, "the writes opened connections");
    assert_eq!(
        value(&samples, "db_gate_permits_available", &[("pool", "read")]),
        Some(f64::from(read_pool.max_size()))
    );

    // 3. The read database is unreachable: not ready, and the problem says which database.
    app.state = primary.with_read_pool(db::build_pool(
        &DatabaseUrl::parse(NOWHERE).unwrap(),
        &quick(),
    ));
    let p = app.get("/readyz").await.problem(503);
    assert!(
        p["detail"].as_str().unwrap().contains("the read database"),
        "{p}"
    );
}

#[test]
fn a_read_database_is_refused_beside_sqlite_or_when_it_is_not_postgresql() {
    let sqlite = DatabaseUrl::parse("sqlite://data/x.db").unwrap();
    let Err(e) = db::build_read_pool(&sqlite, NOWHERE, &pool_options()) else {
        panic!("a read database beside SQLite was accepted");
    };
    assert!(e.to_string().contains("PostgreSQL primary"), "{e}");
    let postgres = DatabaseUrl::parse(NOWHERE).unwrap();
    let Err(e) = db::build_read_pool(&postgres, "sqlite://data/x.db", &pool_options()) else {
        panic!("a SQLite read database was accepted");
    };
    assert!(e.to_string().contains("not SQLite"), "{e}");

    // The server refuses to start, before it creates or touches the SQLite file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opengov.db");
    let out = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &format!("sqlite://{}", file.display()),
            "--read-database-url",
            NOWHERE,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("opengov-api: --read-database-url:") && stderr.contains("SQLite"),
        "{stderr}"
    );
    assert!(!file.exists(), "the SQLite file was created");
}
