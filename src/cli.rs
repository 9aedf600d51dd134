//! The command line: `serve` (default), `migrate`, `load-fixtures`, `openapi`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::api::{self, AppState};
use crate::db::{self, Backend, DatabaseUrl, PoolOptions};
use crate::models::fixture_set::FixtureSet;
use crate::models::fixtures;
use crate::models::registries::{self, import};

#[derive(Debug, Parser)]
#[command(
    name = "opengov-api",
    version,
    about = "Open-data API of an OGP Local action plan",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of `serve`, which runs when no command is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default command).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Replace the plan data and the fixture registries with the fixtures (idempotent) and exit.
    LoadFixtures(LoadFixturesArgs),
    /// Publish a CSV or GeoJSON file as the next release of a registry's items (all or nothing;
    /// only the differences are stored) and exit.
    Import(ImportArgs),
    /// Delete change-feed events of releases older than a release id (releases and pinned reads
    /// stay); clients with older cursors then get 410 with a restart point.
    PruneChanges(PruneChangesArgs),
    /// Create or update a registry from its `registry.toml` (passport and schema) and exit. A
    /// changed schema rebuilds the (empty) items table, and is refused once releases exist.
    DefineRegistry(DefineRegistryArgs),
    /// Print the OpenAPI document (JSON) and exit.
    Openapi,
    /// Ask a running server's /readyz; exit 0 when ready (container health checks, no curl needed).
    Probe(ProbeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    /// Address of the server to ask.
    #[arg(long, env = "PROBE_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Path to ask.
    #[arg(long, default_value = "/readyz")]
    pub path: String,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// `sqlite://path/to/file.db` or `postgres://user@host:port/db`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/opengov.db")]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct LoadFixturesArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Fixtures directory (with `plan/` and `registries/`); default: the copy built into the
    /// binary.
    #[arg(long, env = "FIXTURES_DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct DefineRegistryArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Path of the registry.toml (format: fixtures/registries/FORMAT.md).
    pub definition: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct PruneChangesArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Keep the events of this release (its `id` in any release list) and every later one.
    #[arg(long)]
    pub keep_from: i64,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The registry's slug (see /api/v1/registries).
    pub registry: String,
    /// A .csv (comma or semicolon, UTF-8 with or without BOM) or .geojson file.
    pub file: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Worker threads (default: one per CPU core).
    #[arg(long, env = "WORKERS")]
    pub workers: Option<usize>,
    /// Largest number of database connections (SQLite uses at most 4).
    #[arg(long, env = "POOL_SIZE", default_value_t = 8)]
    pub pool_size: u32,
    /// Seconds a request waits for a database connection before answering 503.
    #[arg(long, env = "DB_TIMEOUT_SECS", default_value_t = 3)]
    pub db_timeout_secs: u64,
    /// PostgreSQL statement timeout of every read, in milliseconds (0: none); a cancelled query is
    /// answered 503. Write transactions (imports) are exempt.
    #[arg(long, env = "STATEMENT_TIMEOUT_MS", default_value_t = 10_000)]
    pub statement_timeout_ms: u64,
    /// How long a SQLite statement waits for another connection's lock, in milliseconds, before
    /// the request is answered 503.
    #[arg(long, env = "SQLITE_BUSY_TIMEOUT_MS", default_value_t = 5_000)]
    pub sqlite_busy_timeout_ms: u32,
    /// Also migrate a PostgreSQL database on start (SQLite is always migrated and, when empty,
    /// loaded with the fixtures).
    #[arg(
        long,
        env = "MIGRATE_ON_START",
        value_parser = clap::builder::BoolishValueParser::new(),
        action = clap::ArgAction::SetTrue
    )]
    pub migrate: bool,
    /// Fixtures directory for a first start (with `plan/` and `registries/`); default: the
    /// built-in copy.
    #[arg(long, env = "FIXTURES_DIR")]
    pub fixtures_dir: Option<PathBuf>,
}

/// Errors of the CLI, printed as one clear message.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Database(#[from] db::DbSetupError),
    #[error(transparent)]
    Fixtures(#[from] fixtures::FixtureError),
    #[error(transparent)]
    Import(#[from] import::ImportError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("{0}")]
    Other(String),
}

fn load_fixtures(dir: Option<&PathBuf>) -> Result<FixtureSet, CliError> {
    Ok(match dir {
        Some(dir) => FixtureSet::read_dir(dir)?,
        None => FixtureSet::embedded()?,
    })
}

pub fn migrate(args: &DatabaseArgs) -> Result<(), CliError> {
    let url = DatabaseUrl::parse(&args.database_url)?;
    let (_, applied) = db::connect_and_migrate(&url, &PoolOptions::default())?;
    log::info!("{applied} migration(s) applied; schema is current");
    Ok(())
}

pub fn load(args: &LoadFixturesArgs) -> Result<(), CliError> {
    let url = DatabaseUrl::parse(&args.database.database_url)?;
    let fixtures = load_fixtures(args.dir.as_ref())?;
    let (pool, _) = db::connect_and_migrate(&url, &PoolOptions::default())?;
    let mut conn = pool.get().map_err(db::DbSetupError::from)?;
    let summary = fixtures.load(&mut conn)?;
    log::info!(
        "fixtures loaded: {}",
        serde_json::to_string(&summary).unwrap_or_default()
    );
    Ok(())
}

pub fn define_registry(args: &DefineRegistryArgs) -> Result<(), CliError> {
    let text = std::fs::read_to_string(&args.definition)?;
    let refused = |problems: Vec<String>| {
        CliError::Other(format!(
            "the registry definition was refused:\n  - {}",
            problems.join("\n  - ")
        ))
    };
    let definition = registries::definition::parse(&args.definition.display().to_string(), &text)
        .map_err(refused)?;
    let url = DatabaseUrl::parse(&args.database.database_url)?;
    let (pool, _) = db::connect_and_migrate(&url, &PoolOptions::default())?;
    let mut conn = pool.get().map_err(db::DbSetupError::from)?;
    conn.write_transaction(|conn| -> Result<(), CliError> {
        definition.store(conn).map_err(refused)
    })?;
    log::info!("registry {} defined", definition.slug());
    Ok(())
}

pub fn prune_changes(args: &PruneChangesArgs) -> Result<(), CliError> {
    let url = DatabaseUrl::parse(&args.database.database_url)?;
    let (pool, _) = db::connect_and_migrate(&url, &PoolOptions::default())?;
    let mut conn = pool.get().map_err(db::DbSetupError::from)?;
    let deleted = crate::models::releases::prune_changes(&mut conn, args.keep_from)
        .map_err(|e| CliError::Other(e.to_string()))?;
    log::info!(
        "{deleted} change event(s) before release id {} deleted",
        args.keep_from
    );
    Ok(())
}

pub fn import_items(args: &ImportArgs) -> Result<(), CliError> {
    let url = DatabaseUrl::parse(&args.database.database_url)?;
    let (pool, _) = db::connect_and_migrate(&url, &PoolOptions::default())?;
    let mut conn = pool.get().map_err(db::DbSetupError::from)?;
    let registry = registries::find_schema(&mut conn, &args.registry)
        .map_err(|e| CliError::Other(e.to_string()))?
        .ok_or_else(|| {
            CliError::Other(format!(
                "no registry {:?}; see /api/v1/registries",
                args.registry
            ))
        })?;
    let started = std::time::Instant::now();
    let summary = import::import_file(&mut conn, &registry, &args.file, import::Publish::Always)?;
    let seconds = started.elapsed().as_secs_f64();
    log::info!(
        "imported {} rows into {} in {seconds:.1} s ({:.0} rows/s)",
        summary.rows,
        summary.registry,
        summary.rows as f64 / seconds.max(1e-9)
    );
    Ok(())
}

pub fn print_openapi() -> Result<(), CliError> {
    let json = api::openapi()
        .to_pretty_json()
        .map_err(|e| CliError::Other(e.to_string()))?;
    println!("{json}");
    Ok(())
}

/// GETs `path` from the server at `addr` and succeeds on HTTP 200.
pub fn probe(args: &ProbeArgs) -> Result<(), CliError> {
    use std::io::{Read, Write};
    let timeout = Duration::from_secs(5);
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&args.addr)?
        .next()
        .ok_or_else(|| CliError::Other(format!("cannot resolve {}", args.addr)))?;
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        args.path, args.addr
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    match &head[9..12] {
        b"200" => Ok(()),
        status => Err(CliError::Other(format!(
            "{}{} answered HTTP {}",
            args.addr,
            args.path,
            String::from_utf8_lossy(status)
        ))),
    }
}

pub async fn serve(args: ServeArgs) -> Result<(), CliError> {
    let url = DatabaseUrl::parse(&args.database.database_url)?;
    let options = PoolOptions {
        max_size: args.pool_size.max(1),
        connection_timeout: Duration::from_secs(args.db_timeout_secs.max(1)),
        sqlite_busy_timeout_ms: args.sqlite_busy_timeout_ms,
        statement_timeout: (args.statement_timeout_ms > 0)
            .then(|| Duration::from_millis(args.statement_timeout_ms)),
    };
    let pool = if url.backend() == Backend::Sqlite || args.migrate {
        let (pool, applied) = db::connect_and_migrate(&url, &options)?;
        if applied > 0 {
            log::info!("{applied} migration(s) applied");
        }
        if url.backend() == Backend::Sqlite {
            let mut conn = pool.get().map_err(db::DbSetupError::from)?;
            if fixtures::is_empty(&mut conn).map_err(|e| CliError::Other(e.to_string()))? {
                let summary = load_fixtures(args.fixtures_dir.as_ref())?.load(&mut conn)?;
                log::info!(
                    "first start: fixtures loaded: {}",
                    serde_json::to_string(&summary).unwrap_or_default()
                );
            }
        }
        pool
    } else {
        // PostgreSQL deployments migrate as a release step; /readyz reports a stale schema.
        db::build_pool(&url, &options)
    };
    let state = AppState::new(pool, url.backend());
    let mut server =
        actix_web::HttpServer::new(move || api::build_app(state.clone())).shutdown_timeout(30);
    if let Some(workers) = args.workers {
        server = server.workers(workers.max(1));
    }
    let server = server.bind(&args.bind)?;
    log::info!(
        "serving on http://{} ({:?}); docs at /docs/",
        args.bind,
        url.backend()
    );
    server.run().await?;
    Ok(())
}
