//! Graceful shutdown of the real binary: on SIGTERM it stops accepting connections, finishes the
//! response in flight and exits 0. Every step waits for something the server says (its log or
//! its socket), never for a fixed time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::binary::{BIN, dechunk, free_port, generated_registry};

/// Items of the exported registry, each with a note of `NOTE_BYTES`: about 13 MB of NDJSON, far
/// more than the socket buffers and the export's channel hold, so the response cannot be
/// finished until the client reads it.
const ROWS: usize = 16_000;
const NOTE_BYTES: usize = 800;

/// Kills the server when the test ends early.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads log lines until one contains `text`; panics if the log ends first.
fn wait_for_log(lines: &mpsc::Receiver<String>, text: &str) {
    loop {
        match lines.recv_timeout(Duration::from_secs(120)) {
            Ok(line) if line.contains(text) => return,
            Ok(_) => {}
            Err(e) => panic!("the server never logged {text:?}: {e}"),
        }
    }
}

fn run_cli(args: &[&str]) {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sigterm_finishes_the_response_in_flight_refuses_new_connections_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("opengov.db").display());
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = Server(
        Command::new(BIN)
            .args(["serve", "--bind", &addr, "--shutdown-timeout-secs", "60"])
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "info")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // The log is read on its own thread, so the server never blocks on a full pipe.
    let (tx, lines) = mpsc::channel();
    let stderr = server.0.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The socket listens from the moment this is logged.
    wait_for_log(&lines, "serving on");
    assert!(
        lines.try_iter().all(|l| !l.contains("shutdown")),
        "no shutdown yet"
    );

    // A registry big enough that its export is still being sent when the signal comes.
    let definition = dir.path().join("registry.toml");
    std::fs::write(
        &definition,
        generated_registry("shutdown-export", "graceful-shutdown"),
    )
    .unwrap();
    let mut csv = String::with_capacity(ROWS * (NOTE_BYTES + 16));
    csv.push_str("id,note\n");
    for n in 0..ROWS {
        let word = format!("row{n:05} ");
        let note: String = word.repeat(NOTE_BYTES / word.len() + 1)[..NOTE_BYTES].to_owned();
        csv.push_str(&format!("r{n:05},{note}\n"));
    }
    let items = dir.path().join("items.csv");
    std::fs::write(&items, csv).unwrap();
    run_cli(&[
        "define-registry",
        "--database-url",
        &url,
        definition.to_str().unwrap(),
    ]);
    run_cli(&[
        "import",
        "--database-url",
        &url,
        "shutdown-export",
        items.to_str().unwrap(),
    ]);

    // Start the export and read its first bytes: the response is now in flight.
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "GET /api/v1/registries/shutdown-export/items.ndjson HTTP/1.1\r\nHost: x\r\n\
         Accept-Encoding: identity\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut received = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    while !received.windows(4).any(|w| w == b"\r\n\r\n") || received.len() < 4096 {
        let n = stream.read(&mut buffer).unwrap();
        assert!(n > 0, "the export ended before the signal");
        received.extend_from_slice(&buffer[..n]);
    }
    assert!(received.starts_with(b"HTTP/1.1 200"));

    // SAFETY: kill(2) with a pid we spawned and still own (the child has not been reaped).
    let sent = unsafe { libc::kill(server.0.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(sent, 0, "SIGTERM sent");
    wait_for_log(&lines, "SIGTERM received; starting graceful shutdown");

    // The listener closes right after the signal is handled: poll until a connection is refused
    // (a bounded wait for that state, not a timing assertion).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match TcpStream::connect(&addr) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            _ => {
                assert!(
                    Instant::now() < deadline,
                    "still accepting connections after SIGTERM"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    assert!(
        server.0.try_wait().unwrap().is_none(),
        "the server waits for the response in flight"
    );

    // The rest of the response arrives, complete.
    stream.read_to_end(&mut received).unwrap();
    let split = received.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&received[..split]).to_ascii_lowercase();
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let (body, complete) = dechunk(&received[split + 4..]);
    assert!(complete, "the response ends with its last chunk");
    let body = String::from_utf8(body).unwrap();
    let lines_out: Vec<&str> = body.lines().collect();
    assert_eq!(lines_out.len(), ROWS, "every item was sent");
    for (n, line) in [(0, lines_out[0]), (ROWS - 1, lines_out[ROWS - 1])] {
        let item: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(item["id"], format!("r{n:05}"));
    }
    assert!(body.ends_with('\n'));

    // Then the process exits by itself, with status 0.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    wait_for_log(&lines, "server stopped");
}
