//! Wiring only: each subcommand resolves settings, runs the stages and renders.

pub mod explain;
pub mod lint;
pub mod lsp;
pub mod queries;
pub mod trace;

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::cli::{Cli, ColorChoice, Command, SharedArgs};
use crate::config::{self, FailOn, Settings};
use crate::error::Error;
use crate::render::RenderOptions;

pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// 2 when an input could not be read, else 1 when findings reach `--fail-on`, else 0.
pub fn exit_code(input_errors: bool, findings_fail: bool) -> u8 {
    match (input_errors, findings_fail) {
        (true, _) => EXIT_ERROR,
        (false, true) => EXIT_FINDINGS,
        (false, false) => EXIT_CLEAN,
    }
}

pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Lint(args) => lint::run(args),
        Command::Queries(args) => queries::run(args),
        Command::Trace(args) => trace::run(args),
        Command::Explain { rule } => explain::explain(&rule),
        Command::Rules { format } => explain::list(format),
        Command::Lsp { stdio: _ } => lsp::run(),
    }
}

/// defaults < pgrisk.toml < PGRISK_* environment < flags.
pub fn resolve_settings(shared: &SharedArgs) -> Result<Settings, Error> {
    let mut settings = Settings::default();
    let path = match (&shared.config, shared.no_config) {
        (_, true) => None,
        (Some(path), false) => Some(path.clone()),
        (None, false) => std::env::current_dir()
            .ok()
            .and_then(|d| config::find_config(&d)),
    };
    if let Some(path) = path {
        let file = config::load_file(&path)?;
        settings.apply_file(file, &path)?;
    }
    settings.apply_env(|k| std::env::var(k).ok())?;
    let usage = |m: String| Error::Usage(m);
    if let Some(v) = shared.pg_version {
        settings.pg_version = config::check_pg_version(v).map_err(usage)?;
    }
    if let Some(v) = &shared.search_path {
        settings.search_path = crate::analysis::SearchPath::parse(v);
    }
    if let Some(v) = &shared.fail_on {
        settings.fail_on = FailOn::parse(v).ok_or_else(|| {
            usage(format!(
                "--fail-on: `{v}` is not one of error, warning, info, never"
            ))
        })?;
    }
    if !shared.select.is_empty() {
        settings.select = config::check_rule_names(&shared.select, "--select").map_err(usage)?;
    }
    if !shared.ignore.is_empty() {
        settings.ignore = config::check_rule_names(&shared.ignore, "--ignore").map_err(usage)?;
    }
    Ok(settings)
}

/// `--schema` files, read like migrations (in migration order when a directory is given).
pub fn read_schema(
    shared: &SharedArgs,
    options: &crate::source::discover::DiscoverOptions,
) -> Result<Vec<crate::source::MigrationFile>, Error> {
    if shared.schema.is_empty() {
        return Ok(Vec::new());
    }
    let found = crate::source::discover::discover(&shared.schema, options);
    match found.errors.first() {
        Some(error) => Err(Error::Usage(format!("--schema: {error}"))),
        None => Ok(found.files),
    }
}

pub fn render_options(shared: &SharedArgs) -> RenderOptions {
    let color = match shared.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    RenderOptions {
        color,
        width: if color { 120 } else { 100 },
        verbose: shared.verbose,
        quiet: shared.quiet,
    }
}
