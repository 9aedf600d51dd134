//! Test harness: a fresh, migrated, fixture-loaded database per test on each backend, and the
//! real application driven through actix's test service (no network).
//!
//! SQLite always runs. PostgreSQL runs when `TEST_DATABASE_URL` is set; each test gets its own
//! schema, dropped afterwards. With `REQUIRE_POSTGRES=1` (CI) a missing URL fails the test.

use std::sync::atomic::{AtomicU32, Ordering};

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test::{self as atest, TestRequest};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use opengov_api::app::AppState;
use opengov_api::db::{self, Backend, DatabaseUrl, DbPool, PoolOptions};
use opengov_api::models::fixture_set::FixtureSet;
use opengov_api::server::build_app;

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// A database that exists for one test only.
pub enum TestDb {
    /// Kept for its `Drop`, which deletes the directory.
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        schema: String,
    },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, schema } = self
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

pub struct TestApp {
    pub state: AppState,
    /// The URL the app's pool connects to (for a second pool on the same test database).
    pub url: String,
    _db: TestDb,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with this status and returns it.
    pub fn problem(&self, status: u16) -> serde_json::Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "problem responses use application/problem+json"
        );
        let p = self.json();
        assert_eq!(p["status"], status);
        assert!(p["title"].is_string());
        assert!(p["type"].is_string());
        p
    }
}

pub fn pool_options() -> PoolOptions {
    PoolOptions {
        max_size: 4,
        connection_timeout: std::time::Duration::from_secs(2),
        ..PoolOptions::default()
    }
}

impl TestApp {
    fn from_url(url: String, db: TestDb, load: bool) -> TestApp {
        let parsed = DatabaseUrl::parse(&url).expect("test database URL");
        let (pool, _) = db::connect_and_migrate(&parsed, &pool_options()).expect("migrate");
        if load {
            let mut conn = pool.get().expect("connection");
            FixtureSet::embedded()
                .expect("built-in fixtures are valid")
                .load(&mut conn)
                .expect("load fixtures");
        }
        TestApp {
            state: AppState::new(pool, parsed.backend()),
            url,
            _db: db,
        }
    }

    pub fn sqlite(load: bool) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        Self::from_url(url, TestDb::Sqlite(dir), load)
    }

    /// A PostgreSQL app in a fresh schema, or `None` when no server is configured.
    pub fn postgres(load: bool) -> Option<TestApp> {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            assert!(
                std::env::var("REQUIRE_POSTGRES").is_err(),
                "REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not"
            );
            eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant skipped");
            return None;
        };
        let schema = unique_name("t");
        let mut admin = PgConnection::establish(&admin_url).expect("connect to TEST_DATABASE_URL");
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .expect("create test schema");
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-csearch_path%3D{schema}");
        Some(Self::from_url(
            url,
            TestDb::Postgres { admin_url, schema },
            load,
        ))
    }

    pub fn for_backend(backend: Backend, load: bool) -> Option<TestApp> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite(load)),
            Backend::Postgres => Self::postgres(load),
        }
    }

    pub fn pool(&self) -> &DbPool {
        &self.state.pool
    }

    pub async fn call(&self, req: TestRequest) -> Response {
        let app = atest::init_service(build_app(self.state.clone())).await;
        let res: ServiceResponse<_> = atest::call_service(&app, req.to_request()).await;
        let status = res.status();
        let headers = res.headers().clone();
        let body = atest::read_body(res).await.to_vec();
        Response {
            status,
            headers,
            body,
        }
    }

    /// `req` with `payload` as its body stream (e.g. one that counts what the server reads).
    pub async fn call_with_payload(
        &self,
        req: TestRequest,
        payload: actix_web::dev::Payload,
    ) -> Response {
        let app = atest::init_service(build_app(self.state.clone())).await;
        let (request, _) = req.to_request().replace_payload(payload);
        let res: ServiceResponse<_> = atest::call_service(&app, request).await;
        let status = res.status();
        let headers = res.headers().clone();
        let body = atest::read_body(res).await.to_vec();
        Response {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> Response {
        self.call(TestRequest::get().uri(uri)).await
    }

    pub async fn get_with(&self, uri: &str, headers: &[(&str, &str)]) -> Response {
        let mut req = TestRequest::get().uri(uri);
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        self.call(req).await
    }
}

/// Runs one async test body on SQLite and on PostgreSQL as two tests named `sqlite` and
/// `postgres` inside a module named after the test.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$app:ident| $body:block) => {
        $crate::both_backends!($name, load = true, |$app| $body);
    };
    ($name:ident, load = $load:expr, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: $crate::common::TestApp) $body

            #[actix_web::test]
            async fn sqlite() {
                run($crate::common::TestApp::sqlite($load)).await;
            }

            #[actix_web::test]
            async fn postgres() {
                if let Some(app) = $crate::common::TestApp::postgres($load) {
                    run(app).await;
                }
            }
        }
    };
}
