//! The HTTP layer: routes, content negotiation, the OpenAPI document. Handlers stay thin: parse
//! parameters, run a model query in `run`, convert to wire types.

pub mod auth;
pub mod caching;
pub mod dto;
pub mod guard;
pub mod items;
pub mod limits;
pub mod metrics;
pub mod negotiate;
pub mod pagination;
pub mod params;
pub mod rate_limit;
pub mod release;
pub mod respond;
pub mod security_headers;
pub mod spec;
pub mod v1;
pub mod write_bodies;

// The plan handlers name `api::csv`; the writer lives with the other formats.
pub use crate::formats::csv;
pub use spec::openapi;

use actix_web::body::MessageBody;
use actix_web::dev::Service;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{Compress, ErrorHandlers, Logger};
use actix_web::{App, HttpResponse, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::db::{Backend, DbConn, DbPool};
use crate::error::{self, AppError};
use crate::models::plan_release;
use crate::models::releases::{self, Release};

/// Shared state of every worker.
#[derive(Clone)]
pub struct AppState {
    /// The primary database: every write, token checks, the audit log, and every read unless a
    /// read replica is configured.
    pub pool: DbPool,
    pub backend: Backend,
    pub plan_snapshots: PlanSnapshots,
    pub item_counts: ItemCounts,
    /// Admission to `pool`.
    pub db_gate: DbGate,
    /// Where public reads go (`--read-database-url`); `None`: the primary.
    ///
    /// A replica lags the primary: a GET right after a write may not show it yet. Clients that
    /// need to read their own writes compare the `Data-Release` header (or the release in the
    /// ETag) of the read with the release their write answered with, and read again if older.
    pub replica: Option<Replica>,
    pub uploads: UploadLimits,
    /// Off (`None`) unless the server or a test turns it on.
    pub rate_limits: Option<Arc<rate_limit::RateLimits>>,
    pub limits: limits::Limits,
    /// Settings of the web pages under `/`.
    pub web: crate::web::WebOptions,
    /// Who runs this instance: the catalog's publisher and contact (`--operator-*`).
    pub operator: crate::models::catalog::Operator,
    /// Prometheus metrics (`/metrics`); `None` turns them off.
    pub metrics: Option<Arc<metrics::Metrics>>,
}

/// A read-only copy of the database (a PostgreSQL streaming replica) and its own gate.
#[derive(Clone)]
pub struct Replica {
    pub pool: DbPool,
    pub gate: DbGate,
}

impl AppState {
    pub fn new(pool: DbPool, backend: Backend) -> Self {
        let db_gate = DbGate::for_pool(&pool);
        AppState {
            db_gate,
            pool,
            backend,
            plan_snapshots: PlanSnapshots::default(),
            item_counts: ItemCounts::default(),
            replica: None,
            rate_limits: None,
            limits: limits::Limits::default(),
            uploads: UploadLimits::default(),
            web: crate::web::WebOptions::default(),
            operator: crate::models::catalog::Operator::default(),
            metrics: Some(Arc::new(metrics::Metrics::new())),
        }
    }

    pub fn with_uploads(mut self, uploads: UploadLimits) -> Self {
        self.uploads = uploads;
        self
    }

    /// Sends reads to `pool` (see [`AppState::replica`]); writes stay on the primary.
    pub fn with_read_pool(mut self, pool: DbPool) -> Self {
        self.replica = Some(Replica {
            gate: DbGate::for_pool(&pool),
            pool,
        });
        self
    }

    /// The pool and gate that reads use.
    pub fn reads(&self) -> (&DbPool, &DbGate) {
        match &self.replica {
            Some(r) => (&r.pool, &r.gate),
            None => (&self.pool, &self.db_gate),
        }
    }
}

/// First come, first served admission to the database pool. r2d2 gives a freed connection to
/// whichever waiting thread wakes first, so under overload an unlucky request can wait past the
/// timeout while later ones pass it; requests queue here instead (a FIFO semaphore with one
/// permit per pooled connection, awaited without holding a thread) and take a connection only
/// once admitted. A permit travels with its connection, into streamed exports too.
#[derive(Clone)]
pub struct DbGate {
    permits: Arc<tokio::sync::Semaphore>,
    wait: std::time::Duration,
    /// Requests queued for a turn now (for `/metrics`).
    waiting: Arc<AtomicUsize>,
    /// Requests answered 503 at capacity so far (for `/metrics`).
    refused: Arc<AtomicU64>,
}

/// Counts a request as waiting for as long as it is, also when its future is dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl DbGate {
    pub fn new(size: usize, wait: std::time::Duration) -> Self {
        DbGate {
            permits: Arc::new(tokio::sync::Semaphore::new(size.max(1))),
            wait,
            waiting: Arc::default(),
            refused: Arc::default(),
        }
    }

    /// One permit per connection `pool` may open, waiting as long as a checkout would.
    pub fn for_pool(pool: &DbPool) -> Self {
        Self::new(pool.max_size() as usize, pool.connection_timeout())
    }

    /// Waits (in arrival order) for a turn at the pool; 503 when none comes within the pool's
    /// connection timeout.
    pub async fn enter(&self) -> Result<tokio::sync::OwnedSemaphorePermit, AppError> {
        // A free permit is only free while nobody queues (the semaphore hands released permits
        // to waiters first), so taking it here keeps the order.
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let _waiting = Waiting::enter(&self.waiting);
        let turn = self.permits.clone().acquire_owned();
        match actix_web::rt::time::timeout(self.wait, turn).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(AppError::Internal("the database gate is closed".into())),
            Err(_) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                Err(AppError::AtCapacity(format!(
                    "every database connection stayed busy for {} s; retry shortly",
                    self.wait.as_secs_f64()
                )))
            }
        }
    }

    /// A turn only if one is free now (for optional work, like the early 304 check).
    pub fn try_enter(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }

    /// Turns free right now.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// Requests queued for a turn right now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Requests refused with 503 at capacity since the start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

/// Filtered item counts per release. A release never changes, so a count computed once is the
/// answer for good: repeated filtered pages (and `count=exact`) cost one index lookup instead of
/// a scan. Bounded; the oldest entries go first.
#[derive(Clone, Default)]
pub struct ItemCounts {
    cache: Arc<Mutex<CountCache>>,
}

/// Counts by key, and the keys in insertion order (for eviction).
type CountCache = (std::collections::HashMap<String, i64>, VecDeque<String>);

const ITEM_COUNTS_KEPT: usize = 4096;

impl ItemCounts {
    /// The count for `key` (which must name the release), computing it on a miss.
    pub fn get_or(
        &self,
        key: String,
        compute: impl FnOnce() -> diesel::QueryResult<i64>,
    ) -> diesel::QueryResult<i64> {
        if let Some(n) = self.lock().0.get(&key) {
            return Ok(*n);
        }
        let n = compute()?;
        let mut cache = self.lock();
        if cache.0.insert(key.clone(), n).is_none() {
            cache.1.push_back(key);
            if cache.1.len() > ITEM_COUNTS_KEPT
                && let Some(oldest) = cache.1.pop_front()
            {
                cache.0.remove(&oldest);
            }
        }
        Ok(n)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CountCache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Limits of registry uploads (`POST /api/v1/registries/{slug}/imports`).
#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// Largest file accepted, in bytes; a larger one is refused with 413 while it streams.
    pub max_bytes: u64,
    /// Most data rows a file may have.
    pub max_rows: u64,
    /// Where uploads are spooled before import (default: the system's temporary directory).
    pub dir: Option<std::path::PathBuf>,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_bytes: 100 * 1024 * 1024,
            max_rows: 1_000_000,
            dir: None,
        }
    }
}

/// Old plan releases rebuilt in scratch databases for pinned reads; the few most recently used
/// are kept (a plan release is small and immutable, so a rebuild is only ever a cache miss).
#[derive(Clone, Default)]
pub struct PlanSnapshots {
    cache: Arc<Mutex<VecDeque<(i64, Scratch)>>>,
}

/// One rebuilt release: a scratch database, used by one request at a time.
type Scratch = Arc<Mutex<DbConn>>;

const PLAN_SNAPSHOTS_KEPT: usize = 4;

impl PlanSnapshots {
    fn get(&self, conn: &mut DbConn, number: i64) -> Result<Scratch, AppError> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = cache.iter().position(|(n, _)| *n == number) {
            let entry = cache.remove(at).expect("position is in range");
            let scratch = entry.1.clone();
            cache.push_front(entry);
            return Ok(scratch);
        }
        let mut scratch =
            crate::db::scratch_database().map_err(|e| AppError::Internal(e.to_string()))?;
        plan_release::restore(conn, number, &mut scratch).map_err(AppError::Internal)?;
        let scratch = Arc::new(Mutex::new(scratch));
        cache.push_front((number, scratch.clone()));
        cache.truncate(PLAN_SNAPSHOTS_KEPT);
        Ok(scratch)
    }
}

/// The plan release a response was read from, and whether the request pinned it.
#[derive(Debug, Clone, Default)]
pub struct ReadAt {
    pub release: Option<Release>,
    pub pinned: bool,
}

/// Runs a plan query: on the live tables together with the latest plan release (one read
/// snapshot, so the two agree), or with `?release=n` on that release rebuilt in a scratch
/// database.
pub async fn run_plan<T, F>(
    state: &AppState,
    release: Option<&str>,
    f: F,
) -> Result<(T, ReadAt), AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> diesel::QueryResult<T> + Send + 'static,
{
    let pinned = release::parse_param(release)?;
    let (pool, gate) = state.reads();
    let pool = pool.clone();
    let snapshots = state.plan_snapshots.clone();
    let admitted = gate.enter().await?;
    web::block(move || -> Result<(T, ReadAt), AppError> {
        let _admitted = admitted;
        let mut conn = pool.get()?;
        match pinned {
            None => {
                let mut snapshot = crate::db::ReadSnapshot::begin(&mut *conn)?;
                let latest = releases::latest(snapshot.conn(), releases::PLAN)?;
                let found = f(snapshot.conn())?;
                let read = ReadAt {
                    release: latest,
                    pinned: false,
                };
                Ok((found, read))
            }
            Some(n) => {
                let Some(found_release) = releases::find(&mut conn, releases::PLAN, n)? else {
                    let latest = releases::latest(&mut conn, releases::PLAN)?;
                    return Err(release::not_found(releases::PLAN, n, latest.as_ref()));
                };
                let scratch = snapshots.get(&mut conn, n)?;
                drop(conn);
                let mut scratch = scratch.lock().unwrap_or_else(|e| e.into_inner());
                let read = ReadAt {
                    release: Some(found_release),
                    pinned: true,
                };
                Ok((f(&mut scratch)?, read))
            }
        }
    })
    .await?
}

/// Runs a blocking read on actix's thread pool with a pooled connection of the read side
/// ([`AppState::reads`]).
pub async fn run<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> diesel::QueryResult<T> + Send + 'static,
{
    run_app(state, move |conn| Ok(f(conn)?)).await
}

/// Like [`run`], for functions that can fail with any API error (not found, bad parameter).
pub async fn run_app<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
{
    let (pool, gate) = state.reads();
    on(pool, gate, f).await
}

/// Like [`run_app`], on the primary database: for writes, and for reads that must see the
/// latest writes (token checks, upload records, the audit log).
pub async fn run_primary<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
{
    on(&state.pool, &state.db_gate, f).await
}

async fn on<T, F>(pool: &DbPool, gate: &DbGate, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
{
    let pool = pool.clone();
    let admitted = gate.enter().await?;
    web::block(move || -> Result<T, AppError> {
        let _admitted = admitted;
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

fn routes<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(spec::base())
        .service(utoipa_actix_web::scope("/api/v1").configure(v1::configure))
        .service(v1::health::healthz)
        .service(v1::health::readyz)
}

/// Any origin may read (the data is public; no cookies or credentials are involved), and browser
/// code may see the paging, validator and release headers. Only GET and HEAD are allowed, so no
/// other origin can send a write from a browser.
fn cors() -> actix_cors::Cors {
    use actix_web::http::header;
    actix_cors::Cors::default()
        .allow_any_origin()
        .send_wildcard()
        // The answer is the same for every origin (`*`), so caches need not split by Origin.
        .disable_vary_header()
        .allowed_methods(["GET", "HEAD"])
        .allowed_headers([
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
        ])
        .expose_headers([
            header::LINK,
            header::ETAG,
            header::LAST_MODIFIED,
            header::CONTENT_LANGUAGE,
            header::CONTENT_DISPOSITION,
            header::HeaderName::from_static("data-release"),
            header::HeaderName::from_static("x-total-count"),
            header::HeaderName::from_static("x-sample-data"),
            header::RETRY_AFTER,
            rate_limit::RATELIMIT,
            rate_limit::RATELIMIT_POLICY,
        ])
        .max_age(86_400)
}

/// The whole application: routes, docs, error bodies, compression and access log. Used by the
/// server, the tests and the `openapi` command alike.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    // The docs are registered before the /api/v1 scope, which would otherwise claim
    // /api/v1/openapi.json; the document comes from the same `routes` as the app below.
    let body_limits = limits::configure_bodies(state.limits);
    let metrics_on = state.metrics.is_some();
    let app = App::new()
        .app_data(web::Data::new(state))
        .configure(body_limits)
        .app_data(web::QueryConfig::default().error_handler(error::query_error))
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                .url("/api/v1/openapi.json", openapi())
                // No badge from the public validator: the docs work offline and the CSP allows
                // nothing from elsewhere.
                .config(utoipa_swagger_ui::Config::default().validator_url("none")),
        )
        .into_utoipa_app();
    let (app, _) = routes(app).split_for_parts();
    app.configure(crate::web::configure)
        .route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/docs/"))
                    .finish()
            }),
        )
        // Outside the OpenAPI document, like /docs; absent (404) when metrics are off.
        .configure(|cfg| {
            if metrics_on {
                cfg.route("/metrics", web::get().to(metrics::scrape));
            }
        })
        .default_service(web::to(crate::web::not_found))
        .wrap(actix_web::middleware::from_fn(guard::refuse_undecodable))
        .wrap(ErrorHandlers::new().default_handler(error::problem_json_errors))
        .wrap_fn(|mut req, srv| {
            // HEAD is GET without a body: route it as GET; the HTTP layer, which parsed the request
            // as HEAD, leaves the body out.
            if req.method() == Method::HEAD {
                req.head_mut().method = Method::GET;
            }
            srv.call(req)
        })
        .wrap(actix_web::middleware::from_fn(caching::conditional))
        .wrap(Compress::default())
        .wrap_fn(|req, srv| {
            let response = srv.call(req);
            async move { response.await.map(caching::tag_encoding) }
        })
        .wrap(actix_web::middleware::from_fn(
            security_headers::html_security_headers,
        ))
        // Before any parsing or database work; a refused request still counts against the quota.
        .wrap(actix_web::middleware::from_fn(limits::query_length))
        .wrap(actix_web::middleware::from_fn(rate_limit::rate_limit))
        .wrap(
            actix_web::middleware::DefaultHeaders::new().add(("X-Content-Type-Options", "nosniff")),
        )
        .wrap(cors())
        // Outside everything that answers (429, 304, preflights, problem+json), so each request is
        // counted once with the status the client got.
        .wrap(actix_web::middleware::from_fn(metrics::record))
        .wrap(Logger::new(r#"%a "%r" %s %b %Dms "%{User-Agent}i""#))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;

    #[actix_web::test]
    async fn the_database_gate_admits_in_turn_and_answers_503_when_full() {
        let gate = DbGate::new(1, std::time::Duration::from_millis(50));
        let first = gate.enter().await.expect("a free turn");
        assert!(
            gate.try_enter().is_none(),
            "one permit per pooled connection"
        );
        let refused = gate
            .enter()
            .await
            .expect_err("no turn while the only one is held");
        assert!(matches!(refused, AppError::AtCapacity(_)), "{refused:?}");
        assert_eq!(refused.status_code().as_u16(), 503);
        drop(first);
        assert!(gate.enter().await.is_ok(), "a released turn is given again");
    }
}
