//! The application: the state every worker shares (pools, gates, caches, settings) and how a
//! handler runs a model function on a pooled connection. Used by `api` and `web` alike; knows
//! neither, nor the server that mounts them.

mod caches;
mod gate;
mod web_options;

pub use caches::{ItemCounts, PlanSnapshots};
pub use gate::DbGate;
pub use web_options::{DEFAULT_TILES_ATTRIBUTION, DEFAULT_TILES_URL, MapTiles, WebOptions};

use std::sync::Arc;

use actix_web::web;

use crate::db::{Backend, DbConn, DbPool, PooledConn};
use crate::error::AppError;
use crate::middleware::limits::Limits;
use crate::middleware::metrics::{Metrics, PoolReading};
use crate::middleware::rate_limit::RateLimits;
use crate::models::catalog::Operator;
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
    pub rate_limits: Option<Arc<RateLimits>>,
    pub limits: Limits,
    /// Settings of the web pages under `/`.
    pub web: WebOptions,
    /// Who runs this instance: the catalog's publisher and contact (`--operator-*`).
    pub operator: Operator,
    /// Prometheus metrics (`/metrics`); `None` turns them off.
    pub metrics: Option<Arc<Metrics>>,
}

/// A read-only copy of the database (a PostgreSQL streaming replica) and its own gate.
#[derive(Clone)]
pub struct Replica {
    pub pool: DbPool,
    pub gate: DbGate,
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

/// The plan release a response was read from, and whether the request pinned it.
#[derive(Debug, Clone, Default)]
pub struct ReadAt {
    pub release: Option<Release>,
    pub pinned: bool,
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
            limits: Limits::default(),
            uploads: UploadLimits::default(),
            web: WebOptions::default(),
            operator: Operator::default(),
            metrics: Some(Arc::new(Metrics::new())),
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

    /// Runs `f` on a pooled connection of the read side ([`AppState::reads`]): on actix's
    /// blocking pool, after its turn at that pool's gate.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        E: Into<AppError>,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let (pool, gate) = self.reads();
        on(pool, gate, f).await
    }

    /// Like [`AppState::read`], on the primary database: for writes, and for reads that must see
    /// the latest writes (token checks, upload records, the audit log).
    pub async fn on_primary<T, E, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        E: Into<AppError>,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        on(&self.pool, &self.db_gate, f).await
    }

    /// Runs a plan query on the read side: on the live tables together with the latest plan
    /// release (one read snapshot, so the two agree), or, `pinned` to a release, on that release
    /// rebuilt in a scratch database.
    pub async fn read_plan<T, E, F>(
        &self,
        pinned: Option<i64>,
        f: F,
    ) -> Result<(T, ReadAt), AppError>
    where
        T: Send + 'static,
        E: Into<AppError>,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let snapshots = self.plan_snapshots.clone();
        self.read(move |conn| -> Result<(T, ReadAt), AppError> {
            match pinned {
                None => {
                    let mut snapshot = crate::db::ReadSnapshot::begin(conn)?;
                    let latest = releases::latest(snapshot.conn(), releases::PLAN)?;
                    let found = f(snapshot.conn()).map_err(Into::into)?;
                    let read = ReadAt {
                        release: latest,
                        pinned: false,
                    };
                    Ok((found, read))
                }
                Some(n) => {
                    let found_release = releases::find_numbered(conn, releases::PLAN, n)?;
                    let scratch = snapshots.get(conn, n)?;
                    let mut scratch = scratch.lock().unwrap_or_else(|e| e.into_inner());
                    let read = ReadAt {
                        release: Some(found_release),
                        pinned: true,
                    };
                    Ok((f(&mut scratch).map_err(Into::into)?, read))
                }
            }
        })
        .await
    }

    /// Like [`AppState::read`], but keeps the connection and the turn at the gate after `f`:
    /// a streamed export goes on reading from them, so an outage is a 503 before any byte.
    pub async fn read_and_hold<T, E, F>(&self, f: F) -> Result<(T, HeldConnection), AppError>
    where
        T: Send + 'static,
        E: Into<AppError>,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let (pool, gate) = self.reads();
        hold(pool, gate, f).await
    }

    /// A dataset's latest release if a turn at the read pool is free now (for optional work,
    /// like the early 304 check); `None` also when the database cannot say.
    pub async fn latest_release_now(&self, dataset: String) -> Option<Release> {
        let (pool, gate) = self.reads();
        let admitted = gate.try_enter()?;
        let pool = pool.clone();
        web::block(move || {
            let _admitted = admitted;
            let mut conn = pool.get().ok()?;
            releases::latest(&mut conn, &dataset).ok()?
        })
        .await
        .ok()?
    }

    /// Each pool and its gate as they are now (for `/metrics`).
    pub fn pool_readings(&self) -> Vec<PoolReading> {
        let reading = |name, pool: &DbPool, gate: &DbGate| {
            let r2d2 = pool.state();
            PoolReading {
                name,
                max: pool.max_size(),
                open: r2d2.connections,
                idle: r2d2.idle_connections,
                gate_available: gate.available(),
                gate_waiting: gate.waiting(),
                gate_refused: gate.refused(),
            }
        };
        let mut pools = vec![reading("primary", &self.pool, &self.db_gate)];
        if let Some(replica) = &self.replica {
            pools.push(reading("read", &replica.pool, &replica.gate));
        }
        pools
    }
}

/// A pooled connection together with its turn at the gate; both are given back when it drops.
pub struct HeldConnection {
    pub conn: PooledConn,
    /// Held, never read: dropping it gives the turn back.
    _admitted: tokio::sync::OwnedSemaphorePermit,
}

/// Runs `f` with a connection of `pool` on actix's blocking pool, after its turn at `gate`; the
/// turn is held until the connection is given back, right after `f`.
async fn on<T, E, F>(pool: &DbPool, gate: &DbGate, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    E: Into<AppError>,
    F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
{
    let (found, _given_back) = hold(pool, gate, f).await?;
    Ok(found)
}

/// [`on`], keeping the connection and the turn after `f`. The turn travels into the blocking
/// closure, so a request dropped while `f` runs still counts until the connection is free.
async fn hold<T, E, F>(pool: &DbPool, gate: &DbGate, f: F) -> Result<(T, HeldConnection), AppError>
where
    T: Send + 'static,
    E: Into<AppError>,
    F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
{
    let pool = pool.clone();
    let admitted = gate.enter().await?;
    web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        let found = f(&mut conn).map_err(Into::into)?;
        Ok((
            found,
            HeldConnection {
                conn,
                _admitted: admitted,
            },
        ))
    })
    .await?
}
