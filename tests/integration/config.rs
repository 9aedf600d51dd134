//! Configuration: the committed option table is what the code defines; a config file sets options
//! of the real binary with flag > environment > file > default; bad files are refused naming the
//! file, the key and the line; `--log-format json` writes one JSON object per line.
//! Regenerate the table with `UPDATE_CONFIG_DOC=1 cargo test --test integration config_doc`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::Duration;

use clap::CommandFactory;
use serde_json::Value;

use crate::binary::{BIN, free_port, spawn_with_log};

const DOC: &str = "docs/CONFIGURATION.md";
const BEGIN: &str = "<!-- BEGIN OPTIONS: generated from src/cli.rs; \
                     regenerate with `UPDATE_CONFIG_DOC=1 cargo test --test integration config_doc` -->\n";
const END: &str = "<!-- END OPTIONS -->";

#[test]
fn config_doc_table_matches_the_code() {
    let doc = std::fs::read_to_string(DOC).unwrap();
    let (head, rest) = doc.split_once(BEGIN).expect("the BEGIN OPTIONS marker");
    let (committed, tail) = rest.split_once(END).expect("the END OPTIONS marker");
    let fresh = opengov_api::config::options_table();
    if std::env::var("UPDATE_CONFIG_DOC").is_ok() {
        std::fs::write(DOC, format!("{head}{BEGIN}{fresh}{END}{tail}")).unwrap();
    } else {
        assert!(
            committed == fresh,
            "{DOC} is stale: run `UPDATE_CONFIG_DOC=1 cargo test --test integration config_doc` \
             and commit it"
        );
    }
    assert!(fresh.contains("| `--pool-size` | `POOL_SIZE` | `pool-size` | `8` |"));
}

#[test]
fn config_doc_every_option_has_a_variable_and_so_a_file_key() {
    // The file works through the environment variables: an option without one could not be set.
    let mut command = opengov_api::cli::Cli::command();
    command.build();
    for arg in command.get_arguments() {
        let long = arg.get_long().unwrap_or_default();
        if ["help", "version"].contains(&long) {
            continue;
        }
        assert!(
            arg.get_env().is_some(),
            "--{long} has no environment variable"
        );
    }
}

/// The server child process; its standard error is read line by line on a thread.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(command: &mut Command) -> Self {
        let (child, lines) = spawn_with_log(command);
        Server { child, lines }
    }

    /// Log lines up to and including the first that contains `text` (the socket listens once
    /// "serving on" is logged).
    fn wait_for(&self, text: &str) -> Vec<String> {
        crate::binary::wait_for_line(&self.lines, text)
    }
}

/// The binary with none of the variables these tests set inherited from the test's environment.
fn opengov(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    for var in [
        "OPENGOV_CONFIG",
        "LOG_FORMAT",
        "BIND",
        "DATABASE_URL",
        "RATE_LIMIT_PER_MINUTE",
        "POOL_SIZE",
        "CLIENT_IP_FROM",
    ] {
        command.env_remove(var);
    }
    command.env("RUST_LOG", "info").current_dir(dir);
    command
}

/// Status line and headers (lower-cased) of a GET.
fn get_head(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response);
    response.split("\r\n\r\n").next().unwrap().to_lowercase()
}

#[test]
fn config_file_sets_options_env_overrides_file_and_flag_overrides_env() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("from-file.db");
    let addr = format!("127.0.0.1:{}", free_port());
    let file = dir.path().join("opengov.toml");
    std::fs::write(
        &file,
        format!(
            "# serve options, keyed by their long flag names\n\
             bind = \"{addr}\"\n\
             database-url = \"sqlite://{}\"\n\
             rate-limit-per-minute = 7\n\
             migrate = false\n\
             log-format = \"json\"\n",
            db.display()
        ),
    )
    .unwrap();
    let policy = |head: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix("ratelimit-policy: ").map(str::to_owned))
            .unwrap_or_else(|| panic!("no RateLimit-Policy in {head}"))
    };

    // The file alone: its address, its database, its rate limit, its log format.
    let server = Server::start(opengov(dir.path()).args(["serve", "--config"]).arg(&file));
    let log = server.wait_for("serving on");
    let first: Value = serde_json::from_str(&log[0]).expect("log-format from the file: JSON");
    assert!(
        first["msg"]
            .as_str()
            .unwrap()
            .contains("rate-limit-per-minute")
    );
    assert!(db.exists(), "database-url from the file was used");
    let head = get_head(&addr, "/api/v1/plans");
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(policy(&head), "\"per-ip\";q=7;w=60");
    drop(server);

    // The environment wins over the file (and the file may come from OPENGOV_CONFIG).
    let server = Server::start(
        opengov(dir.path())
            .env("OPENGOV_CONFIG", &file)
            .env("RATE_LIMIT_PER_MINUTE", "5"),
    );
    let log = server.wait_for("serving on");
    assert!(
        log[0].contains("left to the environment: rate-limit-per-minute"),
        "{}",
        log[0]
    );
    assert_eq!(
        policy(&get_head(&addr, "/api/v1/plans")),
        "\"per-ip\";q=5;w=60"
    );
    drop(server);

    // A flag wins over both.
    let server = Server::start(
        opengov(dir.path())
            .args(["serve", "--rate-limit-per-minute", "3", "--config"])
            .arg(&file)
            .env("RATE_LIMIT_PER_MINUTE", "5"),
    );
    server.wait_for("serving on");
    assert_eq!(
        policy(&get_head(&addr, "/api/v1/plans")),
        "\"per-ip\";q=3;w=60"
    );
}

#[test]
fn config_file_database_url_serves_other_commands_too() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("migrated.db");
    let file = dir.path().join("opengov.toml");
    std::fs::write(
        &file,
        format!(
            "database-url = \"sqlite://{}\"\npool-size = 2\n",
            db.display()
        ),
    )
    .unwrap();
    let out = opengov(dir.path())
        .args(["migrate", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.exists(), "migrate used the file's database-url");
}

#[test]
fn config_file_refusals_name_the_file_the_key_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    let cases: [(&str, &[&str]); 7] = [
        (
            "bind = \"127.0.0.1:1\"\n\npool_size = 8\n",
            &[
                "line 3",
                "unknown key \"pool_size\"",
                "did you mean \"pool-size\"",
            ],
        ),
        ("colour = \"blue\"\n", &["line 1", "unknown key \"colour\""]),
        (
            "bind = \"127.0.0.1:1\"\npool-size = \"eight\"\n",
            &["line 2", "key \"pool-size\"", "\"eight\" is not accepted"],
        ),
        (
            "pool-size = -1\n",
            &["line 1", "key \"pool-size\"", "-1 is not in 0..="],
        ),
        (
            "client-ip-from = \"proxy\"\n",
            &[
                "line 1",
                "\"proxy\" is not one of peer, x-forwarded-for, forwarded",
            ],
        ),
        (
            "upload-dir = [\"/tmp\"]\n",
            &["line 1", "key \"upload-dir\"", "not array"],
        ),
        ("pool-size = \n", &["line 1", "TOML parse error"]),
    ];
    for (text, expected) in cases {
        std::fs::write(&file, text).unwrap();
        // `migrate` exits by itself, so a file wrongly accepted fails the test instead of
        // leaving a server running.
        let out = opengov(dir.path())
            .args(["migrate", "--database-url", "sqlite://never.db", "--config"])
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text:?}: {stderr}");
        assert!(
            stderr.starts_with(&format!("opengov-api: config file {}: ", file.display())),
            "{text:?}: {stderr}"
        );
        for part in expected {
            assert!(stderr.contains(part), "{text:?}: {part:?} not in {stderr}");
        }
        assert!(!dir.path().join("never.db").exists(), "nothing ran");
    }
    let out = opengov(dir.path())
        .args(["migrate", "--config", "missing.toml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("config file missing.toml: cannot read it"),
        "{stderr}"
    );
}

#[test]
fn config_log_format_json_writes_one_object_per_line_access_log_included() {
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let server = Server::start(
        opengov(dir.path())
            .args(["serve", "--log-format", "json", "--bind", &addr])
            .env("DATABASE_URL", "sqlite://opengov.db"),
    );
    let startup = server.wait_for("serving on");
    assert!(get_head(&addr, "/api/v1/plans?lang=en").starts_with("http/1.1 200"));
    let mut lines = startup;
    lines.extend(server.wait_for("/api/v1/plans?lang=en"));
    for line in &lines {
        let entry: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: not JSON: {line}"));
        let keys: Vec<_> = entry.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["ts", "level", "target", "msg"], "{line}");
        let ts = entry["ts"].as_str().unwrap();
        assert!(ts.ends_with('Z'), "UTC: {ts}");
        chrono::DateTime::parse_from_rfc3339(ts).unwrap();
        assert!(
            ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"].contains(&entry["level"].as_str().unwrap())
        );
    }
    let access: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(access["target"], "actix_web::middleware::logger");
    assert!(
        access["msg"]
            .as_str()
            .unwrap()
            .contains("\"GET /api/v1/plans?lang=en HTTP/1.1\" 200")
    );
    let serving = lines.iter().find(|l| l.contains("serving on")).unwrap();
    let serving: Value = serde_json::from_str(serving).unwrap();
    assert_eq!(serving["level"], "INFO");
    assert_eq!(serving["target"], "opengov_api::cli");
}
