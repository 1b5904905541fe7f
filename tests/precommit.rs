//! The pre-commit hook (`.pre-commit-hooks.yaml`) with the real `pre-commit` from PyPI: a
//! temporary project whose `.pre-commit-config.yaml` points at a copy of this checkout, so
//! pre-commit builds pgrisk with `cargo install` as it does for users, then `git commit`.

use std::path::Path;
use std::process::Command;

use crate::support::{self, git};

/// This checkout's files (tracked and new, not ignored) committed in a fresh repository, so
/// pre-commit clones exactly the work tree under test. Returns the commit id.
fn hook_repository(dir: &Path) -> String {
    let root = support::root();
    let listed = git(
        &root,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    );
    for name in listed.split('\0').filter(|n| !n.is_empty()) {
        let from = root.join(name);
        if !from.is_file() {
            continue; // deleted in the work tree
        }
        let to = dir.join(name);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
    }
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "pgrisk under test"]);
    git(dir, &["rev-parse", "HEAD"])
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `git commit` with the hook installed: (succeeded, everything printed).
fn commit(project: &Path, cache: &Path, message: &str) -> (bool, String) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=pgrisk test",
            "-c",
            "user.email=test@pgrisk.invalid",
        ])
        .args(["commit", "-q", "-m", message])
        .current_dir(project)
        .env("PRE_COMMIT_HOME", cache)
        .env("PRE_COMMIT_COLOR", "never")
        .envs(support::tool_build_env())
        .output()
        .expect("git commit");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn staged_dangerous_migration_fails_the_commit_and_a_safe_one_passes() {
    let pre_commit = support::test_tool(
        "PGRISK_PRE_COMMIT",
        "pre-commit",
        "target/test-tools/venv/bin/pre-commit",
    );
    let hooks = tempfile::tempdir().expect("temp dir");
    let rev = hook_repository(hooks.path());
    let project = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let work = project.path();
    git(work, &["init", "-q"]);
    write(
        work,
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: pgrisk\n",
            hooks.path().display()
        ),
    );
    // the table comes from a migration committed earlier: deployed, so locks on it matter
    write(
        work,
        "migrations/0001_orders.sql",
        "CREATE TABLE orders (id bigint PRIMARY KEY, created_at timestamptz NOT NULL);\n",
    );
    git(work, &["add", "."]);
    git(work, &["commit", "-q", "-m", "orders"]);
    let installed = Command::new(&pre_commit)
        .arg("install")
        .current_dir(work)
        .env("PRE_COMMIT_HOME", cache.path())
        .output()
        .expect("pre-commit install");
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );

    write(
        work,
        "migrations/0002_orders_created.sql",
        "SET lock_timeout = '2s';\nCREATE INDEX orders_created_idx ON orders (created_at);\n",
    );
    git(work, &["add", "migrations/0002_orders_created.sql"]);
    let (committed, output) = commit(work, cache.path(), "blocking index");
    assert!(!committed, "the hook stops the commit:\n{output}");
    assert!(
        output.contains("create-index-blocking") && output.contains("0002_orders_created.sql"),
        "the finding is shown:\n{output}"
    );
    assert_eq!(
        git(work, &["rev-list", "--count", "HEAD"]),
        "1",
        "nothing was committed"
    );

    write(
        work,
        "migrations/0002_orders_created.sql",
        "CREATE INDEX CONCURRENTLY orders_created_idx ON orders (created_at);\n",
    );
    git(work, &["add", "migrations/0002_orders_created.sql"]);
    let (committed, output) = commit(work, cache.path(), "concurrent index");
    assert!(committed, "a safe migration passes:\n{output}");
    assert_eq!(git(work, &["rev-list", "--count", "HEAD"]), "2");
}
