//! Stage 1 of the pipeline: the paths a user gave → an ordered list of migration files.
//!
//! Each file learns which runner executes it (forced by the caller, or detected from its
//! annotations and then its name and layout), which byte ranges are its "up" migration, and how
//! that runner wraps it in a transaction. Transaction-sensitive rules hang on that last fact, so
//! every runner's default and opt-out is one row of [`TX_FACTS`], with the place it was confirmed.
//! Files from a directory are ordered by the runner's version rule (numbers numerically, Flyway
//! versions as dotted versions, repeatables last), never by plain string order. Inputs are read
//! defensively: the size limit is checked before reading, binary and non-UTF-8 input is refused
//! with a message that says where, and one bad input never hides the others.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Read};
use std::ops::Range;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

/// Display name for text read from standard input.
const STDIN_NAME: &str = "<stdin>";

/// Directories a walk never enters: build output and vendored packages hold no migrations.
const SKIP_DIRS: &[&str] = &["target", "node_modules"];

/// Sidecar files (diesel `metadata.toml`, Flyway `.sql.conf`) larger than this are ignored.
const SIDECAR_LIMIT: u64 = 64 * 1024;

/// The migration runner that executes a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framework {
    Plain,
    GolangMigrate,
    Goose,
    SqlMigrate,
    Dbmate,
    Sqlx,
    Diesel,
    Flyway,
    Prisma,
}

impl Framework {
    /// Every framework, in the order `--help` lists them.
    pub const ALL: &'static [Framework] = &[
        Framework::Plain,
        Framework::GolangMigrate,
        Framework::Goose,
        Framework::SqlMigrate,
        Framework::Dbmate,
        Framework::Sqlx,
        Framework::Diesel,
        Framework::Flyway,
        Framework::Prisma,
    ];

    /// The name used by `--framework`, the config file and the JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Plain => "plain",
            Framework::GolangMigrate => "golang-migrate",
            Framework::Goose => "goose",
            Framework::SqlMigrate => "sql-migrate",
            Framework::Dbmate => "dbmate",
            Framework::Sqlx => "sqlx",
            Framework::Diesel => "diesel",
            Framework::Flyway => "flyway",
            Framework::Prisma => "prisma",
        }
    }

    /// Parses a name case-insensitively; `migrate` and `golang_migrate` are accepted too.
    pub fn from_name(s: &str) -> Option<Framework> {
        let s = s.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .or_else(|| {
                ["migrate", "golang_migrate"]
                    .iter()
                    .any(|alias| alias.eq_ignore_ascii_case(s))
                    .then_some(Framework::GolangMigrate)
            })
    }
}

/// How the runner executes the file, which decides transaction-sensitive rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    /// Each statement autocommits unless the file itself says BEGIN/COMMIT.
    Autocommit,
    /// The runner wraps the whole file in one transaction (explicit BEGIN inside is nesting).
    Wrapped,
    /// The whole file is sent as one multi-statement simple query: PostgreSQL runs it as one
    /// implicit transaction, so CONCURRENTLY fails unless it is the file's only statement.
    ImplicitMulti,
}

/// One migration file, read and classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    /// The path as given or discovered (display path); stdin is `<stdin>`.
    pub path: PathBuf,
    /// The whole file text, unchanged. It may start with a UTF-8 BOM (U+FEFF), which is kept so
    /// byte offsets match the file; the splitter should treat it as whitespace.
    pub text: String,
    pub framework: Framework,
    pub tx: TxMode,
    /// Byte ranges of `text` that are the "up" migration (whole text for single-direction
    /// files). For goose/dbmate files only the Up section; annotation lines are outside.
    pub up: Vec<Range<usize>>,
    /// goose `-- +goose StatementBegin` … `-- +goose StatementEnd` blocks: byte ranges that the
    /// statement splitter must treat as ONE statement (semicolons inside do not split).
    pub statement_blocks: Vec<Range<usize>>,
    /// Why `tx` was chosen, for `-v` output, e.g. "goose: -- +goose NO TRANSACTION; …".
    pub tx_reason: String,
}

/// What `discover` needs from the command line and the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverOptions {
    /// Forced by `--framework` or config; `None` detects per file.
    pub framework: Option<Framework>,
    /// Plain `.sql` files without their own BEGIN are treated as [`TxMode::Wrapped`].
    pub assume_in_transaction: bool,
    /// Larger files are an error and are not read.
    pub max_file_bytes: u64,
    /// Glob patterns (`*`, `**`, `?`) on the path relative to a directory argument (or on the
    /// path as displayed). A pattern without `/` matches any one path component, as in
    /// `.gitignore`. Files named explicitly are not filtered, as in ripgrep and ruff.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        DiscoverOptions {
            framework: None,
            assume_in_transaction: false,
            max_file_bytes: 32 * 1024 * 1024,
            include: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

/// Why one input could not be used; each message is one line that names the path.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{}: no such file or directory", .path.display())]
    NotFound { path: PathBuf },
    #[error("{}: not valid UTF-8 (first bad byte at line {line}, byte offset {offset}); invalid bytes were replaced", .path.display())]
    InvalidUtf8 {
        path: PathBuf,
        line: usize,
        offset: usize,
    },
    #[error("{}: looks like a binary file (NUL byte at offset {offset})", .path.display())]
    Binary { path: PathBuf, offset: usize },
    #[error("{}: file is UTF-16 encoded; save it as UTF-8", .path.display())]
    Utf16 { path: PathBuf },
    #[error("{}: file is too large ({} > {} limit; raise max-file-size)", .path.display(), human_size(.size), human_size(.limit))]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    /// Stdin, or a file that grew after its size was checked: the full size is unknown.
    #[error("{}: input is larger than the {} limit; raise max-file-size", .path.display(), human_size(.limit))]
    InputTooLarge { path: PathBuf, limit: u64 },
    #[error("{}: directory contains no .sql migrations", .path.display())]
    NoMigrations { path: PathBuf },
    #[error("{}: bad include/exclude pattern: {error}", .path.display())]
    Pattern {
        path: PathBuf,
        error: globset::Error,
    },
    #[error("{}: {error}", .path.display())]
    Io { path: PathBuf, error: io::Error },
}

impl SourceError {
    /// The input the error is about.
    pub fn path(&self) -> &Path {
        match self {
            SourceError::NotFound { path }
            | SourceError::InvalidUtf8 { path, .. }
            | SourceError::Binary { path, .. }
            | SourceError::Utf16 { path }
            | SourceError::TooLarge { path, .. }
            | SourceError::InputTooLarge { path, .. }
            | SourceError::NoMigrations { path }
            | SourceError::Pattern { path, .. }
            | SourceError::Io { path, .. } => path,
        }
    }
}

/// Everything found: usable files in run order, and the inputs that could not be used.
#[derive(Debug, Default)]
pub struct Discovered {
    pub files: Vec<MigrationFile>,
    pub errors: Vec<SourceError>,
    /// Problems that did not stop a file from being linted (invalid UTF-8, read lossily).
    pub warnings: Vec<SourceError>,
    /// Whether a migrations directory belongs to a sqlx project, looked up once per directory
    /// (three `stat`s per file otherwise).
    pub(crate) sqlx_dirs: HashMap<PathBuf, bool>,
    /// Files read so far, by device and inode: a file reached twice (named and inside a named
    /// directory, or through a symlink) is linted once, without resolving every path.
    pub(crate) seen: HashSet<(u64, u64)>,
}

// ---------------------------------------------------------------------------------------------
// Transaction facts

/// What a runner does with a file by default, and what its in-file (or sidecar) opt-out turns
/// that into.
struct TxFacts {
    framework: Framework,
    default: TxMode,
    default_why: &'static str,
    opt_out: Option<OptOut>,
}

struct OptOut {
    /// The opt-out as the user writes it.
    marker: &'static str,
    mode: TxMode,
    why: &'static str,
}

const TX_FACTS: &[TxFacts] = &[
    // psql -f and hand-run scripts: AUTOCOMMIT is on by default (psql docs), so a file runs as written.
    TxFacts {
        framework: Framework::Plain,
        default: TxMode::Autocommit,
        default_why: "no runner transaction; statements autocommit unless the file says BEGIN",
        opt_out: None,
    },
    // golang-migrate database/postgres runs the whole file in one Exec (PR golang-migrate/migrate#495, issue #284); x-multi-statement lives in the DSN, invisible here.
    TxFacts {
        framework: Framework::GolangMigrate,
        default: TxMode::ImplicitMulti,
        default_why: "the postgres driver sends the whole file as one query (one implicit transaction) unless the DSN sets x-multi-statement",
        opt_out: None,
    },
    // pressly/goose migration_sql.go: BeginTx + one ExecContext per statement; NO TRANSACTION runs them one by one on the DB (goose docs, "annotations").
    TxFacts {
        framework: Framework::Goose,
        default: TxMode::Wrapped,
        default_why: "each migration runs in its own transaction",
        opt_out: Some(OptOut {
            marker: "-- +goose NO TRANSACTION",
            mode: TxMode::Autocommit,
            why: "statements run one by one outside a transaction",
        }),
    },
    // rubenv/sql-migrate migrate.go: PlanMigration takes Queries = Up and DisableTransaction = DisableTransactionUp;
    // ApplyMigrations begins one transaction per migration and Execs each statement in it, or runs them on the DB
    // when disabled; sqlparse/sqlparse.go sets it from the `notransaction` option of `-- +migrate Up`.
    TxFacts {
        framework: Framework::SqlMigrate,
        default: TxMode::Wrapped,
        default_why: "each migration's Up statements run in one transaction",
        opt_out: Some(OptOut {
            marker: "-- +migrate Up notransaction",
            mode: TxMode::Autocommit,
            why: "statements run one by one outside a transaction",
        }),
    },
    // amacneil/dbmate pkg/dbmate/migration.go (transaction option); issues #126, #182, #285: with transaction:false the section is still one Exec.
    TxFacts {
        framework: Framework::Dbmate,
        default: TxMode::Wrapped,
        default_why: "each migration runs in its own transaction",
        opt_out: Some(OptOut {
            marker: "-- migrate:up transaction:false",
            mode: TxMode::ImplicitMulti,
            why: "the up section is still sent as one query, an implicit transaction",
        }),
    },
    // launchbadge/sqlx sqlx-postgres/src/migrate.rs apply(): begin() unless no_tx; no_tx = sql.starts_with("-- no-transaction"); execute(sql) is one simple query.
    TxFacts {
        framework: Framework::Sqlx,
        default: TxMode::Wrapped,
        default_why: "each migration runs in its own transaction",
        opt_out: Some(OptOut {
            marker: "-- no-transaction",
            mode: TxMode::ImplicitMulti,
            why: "the file is still sent as one simple query, an implicit transaction",
        }),
    },
    // diesel_migrations file_based_migrations.rs: run_in_transaction defaults to true (docs.diesel.rs MigrationMetadata); up.sql goes through batch_execute, one simple query.
    TxFacts {
        framework: Framework::Diesel,
        default: TxMode::Wrapped,
        default_why: "each migration runs in its own transaction",
        opt_out: Some(OptOut {
            marker: "metadata.toml run_in_transaction = false",
            mode: TxMode::ImplicitMulti,
            why: "up.sql is still sent by batch_execute as one simple query, an implicit transaction",
        }),
    },
    // Redgate docs "Flyway Execute In Transaction Setting" (default true; script config) and Flyway 6.1.0 notes (<script>.sql.conf); PostgreSQLParser also opts out by itself for CONCURRENTLY & co.
    TxFacts {
        framework: Framework::Flyway,
        default: TxMode::Wrapped,
        default_why: "each migration runs in its own transaction",
        opt_out: Some(OptOut {
            marker: ".sql.conf executeInTransaction=false",
            mode: TxMode::Autocommit,
            why: "statements run one by one outside a transaction",
        }),
    },
    // prisma-engines postgres apply_migration_script: client.simple_query(script); prisma issue #14456: CONCURRENTLY works only alone in a migration.
    TxFacts {
        framework: Framework::Prisma,
        default: TxMode::ImplicitMulti,
        default_why: "migrate sends migration.sql as one simple query, an implicit transaction",
        opt_out: None,
    },
];

fn tx_facts(framework: Framework) -> &'static TxFacts {
    TX_FACTS
        .iter()
        .find(|f| f.framework == framework)
        .unwrap_or(&TX_FACTS[0])
}

// ---------------------------------------------------------------------------------------------
// Public entry points

/// Reads and classifies `paths` in argument order; a directory contributes its migrations in
/// the runners' version order. `-` reads standard input.
pub fn discover(paths: &[PathBuf], opts: &DiscoverOptions) -> Discovered {
    let mut out = Discovered::default();
    for path in paths {
        if path.as_os_str() == "-" {
            let stdin = Path::new(STDIN_NAME);
            match read_limited(stdin, io::stdin().lock(), opts.max_file_bytes, 0) {
                Ok((text, warning)) => {
                    out.warnings.extend(warning);
                    out.files.push(from_text(stdin.to_path_buf(), text, opts));
                }
                Err(e) => out.errors.push(e),
            }
            continue;
        }
        match fs::metadata(path) {
            Err(e) => out.errors.push(io_error(path, e)),
            Ok(meta) if meta.is_dir() => discover_dir(path, opts, &mut out),
            Ok(_) => load(path, opts, &mut out),
        }
    }
    out
}

/// For text not from disk (stdin, editor buffers): detect framework, transaction mode and up
/// ranges from the name and the text. Sidecars beside a real path (diesel `metadata.toml`,
/// Flyway `<file>.sql.conf`) are consulted when present.
pub fn from_text(path: PathBuf, text: String, opts: &DiscoverOptions) -> MigrationFile {
    from_text_in(path, text, opts, &mut HashMap::new())
}

/// [`from_text`] with the sqlx-project answers of earlier files of the same run.
fn from_text_in(
    path: PathBuf,
    text: String,
    opts: &DiscoverOptions,
    sqlx_dirs: &mut HashMap<PathBuf, bool>,
) -> MigrationFile {
    let path = if path.as_os_str() == "-" {
        PathBuf::from(STDIN_NAME)
    } else {
        path
    };
    let notes = Annotations::scan(&text);
    let layout = layout(&path);
    let framework = opts
        .framework
        .unwrap_or_else(|| detect(&path, &text, &layout, &notes, sqlx_dirs));
    let (tx, tx_reason) = transaction(framework, &path, &text, &notes, opts);
    let all = 0..text.len();
    let whole = vec![all];
    let (up, statement_blocks) = match framework {
        Framework::Goose | Framework::SqlMigrate => {
            let sections = notes.into_sections(framework);
            let up = if sections.has_up { sections.up } else { whole };
            (up, sections.blocks)
        }
        Framework::Dbmate if notes.dbmate.has_up => (notes.dbmate.up, Vec::new()),
        _ => (whole, Vec::new()),
    };
    MigrationFile {
        path,
        text,
        framework,
        tx,
        up,
        statement_blocks,
        tx_reason,
    }
}

// ---------------------------------------------------------------------------------------------
// Detection

/// Annotations say most about the runner, so they win; then the file's name and layout.
fn detect(
    path: &Path,
    text: &str,
    layout: &Layout,
    notes: &Annotations,
    sqlx_dirs: &mut HashMap<PathBuf, bool>,
) -> Framework {
    if notes.goose.has_up {
        return Framework::Goose;
    }
    if notes.sql_migrate.has_up {
        return Framework::SqlMigrate;
    }
    if notes.dbmate.has_up {
        return Framework::Dbmate;
    }
    // `<ver>_x.up.sql` is golang-migrate's only layout but just one of sqlx's two, and both tools
    // name files with 14-digit timestamps. golang-migrate is the likelier owner, so it wins unless
    // something says sqlx: the `-- no-transaction` prefix (meaningless to golang-migrate), or a
    // Rust project beside the migrations directory. A bare `<ver>_x.sql` without annotations can
    // only be sqlx or plain (goose and dbmate need annotations), so the same evidence decides.
    match layout {
        Layout::FlywayVersioned(_) | Layout::FlywayRepeatable(_) | Layout::FlywayUndo => {
            Framework::Flyway
        }
        Layout::PrismaDir(_) => Framework::Prisma,
        Layout::DieselDir { .. } => Framework::Diesel,
        Layout::UpDown { .. } if sqlx_evidence(path, text, sqlx_dirs) => Framework::Sqlx,
        Layout::UpDown { .. } => Framework::GolangMigrate,
        Layout::Numbered {
            underscore: true, ..
        } if sqlx_evidence(path, text, sqlx_dirs) => Framework::Sqlx,
        _ => Framework::Plain,
    }
}

fn sqlx_evidence(path: &Path, text: &str, sqlx_dirs: &mut HashMap<PathBuf, bool>) -> bool {
    if strip_bom(text).starts_with("-- no-transaction") {
        return true;
    }
    // sqlx keeps `migrations/` beside Cargo.toml; `.sqlx/` is its offline query cache.
    let dir = path.parent().unwrap_or(Path::new(""));
    *sqlx_dirs.entry(dir.to_path_buf()).or_insert_with(|| {
        let project = dir.parent();
        dir.join(".sqlx").is_dir()
            || project.is_some_and(|p| p.join(".sqlx").is_dir() || p.join("Cargo.toml").is_file())
    })
}

fn transaction(
    framework: Framework,
    path: &Path,
    text: &str,
    notes: &Annotations,
    opts: &DiscoverOptions,
) -> (TxMode, String) {
    let name = framework.name();
    if framework == Framework::Plain && opts.assume_in_transaction {
        return if statement_heads(text).iter().any(|h| is_begin(h)) {
            let why = "the file has its own BEGIN, so assume-in-transaction does not apply";
            (TxMode::Autocommit, format!("{name}: {why}"))
        } else {
            (
                TxMode::Wrapped,
                format!("{name}: assume-in-transaction = true"),
            )
        };
    }
    let facts = tx_facts(framework);
    match (
        opt_out_present(framework, path, text, notes),
        &facts.opt_out,
    ) {
        (OptOutFound::Marker, Some(opt)) => {
            (opt.mode, format!("{name}: {}; {}", opt.marker, opt.why))
        }
        (OptOutFound::Implied(why), Some(opt)) => (opt.mode, format!("{name}: {why}")),
        (OptOutFound::NearMiss(note), _) => (
            facts.default,
            format!("{name}: {} ({note})", facts.default_why),
        ),
        _ => (facts.default, format!("{name}: {}", facts.default_why)),
    }
}

/// What the file, or the sidecar its runner reads, says about the runner's opt-out.
enum OptOutFound {
    None,
    /// The opt-out is written down.
    Marker,
    /// The runner opts out by itself, for this reason.
    Implied(&'static str),
    /// Not an opt-out, though it looks like one; the note says why.
    NearMiss(&'static str),
}

fn opt_out_present(
    framework: Framework,
    path: &Path,
    text: &str,
    notes: &Annotations,
) -> OptOutFound {
    let marker = |found: bool| {
        if found {
            OptOutFound::Marker
        } else {
            OptOutFound::None
        }
    };
    let on_disk = path.as_os_str() != STDIN_NAME;
    match framework {
        Framework::Goose | Framework::SqlMigrate => marker(notes.sections(framework).no_tx),
        Framework::Dbmate => marker(notes.dbmate.no_tx),
        // sqlx tests the raw text, so a BOM in front silently keeps the transaction.
        Framework::Sqlx if text.starts_with("-- no-transaction") => OptOutFound::Marker,
        Framework::Sqlx if strip_bom(text).starts_with("-- no-transaction") => {
            OptOutFound::NearMiss("a BOM before -- no-transaction hides it from sqlx")
        }
        Framework::Diesel if on_disk => {
            let Some(toml_text) = read_sidecar(&path.with_file_name("metadata.toml")) else {
                return OptOutFound::None;
            };
            match toml::from_str::<DieselMetadata>(&toml_text) {
                Ok(m) => marker(m.run_in_transaction == Some(false)),
                // diesel reads it with unwrap_or_default(), so a broken file means the default.
                Err(_) => OptOutFound::NearMiss("metadata.toml does not parse; diesel ignores it"),
            }
        }
        Framework::Flyway => {
            let mut conf = path.as_os_str().to_owned();
            conf.push(".conf");
            let conf = on_disk
                .then(|| read_sidecar(Path::new(&conf)))
                .flatten()
                .and_then(|c| flyway_conf_in_transaction(&c));
            match conf {
                Some(in_transaction) => marker(!in_transaction),
                None if statement_heads(text)
                    .iter()
                    .any(|h| flyway_non_transactional(h)) =>
                {
                    OptOutFound::Implied(
                        "a statement Flyway cannot run in a transaction (e.g. CREATE INDEX \
                         CONCURRENTLY) makes it run the whole script outside one",
                    )
                }
                None => OptOutFound::None,
            }
        }
        _ => OptOutFound::None,
    }
}

#[derive(serde::Deserialize)]
struct DieselMetadata {
    run_in_transaction: Option<bool>,
}

fn read_sidecar(path: &Path) -> Option<String> {
    let meta = fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > SIDECAR_LIMIT {
        return None;
    }
    fs::read_to_string(path).ok()
}

/// The `executeInTransaction` of a Flyway script config (Java properties: `key=value` lines,
/// `#`/`!` comments), if it sets one.
fn flyway_conf_in_transaction(conf: &str) -> Option<bool> {
    conf.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
        .filter_map(|l| l.split_once(['=', ':']))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case("executeInTransaction"))
        .map(|(_, v)| !v.trim().eq_ignore_ascii_case("false"))
        .next_back()
}

/// Statement starts that make Flyway run a whole PostgreSQL script outside a transaction
/// (flyway-database-postgresql PostgreSQLParser.detectCanExecuteInTransaction). Its `ALTER TYPE
/// … ADD VALUE` case applies only before PostgreSQL 12 and is left out.
fn flyway_non_transactional(head: &[String]) -> bool {
    let words: Vec<&str> = head.iter().map(String::as_str).collect();
    matches!(
        words.as_slice(),
        [
            "CREATE" | "DROP",
            "DATABASE" | "TABLESPACE" | "SUBSCRIPTION",
            ..
        ] | ["ALTER", "SYSTEM", ..]
            | ["CREATE" | "DROP", "INDEX", "CONCURRENTLY", ..]
            | ["CREATE" | "DROP", "UNIQUE", "INDEX", "CONCURRENTLY", ..]
            | ["REINDEX", "SCHEMA" | "DATABASE" | "SYSTEM", ..]
            | ["REINDEX", "VERBOSE", "SCHEMA" | "DATABASE" | "SYSTEM", ..]
            | ["VACUUM", ..]
            | ["DISCARD", "ALL", ..]
    )
}

fn is_begin(head: &[String]) -> bool {
    match head {
        [first, ..] if first == "BEGIN" => true,
        [first, second, ..] => first == "START" && second == "TRANSACTION",
        _ => false,
    }
}

/// How many leading words of a statement [`statement_heads`] keeps.
const HEAD_WORDS: usize = 4;

/// The first words of each statement, upper-cased, skipping comments, quoted text and
/// dollar-quoted bodies (where PL/pgSQL's BEGIN lives) and psql meta-commands. A head ends at
/// the first token that is not a word. Enough to spot BEGIN or CREATE INDEX CONCURRENTLY
/// without the real splitter.
fn statement_heads(text: &str) -> Vec<Vec<String>> {
    let b = text.as_bytes();
    let mut heads = Vec::new();
    let mut head: Vec<String> = Vec::new();
    let mut open = true;
    let mut i = text.len() - strip_bom(text).len();
    while i < b.len() {
        let c = b[i];
        if c == b'-' && b.get(i + 1) == Some(&b'-') || c == b'\\' && open && head.is_empty() {
            // Line comments and psql meta-commands end at the newline.
            i = b[i..]
                .iter()
                .position(|&x| x == b'\n')
                .map_or(b.len(), |p| i + p);
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i = skip_block_comment(b, i);
        } else if c == b';' {
            if !head.is_empty() {
                heads.push(std::mem::take(&mut head));
            }
            open = true;
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'\'' || c == b'"' {
            i = skip_quoted(b, i, false);
            open = false;
        } else if c == b'$' {
            i = skip_dollar_quote(b, i).unwrap_or(i + 1);
            open = false;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            let word = &text[start..i];
            if word.eq_ignore_ascii_case("e") && b.get(i) == Some(&b'\'') {
                i = skip_quoted(b, i, true);
                open = false;
            } else if open && head.len() < HEAD_WORDS {
                head.push(word.to_ascii_uppercase());
            }
        } else {
            open = false;
            i += 1;
        }
    }
    if !head.is_empty() {
        heads.push(head);
    }
    heads
}

fn skip_block_comment(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth = depth.saturating_sub(1);
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// Skips a '…' or "…" token starting at `i` (doubled quotes escape; backslashes in E'').
fn skip_quoted(b: &[u8], i: usize, backslash: bool) -> usize {
    let quote = b[i];
    let mut j = i + 1;
    while j < b.len() {
        if backslash && b[j] == b'\\' {
            j += 2;
        } else if b[j] == quote {
            if b.get(j + 1) == Some(&quote) {
                j += 2;
            } else {
                return j + 1;
            }
        } else {
            j += 1;
        }
    }
    b.len()
}

/// Skips `$tag$ … $tag$` starting at `i`; `None` when `$` does not open one (e.g. `$1`).
fn skip_dollar_quote(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if b.get(j).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        j += 1;
    }
    if b.get(j) != Some(&b'$') {
        return None;
    }
    let tag = &b[i..=j];
    let body = j + 1;
    Some(
        b[body..]
            .windows(tag.len())
            .position(|w| w == tag)
            .map_or(b.len(), |p| body + p + tag.len()),
    )
}

// ---------------------------------------------------------------------------------------------
// Annotations

struct Line<'a> {
    start: usize,
    /// Offset of the next line (just past the newline).
    next: usize,
    /// The line without its line ending (and without a leading BOM on the first line).
    text: &'a str,
}

fn lines(text: &str) -> impl Iterator<Item = Line<'_>> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let start = pos;
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        pos = (end + 1).min(text.len());
        let mut line = &text[start..end];
        line = line.strip_suffix('\r').unwrap_or(line);
        if start == 0 {
            line = strip_bom(line);
        }
        Some(Line {
            start,
            next: pos,
            text: line,
        })
    })
}

fn strip_bom(s: &str) -> &str {
    s.strip_prefix('\u{feff}').unwrap_or(s)
}

/// What the annotation-driven runners read from a file's comments.
struct Annotations {
    goose: SectionScan,
    sql_migrate: SectionScan,
    dbmate: DbmateScan,
}

impl Annotations {
    fn scan(text: &str) -> Annotations {
        Annotations {
            goose: scan_sections(text, "+goose", goose_directive),
            sql_migrate: scan_sections(text, "+migrate", sql_migrate_directive),
            dbmate: scan_dbmate(text),
        }
    }

    fn sections(&self, framework: Framework) -> &SectionScan {
        match framework {
            Framework::SqlMigrate => &self.sql_migrate,
            _ => &self.goose,
        }
    }

    fn into_sections(self, framework: Framework) -> SectionScan {
        match framework {
            Framework::SqlMigrate => self.sql_migrate,
            _ => self.goose,
        }
    }
}

/// Up/Down sections (any number of each) and statement blocks, as goose and sql-migrate mark
/// them.
#[derive(Debug, Default)]
struct SectionScan {
    has_up: bool,
    up: Vec<Range<usize>>,
    blocks: Vec<Range<usize>>,
    no_tx: bool,
}

/// One annotation line of a sectioned migration file.
#[derive(Debug, PartialEq, Eq)]
enum Directive {
    Up {
        no_transaction: bool,
    },
    Down,
    StatementBegin,
    StatementEnd,
    /// goose's file-wide `NO TRANSACTION`.
    NoTransaction,
}

/// `--`, spaces, then `word` and a space: the rest of the line, or `None`.
fn annotation<'a>(line: &'a str, word: &str, case_insensitive: bool) -> Option<&'a str> {
    let rest = line.strip_prefix("--")?.trim_start();
    let head = rest.get(..word.len())?;
    let tail = &rest[word.len()..];
    let same = if case_insensitive {
        head.eq_ignore_ascii_case(word)
    } else {
        head == word
    };
    (same && tail.starts_with(char::is_whitespace)).then_some(tail)
}

/// goose annotations: `-- +goose <directive>`, case-insensitive, at the start of a line.
fn goose_directive(line: &str) -> Option<Directive> {
    let words = annotation(line, "+goose", true)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    match words.as_str() {
        "up" => Some(Directive::Up {
            no_transaction: false,
        }),
        "down" => Some(Directive::Down),
        "statementbegin" => Some(Directive::StatementBegin),
        "statementend" => Some(Directive::StatementEnd),
        "no transaction" => Some(Directive::NoTransaction),
        _ => None,
    }
}

/// sql-migrate annotations (sqlparse/sqlparse.go): `-- +migrate Up [notransaction]`,
/// `Down`, `StatementBegin`, `StatementEnd`; commands are case-sensitive there.
fn sql_migrate_directive(line: &str) -> Option<Directive> {
    let mut words = annotation(line, "+migrate", false)?.split_whitespace();
    match words.next()? {
        "Up" => Some(Directive::Up {
            no_transaction: words.any(|w| w == "notransaction"),
        }),
        "Down" => Some(Directive::Down),
        "StatementBegin" => Some(Directive::StatementBegin),
        "StatementEnd" => Some(Directive::StatementEnd),
        _ => None,
    }
}

fn scan_sections(
    text: &str,
    marker: &str,
    directive: fn(&str) -> Option<Directive>,
) -> SectionScan {
    let mut scan = SectionScan::default();
    // most files have no annotation: skip the line scan for them
    if !text.contains(marker) {
        return scan;
    }
    let mut up_start = None;
    let mut block_start = None;
    for line in lines(text) {
        let Some(directive) = directive(line.text) else {
            continue;
        };
        match directive {
            Directive::Up { no_transaction } => {
                scan.has_up = true;
                scan.no_tx |= no_transaction;
                up_start.get_or_insert(line.next);
            }
            Directive::Down => {
                if let Some(start) = up_start.take() {
                    scan.up.push(start..line.start);
                }
                // both runners reject an unclosed block; end it with its section.
                if let Some(start) = block_start.take() {
                    scan.blocks.push(start..line.start);
                }
            }
            Directive::StatementBegin => {
                block_start.get_or_insert(line.next);
            }
            Directive::StatementEnd => {
                if let Some(start) = block_start.take() {
                    scan.blocks.push(start..line.start);
                }
            }
            Directive::NoTransaction => scan.no_tx = true,
        }
    }
    if let Some(start) = up_start {
        scan.up.push(start..text.len());
    }
    if let Some(start) = block_start {
        scan.blocks.push(start..text.len());
    }
    scan
}

#[derive(Debug, Default)]
struct DbmateScan {
    has_up: bool,
    up: Vec<Range<usize>>,
    no_tx: bool,
}

/// dbmate directives: `--`, optional spaces, `migrate:up`/`migrate:down`, then options.
fn dbmate_directive<'a>(line: &'a str, word: &str) -> Option<&'a str> {
    let rest = line.strip_prefix("--")?.trim_start().strip_prefix(word)?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then(|| rest.trim())
}

/// dbmate takes the first `-- migrate:up` and the first `-- migrate:down` after it
/// (pkg/dbmate/migration.go), and reads options only from the directive line.
fn scan_dbmate(text: &str) -> DbmateScan {
    let mut scan = DbmateScan::default();
    if !text.contains("migrate:") {
        return scan;
    }
    let mut up_start = None;
    for line in lines(text) {
        if up_start.is_none() {
            if let Some(options) = dbmate_directive(line.text, "migrate:up") {
                scan.has_up = true;
                scan.no_tx = options
                    .split_whitespace()
                    .any(|kv| kv == "transaction:false");
                up_start = Some(line.next);
            }
        } else if dbmate_directive(line.text, "migrate:down").is_some() {
            scan.up.push(up_start.unwrap_or(0)..line.start);
            return scan;
        }
    }
    if let Some(start) = up_start {
        scan.up.push(start..text.len());
    }
    scan
}

// ---------------------------------------------------------------------------------------------
// Layout, versions and ordering

/// What a file's name and directory say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Layout {
    /// Flyway `V<ver>__desc.sql`.
    FlywayVersioned(Version),
    /// Flyway `R__desc.sql`, applied after all versioned ones, by description.
    FlywayRepeatable(String),
    /// Flyway `U<ver>__desc.sql` (undo).
    FlywayUndo,
    /// Prisma `<ts>_name/migration.sql`.
    PrismaDir(Version),
    /// Diesel `<ver>_name/up.sql` or `down.sql`.
    DieselDir {
        version: Version,
        down: bool,
    },
    /// golang-migrate or sqlx `<ver>_name.up.sql` / `.down.sql`.
    UpDown {
        version: Version,
        down: bool,
    },
    /// Any other name that starts with digits; `underscore` when it is `<digits>_…`.
    Numbered {
        version: Version,
        underscore: bool,
    },
    Other,
}

fn layout(path: &Path) -> Layout {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(flyway) = flyway_layout(&name) {
        return flyway;
    }
    let lower = name.to_ascii_lowercase();
    let dir_version = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|d| dir_version(&d.to_string_lossy()));
    match (lower.as_str(), dir_version) {
        ("migration.sql", Some(version)) => return Layout::PrismaDir(version),
        ("up.sql" | "down.sql", Some(version)) => {
            return Layout::DieselDir {
                version,
                down: lower == "down.sql",
            };
        }
        _ => {}
    }
    let digits = name.bytes().take_while(u8::is_ascii_digit).count();
    let Some(version) = Version::parse(&name[..digits], &[]) else {
        return Layout::Other;
    };
    let underscore = name.as_bytes().get(digits) == Some(&b'_');
    if underscore && lower.ends_with(".up.sql") {
        Layout::UpDown {
            version,
            down: false,
        }
    } else if underscore && lower.ends_with(".down.sql") {
        Layout::UpDown {
            version,
            down: true,
        }
    } else {
        Layout::Numbered {
            version,
            underscore,
        }
    }
}

/// Flyway names: prefix, version (parts split by `.` or `_`), `__`, description, `.sql`.
fn flyway_layout(name: &str) -> Option<Layout> {
    let lower = name.to_ascii_lowercase();
    let stem = name.get(..lower.strip_suffix(".sql")?.len())?;
    let (prefix, rest) = stem.split_at_checked(1)?;
    let (version, description) = rest.split_once("__")?;
    match prefix {
        "R" if version.is_empty() => Some(Layout::FlywayRepeatable(description.to_owned())),
        "V" => Version::parse(version, &['.', '_']).map(Layout::FlywayVersioned),
        "U" => Version::parse(version, &['.', '_']).map(|_| Layout::FlywayUndo),
        _ => None,
    }
}

/// A migration directory's version: the part before the first `_`, dashes removed, as diesel
/// does (`2024-01-01-120000_x` → 20240101120000); Prisma's `<ts>_name` fits the same rule.
fn dir_version(dir: &str) -> Option<Version> {
    let head = dir.split('_').next().unwrap_or(dir);
    if !head.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Version::parse(&head.replace('-', ""), &[])
}

/// Down migrations are not run by `up`, so a directory walk leaves them out.
fn is_down_file(path: &Path) -> bool {
    let lower = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    lower == "down.sql"
        || lower.ends_with(".down.sql")
        || matches!(layout(path), Layout::FlywayUndo)
}

/// A version made of numeric parts, compared left-aligned with missing parts as zero, the way
/// Flyway compares `1.2` < `1.10` and `1` == `1.0`. Parts are stored without leading zeros and
/// without trailing zero parts, so equality agrees with the ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version(Vec<String>);

impl Version {
    fn parse(s: &str, separators: &[char]) -> Option<Version> {
        let mut parts = Vec::new();
        for part in s.split(separators) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let trimmed = part.trim_start_matches('0');
            parts.push(if trimmed.is_empty() { "0" } else { trimmed }.to_owned());
        }
        while parts.len() > 1 && parts.last().is_some_and(|p| p == "0") {
            parts.pop();
        }
        Some(Version(parts))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.0.len().max(other.0.len());
        (0..n)
            .map(|i| {
                let a = self.0.get(i).map_or("0", String::as_str);
                let b = other.0.get(i).map_or("0", String::as_str);
                cmp_digits(a.as_bytes(), b.as_bytes())
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Run order within one directory argument: versioned files by version, then Flyway
/// repeatables by description, then files without a version; ties by natural path order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortClass {
    Versioned(Version),
    Repeatable(String),
    Unversioned,
}

fn sort_class(path: &Path) -> SortClass {
    match layout(path) {
        Layout::FlywayVersioned(v)
        | Layout::PrismaDir(v)
        | Layout::DieselDir { version: v, .. }
        | Layout::UpDown { version: v, .. }
        | Layout::Numbered { version: v, .. } => SortClass::Versioned(v),
        Layout::FlywayRepeatable(d) => SortClass::Repeatable(d),
        Layout::FlywayUndo | Layout::Other => SortClass::Unversioned,
    }
}

/// Compares decimal digit strings by value, without overflow on long timestamps.
fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    let strip = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b'0').count() };
    let (a, b) = (&a[strip(a)..], &b[strip(b)..]);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Natural order: digit runs compare by value (`2_x` < `10_x`), everything else bytewise.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    while let (Some(&c), Some(&d)) = (x.first(), y.first()) {
        if c.is_ascii_digit() && d.is_ascii_digit() {
            let n = x.iter().take_while(|c| c.is_ascii_digit()).count();
            let m = y.iter().take_while(|c| c.is_ascii_digit()).count();
            let ord = cmp_digits(&x[..n], &y[..m]);
            if ord.is_ne() {
                return ord;
            }
            (x, y) = (&x[n..], &y[m..]);
        } else if c != d {
            return c.cmp(&d);
        } else {
            (x, y) = (&x[1..], &y[1..]);
        }
    }
    x.len().cmp(&y.len()).then_with(|| a.cmp(b))
}

// ---------------------------------------------------------------------------------------------
// Directory walk and filters

struct Candidate {
    path: PathBuf,
    class: SortClass,
    key: String,
}

fn discover_dir(root: &Path, opts: &DiscoverOptions, out: &mut Discovered) {
    let filters = match Filters::new(opts) {
        Ok(filters) => Arc::new(filters),
        Err(error) => {
            out.errors.push(pattern_error(root, error));
            return;
        }
    };
    let errors_before = out.errors.len();
    let (found, filtered_out) = walk(root, &filters, &mut out.errors);
    let walk_failed = out.errors.len() > errors_before;
    match run_order(root, found, filtered_out, walk_failed) {
        Ok(paths) => {
            for path in paths {
                load(&path, opts, out);
            }
        }
        Err(error) => out.errors.push(error),
    }
}

/// Run order of files that git lists (its index) under the directory argument `root`: the
/// filters and the order of a walk of `root`, so a directory reads the same from git as from
/// disk. `listed` are paths relative to `root`, `/`-separated.
pub fn order_listed(
    root: &Path,
    listed: &[String],
    opts: &DiscoverOptions,
) -> Result<Vec<PathBuf>, SourceError> {
    let filters = Filters::new(opts).map_err(|e| pattern_error(root, e))?;
    let filtered_out = AtomicBool::new(false);
    let found = listed
        .iter()
        .filter(|rel| {
            rel.match_indices('/')
                .map(|(end, _)| &rel[..end])
                .all(|dir| enters_dir(dir, &root.join(dir), &filters, &filtered_out))
        })
        .filter_map(|rel| candidate(rel, root.join(rel), &filters, &filtered_out))
        .collect();
    run_order(root, found, filtered_out.into_inner(), false)
}

/// Sorts a directory's candidates into run order. Finding none is an error, unless filters
/// removed them (the user's choice) or the walk failed (already reported).
fn run_order(
    root: &Path,
    mut found: Vec<Candidate>,
    filtered_out: bool,
    walk_failed: bool,
) -> Result<Vec<PathBuf>, SourceError> {
    if found.is_empty() && !filtered_out && !walk_failed {
        return Err(SourceError::NoMigrations {
            path: root.to_path_buf(),
        });
    }
    found.sort_by(|a, b| {
        a.class
            .cmp(&b.class)
            .then_with(|| natural_cmp(&a.key, &b.key))
    });
    Ok(found.into_iter().map(|c| c.path).collect())
}

/// Walks `root` the way git sees it: `.gitignore` files (from `root` up to the work tree's
/// top), `.git/info/exclude` and the global excludes file apply inside a git work tree. Hidden
/// entries and build directories are skipped; symbolic links are followed and loops end.
/// Returns the candidates and whether a filter removed any.
fn walk(
    root: &Path,
    filters: &Arc<Filters>,
    errors: &mut Vec<SourceError>,
) -> (Vec<Candidate>, bool) {
    let filtered_out = Arc::new(AtomicBool::new(false));
    let walker = {
        let (filters, filtered_out) = (Arc::clone(filters), Arc::clone(&filtered_out));
        let root = root.to_path_buf();
        ignore::WalkBuilder::new(&root)
            .ignore(false)
            .follow_links(true)
            .filter_entry(move |entry| {
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                !is_dir
                    || entry.depth() == 0
                    || enters_dir(
                        &relative(&root, entry.path()),
                        entry.path(),
                        &filters,
                        &filtered_out,
                    )
            })
            .build()
    };
    let mut found = Vec::new();
    for entry in walker {
        match entry {
            Ok(entry) if entry.file_type().is_some_and(|t| t.is_dir()) => {}
            Ok(entry) => {
                let rel = relative(root, entry.path());
                found.extend(candidate(&rel, entry.into_path(), filters, &filtered_out));
            }
            Err(error) if is_loop(&error) => {}
            Err(error) => errors.push(walk_error(root, error)),
        }
    }
    (found, filtered_out.load(AtomicOrdering::Relaxed))
}

/// `path` relative to the walked `root`, `/`-separated.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Whether a walk enters the directory `rel` (relative to the walked root).
fn enters_dir(rel: &str, path: &Path, filters: &Filters, filtered_out: &AtomicBool) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if name.starts_with('.') || SKIP_DIRS.contains(&name) {
        return false;
    }
    if filters.exclude.matches(rel, path) {
        filtered_out.store(true, AtomicOrdering::Relaxed);
        return false;
    }
    true
}

/// The file `rel` as a migration to run, unless it is hidden, not `.sql`, a down migration, or
/// left out by the include/exclude patterns.
fn candidate(
    rel: &str,
    path: PathBuf,
    filters: &Filters,
    filtered_out: &AtomicBool,
) -> Option<Candidate> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let is_sql = name
        .rsplit_once('.')
        .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("sql"));
    if name.starts_with('.') || !is_sql || is_down_file(&path) {
        return None;
    }
    let included = filters
        .include
        .as_ref()
        .is_none_or(|include| include.matches(rel, &path));
    if !included || filters.exclude.matches(rel, &path) {
        filtered_out.store(true, AtomicOrdering::Relaxed);
        return None;
    }
    Some(Candidate {
        class: sort_class(&path),
        key: path.to_string_lossy().into_owned(),
        path,
    })
}

fn is_loop(error: &ignore::Error) -> bool {
    match error {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_loop(err),
        _ => false,
    }
}

fn walk_error(root: &Path, error: ignore::Error) -> SourceError {
    fn path_of(error: &ignore::Error) -> Option<&Path> {
        match error {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            _ => None,
        }
    }
    let path = path_of(&error).unwrap_or(root).to_path_buf();
    let message = error.to_string();
    let error = error
        .into_io_error()
        .unwrap_or_else(|| io::Error::other(message));
    io_error(&path, error)
}

/// The include/exclude patterns of [`DiscoverOptions`], compiled.
struct Filters {
    /// `None`: everything is included.
    include: Option<Patterns>,
    exclude: Patterns,
}

impl Filters {
    fn new(opts: &DiscoverOptions) -> Result<Filters, globset::Error> {
        let include = if opts.include.is_empty() {
            None
        } else {
            Some(Patterns::new(&opts.include)?)
        };
        Ok(Filters {
            include,
            exclude: Patterns::new(&opts.exclude)?,
        })
    }
}

/// Glob patterns: one with `/` matches the relative path or the displayed path; one without
/// matches any single component, as in `.gitignore`.
struct Patterns {
    paths: GlobSet,
    components: GlobSet,
}

impl Patterns {
    fn new(patterns: &[String]) -> Result<Patterns, globset::Error> {
        let mut paths = GlobSetBuilder::new();
        let mut components = GlobSetBuilder::new();
        for pattern in patterns {
            let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
            let glob = compile_glob(pattern)?;
            if pattern.contains('/') {
                paths.add(glob);
            } else {
                components.add(glob);
            }
        }
        Ok(Patterns {
            paths: paths.build()?,
            components: components.build()?,
        })
    }

    fn matches(&self, rel: &str, path: &Path) -> bool {
        let shown = || path.to_string_lossy().replace('\\', "/");
        (!self.paths.is_empty()
            && (self.paths.is_match(rel) || self.paths.is_match(shown().trim_start_matches("./"))))
            || (!self.components.is_empty() && rel.split('/').any(|c| self.components.is_match(c)))
    }
}

/// `*` and `?` stay within one component; `**` crosses them, and `**/` may match nothing.
fn compile_glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).build()
}

fn pattern_error(root: &Path, error: globset::Error) -> SourceError {
    SourceError::Pattern {
        path: root.to_path_buf(),
        error,
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

fn load(path: &Path, opts: &DiscoverOptions, out: &mut Discovered) {
    // `None`: read already, under another name
    if let Some(read) = read_file(path, opts.max_file_bytes, &mut out.seen) {
        classify(path, read, opts, out);
    }
}

/// Like a file on disk, for content read from elsewhere (git's index): the same size limit,
/// decoding and classification. Sidecar files are still looked up on disk beside `path`.
pub fn load_bytes(path: &Path, bytes: Vec<u8>, opts: &DiscoverOptions, out: &mut Discovered) {
    let size = bytes.len() as u64;
    let read = if size > opts.max_file_bytes {
        Err(SourceError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit: opts.max_file_bytes,
        })
    } else {
        decode(path, bytes)
    };
    classify(path, read, opts, out);
}

fn classify(
    path: &Path,
    read: Result<Decoded, SourceError>,
    opts: &DiscoverOptions,
    out: &mut Discovered,
) {
    match read {
        Ok((text, warning)) => {
            out.warnings.extend(warning);
            let file = from_text_in(path.to_path_buf(), text, opts, &mut out.sqlx_dirs);
            out.files.push(file);
        }
        Err(e) => out.errors.push(e),
    }
}

/// Reads a file unless `seen` holds its device and inode already (then `None`).
fn read_file(
    path: &Path,
    limit: u64,
    seen: &mut HashSet<(u64, u64)>,
) -> Option<Result<Decoded, SourceError>> {
    let opened = fs::File::open(path).and_then(|file| {
        let meta = file.metadata()?;
        Ok((file, meta))
    });
    let (file, meta) = match opened {
        Ok(opened) => opened,
        Err(e) => return Some(Err(io_error(path, e))),
    };
    if !seen.insert((meta.dev(), meta.ino())) {
        return None;
    }
    let size = meta.len();
    if size > limit {
        return Some(Err(SourceError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        }));
    }
    Some(read_limited(path, file, limit, size))
}

/// Reads at most `limit` bytes (the size may change after it was checked), then decodes.
fn read_limited(
    path: &Path,
    reader: impl Read,
    limit: u64,
    size_hint: u64,
) -> Result<Decoded, SourceError> {
    // The hint only pre-sizes the buffer; cap it so a bogus size cannot allocate gigabytes.
    let capacity = usize::try_from(size_hint.min(limit).min(256 << 20)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(SourceError::InputTooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    decode(path, bytes)
}

/// The text, and a warning when invalid UTF-8 had to be replaced to read it.
type Decoded = (String, Option<SourceError>);

/// Invalid UTF-8 is read lossily (U+FFFD for bad bytes) with a warning, as grep tools do:
/// a stray Latin-1 byte in a comment should not hide a dangerous ALTER TABLE.
fn decode(path: &Path, bytes: Vec<u8>) -> Result<Decoded, SourceError> {
    let path = path.to_path_buf();
    // UTF-16 (often from Windows tools) is full of NULs; say what it is instead.
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(SourceError::Utf16 { path });
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(SourceError::Binary { path, offset });
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok((text, None)),
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            Ok((text, Some(SourceError::InvalidUtf8 { path, line, offset })))
        }
    }
}

fn io_error(path: &Path, error: io::Error) -> SourceError {
    let path = path.to_path_buf();
    if error.kind() == io::ErrorKind::NotFound {
        SourceError::NotFound { path }
    } else {
        SourceError::Io { path, error }
    }
}

fn human_size(bytes: &u64) -> String {
    const KIB: f64 = 1024.0;
    let b = *bytes as f64;
    if b >= KIB * KIB {
        format!("{:.1} MiB", b / (KIB * KIB))
    } else if b >= KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `files` (relative path, contents) under a fresh temp dir.
    fn tree(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (rel, body) in files {
            let path = dir.path().join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, body).unwrap();
        }
        dir
    }

    fn run(dir: &Path, opts: &DiscoverOptions) -> Discovered {
        discover(&[dir.to_path_buf()], opts)
    }

    #[test]
    fn a_file_reached_twice_is_read_once() {
        let dir = tree(&[("m/1_a.sql", b"SELECT 1;"), ("m/2_b.sql", b"SELECT 2;")]);
        let m = dir.path().join("m");
        std::os::unix::fs::symlink(m.join("1_a.sql"), dir.path().join("alias.sql")).unwrap();
        let paths = [m.join("2_b.sql"), m.clone(), dir.path().join("alias.sql")];
        let found = discover(&paths, &DiscoverOptions::default());
        let names: Vec<_> = found.files.iter().map(|f| f.path.clone()).collect();
        assert_eq!(names, vec![m.join("2_b.sql"), m.join("1_a.sql")]);
    }

    /// File paths relative to `dir`, '/'-separated, in discovered order.
    fn names(found: &Discovered, dir: &Path) -> Vec<String> {
        found
            .files
            .iter()
            .map(|f| {
                let rel = f.path.strip_prefix(dir).unwrap();
                rel.to_string_lossy().replace('\\', "/")
            })
            .collect()
    }

    fn up_text(f: &MigrationFile) -> String {
        f.up.iter().map(|r| &f.text[r.clone()]).collect()
    }

    #[test]
    fn numeric_prefixes_sort_by_value_not_string() {
        let d = tree(&[
            ("10_orders.sql", b"SELECT 10;"),
            ("2_users.sql", b"SELECT 2;"),
            ("1_init.sql", b"SELECT 1;"),
            ("0003_payments.sql", b"SELECT 3;"),
        ]);
        let found = run(d.path(), &DiscoverOptions::default());
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        assert_eq!(
            names(&found, d.path()),
            [
                "1_init.sql",
                "2_users.sql",
                "0003_payments.sql",
                "10_orders.sql"
            ]
        );
        assert!(found.files.iter().all(|f| f.framework == Framework::Plain));
    }

    #[test]
    fn long_timestamps_and_unversioned_files_order() {
        let d = tree(&[
            ("seed.sql", b"SELECT 0;"),
            ("20240101120000_b.sql", b"SELECT 2;"),
            ("9_a.sql", b"SELECT 1;"),
            ("99999999999999999999999_c.sql", b"SELECT 3;"),
        ]);
        let found = run(d.path(), &DiscoverOptions::default());
        assert_eq!(
            names(&found, d.path()),
            [
                "9_a.sql",
                "20240101120000_b.sql",
                "99999999999999999999999_c.sql",
                "seed.sql"
            ]
        );
    }

    #[test]
    fn flyway_dotted_versions_then_repeatables() {
        let d = tree(&[
            ("V1.10__ten.sql", b"SELECT 110;"),
            ("V1__init.sql", b"SELECT 1;"),
            ("R__views.sql", b"SELECT 'v';"),
            ("V1.2__two.sql", b"SELECT 12;"),
            ("V1_3__three.sql", b"SELECT 13;"),
            ("R__a_functions.sql", b"SELECT 'f';"),
            ("V2__next.sql", b"SELECT 2;"),
            ("U2__undo_next.sql", b"SELECT 'undo';"),
        ]);
        let found = run(d.path(), &DiscoverOptions::default());
        assert_eq!(
            names(&found, d.path()),
            [
                "V1__init.sql",
                "V1.2__two.sql",
                "V1_3__three.sql",
                "V1.10__ten.sql",
                "V2__next.sql",
                "R__a_functions.sql",
                "R__views.sql"
            ]
        );
        let first = &found.files[0];
        assert_eq!(first.framework, Framework::Flyway);
        assert_eq!(first.tx, TxMode::Wrapped);
    }

    #[test]
    fn flyway_script_config_turns_transaction_off() {
        let d = tree(&[
            ("V1__init.sql", b"CREATE TABLE users (id bigint);"),
            ("V2__mood.sql", b"ALTER TYPE mood ADD VALUE 'meh';"),
            (
                "V2__mood.sql.conf",
                b"# why: concurrent index\nexecuteInTransaction = false\n",
            ),
        ]);
        let found = run(d.path(), &DiscoverOptions::default());
        assert_eq!(found.files.len(), 2);
        assert_eq!(found.files[0].tx, TxMode::Wrapped);
        assert_eq!(found.files[1].tx, TxMode::Autocommit);
        assert!(
            found.files[1]
                .tx_reason
                .contains("executeInTransaction=false")
        );
    }

    #[test]
    fn golang_migrate_pairs_skip_down_files() {
        let d = tree(&[
            (
                "db/migrations/000002_orders.up.sql",
                b"CREATE TABLE orders (id bigint);",
            ),
            (
                "db/migrations/000002_orders.down.sql",
                b"DROP TABLE orders;",
            ),
            (
                "db/migrations/000001_init.up.sql",
                b"CREATE TABLE users (id bigint);",
            ),
            ("db/migrations/000001_init.down.sql", b"DROP TABLE users;"),
        ]);
        let found = run(d.path(), &DiscoverOptions::default());
        assert_eq!(
            names(&found, d.path()),
            [
                "db/migrations/000001_init.up.sql",
                "db/migrations/000002_orders.up.sql"
            ]
        );
        for f in &found.files {
            assert_eq!(f.framework, Framework::GolangMigrate);
            assert_eq!(f.tx, TxMode::ImplicitMulti);
        }
        // Named explicitly, a down file is linted and still detected as golang-migrate.
        let down = d.path().join("db/migrations/000001_init.down.sql");
        let explicit = discover(&[down], &DiscoverOptions::default());
        assert_eq!(explicit.files.len(), 1);
        assert_eq!(explicit.files[0].framework, Framework::GolangMigrate);
    }

    #[test]
    fn diesel_metadata_turns_transaction_off() {
        let d = tree(&[
            (
                "2024-01-02-000000_add_index/up.sql",
                b"CREATE INDEX CONCURRENTLY i ON users (email);",
            ),
            ("2024-01-02-000000_add_index/down.sql", b"DROP INDEX i;"),
            (
                "2024-01-02-000000_add_index/metadata.toml",
                b"run_in_transaction = false\n",
            ),
            (
                "2024-01-01-000000_create_users/up.sql",
                b"CREATE TABLE users (id bigint);",
            ),
            (
                "2024-01-01-000000_create_users/down.sql",
                b"DROP TABLE users;",
            ),
        ]);
        let found = run(d.path(), &DiscoverOptions::default());
        assert_eq!(
            names(&found, d.path()),
            [
                "2024-01-01-000000_create_users/up.sql",
                "2024-01-02-000000_add_index/up.sql"
            ]
        );
        assert!(found.files.iter().all(|f| f.framework == Framework::Diesel));
        assert_eq!(found.files[0].tx, TxMode::Wrapped);
        // batch_execute still sends up.sql as one simple query.
        assert_eq!(found.files[1].tx, TxMode::ImplicitMulti);
        assert!(
            found.files[1]
                .tx_reason
                .contains("run_in_transaction = false")
        );
    }

    #[test]
    fn prisma_layout() {
        let d = tree(&[
            (
                "migrations/20240102000000_add_orders/migration.sql",
                b"CREATE TABLE orders (id int);",
            ),
            (
                "migrations/20240101000000_init/migration.sql",
                b"CREATE TABLE users (id int);",
            ),
            (
                "migrations/migration_lock.toml",
                b"provider = \"postgresql\"\n",
            ),
        ]);
        let found = run(d.path(), &DiscoverOptions::default());
        assert_eq!(
            names(&found, d.path()),
            [
                "migrations/20240101000000_init/migration.sql",
                "migrations/20240102000000_add_orders/migration.sql"
            ]
        );
        for f in &found.files {
            assert_eq!(f.framework, Framework::Prisma);
            assert_eq!(f.tx, TxMode::ImplicitMulti);
        }
    }

    const GOOSE: &str = "-- +goose Up\n\
        CREATE TABLE users (id bigint);\n\
        -- +goose StatementBegin\n\
        CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;\n\
        -- +goose StatementEnd\n\
        -- +goose Down\n\
        DROP TABLE users;\n";

    #[test]
    fn goose_sections_and_statement_blocks() {
        let f = from_text(
            "00001_users.sql".into(),
            GOOSE.into(),
            &DiscoverOptions::default(),
        );
        assert_eq!(f.framework, Framework::Goose);
        assert_eq!(f.tx, TxMode::Wrapped);
        let up = up_text(&f);
        assert!(up.contains("CREATE TABLE users"));
        assert!(!up.contains("DROP TABLE"));
        assert!(!up.contains("+goose Up"));
        assert_eq!(f.statement_blocks.len(), 1);
        let block = &f.text[f.statement_blocks[0].clone()];
        assert!(block.starts_with("CREATE FUNCTION"), "{block:?}");
        assert!(block.trim_end().ends_with("plpgsql;"), "{block:?}");
        assert!(!block.contains("+goose"));
    }

    #[test]
    fn sql_migrate_sections_are_case_sensitive_and_notransaction_is_per_direction() {
        let text = "-- +migrate Up\nCREATE TABLE a (id int);\n-- +migrate Down\nDROP TABLE a;\n\
                    -- +migrate Up\nCREATE TABLE b (id int);\n-- +migrate Down notransaction\nDROP TABLE b;\n";
        let f = from_text("1_ab.sql".into(), text.into(), &DiscoverOptions::default());
        assert_eq!(
            (f.framework, f.tx),
            (Framework::SqlMigrate, TxMode::Wrapped)
        );
        let up = up_text(&f);
        assert!(up.contains("TABLE a") && up.contains("TABLE b") && !up.contains("DROP"));
        let no_tx = "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY i ON a (id);\n";
        let f = from_text("2_i.sql".into(), no_tx.into(), &DiscoverOptions::default());
        assert_eq!(f.tx, TxMode::Autocommit);
        // sql-migrate matches `Up` exactly: a lower-case `up` is an ordinary comment
        let lower = "-- +migrate up\nCREATE TABLE c (id int);\n";
        let f = from_text("3_c.sql".into(), lower.into(), &DiscoverOptions::default());
        assert_eq!(f.framework, Framework::Plain);
    }

    #[test]
    fn goose_no_transaction_and_crlf() {
        let text = "-- +goose NO TRANSACTION\r\n-- +goose up\r\nCREATE INDEX CONCURRENTLY i ON users (id);\r\n-- +goose down\r\nDROP INDEX i;\r\n";
        let f = from_text("2_idx.sql".into(), text.into(), &DiscoverOptions::default());
        assert_eq!(f.framework, Framework::Goose);
        assert_eq!(f.tx, TxMode::Autocommit);
        assert!(f.tx_reason.starts_with("goose: -- +goose NO TRANSACTION"));
        assert_eq!(
            up_text(&f),
            "CREATE INDEX CONCURRENTLY i ON users (id);\r\n"
        );
    }

    #[test]
    fn dbmate_sections_and_transaction_false() {
        let wrapped = "-- migrate:up\nALTER TABLE users ADD COLUMN email text;\n\n-- migrate:down\nALTER TABLE users DROP COLUMN email;\n";
        let f = from_text(
            "20240101_email.sql".into(),
            wrapped.into(),
            &DiscoverOptions::default(),
        );
        assert_eq!(f.framework, Framework::Dbmate);
        assert_eq!(f.tx, TxMode::Wrapped);
        assert_eq!(up_text(&f), "ALTER TABLE users ADD COLUMN email text;\n\n");

        let off = "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON users (email);\n-- migrate:down\nDROP INDEX i;\n";
        let f = from_text(
            "20240102_idx.sql".into(),
            off.into(),
            &DiscoverOptions::default(),
        );
        // dbmate still sends the whole section in one Exec.
        assert_eq!(f.tx, TxMode::ImplicitMulti);
        assert!(f.tx_reason.contains("transaction:false"));
        assert!(!up_text(&f).contains("DROP INDEX"));
    }

    #[test]
    fn sqlx_no_transaction_prefix() {
        let text = "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON orders (user_id);\n";
        let f = from_text(
            "20240101000000_idx.sql".into(),
            text.into(),
            &DiscoverOptions::default(),
        );
        assert_eq!(f.framework, Framework::Sqlx);
        assert_eq!(f.tx, TxMode::ImplicitMulti);

        // sqlx tests the raw bytes, so a BOM keeps the transaction.
        let bom = format!("\u{feff}{text}");
        let f = from_text(
            "20240101000000_idx.sql".into(),
            bom,
            &DiscoverOptions::default(),
        );
        assert_eq!(f.framework, Framework::Sqlx);
        assert_eq!(f.tx, TxMode::Wrapped);
        assert!(f.tx_reason.contains("BOM"));
    }

    #[test]
    fn sqlx_detected_from_rust_project_beside_migrations() {
        let d = tree(&[
            ("Cargo.toml", b"[package]\nname = \"app\"\n"),
            (
                "migrations/20240101000000_users.up.sql",
                b"CREATE TABLE users (id bigint);",
            ),
            (
                "migrations/20240101000000_users.down.sql",
                b"DROP TABLE users;",
            ),
            (
                "migrations/20240102000000_orders.sql",
                b"CREATE TABLE orders (id bigint);",
            ),
        ]);
        let found = run(&d.path().join("migrations"), &DiscoverOptions::default());
        assert_eq!(found.files.len(), 2);
        for f in &found.files {
            assert_eq!(f.framework, Framework::Sqlx, "{}", f.path.display());
            assert_eq!(f.tx, TxMode::Wrapped);
        }
    }

    #[test]
    fn plain_autocommit_unless_assumed_in_transaction() {
        let text = "ALTER TABLE users ADD COLUMN email text;\n";
        let f = from_text(
            "add_email.sql".into(),
            text.into(),
            &DiscoverOptions::default(),
        );
        assert_eq!(f.framework, Framework::Plain);
        assert_eq!(f.tx, TxMode::Autocommit);
        let all = 0..text.len();
        assert_eq!(f.up, vec![all]);

        let assume = DiscoverOptions {
            assume_in_transaction: true,
            ..DiscoverOptions::default()
        };
        let f = from_text("add_email.sql".into(), text.into(), &assume);
        assert_eq!(f.tx, TxMode::Wrapped);

        // Its own BEGIN means the file runs as written.
        let own = "-- a comment\nBEGIN;\nALTER TABLE users ADD COLUMN email text;\nCOMMIT;\n";
        let f = from_text("add_email.sql".into(), own.into(), &assume);
        assert_eq!(f.tx, TxMode::Autocommit);
    }

    #[test]
    fn statement_heads_skip_bodies_comments_and_quotes() {
        let begins = |t: &str| statement_heads(t).iter().any(|h| is_begin(h));
        assert!(begins("\u{feff}begin;\nselect 1;"));
        assert!(begins("SET x = 1;\nSTART TRANSACTION;"));
        assert!(!begins(
            "CREATE FUNCTION f() RETURNS void AS $body$ BEGIN PERFORM 1; END $body$ LANGUAGE plpgsql;"
        ));
        assert!(!begins(
            "/* BEGIN; /* nested */ */ -- BEGIN;\nSELECT 'BEGIN';"
        ));
        assert!(!begins("SELECT E'\\'; BEGIN';"));
        assert!(!begins("SELECT $1; SELECT \"x;BEGIN\";"));
        assert_eq!(
            statement_heads("\\set ON_ERROR_STOP on\nCREATE UNIQUE INDEX CONCURRENTLY i ON t (a);"),
            [["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY"]]
        );
    }

    #[test]
    fn flyway_runs_concurrently_scripts_outside_a_transaction() {
        let idx = "SET lock_timeout = '5s';\ncreate index concurrently i on payments (order_id);\n";
        let f = from_text(
            "V3__idx.sql".into(),
            idx.into(),
            &DiscoverOptions::default(),
        );
        assert_eq!(f.tx, TxMode::Autocommit);
        assert!(f.tx_reason.contains("CONCURRENTLY"), "{}", f.tx_reason);
        // Commented out, it does not count.
        let commented = "-- CREATE INDEX CONCURRENTLY i ON payments (order_id);\nSELECT 1;";
        let f = from_text(
            "V3__idx.sql".into(),
            commented.into(),
            &DiscoverOptions::default(),
        );
        assert_eq!(f.tx, TxMode::Wrapped);
        // An explicit executeInTransaction=true overrides the detection.
        let d = tree(&[
            ("V3__idx.sql", idx.as_bytes()),
            ("V3__idx.sql.conf", b"executeInTransaction=true\n"),
        ]);
        let found = run(d.path(), &DiscoverOptions::default());
        assert_eq!(found.files[0].tx, TxMode::Wrapped);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let odd = [
            "",
            "\u{feff}",
            "$",
            "$$",
            "$a",
            "'",
            "E'\\",
            "/*",
            "/* /* */",
            "--",
            "\\",
            "-- +goose",
            "-- +goose Up",
            "-- +goose StatementBegin\nSELECT 1;",
            "-- +goose Down\n-- +goose Up",
            "-- migrate:up",
            "-- migrate:down\n-- migrate:up",
            "é-- +goosé Up\r\n",
            "BEGIN",
            "START",
            "\r\n\r\n",
        ];
        let opts = DiscoverOptions {
            assume_in_transaction: true,
            ..DiscoverOptions::default()
        };
        for text in odd {
            for &fw in Framework::ALL {
                let forced = DiscoverOptions {
                    framework: Some(fw),
                    ..opts.clone()
                };
                let f = from_text("V1__x.sql".into(), text.into(), &forced);
                for r in f.up.iter().chain(&f.statement_blocks) {
                    assert!(r.start <= r.end && r.end <= text.len(), "{text:?} {r:?}");
                    assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
                }
            }
        }
    }

    #[test]
    fn forced_framework_wins_over_detection() {
        let opts = DiscoverOptions {
            framework: Some(Framework::GolangMigrate),
            ..DiscoverOptions::default()
        };
        let f = from_text("V1__init.sql".into(), "SELECT 1;".into(), &opts);
        assert_eq!(f.framework, Framework::GolangMigrate);
        assert_eq!(f.tx, TxMode::ImplicitMulti);
    }

    #[test]
    fn stdin_name_and_framework_names() {
        let f = from_text("-".into(), "SELECT 1;".into(), &DiscoverOptions::default());
        assert_eq!(f.path, PathBuf::from("<stdin>"));
        for &fw in Framework::ALL {
            assert_eq!(Framework::from_name(fw.name()), Some(fw));
            assert!(
                TX_FACTS.iter().any(|t| t.framework == fw),
                "{fw:?} has no row"
            );
        }
        assert_eq!(
            Framework::from_name("Golang-Migrate"),
            Some(Framework::GolangMigrate)
        );
        assert_eq!(
            Framework::from_name("migrate"),
            Some(Framework::GolangMigrate)
        );
        assert_eq!(Framework::from_name("liquibase"), None);
    }

    #[test]
    fn missing_path_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let missing = d.path().join("nope.sql");
        let found = discover(std::slice::from_ref(&missing), &DiscoverOptions::default());
        assert!(found.files.is_empty());
        assert_eq!(found.errors.len(), 1);
        assert_eq!(
            found.errors[0].to_string(),
            format!("{}: no such file or directory", missing.display())
        );
    }

    #[test]
    fn directory_without_sql_is_an_error() {
        let d = tree(&[
            ("README.md", b"# migrations"),
            ("node_modules/x/1_a.sql", b"SELECT 1;"),
        ]);
        let found = run(d.path(), &DiscoverOptions::default());
        assert!(found.files.is_empty());
        assert_eq!(found.errors.len(), 1);
        assert!(
            found.errors[0]
                .to_string()
                .ends_with("directory contains no .sql migrations")
        );
    }

    #[test]
    fn invalid_utf8_is_read_lossily_with_line_and_offset() {
        let d = tree(&[("1_bad.sql", b"SELECT 1;\nSELECT 2;\nSELECT '\xff';\n")]);
        let found = run(d.path(), &DiscoverOptions::default());
        assert_eq!(found.files.len(), 1);
        assert!(found.errors.is_empty());
        let msg = found.warnings[0].to_string();
        assert!(msg.contains("not valid UTF-8"), "{msg}");
        assert!(msg.contains("line 3, byte offset 28"), "{msg}");
    }

    #[test]
    fn binary_and_utf16_files_are_refused() {
        let d = tree(&[
            ("1_bin.sql", b"SELECT\x001;"),
            ("2_wide.sql", b"\xff\xfeS\0E\0"),
        ]);
        let found = run(d.path(), &DiscoverOptions::default());
        assert!(found.files.is_empty());
        let msgs: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
        assert!(
            msgs[0].ends_with("looks like a binary file (NUL byte at offset 6)"),
            "{msgs:?}"
        );
        assert!(msgs[1].contains("UTF-16"), "{msgs:?}");
    }

    #[test]
    fn oversized_file_is_refused_without_reading() {
        let d = tree(&[("1_big.sql", &[b'x'; 2048]), ("2_small.sql", b"SELECT 1;")]);
        let opts = DiscoverOptions {
            max_file_bytes: 1024,
            ..DiscoverOptions::default()
        };
        let found = run(d.path(), &opts);
        assert_eq!(names(&found, d.path()), ["2_small.sql"]);
        let msg = found.errors[0].to_string();
        assert!(
            msg.ends_with("file is too large (2.0 KiB > 1.0 KiB limit; raise max-file-size)"),
            "{msg}"
        );
        assert_eq!(
            human_size(&(100 * 1024 * 1024)),
            "100.0 MiB",
            "sizes above 1 MiB are shown in MiB"
        );
    }

    #[test]
    fn include_and_exclude_globs() {
        let d = tree(&[
            ("app/1_users.sql", b"SELECT 1;"),
            ("app/legacy/2_old.sql", b"SELECT 2;"),
            ("app/3_orders.sql", b"SELECT 3;"),
            ("other/4_x.sql", b"SELECT 4;"),
            ("app/5_seed.sql", b"SELECT 5;"),
        ]);
        let opts = DiscoverOptions {
            include: vec!["app/**".into()],
            exclude: vec!["legacy".into(), "**/*_seed.sql".into()],
            ..DiscoverOptions::default()
        };
        let found = run(d.path(), &opts);
        assert_eq!(
            names(&found, d.path()),
            ["app/1_users.sql", "app/3_orders.sql"]
        );

        // Filtering everything away is not an error.
        let none = DiscoverOptions {
            exclude: vec!["*.sql".into()],
            ..DiscoverOptions::default()
        };
        let found = run(d.path(), &none);
        assert!(found.files.is_empty() && found.errors.is_empty());
    }

    #[test]
    fn glob_matcher() {
        let m = |p: &str, s: &str| compile_glob(p).unwrap().compile_matcher().is_match(s);
        assert!(m("*.sql", "a.sql"));
        assert!(!m("*.sql", "dir/a.sql"));
        assert!(m("**/*.sql", "a.sql"));
        assert!(m("**/*.sql", "x/y/a.sql"));
        assert!(m("a/**", "a/b/c"));
        assert!(m("a/**/c", "a/c"));
        assert!(!m("a/?", "a/bc"));
        assert!(m("V?__*.sql", "V1__x.sql"));
    }

    #[test]
    fn git_ignored_files_are_skipped_in_a_work_tree() {
        let d = tree(&[
            (".git/HEAD", b"ref: refs/heads/main\n"),
            (".gitignore", b"scratch/\n*_local.sql\n"),
            ("db/1_a.sql", b"SELECT 1;"),
            ("db/scratch/2_b.sql", b"SELECT 2;"),
            ("db/3_mine_local.sql", b"SELECT 3;"),
        ]);
        // .gitignore files above the directory argument apply too, as in git
        let found = run(&d.path().join("db"), &DiscoverOptions::default());
        assert_eq!(names(&found, &d.path().join("db")), ["1_a.sql"]);
        // named explicitly, an ignored file is still read
        let named = d.path().join("db/3_mine_local.sql");
        assert_eq!(
            discover(&[named], &DiscoverOptions::default()).files.len(),
            1
        );
    }

    #[test]
    fn listed_files_get_the_walk_filters_and_order() {
        let listed: Vec<String> = [
            "10_c.sql",
            "2_b.sql",
            "2_b.down.sql",
            ".hidden/4_x.sql",
            "node_modules/5_x.sql",
            "legacy/6_x.sql",
            "notes.txt",
        ]
        .map(String::from)
        .to_vec();
        let opts = DiscoverOptions {
            exclude: vec!["legacy".into()],
            ..DiscoverOptions::default()
        };
        let order = order_listed(Path::new("db"), &listed, &opts).unwrap();
        assert_eq!(order, [Path::new("db/2_b.sql"), Path::new("db/10_c.sql")]);
        let nothing = order_listed(Path::new("db"), &listed[6..], &opts);
        assert!(matches!(nothing, Err(SourceError::NoMigrations { .. })));
    }

    #[test]
    fn bad_pattern_is_one_error() {
        let d = tree(&[("1_a.sql", b"SELECT 1;")]);
        let opts = DiscoverOptions {
            exclude: vec!["[a".into()],
            ..DiscoverOptions::default()
        };
        let found = run(d.path(), &opts);
        assert!(found.files.is_empty());
        let message = found.errors[0].to_string();
        assert!(message.contains("bad include/exclude pattern") && !message.contains('\n'));
    }

    #[test]
    fn natural_and_version_order() {
        assert_eq!(natural_cmp("a/2_x.sql", "a/10_x.sql"), Ordering::Less);
        assert_eq!(natural_cmp("x10", "x9"), Ordering::Greater);
        assert_ne!(natural_cmp("01", "1"), Ordering::Equal);
        let v = |s: &str| Version::parse(s, &['.', '_']).unwrap();
        assert!(v("1.2") < v("1.10"));
        assert_eq!(v("1.0"), v("1"));
        assert!(v("1.0.1") > v("1"));
        assert!(v("2") > v("1.999"));
    }

    #[test]
    fn one_bad_file_does_not_hide_the_others() {
        let d = tree(&[
            ("1_a.sql", b"SELECT 1;"),
            ("2_b.sql", b"SELECT \xc3\x28;"),
            ("3_c.sql", b"SELECT 3;"),
            ("4_d.sql", b"SELECT 4\0;"),
        ]);
        let missing = d.path().join("missing_dir");
        let found = discover(
            &[missing, d.path().to_path_buf()],
            &DiscoverOptions::default(),
        );
        // invalid UTF-8 is read lossily with a warning; a binary file is an error
        assert_eq!(names(&found, d.path()), ["1_a.sql", "2_b.sql", "3_c.sql"]);
        assert_eq!(found.errors.len(), 2);
        assert!(matches!(found.errors[0], SourceError::NotFound { .. }));
        assert!(matches!(found.errors[1], SourceError::Binary { .. }));
        assert!(matches!(
            found.warnings[..],
            [SourceError::InvalidUtf8 { line: 1, .. }]
        ));
        assert!(found.files[1].text.contains('\u{FFFD}'));
    }

    #[test]
    fn arguments_keep_their_order_and_files_are_not_repeated() {
        let d = tree(&[("1_a.sql", b"SELECT 1;"), ("2_b.sql", b"SELECT 2;")]);
        let b = d.path().join("2_b.sql");
        let found = discover(
            &[b.clone(), d.path().to_path_buf()],
            &DiscoverOptions::default(),
        );
        assert_eq!(names(&found, d.path()), ["2_b.sql", "1_a.sql"]);
    }

    #[test]
    fn hidden_and_build_directories_are_skipped() {
        let d = tree(&[
            ("1_a.sql", b"SELECT 1;"),
            (".git/2_b.sql", b"SELECT 2;"),
            ("target/3_c.sql", b"SELECT 3;"),
            ("._4_d.sql", b"junk"),
            ("notes.txt", b"SELECT 5;"),
        ]);
        let found = run(d.path(), &DiscoverOptions::default());
        assert_eq!(names(&found, d.path()), ["1_a.sql"]);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_end() {
        let d = tree(&[("sub/1_a.sql", b"SELECT 1;")]);
        std::os::unix::fs::symlink(d.path(), d.path().join("sub/loop")).unwrap();
        std::os::unix::fs::symlink(
            d.path().join("nowhere.sql"),
            d.path().join("2_dangling.sql"),
        )
        .unwrap();
        let found = run(d.path(), &DiscoverOptions::default());
        assert_eq!(names(&found, d.path()), ["sub/1_a.sql"]);
        assert_eq!(found.errors.len(), 1, "{:?}", found.errors);
        assert!(found.errors[0].path().ends_with("2_dangling.sql"));
    }
}
