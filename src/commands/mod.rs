//! Wiring only: each subcommand resolves settings, runs the stages and renders.

pub mod explain;
pub mod fix;
pub mod lint;
pub mod live;
pub mod lsp;
pub mod queries;
pub mod trace;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::analysis::Mode;
use crate::cli::{Cli, ColorChoice, Command, SharedArgs};
use crate::config::{self, FailOn, Settings};
use crate::error::Error;
use crate::render::{RenderOptions, SourceLinks};
use crate::source::changes::{self, Compare};
use crate::source::discover::{self, DiscoverOptions, Discovered, MigrationFile};

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
        Command::Live(args) => live::run(args),
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
fn read_schema(
    shared: &SharedArgs,
    options: &DiscoverOptions,
) -> Result<Vec<MigrationFile>, Error> {
    if shared.schema.is_empty() {
        return Ok(Vec::new());
    }
    let found = discover::discover(&shared.schema, options);
    match found.errors.first() {
        Some(error) => Err(Error::Usage(format!("--schema: {error}"))),
        None => Ok(found.files),
    }
}

/// The files to check, and the context replayed before them: `--schema`, then with `--diff` or
/// `--staged` the unchanged migrations (deployed already, so their tables exist). Query files
/// create nothing, so in `queries` the unchanged ones are simply not checked.
pub fn read_inputs(
    paths: &[PathBuf],
    shared: &SharedArgs,
    options: &DiscoverOptions,
    mode: Mode,
) -> Result<(Vec<MigrationFile>, Discovered), Error> {
    let mut context = read_schema(shared, options)?;
    let compare = match (&shared.changes.diff, shared.changes.staged) {
        (Some(base), _) => Compare::Since(base.clone()),
        (None, true) => Compare::Staged,
        (None, false) => return Ok((context, discover::discover(paths, options))),
    };
    let selection = changes::select(paths, &compare, options)?;
    if shared.verbose {
        for note in &selection.notes {
            eprintln!("pgrisk: note: {note}");
        }
    }
    let changed = selection.changed.files.len();
    let plural = if changed == 1 { "" } else { "s" };
    let summary = match mode {
        Mode::Migrations => {
            let unchanged = selection.context.len();
            context.extend(selection.context);
            format!(
                "{changed} changed migration file{plural} {}; {unchanged} other{} replayed as \
                 already deployed",
                selection.against,
                if unchanged == 1 { "" } else { "s" }
            )
        }
        Mode::Queries => format!("{changed} changed query file{plural} {}", selection.against),
    };
    if !shared.quiet {
        eprintln!("pgrisk: {summary}");
    }
    Ok((context, selection.changed))
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
        links: source_links(|k| std::env::var(k).ok().filter(|v| !v.is_empty())),
    }
}

/// GitHub Actions' repository and commit, for links in markdown output. `PGRISK_LINK_SHA`
/// wins over `GITHUB_SHA`, which is a merge commit on `pull_request` runs.
fn source_links(env: impl Fn(&str) -> Option<String>) -> Option<SourceLinks> {
    Some(SourceLinks {
        server: env("GITHUB_SERVER_URL")?,
        repository: env("GITHUB_REPOSITORY")?,
        commit: env("PGRISK_LINK_SHA").or_else(|| env("GITHUB_SHA"))?,
    })
}
