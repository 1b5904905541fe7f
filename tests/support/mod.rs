//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pgrisk::analysis::Mode;
use pgrisk::commands::lint::{Input, check_files};
use pgrisk::config::{self, Settings};
use pgrisk::diagnostic::Report;
use pgrisk::render::{self, Format, RenderOptions};
use pgrisk::source::discover::{self, DiscoverOptions};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Settings for a fixture directory: its `pgrisk.toml` if any, then only `rule` selected.
pub fn fixture_settings(dir: &Path, rule: &str) -> Settings {
    let mut settings = Settings::default();
    let file = dir.join(config::FILE_NAME);
    if file.is_file() {
        let loaded = config::load_file(&file).unwrap_or_else(|e| panic!("{e}"));
        settings
            .apply_file(loaded, &file)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    settings.select = vec![rule.to_owned()];
    settings
}

pub fn discover_options(settings: &Settings) -> DiscoverOptions {
    DiscoverOptions {
        framework: settings.framework,
        assume_in_transaction: settings.assume_in_transaction,
        ..DiscoverOptions::default()
    }
}

/// Lints files given by paths relative to the crate root, as one migration set in this order.
pub fn lint_paths(relative: &[PathBuf], settings: &Settings) -> Report {
    let found = discover::discover(relative, &discover_options(settings));
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    check_files(
        Input {
            context: Vec::new(),
            files: found.files,
            mode: Mode::Migrations,
            parse_all: false,
        },
        settings,
    )
}

/// Checks query files against a schema file (`pgrisk queries --schema`).
pub fn check_queries(relative: &[PathBuf], schema: &[PathBuf], settings: &Settings) -> Report {
    let options = DiscoverOptions {
        framework: Some(pgrisk::source::Framework::Plain),
        ..DiscoverOptions::default()
    };
    let found = discover::discover(relative, &options);
    let context = discover::discover(schema, &options);
    assert!(
        found.errors.is_empty() && context.errors.is_empty(),
        "{:?} {:?}",
        found.errors,
        context.errors
    );
    check_files(
        Input {
            context: context.files,
            files: found.files,
            mode: Mode::Queries,
            parse_all: false,
        },
        settings,
    )
}

/// Checks query text against schema text (doc examples of query rules).
pub fn check_query_text(text: &str, schema: &str, settings: &Settings) -> Report {
    let options = DiscoverOptions {
        framework: Some(pgrisk::source::Framework::Plain),
        ..DiscoverOptions::default()
    };
    let file = discover::from_text(PathBuf::from("example.sql"), text.to_owned(), &options);
    let context = discover::from_text(PathBuf::from("schema.sql"), schema.to_owned(), &options);
    check_files(
        Input {
            context: vec![context],
            files: vec![file],
            mode: Mode::Queries,
            parse_all: false,
        },
        settings,
    )
}

/// Lints text as if it were a plain `.sql` file called `name`.
pub fn lint_text(name: &str, text: &str, settings: &Settings) -> Report {
    lint_texts(&[(name.to_owned(), text.to_owned())], settings)
}

/// Lints texts as one migration set of plain `.sql` files, in this order.
pub fn lint_texts(files: &[(String, String)], settings: &Settings) -> Report {
    let files = files
        .iter()
        .map(|(name, text)| {
            discover::from_text(
                PathBuf::from(name),
                text.clone(),
                &discover_options(settings),
            )
        })
        .collect();
    check_files(
        Input {
            context: Vec::new(),
            files,
            mode: Mode::Migrations,
            parse_all: false,
        },
        settings,
    )
}

/// What a run without a terminal and outside GitHub Actions renders with.
pub fn plain_render_options() -> RenderOptions {
    RenderOptions {
        color: false,
        width: 100,
        verbose: false,
        quiet: false,
        links: None,
    }
}

pub fn render_to_string(report: &Report, format: Format) -> String {
    render_with(report, format, &plain_render_options())
}

pub fn render_with(report: &Report, format: Format, options: &RenderOptions) -> String {
    let mut out = Vec::new();
    render::render(report, format, options, &mut out).expect("render to memory");
    String::from_utf8(out).expect("renders are UTF-8")
}

pub fn blessing() -> bool {
    std::env::var_os("PGRISK_BLESS").is_some_and(|v| v != "0")
}

/// Compares `actual` with the file at `expected`, or rewrites it when blessing.
/// Returns a failure description instead of panicking so callers can collect them all.
pub fn compare_or_bless(expected: &Path, actual: &str) -> Option<String> {
    if blessing() {
        std::fs::write(expected, actual).expect("write blessed file");
        return None;
    }
    let Ok(want) = std::fs::read_to_string(expected) else {
        return Some(format!(
            "{}: missing (run with PGRISK_BLESS=1 to create it)",
            expected.display()
        ));
    };
    if want == actual {
        return None;
    }
    let diff = similar::TextDiff::from_lines(&want, actual)
        .unified_diff()
        .header("expected", "actual")
        .to_string();
    Some(format!("{} differs:\n{diff}", expected.display()))
}

/// A temporary directory holding `files` (relative paths, parents created).
pub fn temp_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, body) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    dir
}

/// Runs pgrisk in `dir`: (exit code, stdout, stderr).
pub fn run_in(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = pgrisk_in(dir, args, None);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn pgrisk(args: &[&str]) -> Output {
    pgrisk_in(&root(), args, None)
}

pub fn pgrisk_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_pgrisk"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("PGRISK_PG_VERSION")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run pgrisk");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait for pgrisk")
}

/// Server binary directories to test against: every entry of `PGRISK_PG_BIN_DIRS`, or the
/// default installation (Debian's PostgreSQL in CI).
pub fn pg_bin_dirs() -> Vec<PathBuf> {
    let listed = pgrisk::pg::cluster::bin_dirs_from_env();
    if !listed.is_empty() {
        return listed;
    }
    vec![
        pgrisk::pg::cluster::find_bin_dir(None)
            .expect("PostgreSQL server binaries (CI installs them)"),
    ]
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

pub async fn connect(
    cluster: &pgrisk::pg::cluster::Cluster,
    database: &str,
) -> tokio_postgres::Client {
    pgrisk::pg::connect::connect(&cluster.config(database))
        .await
        .expect("connect to the test cluster")
}

/// `key=value` DSN for a database of the test cluster.
pub fn dsn(cluster: &pgrisk::pg::cluster::Cluster, database: &str) -> String {
    format!(
        "host={} port={} user=postgres dbname={database}",
        cluster.socket_dir().display(),
        cluster.port()
    )
}

/// ```` ```sql bad pg-version=11 ```` → ("bad", Some(11), body).
pub fn examples(doc: &str) -> Vec<(String, Option<u32>, String)> {
    let mut out = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.trim().strip_prefix("```sql ") else {
            continue;
        };
        let mut words = info.split_whitespace();
        let kind = words.next().unwrap_or_default().to_owned();
        let version = words
            .find_map(|w| w.strip_prefix("pg-version="))
            .and_then(|v| v.parse().ok());
        let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        if kind == "bad" || kind == "good" || kind == "schema" {
            out.push((kind, version, body.join("\n")));
        }
    }
    out
}

/// Runs git in `dir` with a fixed identity (a fresh machine has none) and returns its
/// trimmed stdout; a failing git command fails the test with its stderr.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=pgrisk test",
            "-c",
            "user.email=test@pgrisk.invalid",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Where the tests that install pgrisk the way users do (`cargo install`, by the GitHub
/// Action or pre-commit) build it, shared so it is compiled once per checkout.
pub fn tool_build_dir() -> PathBuf {
    root().join("target").join("tool-build")
}

/// Cargo settings for those installs: their own target directory, and a release profile
/// without LTO, since these tests check the integration, not the optimised binary.
pub fn tool_build_env() -> Vec<(String, String)> {
    [
        (
            "CARGO_TARGET_DIR",
            tool_build_dir().join("target").display().to_string(),
        ),
        ("CARGO_PROFILE_RELEASE_LTO", "false".into()),
        ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16".into()),
        ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A program the integration tests drive as users do (pre-commit, Neovim, the SARIF
/// validator): `$VAR` if set, else the name on PATH, else the place `scripts/test.sh`
/// installs it. Missing, the test fails and says how to install it.
pub fn test_tool(var: &str, name: &str, installed_at: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(var) {
        return PathBuf::from(path);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    let local = root().join(installed_at);
    on_path
        .or_else(|| local.is_file().then_some(local))
        .unwrap_or_else(|| {
            panic!("`{name}` is needed by this test: run scripts/test.sh (it installs it), or set {var}")
        })
}
