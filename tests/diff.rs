//! `--diff BASE` and `--staged` against real git repositories in temporary directories:
//! only changed files are reported, unchanged migrations are replayed as existing tables, the
//! index is read for `--staged`, and git's failures are one clear line with exit code 2.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const ORDERS: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, created_at timestamptz);\n";
const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY);\n";
const INDEX_ORDERS: &str = "CREATE INDEX orders_created_idx ON orders (created_at);\n";
const INDEX_ORDERS_CONCURRENTLY: &str =
    "CREATE INDEX CONCURRENTLY orders_created_idx ON orders (created_at);\n";

/// A work tree in a temporary directory, with git run hermetically (no user configuration).
struct Repo {
    dir: tempfile::TempDir,
}

fn git_in(dir: &Path, args: &[&str]) -> String {
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
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Repo {
    /// A repository whose first commit (returned by [`Repo::head`]) has 0001 (orders) and
    /// 0002 (users), on branch `main`.
    fn with_base() -> Repo {
        let repo = Repo::empty();
        repo.write("migrations/0001_orders.sql", ORDERS);
        repo.write("migrations/0002_users.sql", USERS);
        repo.commit("base");
        repo
    }

    fn empty() -> Repo {
        let dir = tempfile::tempdir().expect("temp dir");
        git_in(dir.path(), &["init", "-q"]);
        Repo { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, body: &str) {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }

    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.head()
    }

    fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }
}

/// What one run of the binary printed.
struct Run {
    code: Option<i32>,
    stderr: String,
    /// The JSON report, when `--format json` was asked for and stdout holds one.
    json: serde_json::Value,
}

impl Run {
    /// Files with findings, as displayed.
    fn files(&self) -> BTreeSet<String> {
        self.diagnostics()
            .filter_map(|d| d["file"].as_str().map(str::to_owned))
            .collect()
    }

    fn rules_in(&self, file: &str) -> BTreeSet<String> {
        self.diagnostics()
            .filter(|d| d["file"] == file)
            .filter_map(|d| d["rule"].as_str().map(str::to_owned))
            .collect()
    }

    fn fired(&self, rule: &str) -> bool {
        self.diagnostics().any(|d| d["rule"] == rule)
    }

    fn diagnostics(&self) -> impl Iterator<Item = &serde_json::Value> {
        self.json["diagnostics"].as_array().into_iter().flatten()
    }

    fn checked_files(&self) -> u64 {
        self.json["summary"]["files"]
            .as_u64()
            .expect("summary.files")
    }
}

fn pgrisk_with_path(dir: &Path, args: &[&str], path_env: Option<&Path>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pgrisk"));
    command
        .args(args)
        .args(["--format", "json", "--no-config"])
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    if let Some(path) = path_env {
        command.env("PATH", path);
    }
    let out = command.output().expect("run pgrisk");
    Run {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        json: serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null),
    }
}

fn pgrisk(dir: &Path, args: &[&str]) -> Run {
    pgrisk_with_path(dir, args, None)
}

/// The one line a failed run printed, after checking it failed with exit code 2.
fn one_error_line(run: Run) -> String {
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {:?}", run.stderr);
    lines[0].to_owned()
}

#[test]
fn only_the_added_file_is_reported_and_unchanged_tables_are_existing() {
    let repo = Repo::with_base();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    // untracked: outside git's view, so added
    repo.write("migrations/0003_orders_index.sql", INDEX_ORDERS);

    let diff = pgrisk(repo.path(), &["lint", "--diff", "main", "migrations"]);
    assert_eq!(diff.code, Some(1), "{}", diff.stderr);
    assert_eq!(
        diff.files(),
        ["migrations/0003_orders_index.sql".to_owned()].into()
    );
    assert!(
        diff.rules_in("migrations/0003_orders_index.sql")
            .contains("create-index-blocking"),
        "orders comes from an unchanged migration, so it exists: {}",
        diff.json
    );
    assert_eq!(diff.checked_files(), 1);
    assert!(
        diff.stderr
            .contains("1 changed migration file since `main` (merge base"),
        "{}",
        diff.stderr
    );

    // the whole set: orders is created by the set itself, so the index build blocks no one
    let whole = pgrisk(repo.path(), &["lint", "migrations"]);
    assert!(!whole.fired("create-index-blocking"), "{}", whole.json);
    assert_eq!(whole.checked_files(), 3);
}

#[test]
fn merge_base_semantics_ignore_what_the_base_branch_did_since() {
    let repo = Repo::with_base();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("migrations/0003_orders_index.sql", INDEX_ORDERS);
    repo.commit("feature");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("migrations/0004_main_only.sql", INDEX_ORDERS);
    repo.commit("main moves on");
    repo.git(&["checkout", "-q", "feature"]);

    let run = pgrisk(repo.path(), &["lint", "--diff", "main", "migrations", "-v"]);
    // 0004 is not on the branch: neither reported nor "deleted"
    assert_eq!(
        run.files(),
        ["migrations/0003_orders_index.sql".to_owned()].into()
    );
    assert!(!run.stderr.contains("0004"), "{}", run.stderr);
}

#[test]
fn a_modified_file_is_reported_after_the_unchanged_ones() {
    let repo = Repo::with_base();
    let base = repo.head();
    repo.write(
        "migrations/0002_users.sql",
        &format!("{USERS}ALTER TABLE orders ADD COLUMN note text NOT NULL;\n"),
    );
    repo.commit("edit 0002");
    let run = pgrisk(repo.path(), &["lint", "--diff", &base, "migrations"]);
    assert_eq!(run.files(), ["migrations/0002_users.sql".to_owned()].into());
    assert_eq!(run.checked_files(), 1);
    assert_eq!(run.code, Some(1));
}

#[test]
fn a_pure_rename_is_not_reported_but_a_rename_with_edits_is() {
    let repo = Repo::with_base();
    let base = repo.head();
    repo.git(&[
        "mv",
        "migrations/0002_users.sql",
        "migrations/0005_users.sql",
    ]);
    let renamed = pgrisk(repo.path(), &["lint", "--diff", &base, "migrations"]);
    assert_eq!(renamed.code, Some(0), "{}", renamed.stderr);
    assert_eq!(renamed.checked_files(), 0);
    assert!(
        renamed.stderr.contains("0 changed migration files"),
        "{}",
        renamed.stderr
    );

    // similar enough for git to call it a rename (R0nn), but not the same file
    repo.write(
        "migrations/0005_users.sql",
        &format!("{USERS}-- reviewed\n"),
    );
    repo.commit("rename with an edit");
    let status = repo.git(&["diff", "--name-status", "--find-renames", &base]);
    assert!(
        status.starts_with('R') && !status.starts_with("R100"),
        "{status}"
    );
    let edited = pgrisk(repo.path(), &["lint", "--diff", &base, "migrations"]);
    assert_eq!(edited.checked_files(), 1, "{}", edited.stderr);
}

#[test]
fn deleted_files_are_neither_read_nor_reported() {
    let repo = Repo::with_base();
    let base = repo.head();
    repo.git(&["rm", "-q", "migrations/0002_users.sql"]);
    let run = pgrisk(repo.path(), &["lint", "--diff", &base, "migrations", "-v"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.checked_files(), 0);
    assert!(
        run.stderr
            .contains("migrations/0002_users.sql: deleted, not read"),
        "{}",
        run.stderr
    );
}

#[test]
fn staged_lints_the_index_not_the_work_tree() {
    let repo = Repo::with_base();
    repo.write("migrations/0003_orders_index.sql", INDEX_ORDERS);
    repo.git(&["add", "migrations/0003_orders_index.sql"]);
    // fixed on disk but not staged: the commit would still contain the blocking build
    repo.write(
        "migrations/0003_orders_index.sql",
        INDEX_ORDERS_CONCURRENTLY,
    );
    repo.write("migrations/0004_untracked.sql", INDEX_ORDERS);

    let staged = pgrisk(
        repo.path(),
        &["lint", "--staged", "migrations/0003_orders_index.sql"],
    );
    assert_eq!(staged.code, Some(1), "{}", staged.stderr);
    assert!(
        staged
            .rules_in("migrations/0003_orders_index.sql")
            .contains("create-index-blocking"),
        "{}",
        staged.json
    );
    // the untracked file will not be committed: not even context
    assert_eq!(
        staged.files(),
        ["migrations/0003_orders_index.sql".to_owned()].into()
    );
    assert!(
        staged
            .stderr
            .contains("1 changed migration file staged (index vs HEAD); 2 others"),
        "{}",
        staged.stderr
    );

    // the same work tree with --diff reads the disk: the fixed file and the untracked one
    let disk = pgrisk(repo.path(), &["lint", "--diff", "HEAD", "migrations"]);
    assert!(
        disk.rules_in("migrations/0003_orders_index.sql")
            .iter()
            .all(|rule| rule != "create-index-blocking"),
        "{}",
        disk.json
    );
    assert!(
        disk.rules_in("migrations/0004_untracked.sql")
            .contains("create-index-blocking")
    );
}

#[test]
fn staged_before_the_first_commit_reports_every_staged_file() {
    let repo = Repo::empty();
    repo.write("migrations/0001_orders.sql", ORDERS);
    repo.write("migrations/0002_orders_index.sql", INDEX_ORDERS);
    repo.git(&["add", "."]);
    let run = pgrisk(repo.path(), &["lint", "--staged", "migrations"]);
    assert_eq!(run.checked_files(), 2, "{}", run.stderr);
    // orders is created by a file of the same change: new, so no lock finding
    assert!(!run.fired("create-index-blocking"), "{}", run.json);
}

#[test]
fn paths_work_from_a_subdirectory() {
    let repo = Repo::with_base();
    repo.write("migrations/0003_orders_index.sql", INDEX_ORDERS);
    repo.write("app/main.go", "package main\n");
    let migrations = repo.path().join("migrations");
    let want: BTreeSet<String> = ["0003_orders_index.sql".to_owned()].into();

    let here = pgrisk(&migrations, &["lint", "--diff", "HEAD", "."]);
    let names: BTreeSet<String> = here
        .files()
        .iter()
        .map(|f| f.trim_start_matches("./").to_owned())
        .collect();
    assert_eq!(names, want, "{}", here.stderr);
    assert!(
        here.rules_in("./0003_orders_index.sql")
            .contains("create-index-blocking")
    );

    // a file argument: its directory is the migration set, and only it is reported
    repo.git(&["add", "."]);
    let named = pgrisk(&migrations, &["lint", "--staged", "0003_orders_index.sql"]);
    assert_eq!(named.checked_files(), 1, "{}", named.stderr);
    assert!(
        named
            .files()
            .iter()
            .all(|f| f.ends_with("0003_orders_index.sql"))
    );

    let sibling = pgrisk(
        &repo.path().join("app"),
        &["lint", "--diff", "HEAD", "../migrations"],
    );
    assert_eq!(
        sibling.files(),
        ["../migrations/0003_orders_index.sql".to_owned()].into()
    );
}

#[test]
fn unchanged_files_named_by_pre_commit_are_context_only() {
    let repo = Repo::with_base();
    repo.write("migrations/0003_orders_index.sql", INDEX_ORDERS);
    repo.git(&["add", "."]);
    // an unchanged file named explicitly is not reported
    let run = pgrisk(
        repo.path(),
        &["lint", "--staged", "migrations/0001_orders.sql"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.checked_files(), 0);
}

#[test]
fn git_failures_are_one_line() {
    let plain = tempfile::tempdir().unwrap();
    std::fs::write(plain.path().join("0001.sql"), ORDERS).unwrap();
    let line = one_error_line(pgrisk(plain.path(), &["lint", "--diff", "main", "."]));
    assert!(line.contains("not a git repository"), "{line}");

    let repo = Repo::with_base();
    let line = one_error_line(pgrisk(
        repo.path(),
        &["lint", "--diff", "nosuch", "migrations"],
    ));
    assert_eq!(line, "pgrisk: error: unknown git ref `nosuch`");

    let no_git = tempfile::tempdir().unwrap();
    let run = pgrisk_with_path(
        repo.path(),
        &["lint", "--staged", "migrations"],
        Some(no_git.path()),
    );
    let line = one_error_line(run);
    assert!(line.contains("git is not installed"), "{line}");

    let line = one_error_line(pgrisk(repo.path(), &["lint", "--diff", "HEAD", "-"]));
    assert!(line.contains("standard input"), "{line}");
}

/// A repository with four commits, cloned with `--depth`: returns (origin, clone, commits).
fn shallow_clone(depth: &str) -> (Repo, tempfile::TempDir, Vec<String>) {
    let origin = Repo::with_base();
    let mut commits = vec![origin.head()];
    for n in 3..6 {
        origin.write(&format!("migrations/000{n}_step.sql"), INDEX_ORDERS);
        commits.push(origin.commit(&format!("step {n}")));
    }
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git_in(
        clone.path(),
        &["clone", "-q", "--depth", depth, &url, "work"],
    );
    (origin, clone, commits)
}

#[test]
fn shallow_clone_without_the_base_says_how_to_fetch_it() {
    let (_origin, clone, commits) = shallow_clone("1");
    let work: PathBuf = clone.path().join("work");
    let line = one_error_line(pgrisk(
        &work,
        &["lint", "--diff", &commits[0], "migrations"],
    ));
    assert!(
        line.contains("is not in this shallow clone")
            && line.contains("git fetch --deepen=50 origin")
            && line.contains("fetch-depth: 0"),
        "{line}"
    );
}

#[test]
fn shallow_clone_with_the_base_works() {
    let (_origin, clone, commits) = shallow_clone("3");
    let work = clone.path().join("work");
    // commits[1] added 0003: it is the clone's oldest commit, so 0004 and 0005 changed since
    let run = pgrisk(&work, &["lint", "--diff", &commits[1], "migrations"]);
    assert_eq!(
        run.files(),
        [
            "migrations/0004_step.sql".to_owned(),
            "migrations/0005_step.sql".to_owned()
        ]
        .into(),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("2 changed migration files"),
        "{}",
        run.stderr
    );
}

#[test]
fn queries_report_only_changed_query_files() {
    let repo = Repo::empty();
    repo.write("schema.sql", ORDERS);
    repo.write("queries/a.sql", "SELECT * FROM orders;\n");
    repo.write("queries/b.sql", "SELECT id FROM orders WHERE id = $1;\n");
    let base = repo.commit("base");
    repo.write("queries/b.sql", "SELECT * FROM orders WHERE id = $1;\n");
    let run = pgrisk(
        repo.path(),
        &[
            "queries",
            "--schema",
            "schema.sql",
            "--diff",
            &base,
            "queries",
        ],
    );
    assert_eq!(
        run.files(),
        ["queries/b.sql".to_owned()].into(),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("1 changed query file"),
        "{}",
        run.stderr
    );
}

#[test]
fn unchanged_files_sorting_after_a_changed_one_are_replayed_first() {
    let repo = Repo::with_base();
    let base = repo.head();
    // a branch's file with an older number than a migration already in BASE
    repo.write(
        "migrations/0001a_users_index.sql",
        "CREATE INDEX users_id_idx ON users (id);\n",
    );
    let run = pgrisk(repo.path(), &["lint", "--diff", &base, "migrations", "-v"]);
    assert!(
        run.rules_in("migrations/0001a_users_index.sql")
            .contains("create-index-blocking"),
        "users comes from 0002, deployed: {}",
        run.json
    );
    assert!(
        run.stderr.contains(
            "migrations/0001a_users_index.sql: sorts before 1 migration replayed before it"
        ),
        "{}",
        run.stderr
    );
}
