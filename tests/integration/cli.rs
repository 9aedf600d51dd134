//! The binary itself: first start on SQLite serves real data; bad URLs are refused clearly.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_opengov-api");

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.1 GET (no client library needed for two requests).
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

#[test]
fn first_start_creates_migrates_and_loads_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested/dir/opengov.db");
    let port = free_port();
    let server = Server(
        Command::new(BIN)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", format!("sqlite://{}", db.display()))
            .current_dir(dir.path()) // fixtures come from the binary, not the working directory
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Wait for readiness: a bounded poll, not a timing assertion.
    let deadline = Instant::now() + Duration::from_secs(60);
    let ready = loop {
        if let Some((200, body)) = http_get(port, "/readyz") {
            break body;
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(ready.contains("sqlite"));
    assert!(db.exists(), "the database file was created");
    let (status, body) = http_get(port, "/api/v1/commitments/khm-2021-2025-c2").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("UAKLY0003"));
    let probe = |path: &str| {
        Command::new(BIN)
            .args([
                "probe",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--path",
                path,
            ])
            .status()
            .unwrap()
            .success()
    };
    assert!(probe("/readyz"), "the container health check passes");
    assert!(!probe("/api/v1/no-such-route"), "and fails on a non-200");
    // HEAD answers like GET without a body (checked on the wire: the test service has no codec).
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "HEAD /api/v1/plans HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut head = String::new();
    stream.read_to_string(&mut head).unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.ends_with("\r\n\r\n"),
        "no body after the headers: {head}"
    );
    drop(server);
}

#[test]
fn unsupported_database_urls_are_refused_clearly() {
    for url in [
        "mysql://root@localhost/db",
        "sqlite://",
        "sqlite::memory:",
        "data.db",
    ] {
        let out = Command::new(BIN)
            .args(["migrate", "--database-url", url])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("opengov-api:"), "{url}: {stderr}");
        assert!(
            stderr.contains("sqlite") || stderr.contains("SQLite"),
            "{url}: {stderr}"
        );
    }
}

#[test]
fn bad_operator_details_are_refused_before_the_database_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("opengov.db");
    for (flag, value) in [
        ("--operator-url", "opendata.example.org"),
        ("--operator-email", "not an address"),
    ] {
        let out = Command::new(BIN)
            .args(["serve", flag, value, "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", format!("sqlite://{}", db.display()))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{flag}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("opengov-api: {flag}")),
            "{flag}: {stderr}"
        );
        assert!(
            !db.exists(),
            "{flag}: refused before the database was created"
        );
    }
}

#[test]
fn openapi_command_prints_the_committed_spec() {
    let out = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let committed = std::fs::read_to_string("openapi/openapi.json").unwrap();
    assert_eq!(printed, committed);
}

#[test]
fn load_fixtures_from_a_directory_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/db.sqlite", dir.path().display());
    let migrated = Command::new(BIN)
        .args(["migrate", "--database-url", &url])
        .output()
        .unwrap();
    assert!(migrated.status.success());
    for _ in 0..2 {
        let out = Command::new(BIN)
            .args(["load-fixtures", "--database-url", &url, "--dir", "fixtures"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("\"commitments\":3"));
    }
}

/// Commands that work on a server's data refuse a database that does not exist or is not
/// migrated, naming it, instead of creating an empty one where the user did not mean; on success
/// they say which database they wrote to.
#[test]
fn data_commands_refuse_a_missing_database_and_name_the_one_they_use() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], envs: &[(&str, String)]| {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .current_dir(dir.path())
            .env_remove("DATABASE_URL");
        for (k, v) in envs {
            command.env(k, v);
        }
        command.output().unwrap()
    };
    let default_db = dir.path().join("data/opengov.db");
    let commands: [&[&str]; 6] = [
        &["token", "create", "--name", "x", "--scope", "admin"],
        &["token", "list"],
        &["token", "revoke", "tok_x"],
        &["load-fixtures"],
        &["prune-changes", "--keep-from", "1"],
        &["import", "territorial-units", "items.csv"],
    ];
    for args in commands {
        let out = run(args, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded: {stderr}");
        assert!(
            stderr.contains(&format!("no database at sqlite://{}", default_db.display())),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("--database-url"), "{args:?}: {stderr}");
        assert!(
            !default_db.exists(),
            "{args:?} created {}",
            default_db.display()
        );
    }
    // A database file that exists but is not migrated (an empty SQLite file) is refused too.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let url = format!("sqlite://{}", empty.display());
    let out = run(&["token", "list", "--database-url", &url], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("is not migrated"), "{stderr}");
    assert!(stderr.contains("opengov-api migrate"), "{stderr}");
    // After `migrate`, a command names the database it wrote to.
    let db = dir.path().join("real.db");
    let url = format!("sqlite://{}", db.display());
    let migrated = run(&["migrate"], &[("DATABASE_URL", url.clone())]);
    let said = String::from_utf8_lossy(&migrated.stderr);
    assert!(migrated.status.success(), "{said}");
    assert!(
        said.contains(&format!("applied to sqlite://{}", db.display())),
        "{said}"
    );
    let created = run(
        &["token", "create", "--name", "x", "--scope", "admin"],
        &[("DATABASE_URL", url)],
    );
    let said = String::from_utf8_lossy(&created.stderr);
    assert!(created.status.success(), "{said}");
    assert!(
        said.contains(&format!("in sqlite://{}", db.display())),
        "{said}"
    );
}

/// `import` refuses a file without items unless `--allow-empty` says so, in either format, and
/// says how; a refused file of another shape is named in the caller's words.
#[test]
fn import_refuses_a_file_without_items_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/db.sqlite", dir.path().display());
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .args(["--database-url", &url])
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert!(run(&["migrate"]).0);
    let (loaded, said) = run(&["load-fixtures"]);
    assert!(loaded, "{said}");
    let header_only = dir.path().join("units.csv");
    std::fs::write(
        &header_only,
        "katottg,category,name_uk,level1_oblast,level2_raion,level3_hromada,koatuu_legacy\n",
    )
    .unwrap();
    let empty_collection = dir.path().join("roads.geojson");
    std::fs::write(
        &empty_collection,
        r#"{"type":"FeatureCollection","features":[]}"#,
    )
    .unwrap();
    let not_geojson = dir.path().join("roads.json");
    std::fs::write(&not_geojson, "{}").unwrap();
    let header_only = header_only.to_str().unwrap();
    let empty_collection = empty_collection.to_str().unwrap();
    for (registry, file, items) in [
        ("territorial-units", header_only, 28),
        ("road-monitoring", empty_collection, 150),
    ] {
        let (ok, said) = run(&["import", registry, file]);
        assert!(!ok);
        assert_eq!(
            said,
            format!(
                "opengov-api: import refused, nothing changed: the file has no items; publishing \
                 it would remove all {items} item(s) of {registry}; to remove every item \
                 deliberately, run the import again with --allow-empty\n"
            )
        );
    }
    let (ok, said) = run(&["import", "road-monitoring", not_geojson.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        said.contains(
            "- expected a GeoJSON FeatureCollection {\"type\": \"FeatureCollection\", \
             \"features\": […]}, found an object with neither \"type\" nor \"features\""
        ),
        "{said}"
    );
    assert!(!said.contains("IO Error"), "{said}");
    let (ok, said) = run(&["import", "territorial-units", header_only, "--allow-empty"]);
    assert!(ok, "{said}");
    assert!(
        said.contains("imported 0 rows into territorial-units"),
        "{said}"
    );
}
