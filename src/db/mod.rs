//! The only module that knows there are two database backends.
//!
//! `DbConn` is a diesel `MultiConnection` over PostgreSQL and SQLite. Everything above this module
//! works with `DbConn` and portable diesel queries; backend-specific SQL (pragmas, migrations, the
//! few statements diesel's `MultiBackend` cannot express) lives here.

pub mod item_order;
pub mod items;
pub mod schema;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Advisory lock class of running uploads (any constant; names this use of the lock space).
const UPLOAD_LOCK_CLASS: i32 = 0x6f67_7570;

/// The second advisory lock key: upload ids fit in 32 bits for billions of uploads; wrapping
/// would only make two uploads share a lock.
fn upload_lock_key(id: i64) -> i32 {
    id as i32
}

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type PooledConn = PooledConnection<ConnectionManager>;

/// The r2d2 pool plus what its connection manager last learnt about the database: while the
/// database refuses connections, a checkout fails within [`OUTAGE_WAIT`] instead of waiting the
/// whole pool timeout, so an outage is a quick 503. r2d2 keeps retrying in the background and the
/// first successful connection ends the outage: the service recovers by itself.
#[derive(Clone)]
pub struct DbPool {
    pool: Pool<ConnectionManager>,
    down: Arc<AtomicBool>,
}

/// How long a checkout waits while the database is known to be unreachable (one reconnection
/// attempt fits: a refused connection fails in microseconds).
pub const OUTAGE_WAIT: Duration = Duration::from_millis(250);

/// A checkout that started before an outage was noticed looks again this often.
const CHECKOUT_SLICE: Duration = Duration::from_millis(100);

impl DbPool {
    /// A pooled connection, waiting at most the pool's connection timeout, or [`OUTAGE_WAIT`] while
    /// the database is unreachable.
    pub fn get(&self) -> Result<PooledConn, r2d2::PoolError> {
        if let Some(conn) = self.pool.try_get() {
            return Ok(conn);
        }
        if self.is_down() {
            return self.pool.get_timeout(OUTAGE_WAIT);
        }
        let deadline = Instant::now() + self.pool.connection_timeout();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.pool.get_timeout(left.min(CHECKOUT_SLICE)) {
                Ok(conn) => return Ok(conn),
                Err(e) if left <= CHECKOUT_SLICE || self.is_down() => return Err(e),
                Err(_) => {}
            }
        }
    }

    /// True after a connection attempt failed and until one succeeds.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }
}

/// The r2d2 pool itself, for anything `DbPool` does not wrap.
impl std::ops::Deref for DbPool {
    type Target = Pool<ConnectionManager>;
    fn deref(&self) -> &Self::Target {
        &self.pool
    }
}

/// Which backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A parsed `--database-url`: `postgres://…` / `postgresql://…` or `sqlite://path` / `sqlite:path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error(
        "unsupported database URL scheme in {0:?}: use postgres://user@host/db or sqlite://path/to/file.db"
    )]
    UnsupportedScheme(String),
    #[error("the SQLite path in {0:?} is empty")]
    EmptySqlitePath(String),
    #[error("in-memory SQLite ({0:?}) cannot back a connection pool: give a file path")]
    InMemorySqlite(String),
    #[error("cannot create the directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error("--read-database-url: {0}")]
    ReadReplica(String),
    #[error(
        "no database at {0}: give --database-url (or DATABASE_URL) of the server's database, or \
         create one with `opengov-api migrate` (`serve` creates it on its first start)"
    )]
    Missing(String),
    #[error(
        "the database at {0} is not migrated to this binary's schema: run `opengov-api migrate` \
         with the same --database-url"
    )]
    NotMigrated(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, DbSetupError> {
        let trimmed = url.trim();
        if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
            return Ok(Self::Postgres(trimmed.to_owned()));
        }
        let path = trimmed
            .strip_prefix("sqlite://")
            .or_else(|| trimmed.strip_prefix("sqlite:"))
            .ok_or_else(|| DbSetupError::UnsupportedScheme(url.to_owned()))?;
        if path.is_empty() {
            return Err(DbSetupError::EmptySqlitePath(url.to_owned()));
        }
        if path == ":memory:" || path.contains("mode=memory") {
            return Err(DbSetupError::InMemorySqlite(url.to_owned()));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Where the data lives, for messages: the SQLite file's absolute path, or the PostgreSQL
    /// URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => {
                let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                format!("sqlite://{}", absolute.display())
            }
            Self::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    let _ = parsed.set_password(Some("***"));
                    parsed.to_string()
                }
                _ => url.clone(),
            },
        }
    }

    /// Creates the parent directory of a SQLite file, so a first start needs no set-up.
    pub fn prepare_storage(&self) -> Result<(), DbSetupError> {
        if let Self::Sqlite(path) = self
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| DbSetupError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        Ok(())
    }
}

/// Opens connections for the pool and prepares each one for its backend.
pub struct ConnectionManager {
    url: DatabaseUrl,
    sqlite_busy_timeout_ms: u32,
    /// PostgreSQL `statement_timeout` of every connection (0: none).
    statement_timeout_ms: u64,
    down: Arc<AtomicBool>,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        let result = self.open();
        self.down.store(result.is_err(), Ordering::Relaxed);
        result
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// A connection whose server went away (libpq's transaction status turns unknown) or that
    /// was left inside a transaction is discarded instead of going back to the pool.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || r2d2::R2D2Connection::is_broken(conn)
    }
}

impl ConnectionManager {
    fn open(&self) -> Result<DbConn, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                if self.statement_timeout_ms > 0 {
                    // Bounds every read; write transactions lift it (`write_transaction`).
                    conn.batch_execute(&format!(
                        "SET statement_timeout = {}",
                        self.statement_timeout_ms
                    ))
                    .map_err(r2d2::Error::QueryError)?;
                }
                Ok(DbConn::Pg(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                // One pragma per statement, busy_timeout first (diesel's SQLite concurrency notes).
                for pragma in [
                    format!("PRAGMA busy_timeout = {};", self.sqlite_busy_timeout_ms),
                    "PRAGMA journal_mode = WAL;".to_owned(),
                    "PRAGMA synchronous = NORMAL;".to_owned(),
                    "PRAGMA foreign_keys = ON;".to_owned(),
                ] {
                    conn.batch_execute(&pragma)
                        .map_err(r2d2::Error::QueryError)?;
                }
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// Pool settings; the defaults suit one machine with a few cores.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: u32,
    /// How long a request waits for a connection before the API answers 503.
    pub connection_timeout: Duration,
    /// How long a SQLite statement waits for another connection's lock before failing as busy.
    pub sqlite_busy_timeout_ms: u32,
    /// PostgreSQL `statement_timeout` for reads (None: no limit, as for the CLI commands).
    pub statement_timeout: Option<Duration>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 8,
            connection_timeout: Duration::from_secs(3),
            sqlite_busy_timeout_ms: 5_000,
            statement_timeout: None,
        }
    }
}

/// Builds the pool without connecting, so the server starts (and `/readyz` reports 503) even when
/// the database is down; connections are opened on demand.
pub fn build_pool(url: &DatabaseUrl, options: &PoolOptions) -> DbPool {
    let down = Arc::new(AtomicBool::new(false));
    let manager = ConnectionManager {
        url: url.clone(),
        sqlite_busy_timeout_ms: options.sqlite_busy_timeout_ms,
        statement_timeout_ms: options
            .statement_timeout
            .map_or(0, |t| t.as_millis().max(1) as u64),
        down: down.clone(),
    };
    // SQLite has a single writer: a small pool avoids lock contention without losing read
    // parallelism on small machines.
    let max_size = match url.backend() {
        Backend::Sqlite => options.max_size.min(4),
        Backend::Postgres => options.max_size,
    };
    let pool = Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(options.connection_timeout)
        // No round trip per checkout: a dead connection fails its first query (503) and
        // `has_broken` drops it.
        .test_on_check_out(false)
        .build_unchecked(manager);
    DbPool { pool, down }
}

/// The pool of a read replica (`--read-database-url`), with the primary's settings. Only a
/// PostgreSQL primary has replicas: a SQLite file has none, and a replica of another backend
/// cannot hold the same data.
pub fn build_read_pool(
    primary: &DatabaseUrl,
    read_url: &str,
    options: &PoolOptions,
) -> Result<DbPool, DbSetupError> {
    let read = DatabaseUrl::parse(read_url)?;
    match (primary.backend(), read.backend()) {
        (Backend::Postgres, Backend::Postgres) => Ok(build_pool(&read, options)),
        (Backend::Sqlite, _) => Err(DbSetupError::ReadReplica(
            "a read database needs a PostgreSQL primary; SQLite has no replicas (one file \
             serves reads and writes): leave it unset"
                .into(),
        )),
        (Backend::Postgres, Backend::Sqlite) => Err(DbSetupError::ReadReplica(
            "the read database must be a PostgreSQL replica of the primary (postgres://…), \
             not SQLite"
                .into(),
        )),
    }
}

/// Database trouble that is not a bug: the API answers 503 with `Retry-After` for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    /// The connection was lost or could not be used.
    Unreachable,
    /// PostgreSQL cancelled the statement at `statement_timeout`.
    StatementTimeout,
    /// SQLite waited `busy_timeout` for another connection's lock.
    Busy,
}

/// Classifies a query error. The message texts are the servers' own (diesel exposes no SQLSTATE):
/// PostgreSQL's `query_canceled` for a statement timeout, SQLite's `SQLITE_BUSY` / `SQLITE_LOCKED`.
pub fn trouble(e: &diesel::result::Error) -> Option<Trouble> {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => Some(Trouble::Unreachable),
        Error::DatabaseError(_, info) => {
            let message = info.message();
            if message.contains("canceling statement due to statement timeout") {
                Some(Trouble::StatementTimeout)
            } else if message == "database is locked" || message == "database table is locked" {
                Some(Trouble::Busy)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A private, migrated, empty in-memory SQLite database — where an old release of the plan is
/// rebuilt to answer pinned reads with the same queries as the live data, whatever the backend.
pub fn scratch_database() -> Result<DbConn, DbSetupError> {
    let mut conn = SqliteConnection::establish(":memory:")
        .map(DbConn::Sqlite)
        .map_err(|e| DbSetupError::Migration(e.to_string()))?;
    conn.migrate()?;
    Ok(conn)
}

impl DbConn {
    /// Serialises publishers of releases until the transaction ends. SQLite already has one
    /// writer at a time (`write_transaction` begins IMMEDIATE); PostgreSQL locks the releases
    /// table against other publishers while readers go on.
    pub fn lock_publishing(&mut self) -> QueryResult<()> {
        match self {
            Self::Pg(conn) => conn.batch_execute("LOCK TABLE releases IN SHARE ROW EXCLUSIVE MODE"),
            Self::Sqlite(_) => Ok(()),
        }
    }

    /// Marks this session as running upload `id` (PostgreSQL: a session advisory lock, freed
    /// when the connection ends, even by a crash). SQLite has one server process, so there is
    /// nothing to mark: every `running` upload found at start was interrupted.
    pub fn hold_upload_lock(&mut self, id: i64) -> QueryResult<()> {
        match self {
            Self::Pg(conn) => conn.batch_execute(&format!(
                "SELECT pg_advisory_lock({UPLOAD_LOCK_CLASS}, {})",
                upload_lock_key(id)
            )),
            Self::Sqlite(_) => Ok(()),
        }
    }

    pub fn free_upload_lock(&mut self, id: i64) -> QueryResult<()> {
        match self {
            Self::Pg(conn) => conn.batch_execute(&format!(
                "SELECT pg_advisory_unlock({UPLOAD_LOCK_CLASS}, {})",
                upload_lock_key(id)
            )),
            Self::Sqlite(_) => Ok(()),
        }
    }

    /// True when no live session runs upload `id` (its process died). SQLite has one server
    /// process: at its start every running upload was abandoned, later none can be known to be.
    pub fn upload_abandoned(&mut self, id: i64, at_start: bool) -> QueryResult<bool> {
        match self {
            Self::Pg(conn) => {
                #[derive(QueryableByName)]
                struct Taken {
                    #[diesel(sql_type = diesel::sql_types::Bool)]
                    taken: bool,
                }
                let key = upload_lock_key(id);
                let got: Taken = diesel::sql_query(format!(
                    "SELECT pg_try_advisory_lock({UPLOAD_LOCK_CLASS}, {key}) AS taken"
                ))
                .get_result(conn)?;
                if got.taken {
                    conn.batch_execute(&format!(
                        "SELECT pg_advisory_unlock({UPLOAD_LOCK_CLASS}, {key})"
                    ))?;
                }
                Ok(got.taken)
            }
            Self::Sqlite(_) => Ok(at_start),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Pg(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Applies every pending migration of this connection's backend; returns how many ran.
    pub fn migrate(&mut self) -> Result<usize, DbSetupError> {
        let applied = match self {
            Self::Pg(conn) => conn
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len()),
            Self::Sqlite(conn) => {
                // Table rebuilds in SQLite migrations need foreign keys off while they run.
                conn.batch_execute("PRAGMA foreign_keys = OFF;")
                    .map_err(|e| DbSetupError::Migration(e.to_string()))?;
                let result = conn
                    .run_pending_migrations(SQLITE_MIGRATIONS)
                    .map(|v| v.len());
                conn.batch_execute("PRAGMA foreign_keys = ON;")
                    .map_err(|e| DbSetupError::Migration(e.to_string()))?;
                result
            }
        };
        applied.map_err(|e| DbSetupError::Migration(e.to_string()))
    }

    /// True when the schema is at the version this binary was built with.
    pub fn migrations_current(&mut self) -> Result<bool, DbSetupError> {
        let pending = match self {
            Self::Pg(conn) => conn.has_pending_migration(POSTGRES_MIGRATIONS),
            Self::Sqlite(conn) => conn.has_pending_migration(SQLITE_MIGRATIONS),
        };
        pending
            .map(|p| !p)
            .map_err(|e| DbSetupError::Migration(e.to_string()))
    }

    /// Runs `f` in a write transaction. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`) so a long import never fails half-way on a lock upgrade.
    pub fn write_transaction<T, E>(
        &mut self,
        f: impl FnOnce(&mut DbConn) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        match self {
            Self::Sqlite(_) => {
                self.batch_execute("BEGIN IMMEDIATE")?;
                match f(self) {
                    Ok(value) => {
                        if let Err(e) = self.batch_execute("COMMIT") {
                            // A failed COMMIT (disk full, busy) can leave the transaction open;
                            // this connection goes back to the pool, so end it here.
                            let _ = self.batch_execute("ROLLBACK");
                            return Err(e.into());
                        }
                        Ok(value)
                    }
                    Err(e) => {
                        // The original error matters more than a failed rollback.
                        let _ = self.batch_execute("ROLLBACK");
                        Err(e)
                    }
                }
            }
            // Imports and other writes run as long as their data needs: the read statement
            // timeout is lifted for this transaction only.
            Self::Pg(_) => self.transaction(|conn| {
                conn.batch_execute("SET LOCAL statement_timeout = 0")?;
                f(conn)
            }),
        }
    }
}

/// A read-only snapshot on a connection: every query until it ends sees the same data, so an
/// export streamed in many batches is consistent even if an import commits meanwhile. Rolled back
/// when dropped.
pub struct ReadSnapshot<C: std::ops::DerefMut<Target = DbConn>> {
    conn: C,
}

impl<C: std::ops::DerefMut<Target = DbConn>> ReadSnapshot<C> {
    pub fn begin(mut conn: C) -> QueryResult<Self> {
        let begin = match conn.backend() {
            // Deferred: the snapshot is taken by the first read and kept until the end.
            Backend::Sqlite => "BEGIN",
            Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        conn.batch_execute(begin)?;
        Ok(Self { conn })
    }

    pub fn conn(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

impl<C: std::ops::DerefMut<Target = DbConn>> Drop for ReadSnapshot<C> {
    fn drop(&mut self) {
        // Nothing was written; ending the transaction only releases the snapshot.
        if let Err(e) = self.conn.batch_execute("ROLLBACK") {
            log::warn!("ending a read snapshot failed: {e}");
        }
    }
}

/// Opens a pool and migrates the database (the `migrate` command and SQLite first start).
/// Opens a database that must already exist at the current schema (for the commands that work
/// on a server's data), so a mistyped or missing `--database-url` is refused, naming the place,
/// instead of quietly creating an empty database there.
pub fn connect_existing(url: &DatabaseUrl, options: &PoolOptions) -> Result<DbPool, DbSetupError> {
    if let DatabaseUrl::Sqlite(path) = url
        && !path.is_file()
    {
        return Err(DbSetupError::Missing(url.describe()));
    }
    let pool = build_pool(url, options);
    let mut conn = pool.get()?;
    if !conn.migrations_current()? {
        return Err(DbSetupError::NotMigrated(url.describe()));
    }
    drop(conn);
    Ok(pool)
}

pub fn connect_and_migrate(
    url: &DatabaseUrl,
    options: &PoolOptions,
) -> Result<(DbPool, usize), DbSetupError> {
    url.prepare_storage()?;
    // Migrations are long writes: they run without the read statement timeout.
    let unlimited = PoolOptions {
        statement_timeout: None,
        ..options.clone()
    };
    let pool = build_pool(url, &unlimited);
    let mut conn = pool.get()?;
    let applied = conn.migrate()?;
    let old =
        items::unversioned_tables(&mut conn).map_err(|e| DbSetupError::Migration(e.to_string()))?;
    if !old.is_empty() {
        return Err(DbSetupError::Migration(format!(
            "item tables {} predate releases and cannot be versioned in place; start from a new \
             database (remove the SQLite file, or drop and recreate the PostgreSQL database), \
             then load-fixtures and re-import",
            old.join(", ")
        )));
    }
    drop(conn);
    if options.statement_timeout.is_some() {
        return Ok((build_pool(url, options), applied));
    }
    Ok((pool, applied))
}
