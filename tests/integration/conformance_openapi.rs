//! Every GET answer matches the OpenAPI document: schemathesis (a property-based API fuzzer from
//! PyPI, pinned in .ci/python-requirements.txt) runs against the real binary on a fresh SQLite
//! database and on a fresh PostgreSQL schema, with the document's own `/api/v1/openapi.json`.
//! It generates valid and invalid requests for every GET operation and checks each answer's
//! status code, media type, headers and body against the document, that no answer is a 5xx, that
//! invalid input is refused, and that the private reads refuse a missing token. Zero failures.
//!
//! The run is bounded and repeatable: deterministic generation (no random seed, no example
//! database carried between runs), one worker, a fixed number of examples per operation.
//!
//! Below it, the bugs it found, each pinned by a test through the actix test service.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::binary::{BIN, free_port, generated_registry, http, spawn_with_log};
use crate::both_backends;

/// Test cases per operation and phase; about a minute per backend on a 2-core machine.
const MAX_EXAMPLES: &str = "40";
/// What every answer is checked for (positive_data_acceptance is left out: opaque cursors and
/// rules across parameters, e.g. `expand` is JSON only, cannot be said in JSON Schema, so a
/// schema-valid request may rightly get the documented 400).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_headers_conformance,response_schema_conformance,negative_data_rejection,ignored_auth";
/// A registry defined by the test and filled by one upload, so the upload records exist.
const UPLOADED: &str = "fuzzed-uploads";

struct Server {
    child: std::process::Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cli(url: &str, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", url)
        .output()
        .expect("run the binary");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Starts `serve` without rate limits (the fuzzer sends thousands of requests from one address)
/// and waits until it says it is serving.
fn serve(url: &str, dir: &Path) -> Server {
    let addr = format!("127.0.0.1:{}", free_port());
    let (child, log) = spawn_with_log(
        Command::new(BIN)
            .args([
                "serve",
                "--bind",
                &addr,
                "--rate-limit-per-minute",
                "0",
                "--token-rate-limit-per-minute",
                "0",
            ])
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn,opengov_api=info")
            .current_dir(dir),
    );
    let server = Server { child, addr };
    crate::binary::wait_for_line(&log, "serving on");
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in log {});
    server
}

/// Runs schemathesis against a migrated, fixture-loaded database at `url`; its report is also
/// written to `$CONFORMANCE_REPORT_DIR/schemathesis-<backend>.txt` when that is set (`.ci/run`
/// prints its summary, which the test harness would otherwise capture).
fn fuzz(url: &str, backend: &str) {
    let Some(schemathesis) = crate::tools::python_tool("schemathesis") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    cli(url, &["migrate"]);
    cli(url, &["load-fixtures"]);
    let definition = dir.path().join("registry.toml");
    std::fs::write(
        &definition,
        generated_registry(UPLOADED, "OpenAPI conformance"),
    )
    .unwrap();
    cli(url, &["define-registry", definition.to_str().unwrap()]);
    let token = cli(
        url,
        &["token", "create", "--name", "fuzzer", "--scope", "admin"],
    )
    .trim()
    .to_owned();
    let server = serve(url, dir.path());

    let auth = format!("Bearer {token}");
    let (status, body) = http(
        &server.addr,
        "POST",
        &format!("/api/v1/registries/{UPLOADED}/imports"),
        &[("Authorization", &auth), ("Content-Type", "text/csv")],
        b"id,note\na,first\nb,\n",
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let outcome: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let upload_id = outcome["upload"]["id"].as_i64().expect("an upload id");

    let config = dir.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        format!(
            r#"# The token reaches only the operations that declare the bearer scheme.
[auth.openapi.bearer]
bearer = "${{OPENGOV_FUZZ_TOKEN}}"

# Invalid input may also be refused with 414: a query string over the limit is refused unread.
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 414, 415, 422, 428, 429, "5xx"]

# The upload record's path gets ids that exist (nothing in the document links to it).
[[operations]]
include-name = "GET /api/v1/registries/{{slug}}/imports/{{upload_id}}"
parameters = {{ "path.slug" = "{UPLOADED}", "path.upload_id" = {upload_id} }}
"#
        ),
    )
    .unwrap();
    let spec_url = format!("http://{}/api/v1/openapi.json", server.addr);
    let out = Command::new(schemathesis)
        .arg("--config-file")
        .arg(&config)
        .args([
            "run",
            &spec_url,
            "--include-method",
            "GET",
            "--checks",
            CHECKS,
            "--max-examples",
            MAX_EXAMPLES,
            // Also: no example database carried between runs.
            "--generation-deterministic",
            "--workers",
            "1",
            "--request-timeout",
            "60",
            "--no-color",
            "--report",
            "ndjson",
            "--report-ndjson-path",
            "events.ndjson",
        ])
        .env("OPENGOV_FUZZ_TOKEN", &token)
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .output()
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&out.stdout);
    // The summary for the log (the whole report when something failed).
    let summary = match report.find(" SUMMARY ") {
        Some(at) => &report[report[..at].rfind('\n').map_or(0, |n| n + 1)..],
        None => &report[..],
    };
    if let Some(dir) = std::env::var_os("CONFORMANCE_REPORT_DIR") {
        std::fs::create_dir_all(&dir).unwrap();
        let file = Path::new(&dir).join(format!("schemathesis-{backend}.txt"));
        std::fs::write(file, report.as_bytes()).unwrap();
    }
    let failed = !out.status.success() || report.contains("❌");
    println!(
        "schemathesis on {backend}:\n{}",
        if failed { &report[..] } else { summary }
    );
    assert!(
        !failed,
        "schemathesis found failures (exit {:?}); stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );

    // It tested every GET operation of the document, and checked a success of each against its
    // documented body (a run where, say, every GeoJSON request got 406 would check no GeoJSON).
    let (_, spec) = http(&server.addr, "GET", "/api/v1/openapi.json", &[], b"");
    let spec: serde_json::Value = serde_json::from_slice(&spec).unwrap();
    let gets: BTreeSet<String> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, item)| item["get"].is_object())
        .map(|(path, _)| path.clone())
        .collect();
    assert!(gets.len() > 40, "{} GET operations", gets.len());
    assert!(
        report.contains(&format!("Tested: {}\n", gets.len())),
        "not every GET operation was tested:\n{summary}"
    );
    let succeeded = succeeded_gets(&dir.path().join("events.ndjson"));
    let missing: Vec<&String> = gets.difference(&succeeded).collect();
    assert!(
        missing.is_empty(),
        "no 2xx answer, so no body checked, for {missing:?}"
    );
}

/// The GET operations (path templates) that answered 2xx at least once, from schemathesis's
/// event stream (`--report ndjson`: one JSON event a line; each finished scenario records its
/// cases and their request/response interactions).
fn succeeded_gets(events: &Path) -> BTreeSet<String> {
    use std::io::BufRead;
    let file = std::fs::File::open(events).expect("schemathesis's event report");
    let mut succeeded = BTreeSet::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line.unwrap();
        if !line.starts_with("{\"ScenarioFinished\"") {
            continue;
        }
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        let recorder = &event["ScenarioFinished"]["recorder"];
        for (case_id, interaction) in recorder["interactions"].as_object().into_iter().flatten() {
            let case = &recorder["cases"][case_id]["value"];
            let status = interaction["response"]["status_code"].as_u64().unwrap_or(0);
            if case["method"] == "GET" && (200..300).contains(&status) {
                succeeded.insert(case["path"].as_str().unwrap_or_default().to_owned());
            }
        }
    }
    succeeded
}

#[test]
fn schemathesis_finds_no_failure_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    fuzz(
        &format!("sqlite://{}", dir.path().join("opengov.db").display()),
        "sqlite",
    );
}

#[test]
fn schemathesis_finds_no_failure_postgres() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        assert!(
            std::env::var("REQUIRE_POSTGRES").is_err(),
            "REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not"
        );
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant skipped");
        return;
    };
    let schema = format!("fuzz_{}", std::process::id());
    let mut admin = PgConnection::establish(&admin_url).unwrap();
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{separator}options=-csearch_path%3D{schema}");
    let outcome = std::panic::catch_unwind(|| fuzz(&url, "postgres"));
    let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

// Found by the fuzzer: `If-None-Match: *` or a late `If-Modified-Since` answered 304 ("your copy
// is current") to a dataset read before the handler had looked at the request, so an invalid
// parameter or a missing record got 304 instead of its 400 / 404 (RFC 9110 §13.2.1: preconditions
// are ignored when the answer would not be 2xx).
both_backends!(conditions_never_hide_a_refusal, |app| {
    let any = [("If-None-Match", "*")];
    let late = [("If-Modified-Since", "Fri, 01 Nov 2999 13:42:25 GMT")];
    for conditions in [&any[..], &late[..]] {
        for (url, status) in [
            ("/api/v1/commitments?lang=xx", 400),
            ("/api/v1/plans?release=abc", 400),
            ("/api/v1/sources/no-such-source", 404),
            ("/api/v1/milestones/no-such-milestone?release=1", 404),
            ("/api/v1/plans?release=999999", 404),
            ("/api/v1/registries/territorial-units/items?limit=0", 400),
            (
                "/api/v1/registries/territorial-units/items/no-such-item",
                404,
            ),
        ] {
            let res = app.get_with(url, conditions).await;
            res.problem(status);
        }
        // A read that succeeds still revalidates.
        let current = app.get_with("/api/v1/commitments", conditions).await;
        assert_eq!(current.status.as_u16(), 304, "{conditions:?}");
    }
    // Its own tag still answers 304 before the query runs.
    let first = app.get("/api/v1/commitments?lang=uk").await;
    let etag = first.header("etag").unwrap().to_owned();
    let again = app
        .get_with("/api/v1/commitments?lang=uk", &[("If-None-Match", &etag)])
        .await;
    assert_eq!(again.status.as_u16(), 304);
});

// Found with the fuzzer's run: the document says every unknown query parameter is refused with
// 400, but the index and the release records took any.
both_backends!(unknown_parameters_are_refused_everywhere, |app| {
    for url in [
        "/api/v1?unknown=1",
        "/api/v1/plan/releases/1?unknown=1",
        "/api/v1/plan/releases/1/records?unknown=1",
        "/api/v1/registries/territorial-units/releases/1?unknown=1",
    ] {
        let problem = app.get(url).await.problem(400);
        assert!(
            problem["detail"].as_str().unwrap().contains("unknown"),
            "{url}: {problem}"
        );
    }
});
