//! Command-line interface (clap derive). Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::render::Format;

#[derive(Debug, Parser)]
#[command(name = "pgrisk", version, about = "PostgreSQL risk linter and migration guard", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint SQL migrations: files, directories (in migration order), or - for stdin
    Lint(LintArgs),
    /// Lint application SQL (one query per statement; sqlc `-- name:` files too)
    Queries(QueriesArgs),
    /// Run migrations on a disposable PostgreSQL (or --dsn, rolled back) and report the locks
    /// and rewrites each statement really takes, beside pgrisk's prediction
    Trace(TraceArgs),
    /// Read-only audit of a running database (ideally a replica): sessions, locks, indexes,
    /// sequences, vacuum, replication and pg_stat_statements, judged by the database rules
    Live(LiveArgs),
    /// Print a rule's documentation
    Explain {
        /// Rule name, e.g. create-index-blocking
        rule: String,
    },
    /// List every rule with its category and default severity
    Rules {
        #[arg(long, value_enum, default_value = "human")]
        format: RulesFormat,
    },
    /// Language server on stdio: diagnostics as you type, hover docs, quick fixes
    Lsp {
        /// Accepted for clients that pass it; stdio is the only transport
        #[arg(long)]
        stdio: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RulesFormat {
    Human,
    Json,
}

/// Which migrations to read.
#[derive(Debug, Args)]
pub struct MigrationArgs {
    /// Migration files or directories (run in migration order); - reads standard input
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Migration framework, instead of detecting it per file
    #[arg(long)]
    pub framework: Option<String>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub input: MigrationArgs,
    /// Treat plain .sql files without BEGIN as running inside one transaction
    #[arg(long)]
    pub assume_in_transaction: bool,
    /// Apply the safe fixes to the files (standard input: print the fixed SQL), then report
    /// the findings that remain
    #[arg(long)]
    pub fix: bool,
    /// Print the safe fixes as a unified diff and write nothing (implies --fix)
    #[arg(long, visible_alias = "dry-run")]
    pub diff_only: bool,
    /// Table sizes from `pgrisk live --export-stats`: findings on large tables stay errors with
    /// an estimated lock duration, on small ones they drop to info
    #[arg(long, value_name = "FILE", conflicts_with = "dsn")]
    pub stats: Option<PathBuf>,
    // --dsn: sizes read live (read-only), and who holds a lock the migration would wait for
    #[command(flatten)]
    pub connection: ConnectArgs,
    #[command(flatten)]
    pub shared: SharedArgs,
}

#[derive(Debug, Args)]
pub struct QueriesArgs {
    /// Query files or directories; - reads standard input
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub shared: SharedArgs,
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    #[command(flatten)]
    pub input: MigrationArgs,
    /// Directory with initdb, pg_ctl and postgres (default: PGRISK_PG_BIN_DIRS, PATH, /usr/lib/postgresql)
    #[arg(long)]
    pub pg_bin: Option<PathBuf>,
    /// Trace on this server instead, inside one transaction that is always rolled back
    #[arg(long)]
    pub dsn: Option<String>,
    /// With --dsn: skip statements that cannot run in a transaction instead of refusing
    #[arg(long, requires = "dsn")]
    pub allow_non_transactional: bool,
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    pub format: TraceFormat,
    /// Target PostgreSQL major version for the predictions (default: the server's)
    #[arg(long)]
    pub pg_version: Option<u32>,
    /// Fill every table the migrations create with N generated rows, so scans and rewrites show
    #[arg(long, default_value_t = 0)]
    pub rows: u64,
}

/// How to reach a user's server, with libpq's conventions.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Connection string: `key=value ...` or a postgres:// URL; what it leaves out comes from
    /// PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, ... and ~/.pgpass
    #[arg(long)]
    pub dsn: Option<String>,
    /// Give up connecting after this many seconds (a server starting up is retried until then)
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub connect_timeout: u64,
    /// statement_timeout of the session, in milliseconds: a slower check is skipped with a note
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub statement_timeout: u64,
    /// lock_timeout of the session, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub lock_timeout: u64,
}

impl ConnectArgs {
    /// The read-only session every audit runs in, with these timeouts.
    pub fn read_only_session(&self) -> crate::pg::connect::SessionOptions {
        use std::time::Duration;
        crate::pg::connect::SessionOptions {
            statement_timeout: Duration::from_millis(self.statement_timeout),
            lock_timeout: Duration::from_millis(self.lock_timeout),
            connect_timeout: Duration::from_secs(self.connect_timeout),
            ..crate::pg::connect::SessionOptions::read_only()
        }
    }
}

#[derive(Debug, Args)]
pub struct LiveArgs {
    #[command(flatten)]
    pub connection: ConnectArgs,
    /// Also write table sizes, row estimates, columns and indexes as JSON for `lint --stats`
    #[arg(long, value_name = "FILE")]
    pub export_stats: Option<PathBuf>,
    #[command(flatten)]
    pub shared: SharedArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    Human,
    Json,
    Markdown,
}

/// Options every analysing subcommand shares.
#[derive(Debug, Args)]
pub struct SharedArgs {
    /// Configuration file (default: pgrisk.toml found walking up from the current directory)
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Ignore any pgrisk.toml
    #[arg(long, global = true, conflicts_with = "config")]
    pub no_config: bool,
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Exit with 1 when a finding at or above this severity remains: error, warning, info, never
    #[arg(long)]
    pub fail_on: Option<String>,
    /// Only these rules (comma-separated)
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules (comma-separated)
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Target PostgreSQL major version (default 16)
    #[arg(long)]
    pub pg_version: Option<u32>,
    /// Schemas unqualified names are looked up in, comma-separated (default: public)
    #[arg(long, value_name = "SCHEMAS")]
    pub search_path: Option<String>,
    /// Schema DDL (migrations or a pg_dump --schema-only file) replayed as the existing database
    #[arg(long, value_delimiter = ',')]
    pub schema: Vec<PathBuf>,
    /// Colour: auto (terminal and no NO_COLOR), always, never
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// Only print findings, no summary
    #[arg(short, long)]
    pub quiet: bool,
    /// Also run sqlparser on every statement and list those it rejects (parse coverage)
    #[arg(short, long)]
    pub verbose: bool,
    #[command(flatten)]
    pub changes: ChangeArgs,
}

/// Which files to report, from git: the others are replayed as the existing database.
#[derive(Debug, Args)]
pub struct ChangeArgs {
    /// Report only files added or changed since git ref BASE (its merge base with HEAD),
    /// compared with the work tree; unchanged migrations are replayed as already deployed
    #[arg(long, value_name = "BASE", conflicts_with = "staged")]
    pub diff: Option<String>,
    /// Report only files staged for commit (index vs HEAD), read from the index (pre-commit)
    #[arg(long)]
    pub staged: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
