//! Helpers of the tests that drive the real binary as a child process (`shutdown`, `crash`,
//! `conformance_openapi`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

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

/// The log lines up to and including the first that contains `text` (a server's socket listens
/// once "serving on" is logged); panics with the log so far when none comes within two minutes.
pub fn wait_for_line(lines: &mpsc::Receiver<String>, text: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(Duration::from_secs(120)) {
            Ok(line) => {
                let done = line.contains(text);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(e) => panic!(
                "the binary never logged {text:?} ({e}):\n{}",
                seen.join("\n")
            ),
        }
    }
}

/// One HTTP/1.1 exchange; returns status and body.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept-Encoding: identity\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status: u16 = head[9..12].parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body).0;
    }
    (status, body)
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
