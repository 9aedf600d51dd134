//! Database trouble over HTTP: PostgreSQL going away and coming back (through a TCP proxy this
//! test stops and restarts), PostgreSQL's statement timeout, SQLite's busy timeout.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_web::ResponseError;
use actix_web::test::{self as atest, TestRequest};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use opengov_api::app::AppState;
use opengov_api::db::{self, Backend, DatabaseUrl, PoolOptions};
use opengov_api::error::AppError;
use opengov_api::server::build_app;

use crate::common::{Response, TestApp, pool_options};

/// A TCP proxy from a loopback port to PostgreSQL. `stop` closes the port and cuts every live
/// connection (the database "goes away"); `start` listens on the same port again.
struct Proxy {
    port: u16,
    upstream: SocketAddr,
    running: Option<Running>,
}

struct Running {
    stop: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    fn new(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().unwrap().port();
        let mut proxy = Proxy {
            port,
            upstream,
            running: None,
        };
        proxy.serve(listener);
        proxy
    }

    fn start(&mut self) {
        // std sets SO_REUSEADDR on listeners, so the port can be taken again at once.
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("rebind the proxy port");
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        let stop = Arc::new(AtomicBool::new(false));
        let streams: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let upstream = self.upstream;
        let accept = {
            let (stop, streams) = (stop.clone(), streams.clone());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let Ok(server) = TcpStream::connect(upstream) else {
                        continue;
                    };
                    let mut kept = streams.lock().unwrap();
                    kept.push(client.try_clone().unwrap());
                    kept.push(server.try_clone().unwrap());
                    pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                    pipe(server, client);
                }
            })
        };
        self.running = Some(Running {
            stop,
            streams,
            accept,
        });
    }

    fn stop(&mut self) {
        let Some(running) = self.running.take() else {
            return;
        };
        running.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then drops the listener: new connections are refused.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        running.accept.join().unwrap();
        for stream in running.streams.lock().unwrap().iter() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}

/// `host:port` of a postgres:// URL.
fn host_port(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?']).next().unwrap();
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

async fn get(state: &AppState, uri: &str) -> (Response, Duration) {
    let app = atest::init_service(build_app(state.clone())).await;
    let started = Instant::now();
    let res = atest::call_service(&app, TestRequest::get().uri(uri).to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let body = atest::read_body(res).await.to_vec();
    let elapsed = started.elapsed();
    (
        Response {
            status,
            headers,
            body,
        },
        elapsed,
    )
}

const READS: [&str; 5] = [
    "/api/v1/commitments",
    "/api/v1/registries/territorial-units/items?limit=5",
    "/api/v1/changes",
    "/api/v1/plan/releases",
    "/readyz",
];

#[actix_web::test]
async fn postgres_outage_is_a_quick_503_and_the_service_recovers_by_itself() {
    let Some(app) = TestApp::postgres(true) else {
        return;
    };
    let direct = host_port(&app.url).to_owned();
    let upstream = direct
        .to_socket_addrs()
        .expect("resolve the PostgreSQL address")
        .next()
        .unwrap();
    let mut proxy = Proxy::new(upstream);
    let url = app
        .url
        .replacen(&direct, &format!("127.0.0.1:{}", proxy.port), 1);
    let options = pool_options();
    let state = AppState::new(
        db::build_pool(&DatabaseUrl::parse(&url).unwrap(), &options),
        Backend::Postgres,
    );

    for uri in READS {
        assert_eq!(
            get(&state, uri).await.0.status,
            200,
            "{uri} before the outage"
        );
    }

    // The database goes away: the port is closed and every pooled connection is cut.
    proxy.stop();
    for round in 0..2 {
        for uri in READS {
            let (res, elapsed) = get(&state, uri).await;
            let problem = res.problem(503);
            assert_eq!(
                problem["type"], "tag:opengov-api,2026:problem/database-unavailable",
                "{uri}"
            );
            assert_eq!(res.header("retry-after"), Some("5"), "{uri}");
            // Not a pool timeout: a cut connection fails its query, a refused one its connect.
            assert!(
                elapsed < options.connection_timeout,
                "{uri} (round {round}) took {elapsed:?}, pool timeout {:?}",
                options.connection_timeout
            );
        }
    }
    assert!(state.pool.is_down(), "the pool knows the database is away");

    // The database comes back on the same address; the same app serves again.
    proxy.start();
    let deadline = Instant::now() + options.connection_timeout * 5;
    loop {
        let (res, _) = get(&state, "/api/v1/commitments").await;
        if res.status == 200 {
            break;
        }
        res.problem(503);
        assert!(
            Instant::now() < deadline,
            "not recovered within {:?} of the database's return",
            options.connection_timeout * 5
        );
    }
    for uri in READS {
        assert_eq!(get(&state, uri).await.0.status, 200, "{uri} after recovery");
    }
    assert!(!state.pool.is_down());
}

#[actix_web::test]
async fn postgres_statement_timeout_is_a_503_problem() {
    let Some(app) = TestApp::postgres(true) else {
        return;
    };
    let options = PoolOptions {
        statement_timeout: Some(Duration::from_millis(200)),
        ..pool_options()
    };
    let state = AppState::new(
        db::build_pool(&DatabaseUrl::parse(&app.url).unwrap(), &options),
        Backend::Postgres,
    );
    assert_eq!(get(&state, "/api/v1/commitments").await.0.status, 200);

    // Another session holds a lock the list query must wait for: the wait counts towards the
    // statement timeout, so the query is cancelled deterministically.
    let mut locker = PgConnection::establish(&app.url).unwrap();
    locker
        .batch_execute("BEGIN; LOCK TABLE commitments IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let (res, _) = get(&state, "/api/v1/commitments").await;
    let problem = res.problem(503);
    assert_eq!(
        problem["type"],
        "tag:opengov-api,2026:problem/database-timeout"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("statement timeout"),
        "{problem}"
    );
    assert_eq!(res.header("retry-after"), Some("5"));
    locker.batch_execute("ROLLBACK").unwrap();

    // The cancelled statement did not spoil the connection.
    assert_eq!(get(&state, "/api/v1/commitments").await.0.status, 200);
}

#[actix_web::test]
async fn postgres_writes_are_exempt_from_the_statement_timeout() {
    let Some(app) = TestApp::postgres(false) else {
        return;
    };
    let options = PoolOptions {
        statement_timeout: Some(Duration::from_millis(50)),
        ..pool_options()
    };
    let pool = db::build_pool(&DatabaseUrl::parse(&app.url).unwrap(), &options);
    let mut conn = pool.get().unwrap();
    let err = conn.batch_execute("SELECT pg_sleep(0.3)").unwrap_err();
    assert_eq!(db::trouble(&err), Some(db::Trouble::StatementTimeout));
    assert!(matches!(AppError::from(err), AppError::DbTimeout(_)));
    conn.write_transaction(|c| c.batch_execute("SELECT pg_sleep(0.3)"))
        .expect("a write transaction (an import) runs past the read timeout");
    // The limit is back for the next read on the same connection.
    let err = conn.batch_execute("SELECT pg_sleep(0.3)").unwrap_err();
    assert_eq!(db::trouble(&err), Some(db::Trouble::StatementTimeout));
}

/// SQLite has no outage but a writer lock: a second writer waits `busy_timeout`, then fails as
/// busy, which the API answers 503 (database-timeout), not 500. Checked at the db level, as no
/// API write exists to drive it over HTTP (reads never wait on WAL).
#[test]
fn sqlite_busy_timeout_is_a_503_problem() {
    let app = TestApp::sqlite(false);
    let options = PoolOptions {
        sqlite_busy_timeout_ms: 50,
        ..pool_options()
    };
    let pool = db::build_pool(&DatabaseUrl::parse(&app.url).unwrap(), &options);
    let mut writer = pool.get().unwrap();
    writer.batch_execute("BEGIN IMMEDIATE").unwrap();
    let mut other = pool.get().unwrap();
    let started = Instant::now();
    let err = other
        .write_transaction(|_| Ok::<_, diesel::result::Error>(()))
        .unwrap_err();
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "waited the busy timeout"
    );
    assert_eq!(db::trouble(&err), Some(db::Trouble::Busy));
    let response = AppError::from(err).error_response();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers().get("retry-after").unwrap(), "5");
    writer.batch_execute("ROLLBACK").unwrap();
    other
        .write_transaction(|_| Ok::<_, diesel::result::Error>(()))
        .expect("the lock is free again");
}
