//! The command line: `serve` (default) and the other commands, their flags and environment
//! variables (the config file and the option table are derived from these in `config`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::api;
use crate::app::{self, AppState};
use crate::db::{self, Backend, DatabaseUrl, PoolOptions};
use crate::logging::LogFormat;
use crate::middleware::limits::{self, Limits};
use crate::middleware::rate_limit::{ClientIpSource, RateLimitConfig, RateLimits};
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
    /// Log lines as plain text or as one JSON object per line (`ts`, `level`, `target`, `msg`);
    /// the level comes from `RUST_LOG` (default `info`).
    #[arg(long, env = "LOG_FORMAT", global = true, value_enum, default_value_t = LogFormat::Plain)]
    pub log_format: LogFormat,
    /// A TOML file of options: keys are the long flag names (`pool-size = 8`); a flag or an
    /// environment variable wins over the file. Every command reads `database-url` from it.
    #[arg(long, env = "OPENGOV_CONFIG", global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default command).
    Serve(Box<ServeArgs>),
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
    /// Create, list or revoke API tokens of the write API.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print the OpenAPI document (JSON) and exit.
    Openapi,
    /// Ask a running server's /readyz; exit 0 when ready (container health checks, no curl needed).
    Probe(ProbeArgs),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once (only its SHA-256 is stored).
    Create(TokenCreateArgs),
    /// List tokens (ids, names, scopes, dates; never the secret).
    List(DatabaseArgs),
    /// Revoke a token by id (`tok_…`); it stops working at once.
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct TokenCreateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Who holds the token (a person or a department); shown in the audit log.
    #[arg(long)]
    pub name: String,
    /// Scopes, comma-separated: admin, plan:write, registries:publish, registry:<slug>:publish.
    #[arg(long)]
    pub scope: String,
}

#[derive(Debug, Clone, Args)]
pub struct TokenRevokeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The token's id (`tok_…`, from `token list`).
    pub id: String,
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
    /// `sqlite://path/to/file.db` (or `sqlite:path`) or `postgres://user@host:port/db` (or
    /// `postgresql://…`); in-memory SQLite is refused.
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
    /// Accept a file without items (a CSV with only its header line, a FeatureCollection with
    /// no features): this removes every item of the registry.
    #[arg(long)]
    pub allow_empty: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// A PostgreSQL read replica of the primary (`postgres://…`): public reads go there, writes,
    /// token checks, upload records and the audit log stay on the primary. Same pool settings.
    /// A replica lags: a read right after a write may not show it yet (see `Data-Release`).
    #[arg(long, env = "READ_DATABASE_URL")]
    pub read_database_url: Option<String>,
    /// Serve Prometheus metrics at /metrics (`--metrics false`: off, 404).
    #[arg(
        long,
        env = "METRICS",
        default_value_t = true,
        num_args = 0..=1,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub metrics: bool,
    /// HTTP worker threads (default: one per CPU core).
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
    /// Largest registry upload accepted, in bytes (413 beyond).
    #[arg(long, env = "MAX_UPLOAD_BYTES", default_value_t = 100 * 1024 * 1024)]
    pub max_upload_bytes: u64,
    /// Most data rows an uploaded registry file may have (422 beyond).
    #[arg(long, env = "MAX_UPLOAD_ROWS", default_value_t = 1_000_000)]
    pub max_upload_rows: u64,
    /// Directory where uploads are spooled before import (default: the system's temp dir).
    #[arg(long, env = "UPLOAD_DIR")]
    pub upload_dir: Option<PathBuf>,
    /// Requests per minute from one client IP (IPv6: one /64), a burst of that many refilled
    /// evenly; beyond it 429 with Retry-After. 0 turns it off.
    #[arg(long, env = "RATE_LIMIT_PER_MINUTE", default_value_t = 600)]
    pub rate_limit_per_minute: u32,
    /// Requests per minute with one bearer token, counted in addition to the per-IP limit.
    /// 0 turns it off.
    #[arg(long, env = "TOKEN_RATE_LIMIT_PER_MINUTE", default_value_t = 600)]
    pub token_rate_limit_per_minute: u32,
    /// Client address of the per-IP limit: `peer` (the TCP connection), or the last entry of
    /// `x-forwarded-for` / `forwarded` — only behind a proxy that sets it and that clients
    /// cannot bypass, since anyone else can write these headers.
    #[arg(long, env = "CLIENT_IP_FROM", value_enum, default_value_t = ClientIpSource::Peer)]
    pub client_ip_from: ClientIpSource,
    /// Largest request body read by JSON, form and raw-body extractors (413 beyond).
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = limits::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Longest query string in bytes, as sent (414 beyond).
    #[arg(long, env = "MAX_QUERY_BYTES", default_value_t = limits::DEFAULT_MAX_QUERY_BYTES)]
    pub max_query_bytes: usize,
    /// On SIGTERM, seconds in-flight requests get to finish before their connections are
    /// closed (SIGINT and SIGQUIT stop at once).
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
    /// Background tiles of the registry maps: an XYZ URL template with {z}, {x} and {y}
    /// (optionally {s}); `none` draws the items on a blank map. The pages' Content-Security-Policy
    /// allows images from this server only.
    #[arg(long, env = "MAP_TILES_URL", default_value = crate::app::DEFAULT_TILES_URL)]
    pub map_tiles_url: String,
    /// Attribution the tile server requires, shown on the map.
    #[arg(long, env = "MAP_TILES_ATTRIBUTION", default_value = crate::app::DEFAULT_TILES_ATTRIBUTION)]
    pub map_tiles_attribution: String,
    /// Name of who runs this instance: the DCAT catalog's publisher, and the publisher of every
    /// dataset whose data names none (default: "Operator of the opengov-api service at <the
    /// public base URL>").
    #[arg(long, env = "OPERATOR_NAME")]
    pub operator_name: Option<String>,
    /// The operator's home page (http or https), in the catalog; with it or `--operator-email`,
    /// the catalog states a contact point for the datasets whose data names none.
    #[arg(long, env = "OPERATOR_URL")]
    pub operator_url: Option<String>,
    /// E-mail address for questions about the data, the catalog's contact point (none is stated
    /// without it or `--operator-url`).
    #[arg(long, env = "OPERATOR_EMAIL")]
    pub operator_email: Option<String>,
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
    log::info!(
        "{applied} migration(s) applied to {}; schema is current",
        url.describe()
    );
    Ok(())
}

pub fn load(args: &LoadFixturesArgs) -> Result<(), CliError> {
    let url = DatabaseUrl::parse(&args.database.database_url)?;
    let fixtures = load_fixtures(args.dir.as_ref())?;
    let pool = db::connect_existing(&url, &PoolOptions::default())?;
    let mut conn = pool.get().map_err(db::DbSetupError::from)?;
    let summary = fixtures.load(&mut conn)?;
    log::info!(
        "fixtures loaded into {}: {}",
        url.describe(),
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
    let pool = db::connect_existing(&url, &PoolOptions::default())?;
    let mut conn = pool.get().map_err(db::DbSetupError::from)?;
    conn.write_transaction(|conn| -> Result<(), CliError> {
        definition.store(conn).map_err(refused)
    })?;
    log::info!(
        "registry {} defined in {}",
        definition.slug(),
        url.describe()
    );
    Ok(())
}

pub fn prune_changes(args: &PruneChangesArgs) -> Result<(), CliError> {
    let url = DatabaseUrl::parse(&args.database.database_url)?;
    let pool = db::connect_existing(&url, &PoolOptions::default())?;
    let mut conn = pool.get().map_err(db::DbSetupError::from)?;
    let deleted = crate::models::releases::prune_changes(&mut conn, args.keep_from)
        .map_err(|e| CliError::Other(e.to_string()))?;
    log::info!(
        "{deleted} change event(s) before release id {} deleted from {}",
        args.keep_from,
        url.describe()
    );
    Ok(())
}

pub fn import_items(args: &ImportArgs) -> Result<(), CliError> {
    let url = DatabaseUrl::parse(&args.database.database_url)?;
    let pool = db::connect_existing(&url, &PoolOptions::default())?;
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
    let summary = import::import_file(
        &mut conn,
        &registry,
        &args.file,
        import::Publish::Always,
        args.allow_empty,
    )
    .map_err(|e| match e {
        import::ImportError::Empty { registry, items } => CliError::Other(format!(
            "import refused, nothing changed: {}; to remove every item deliberately, run the \
             import again with --allow-empty",
            import::empty_file_message(&registry, items)
        )),
        other => CliError::Import(other),
    })?;
    let seconds = started.elapsed().as_secs_f64();
    log::info!(
        "imported {} rows into {} of {} in {seconds:.1} s ({:.0} rows/s)",
        summary.rows,
        summary.registry,
        url.describe(),
        summary.rows as f64 / seconds.max(1e-9)
    );
    Ok(())
}

/// Uploads left `running` by a process that died are recorded as interrupted (their import
/// transaction was rolled back with the process, so the previous release stands).
/// Item tables made by an older version get the indexes this one creates.
fn ensure_item_indexes(pool: &db::DbPool) {
    let ensured = pool
        .get()
        .map_err(|e| e.to_string())
        .and_then(|mut conn| registries::ensure_indexes(&mut conn).map_err(|e| e.to_string()));
    match ensured {
        Ok(0) => {}
        Ok(n) => log::info!("{n} index(es) added to registry item tables"),
        Err(e) => log::warn!("could not check registry item indexes: {e}"),
    }
}

fn sweep_interrupted_uploads(pool: &db::DbPool) {
    let swept = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
        crate::models::uploads::mark_interrupted(&mut conn, true).map_err(|e| e.to_string())
    });
    match swept {
        Ok(0) => {}
        Ok(n) => log::warn!("{n} upload(s) were interrupted by a stop; recorded as interrupted"),
        // A PostgreSQL schema not migrated yet: /readyz says so; nothing to sweep.
        Err(e) => log::warn!("could not check for interrupted uploads: {e}"),
    }
}

pub fn token(command: &TokenCommand) -> Result<(), CliError> {
    use crate::models::tokens;
    let database = match command {
        TokenCommand::Create(a) => &a.database,
        TokenCommand::List(a) => a,
        TokenCommand::Revoke(a) => &a.database,
    };
    let url = DatabaseUrl::parse(&database.database_url)?;
    let pool = db::connect_existing(&url, &PoolOptions::default())?;
    let mut conn = pool.get().map_err(db::DbSetupError::from)?;
    match command {
        TokenCommand::Create(args) => {
            let scopes = tokens::parse_scopes(&args.scope).map_err(CliError::Other)?;
            let (info, secret) = conn.write_transaction(|conn| -> Result<_, CliError> {
                let created = tokens::create(conn, &args.name, &scopes).map_err(CliError::Other)?;
                crate::models::audit::record(
                    conn,
                    crate::models::audit::Record {
                        actor: "cli",
                        action: "token.create",
                        target: &format!("tokens/{}", created.0.id),
                        before: None,
                        after: Some(
                            serde_json::json!({"name": created.0.name, "scopes": created.0.scopes}),
                        ),
                        release_id: None,
                    },
                )?;
                Ok(created)
            })?;
            eprintln!(
                "token {} for {:?} with scopes {} in {}; it is shown only now, store it safely:",
                info.id,
                info.name,
                info.scopes,
                url.describe()
            );
            println!("{secret}");
        }
        TokenCommand::List(_) => {
            for t in tokens::list(&mut conn)? {
                let state = t
                    .revoked_at
                    .map_or_else(|| "active".to_owned(), |at| format!("revoked {at}"));
                println!(
                    "{}	{}	{}	created {}	{state}",
                    t.id, t.name, t.scopes, t.created_at
                );
            }
        }
        TokenCommand::Revoke(args) => {
            let revoked = conn.write_transaction(|conn| -> Result<bool, CliError> {
                let revoked = tokens::revoke(conn, &args.id)?;
                if revoked {
                    crate::models::audit::record(
                        conn,
                        crate::models::audit::Record {
                            actor: "cli",
                            action: "token.revoke",
                            target: &format!("tokens/{}", args.id),
                            before: None,
                            after: None,
                            release_id: None,
                        },
                    )?;
                }
                Ok(revoked)
            })?;
            if !revoked {
                return Err(CliError::Other(format!("no active token {:?}", args.id)));
            }
            log::info!("token {} revoked in {}", args.id, url.describe());
        }
    }
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
    // Refused before any database is touched.
    let operator = crate::models::catalog::Operator::new(
        args.operator_name.clone(),
        args.operator_url.clone(),
        args.operator_email.clone(),
    )
    .map_err(CliError::Other)?;
    let options = PoolOptions {
        max_size: args.pool_size.max(1),
        connection_timeout: Duration::from_secs(args.db_timeout_secs.max(1)),
        sqlite_busy_timeout_ms: args.sqlite_busy_timeout_ms,
        statement_timeout: (args.statement_timeout_ms > 0)
            .then(|| Duration::from_millis(args.statement_timeout_ms)),
    };
    // Refused before anything touches the primary.
    let read_pool = args
        .read_database_url
        .as_deref()
        .map(|read| db::build_read_pool(&url, read, &options))
        .transpose()?;
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
    sweep_interrupted_uploads(&pool);
    ensure_item_indexes(&pool);
    let mut state = AppState::new(pool, url.backend()).with_uploads(app::UploadLimits {
        max_bytes: args.max_upload_bytes,
        max_rows: args.max_upload_rows,
        dir: args.upload_dir.clone(),
    });
    if let Some(read_pool) = read_pool {
        state = state.with_read_pool(read_pool);
        log::info!("reads go to the read database (--read-database-url); writes to the primary");
    }
    if !args.metrics {
        state.metrics = None;
    }
    let rate_limits = RateLimitConfig {
        per_ip_per_minute: args.rate_limit_per_minute,
        per_token_per_minute: args.token_rate_limit_per_minute,
        client_ip: args.client_ip_from,
    };
    state.web = app::WebOptions {
        map_tiles: match args.map_tiles_url.as_str() {
            "none" | "" => None,
            url => Some(
                app::MapTiles::parse(url, &args.map_tiles_attribution).map_err(CliError::Other)?,
            ),
        },
    };
    state.operator = operator;
    // One set of limiters for all workers, so a client's quota does not multiply by them.
    state.rate_limits = RateLimits::new(&rate_limits).map(std::sync::Arc::new);
    state.limits = Limits {
        max_body_bytes: args.max_body_bytes,
        max_query_bytes: args.max_query_bytes,
    };
    log::info!(
        "rate limits per minute: {} per IP (from {:?}), {} per token (0 = off); \
         body <= {} bytes, query <= {} bytes; SIGTERM lets requests finish for up to {} s",
        rate_limits.per_ip_per_minute,
        rate_limits.client_ip,
        rate_limits.per_token_per_minute,
        args.max_body_bytes,
        args.max_query_bytes,
        args.shutdown_timeout_secs
    );
    let mut server = actix_web::HttpServer::new(move || crate::server::build_app(state.clone()))
        .shutdown_timeout(args.shutdown_timeout_secs);
    if let Some(workers) = args.workers {
        server = server.workers(workers.max(1));
    }
    let server = server.bind(&args.bind)?;
    log::info!(
        "serving on http://{} ({:?}); docs at /docs/",
        args.bind,
        url.backend()
    );
    // Returns after a graceful SIGTERM shutdown (every worker done or timed out), so the
    // process exits 0.
    server.run().await?;
    log::info!("server stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve_args(args: &[&str]) -> ServeArgs {
        let cli = Cli::try_parse_from(["opengov-api", "serve"].iter().chain(args)).unwrap();
        match cli.command {
            Some(Command::Serve(args)) => *args,
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn metrics_are_on_unless_turned_off_and_the_read_database_is_optional() {
        assert!(serve_args(&["--metrics"]).metrics);
        assert!(serve_args(&["--metrics", "true"]).metrics);
        assert!(!serve_args(&["--metrics", "false"]).metrics);
        assert!(!serve_args(&["--metrics=off"]).metrics);
        assert!(Cli::try_parse_from(["opengov-api", "serve", "--metrics=maybe"]).is_err());
        let read = "postgres://reader@replica/opengov";
        assert_eq!(
            serve_args(&["--read-database-url", read])
                .read_database_url
                .as_deref(),
            Some(read)
        );
    }
}
