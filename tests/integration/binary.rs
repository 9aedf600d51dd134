//! Helpers of the tests that drive the real binary as a child process (`shutdown`, `crash`).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

pub const BIN: &str = env!("CARGO_BIN_EXE_opengov-api");

/// Starts `command` with its log (stderr) read line by line on its own thread, so the child
/// never blocks on a full pipe; stdout is discarded.
pub fn spawn_with_log(command: &mut Command) -> (Child, mpsc::Receiver<String>) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let (tx, lines) = mpsc::channel();
    let stderr = child.stderr.take().expect("piped stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, lines)
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A sample registry of generated rows with an `id` and a `note`, for `define-registry`.
pub fn generated_registry(slug: &str, test: &str) -> String {
    format!(
        r#"
slug = "{slug}"
sample = true
sample_note = {{ en = "Generated rows of the {test} test." }}
title = {{ en = "{test} test registry" }}
description = {{ en = "Generated rows of the {test} test." }}
keywords = {{ en = ["test"] }}
license = "CC0-1.0"
license_url = "https://creativecommons.org/publicdomain/zero/1.0/"
language = ["en"]
geometry = "none"
id_field = "id"
items_file = "items.csv"
sources = ["katottg-scalawiki"]
text_sources = {{ en = "katottg-scalawiki" }}

[[fields]]
name = "id"
type = "text"
required = true
label = {{ en = "Id" }}

[[fields]]
name = "note"
type = "text"
label = {{ en = "Note" }}
"#
    )
}

/// The body of a chunked response, and whether it ended with the last (zero-size) chunk.
pub fn dechunk(mut raw: &[u8]) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    loop {
        let Some(end) = raw.windows(2).position(|w| w == b"\r\n") else {
            return (body, false);
        };
        let size_text = std::str::from_utf8(&raw[..end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
            .expect("chunk size");
        raw = &raw[end + 2..];
        if size == 0 {
            return (body, raw.starts_with(b"\r\n"));
        }
        if raw.len() < size + 2 {
            return (body, false);
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}
