//! Crash safety of the real binary: killed with SIGKILL in the middle of an upload's import, the
//! server restarts serving the previous release intact, and the upload is recorded as
//! interrupted. The bearer token never appears in its log. Every wait is for something the
//! server says (its log or an answer), never a fixed time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::binary::{BIN, free_port, generated_registry, http};

const SLUG: &str = "crash-import";

/// Rows of the upload: enough that its import takes seconds, so the kill lands inside it.
const UPLOAD_ROWS: usize = 150_000;

/// A running server; killed when dropped. Its log is collected on a thread.
struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
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
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn start(url: &str, dir: &std::path::Path) -> Server {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", &addr, "--migrate"])
        .env("DATABASE_URL", url)
        // As talkative as it gets: the token must not show even here.
        .env("RUST_LOG", "debug")
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("serving on") {
                let _ = ready_tx.send(());
            }
            sink.lock().unwrap().push(line);
        }
    });
    ready
        .recv_timeout(Duration::from_secs(120))
        .expect("the server starts");
    Server { child, addr, log }
}

fn json(addr: &str, path: &str, token: &str) -> serde_json::Value {
    let auth = format!("Bearer {token}");
    let (status, body) = http(addr, "GET", path, &[("Authorization", &auth)], b"");
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

/// Waits (bounded) until `check` holds, asking again after each answer.
fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn crash_during_an_upload(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    cli(url, &["migrate"]);
    cli(url, &["load-fixtures"]);
    let definition = dir.path().join("registry.toml");
    std::fs::write(&definition, generated_registry(SLUG, "crash-safety")).unwrap();
    cli(url, &["define-registry", definition.to_str().unwrap()]);
    let first = dir.path().join("first.csv");
    std::fs::write(&first, "id,note\na,first\nb,first\nc,first\n").unwrap();
    cli(url, &["import", SLUG, first.to_str().unwrap()]);
    let token = cli(
        url,
        &[
            "token",
            "create",
            "--name",
            "crash test",
            "--scope",
            "admin",
        ],
    )
    .trim()
    .to_owned();
    assert!(token.starts_with("ogt_"));

    let server = start(url, dir.path());
    let items = format!("/api/v1/registries/{SLUG}/items.ndjson");
    let releases = format!("/api/v1/registries/{SLUG}/releases");
    let before_items = http(&server.addr, "GET", &items, &[], b"");
    assert_eq!(before_items.0, 200);
    let before_releases = json(&server.addr, &releases, &token)["items"].clone();
    assert_eq!(before_releases.as_array().unwrap().len(), 1);

    // The upload runs on its own thread; its answer never comes.
    let mut csv = String::from("id,note\n");
    for n in 0..UPLOAD_ROWS {
        csv.push_str(&format!("r{n:06},second release row {n}\n"));
    }
    let (addr, auth) = (server.addr.clone(), format!("Bearer {token}"));
    std::thread::spawn(move || {
        let mut stream = TcpStream::connect(&addr).unwrap();
        let head = format!(
            "POST /api/v1/registries/{SLUG}/imports HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\
             Content-Type: text/csv\r\nIdempotency-Key: crash-key\r\nContent-Length: {}\r\n\r\n",
            csv.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(csv.as_bytes());
        let _ = stream.read_to_end(&mut Vec::new());
    });
    let uploads = format!("/api/v1/registries/{SLUG}/imports");
    wait_until("the upload to be importing", || {
        json(&server.addr, &uploads, &token)["items"][0]["status"] == "running"
    });
    // The import transaction starts right after this line; 150,000 rows take seconds.
    wait_until("the import to start", || {
        server
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("importing") && l.contains(SLUG))
    });
    let mut server = server;
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    let first_log = server.log.lock().unwrap().clone();
    drop(server);

    // Restarted: the previous release is served intact, the upload recorded as interrupted.
    let server = start(url, dir.path());
    let after_releases = json(&server.addr, &releases, &token)["items"].clone();
    assert_eq!(
        after_releases, before_releases,
        "no release came of the killed import"
    );
    assert_eq!(
        http(&server.addr, "GET", &items, &[], b""),
        before_items,
        "items byte for byte"
    );
    wait_until("the upload to be recorded as interrupted", || {
        json(&server.addr, &uploads, &token)["items"][0]["status"] == "interrupted"
    });
    let upload = json(&server.addr, &uploads, &token)["items"][0].clone();
    assert!(
        upload["bytes"].as_u64().unwrap() > UPLOAD_ROWS as u64,
        "the whole file was received"
    );
    assert!(upload["release_id"].is_null());
    assert!(upload["finished_at"].is_string());

    // The interrupted upload published nothing, so its idempotency key may be sent again.
    let auth = format!("Bearer {token}");
    let (status, body) = http(
        &server.addr,
        "POST",
        &format!("/api/v1/registries/{SLUG}/imports"),
        &[
            ("Authorization", &auth),
            ("Content-Type", "text/csv"),
            ("Idempotency-Key", "crash-key"),
        ],
        b"id,note\na,again\n",
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let outcome: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(outcome["release"]["number"], 2);

    // The token was never logged, by either process, at debug level.
    let second_log = server.log.lock().unwrap().clone();
    // Requests that carried the token are logged (the upload itself never finished).
    assert!(
        first_log
            .iter()
            .any(|l| l.contains("GET /api/v1/registries/crash-import/imports")),
        "requests are logged: {first_log:?}"
    );
    for line in first_log.iter().chain(&second_log) {
        assert!(!line.contains(&token), "token in the log: {line}");
        assert!(
            !line.contains(&token[4..20]),
            "part of the token in the log: {line}"
        );
    }
}

#[test]
fn sigkill_during_an_import_keeps_the_previous_release_and_records_the_upload_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    crash_during_an_upload(&format!(
        "sqlite://{}",
        dir.path().join("opengov.db").display()
    ));
}

#[test]
fn sigkill_during_an_import_keeps_the_previous_release_and_records_the_upload_postgres() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        assert!(
            std::env::var("REQUIRE_POSTGRES").is_err(),
            "REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not"
        );
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant skipped");
        return;
    };
    let schema = format!("crash_{}", std::process::id());
    let mut admin = PgConnection::establish(&admin_url).unwrap();
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{separator}options=-csearch_path%3D{schema}");
    let outcome = std::panic::catch_unwind(|| crash_during_an_upload(&url));
    let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
