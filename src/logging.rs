//! The process log: env_logger (level from `RUST_LOG`, default `info`) in the format chosen by
//! `--log-format`. The access log goes through `log` as well, so it follows the same format.

use std::io::Write;

use chrono::SecondsFormat;

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// env_logger's human-readable lines.
    Plain,
    /// One JSON object per line: `ts` (RFC 3339, UTC), `level`, `target`, `msg`.
    Json,
}

/// Installs the global logger; call once, after the command line is parsed.
pub fn init(format: LogFormat) {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if format == LogFormat::Json {
        builder.format(|buf, record| {
            // serde_json escapes quotes, control characters and newlines of any message, so one
            // record is always one line.
            let line = serde_json::json!({
                "ts": chrono::Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
                "level": record.level().as_str(),
                "target": record.target(),
                "msg": record.args().to_string(),
            });
            writeln!(buf, "{line}")
        });
    }
    builder.init();
}
