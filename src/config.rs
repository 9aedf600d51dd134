//! The optional configuration file (`--config`, `OPENGOV_CONFIG`) and the reference table of
//! every option (docs/CONFIGURATION.md), both derived from clap's definition of the command line.
//!
//! The file is TOML whose keys are the long names of the top-level (`serve`) options. It is applied
//! by setting each option's environment variable when that variable is not already set, before
//! clap parses: clap stays the only parser and validator, and the precedence flag > environment >
//! file > default follows from clap's own flag > environment > default.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, CommandFactory, Parser};
use toml::Spanned;

use crate::cli::Cli;

/// Top-level arguments that are not options of the file.
const NOT_IN_FILE: [&str; 3] = ["help", "version", "config"];

/// A configuration file that cannot be used, with the file, the key and the line when known.
#[derive(Debug, thiserror::Error)]
#[error("config file {}: {message}", path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

/// Finds `--config` / `OPENGOV_CONFIG` and applies that file to the environment; returns the file
/// and the keys it set (the others were overridden by the environment).
///
/// Must run before any other thread starts: it sets environment variables.
pub fn apply_from_command_line() -> Result<Option<(PathBuf, Applied)>, ConfigError> {
    // A first parse only to find the file. If it fails (a typo, --help), the real parse that
    // follows reports it: the file can only supply options that have defaults anyway.
    let Some(path) = Cli::try_parse().ok().and_then(|cli| cli.config) else {
        return Ok(None);
    };
    let applied = apply_file(&path)?;
    Ok(Some((path, applied)))
}

/// Reads `path` and sets the environment variable of each option it names, unless set already.
/// Every key and value is checked first, so a refused file changes nothing.
pub fn apply_file(path: &Path) -> Result<Applied, ConfigError> {
    let fail = |message: String| ConfigError {
        path: path.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let entries: BTreeMap<Spanned<String>, Spanned<toml::Value>> =
        toml::from_str(&text).map_err(|e| fail(e.to_string().trim_end().to_owned()))?;
    let mut entries: Vec<_> = entries.into_iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);

    let mut command = Cli::command();
    command.build();
    let mut settings = Vec::new();
    for (key, value) in &entries {
        let line = line_of(&text, key.span().start);
        let at = |message: String| fail(format!("line {line}: {message}"));
        let name = key.get_ref();
        let arg = file_options(&command)
            .find(|arg| arg.get_long() == Some(name))
            .ok_or_else(|| at(unknown_key(&command, name)))?;
        let env = arg
            .get_env()
            .and_then(|e| e.to_str())
            .ok_or_else(|| at(format!("key {name:?} has no environment variable to set")))?;
        let value = scalar(value.get_ref()).ok_or_else(|| {
            at(format!(
                "key {name:?}: expected a string, a number or a boolean, not {}",
                value.get_ref().type_str()
            ))
        })?;
        check_value(arg, &value).map_err(|e| at(format!("key {name:?}: {e}")))?;
        settings.push((name.clone(), env.to_owned(), value));
    }

    let mut applied = Applied::default();
    for (name, env, value) in settings {
        if std::env::var_os(&env).is_none() {
            // SAFETY: called from main before the logger, the runtime or any other thread
            // exists, so nothing reads the environment concurrently.
            unsafe { std::env::set_var(&env, &value) };
            applied.set.push(name);
        } else {
            applied.overridden.push(name);
        }
    }
    Ok(applied)
}

/// What a file did: keys it set, and keys whose environment variable was already set (a flag
/// may still override either).
#[derive(Debug, Default)]
pub struct Applied {
    pub set: Vec<String>,
    pub overridden: Vec<String>,
}

impl std::fmt::Display for Applied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |keys: &[String]| {
            if keys.is_empty() {
                "none".to_owned()
            } else {
                keys.join(", ")
            }
        };
        write!(f, "set {}", list(&self.set))?;
        if !self.overridden.is_empty() {
            write!(f, "; left to the environment: {}", list(&self.overridden))?;
        }
        Ok(())
    }
}

/// The options a file may set: every top-level argument but help, version and config itself.
fn file_options(command: &clap::Command) -> impl Iterator<Item = &Arg> {
    command
        .get_arguments()
        .filter(|arg| !NOT_IN_FILE.contains(&arg.get_id().as_str()) && arg.get_long().is_some())
}

fn unknown_key(command: &clap::Command, name: &str) -> String {
    if name == "config" {
        return "\"config\" cannot name another file: one file is read".to_owned();
    }
    let dashed = name.replace('_', "-");
    if dashed != name && file_options(command).any(|a| a.get_long() == Some(dashed.as_str())) {
        return format!("unknown key {name:?}; did you mean {dashed:?}?");
    }
    format!(
        "unknown key {name:?}; keys are the long names of serve's options (docs/CONFIGURATION.md)"
    )
}

/// The value as the environment variable would carry it.
fn scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Runs the option's own value parser on `value`, so a bad value is refused with the file's line
/// instead of later as an unattributed environment variable.
fn check_value(arg: &Arg, value: &str) -> Result<(), String> {
    // Switches (`--migrate`) take no value on the command line but parse one from the
    // environment; a value-taking copy with the same parser checks both kinds alike.
    let probe = Arg::new("value")
        .long("value")
        .action(ArgAction::Set)
        .value_parser(arg.get_value_parser().clone());
    clap::Command::new("config")
        .no_binary_name(true)
        .arg(probe)
        // `--value=…` keeps a value like "-1" from being taken for a flag.
        .try_get_matches_from([format!("--value={value}")])
        .map(|_| ())
        .map_err(|e| {
            let text = e.to_string();
            // clap's first line: "error: invalid value 'x' for '--value <value>': reason".
            let first = text.lines().next().unwrap_or_default();
            let reason = first.rsplit_once("': ").map_or(first, |(_, r)| r);
            let possible: Vec<_> = arg
                .get_possible_values()
                .iter()
                .map(|p| p.get_name().to_owned())
                .collect();
            if possible.is_empty() {
                format!("{value:?} is not accepted: {reason}")
            } else {
                format!("{value:?} is not one of {}", possible.join(", "))
            }
        })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The Markdown table of every top-level option: flag, environment variable, file key, default
/// and meaning, from clap's metadata (docs/CONFIGURATION.md embeds it).
pub fn options_table() -> String {
    let mut command = Cli::command();
    command.build();
    let mut out = String::from(
        "| Flag | Environment variable | Config-file key | Default | Meaning |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if ["help", "version"].contains(&long) {
            continue;
        }
        let env = arg
            .get_env()
            .map_or("—".to_owned(), |e| format!("`{}`", e.to_string_lossy()));
        let key = if NOT_IN_FILE.contains(&arg.get_id().as_str()) {
            "—".to_owned()
        } else {
            format!("`{long}`")
        };
        let defaults: Vec<_> = arg
            .get_default_values()
            .iter()
            .map(|v| format!("`{}`", v.to_string_lossy()))
            .collect();
        let default = if defaults.is_empty() {
            "—".to_owned()
        } else {
            defaults.join(", ")
        };
        let mut meaning = arg.get_help().map(ToString::to_string).unwrap_or_default();
        // clap drops the final period of a one-sentence doc comment; a table cell wants it back.
        if !meaning.is_empty() && !meaning.ends_with('.') {
            meaning.push('.');
        }
        let possible: Vec<_> = arg
            .get_possible_values()
            .iter()
            .filter(|p| !p.is_hide_set())
            .map(|p| format!("`{}`", p.get_name()))
            .collect();
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            meaning.push_str(
                " A switch: the flag takes no value; the variable and the file take `true` or \
                 `false` (also `1`/`0`, `yes`/`no`, `on`/`off`).",
            );
        } else if !possible.is_empty() {
            let _ = write!(meaning, " One of {}.", possible.join(", "));
        }
        let _ = writeln!(
            out,
            "| `--{long}` | {env} | {key} | {default} | {} |",
            meaning.trim().replace('|', "\\|")
        );
    }
    out
}
