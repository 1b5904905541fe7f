//! `lint --fix`: every safe fix keeps its promise on the rule's fixtures (its finding goes,
//! no finding appears that the original did not have, and PostgreSQL runs the fixed SQL with
//! no error the original did not have), and the command writes only what it should.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use pgrisk::analysis::Mode;
use pgrisk::commands::lint::{Input, check_files};
use pgrisk::config::Settings;
use pgrisk::diagnostic::Report;
use pgrisk::pg::cluster::Cluster;
use pgrisk::rules::{self, Applicability};
use pgrisk::source::SourceFile;
use pgrisk::source::discover::{self, MigrationFile};

use crate::support::{self, run_in, temp_with};

/// The rules whose fixes may be safe. `every_safe_fix_is_listed` keeps this list honest.
const SAFE_FIX_RULES: &[&str] = &[
    "constraint-validating-scan",
    "create-index-blocking",
    "drop-index-blocking",
    "lock-without-timeout",
    "migration-not-rerunnable",
    "refresh-matview-blocking",
    "reindex-blocking",
];

/// The schema the fixtures assume: replayed as the existing database when linting, and
/// loaded into the server the fixed SQL runs on, so both see the same tables.
const SCHEMA: &str = "fixtures/trace/schema.sql";

fn schema_text() -> String {
    std::fs::read_to_string(support::root().join(SCHEMA)).expect(SCHEMA)
}

/// Every `.sql` file under `dir`, sorted.
fn sql_files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.is_dir() {
            out.extend(sql_files_under(&path));
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// A fixture as linted: every rule on, with its directory's pgrisk.toml.
struct Case {
    name: String,
    settings: Settings,
    text: String,
}

impl Case {
    fn load(path: &Path, rule: &str) -> Case {
        let mut settings = support::fixture_settings(path.parent().unwrap(), rule);
        settings.select.clear();
        let name = path
            .strip_prefix(support::root())
            .unwrap()
            .display()
            .to_string();
        Case {
            name,
            settings,
            text: std::fs::read_to_string(path).unwrap(),
        }
    }

    fn file(&self, text: &str) -> MigrationFile {
        let options = support::discover_options(&self.settings);
        discover::from_text(PathBuf::from(&self.name), text.to_owned(), &options)
    }

    fn lint(&self, text: &str) -> Report {
        let options = support::discover_options(&self.settings);
        let schema = discover::from_text(PathBuf::from(SCHEMA), schema_text(), &options);
        check_files(
            Input {
                context: vec![schema],
                files: vec![self.file(text)],
                mode: Mode::Migrations,
                parse_all: false,
            },
            &self.settings,
        )
    }
}

/// The bad fixtures of `rule` (`fixtures/lint/<rule>/**/bad.sql`) and its dedicated fix
/// inputs (`fixtures/fix/<rule>/*.sql`).
fn cases(rule: &str) -> Vec<Case> {
    let root = support::root();
    let bad = sql_files_under(&root.join("fixtures/lint").join(rule))
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "bad.sql"));
    let dedicated = sql_files_under(&root.join("fixtures/fix").join(rule));
    bad.chain(dedicated).map(|p| Case::load(&p, rule)).collect()
}

/// Rules that report the first offending statement of a scope (a transaction, or the
/// file's autocommit statements): when a fix removes that statement's risk, the finding
/// moves to the next one, which was just as exposed before. For them only the number of
/// findings counts.
const ONCE_PER_SCOPE: &[&str] = &["lock-without-timeout"];

/// A message as compared: line numbers in it ("taken at line 12") move when a fix inserts
/// lines, and findings of once-per-scope rules count by rule.
fn comparable(rule: &str, message: &str) -> String {
    if ONCE_PER_SCOPE.contains(&rule) {
        return String::new();
    }
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("line ") {
        out.push_str(&rest[..i + 5]);
        rest = rest[i + 5..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push('#');
    }
    out.push_str(rest);
    out
}

fn count<'a>(items: impl Iterator<Item = (&'a str, &'a str)>) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for (rule, message) in items {
        *counts
            .entry((rule.to_owned(), comparable(rule, message)))
            .or_default() += 1;
    }
    counts
}

/// `(rule, message)` entries of `after` that `before` has fewer of.
fn new_entries(
    before: &BTreeMap<(String, String), usize>,
    after: &BTreeMap<(String, String), usize>,
) -> Vec<String> {
    after
        .iter()
        .filter(|(key, n)| before.get(*key).copied().unwrap_or(0) < **n)
        .map(|((rule, message), _)| format!("{rule}: {message}"))
        .collect()
}

/// A fixed fixture: its text before and after the safe fixes of one rule.
struct FixedCase {
    name: String,
    file_before: MigrationFile,
    file_after: MigrationFile,
}

/// Applies the safe fixes of `rule` to each of its cases and checks the findings; returns
/// the cases where a fix was applied.
fn fix_and_relint(rule: &str, failures: &mut Vec<String>) -> Vec<FixedCase> {
    let mut fixed_cases = Vec::new();
    for case in cases(rule) {
        let before = case.lint(&case.text);
        let own: Vec<_> = before
            .diagnostics
            .iter()
            .filter(|d| d.rule == rule)
            .collect();
        let fixed = pgrisk::fix::apply(&case.text, own.iter().copied());
        if fixed.applied == 0 {
            continue;
        }
        let after = case.lint(&fixed.text);
        // the rule's findings that remain are those whose fix was not applied
        let unfixed = count(
            own.iter()
                .filter(|d| {
                    d.fix
                        .as_ref()
                        .is_none_or(|f| f.applicability == Applicability::Suggestion)
                        || fixed.skipped.iter().any(|s| std::ptr::eq(*s, **d))
                })
                .map(|d| (d.rule, d.message.as_str())),
        );
        let remaining = count(
            after
                .diagnostics
                .iter()
                .filter(|d| d.rule == rule)
                .map(|d| (d.rule, d.message.as_str())),
        );
        for entry in new_entries(&unfixed, &remaining) {
            failures.push(format!(
                "{}: still reported after its fix: {entry}",
                case.name
            ));
        }
        let others = |r: &Report| {
            count(
                r.diagnostics
                    .iter()
                    .filter(|d| d.rule != rule)
                    .map(|d| (d.rule, d.message.as_str())),
            )
        };
        for entry in new_entries(&others(&before), &others(&after)) {
            failures.push(format!(
                "{}: new finding after the `{rule}` fixes: {entry}",
                case.name
            ));
        }
        fixed_cases.push(FixedCase {
            file_before: case.file(&case.text),
            file_after: case.file(&fixed.text),
            name: case.name,
        });
    }
    fixed_cases
}

#[test]
fn every_safe_fix_is_listed() {
    let mut with_safe_fixes = std::collections::BTreeSet::new();
    for rule in rules::ALL {
        for case in cases(rule.name) {
            let report = case.lint(&case.text);
            with_safe_fixes.extend(
                report
                    .diagnostics
                    .iter()
                    .filter(|d| {
                        d.fix
                            .as_ref()
                            .is_some_and(|f| f.applicability == Applicability::Safe)
                    })
                    .map(|d| d.rule),
            );
        }
    }
    let listed: std::collections::BTreeSet<&str> = SAFE_FIX_RULES.iter().copied().collect();
    assert_eq!(with_safe_fixes, listed);
}

/// Runs `file`'s statements one by one (autocommit, as psql does) in a new database made
/// from `template`; returns the server's error messages.
async fn run_statements(
    cluster: &Cluster,
    template: &str,
    database: &str,
    file: &MigrationFile,
) -> Vec<String> {
    let admin = support::connect(cluster, "postgres").await;
    admin
        .batch_execute(&format!("CREATE DATABASE {database} TEMPLATE {template}"))
        .await
        .expect("database from the template");
    let client = support::connect(cluster, database).await;
    let source = SourceFile::load(file.clone());
    let mut errors = Vec::new();
    for statement in &source.statements {
        if let Err(e) = client.batch_execute(source.statement_sql(statement)).await {
            errors.push(
                e.as_db_error()
                    .map_or(e.to_string(), |d| d.message().to_owned()),
            );
        }
    }
    errors
}

/// Runs each case before and after its fixes in fresh databases holding the fixtures'
/// schema; the fixed SQL may not fail where the original did not.
async fn check_on_server(cluster: &Cluster, fixed: &[FixedCase], failures: &mut Vec<String>) {
    let admin = support::connect(cluster, "postgres").await;
    admin
        .batch_execute("CREATE DATABASE fix_schema")
        .await
        .unwrap();
    let template = support::connect(cluster, "fix_schema").await;
    let schema = SourceFile::load(discover::from_text(
        PathBuf::from(SCHEMA),
        schema_text(),
        &Default::default(),
    ));
    for statement in &schema.statements {
        template
            .batch_execute(schema.statement_sql(statement))
            .await
            .unwrap_or_else(|e| panic!("{SCHEMA}: {e:?}"));
    }
    drop(template);
    for (i, case) in fixed.iter().enumerate() {
        let mut errors = Vec::new();
        for (side, file) in [("before", &case.file_before), ("after", &case.file_after)] {
            let database = format!("{side}_{i}");
            let messages = run_statements(cluster, "fix_schema", &database, file).await;
            errors.push(count(messages.iter().map(|m| ("server", m.as_str()))));
        }
        for entry in new_entries(&errors[0], &errors[1]) {
            failures.push(format!(
                "PostgreSQL {}: {}: the fixed SQL fails where the original did not: {entry}",
                cluster.major, case.name
            ));
        }
    }
}

#[test]
fn safe_fixes_remove_their_finding_add_none_and_run_on_postgres() {
    let mut failures = Vec::new();
    let mut fixed = Vec::new();
    for rule in SAFE_FIX_RULES {
        let cases = fix_and_relint(rule, &mut failures);
        if cases.is_empty() {
            failures.push(format!("{rule}: no fixture had a safe fix applied"));
        }
        fixed.extend(cases);
    }
    // every server under test (Debian's, and those PGRISK_PG_BIN_DIRS lists)
    for bin in support::pg_bin_dirs() {
        let cluster = Cluster::start(&bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        support::runtime().block_on(check_on_server(&cluster, &fixed, &mut failures));
        eprintln!(
            "safe fixes checked on {} fixtures, on PostgreSQL {}",
            fixed.len(),
            cluster.major
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const TWO_INDEXES: &str = "CREATE INDEX a_idx ON orders (a);\nCREATE INDEX b_idx ON orders (b);\n";
const CLEAN: &str = "CREATE TABLE t (id bigint PRIMARY KEY);\n";

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

/// Dates the files in `dir` an hour back, so that any rewrite shows in their mtime.
fn age(dir: &Path, names: &[&str]) {
    let past = SystemTime::now() - Duration::from_secs(3600);
    for name in names {
        let file = std::fs::File::options()
            .write(true)
            .open(dir.join(name))
            .unwrap();
        file.set_modified(past).unwrap();
    }
}

#[test]
fn fix_writes_the_fixed_file_and_reports_what_remains() {
    let dir = temp_with(&[
        ("1_clean.sql", CLEAN.as_bytes()),
        ("2_index.sql", TWO_INDEXES.as_bytes()),
    ]);
    age(dir.path(), &["1_clean.sql", "2_index.sql"]);
    let clean_mtime = modified(&dir.path().join("1_clean.sql"));
    let only = "create-index-blocking";
    let (code, stdout, stderr) = run_in(dir.path(), &["lint", ".", "--fix", "--select", only]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("2_index.sql: 2 fixes applied"), "{stderr}");
    let fixed = std::fs::read_to_string(dir.path().join("2_index.sql")).unwrap();
    assert_eq!(
        fixed,
        "CREATE INDEX CONCURRENTLY a_idx ON orders (a);\nCREATE INDEX CONCURRENTLY b_idx ON orders (b);\n"
    );
    // a file without findings is not touched
    assert_eq!(modified(&dir.path().join("1_clean.sql")), clean_mtime);
    assert!(!stderr.contains("1_clean.sql"), "{stderr}");
    // the remaining findings decide the exit code: lock-without-timeout still fires
    let (code, stdout, _) = run_in(
        dir.path(),
        &[
            "lint",
            "2_index.sql",
            "--fix",
            "--select",
            "create-index-blocking,lock-without-timeout",
        ],
    );
    assert_eq!(code, Some(0), "{stdout}");
    let fixed = std::fs::read_to_string(dir.path().join("2_index.sql")).unwrap();
    // CONCURRENTLY takes SHARE UPDATE EXCLUSIVE, below the locks the rule asks a timeout for
    assert!(!fixed.contains("lock_timeout"), "{fixed}");
}

#[test]
fn diff_only_prints_a_patch_and_writes_nothing() {
    let dir = temp_with(&[("m.sql", TWO_INDEXES.as_bytes())]);
    age(dir.path(), &["m.sql"]);
    let before = modified(&dir.path().join("m.sql"));
    for flag in ["--diff-only", "--dry-run"] {
        let (code, stdout, stderr) = run_in(
            dir.path(),
            &["lint", "m.sql", flag, "--select", "create-index-blocking"],
        );
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stdout.starts_with("--- a/m.sql\n+++ b/m.sql\n"), "{stdout}");
        assert!(
            stdout.contains("+CREATE INDEX CONCURRENTLY a_idx ON orders (a);\n"),
            "{stdout}"
        );
        assert!(stderr.contains("m.sql: 2 fixes to apply"), "{stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("m.sql")).unwrap(),
        TWO_INDEXES
    );
    assert_eq!(modified(&dir.path().join("m.sql")), before);
    // without --select, lock-without-timeout remains (and its fix is in the diff)
    let (code, stdout, _) = run_in(dir.path(), &["lint", "m.sql", "--diff-only"]);
    assert!(stdout.contains("+SET lock_timeout = '2s';\n"), "{stdout}");
    assert_eq!(code, Some(0), "{stdout}");
}

#[test]
fn suggestions_are_shown_in_json_and_never_applied() {
    let in_block = "BEGIN;\nCREATE INDEX a_idx ON orders (a);\nCOMMIT;\n";
    let dir = temp_with(&[("m.sql", in_block.as_bytes())]);
    let only = ["--select", "create-index-blocking"];
    let (code, stdout, _) = run_in(
        dir.path(),
        &["lint", "m.sql", "--format", "json", only[0], only[1]],
    );
    assert_eq!(code, Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let fix = &json["diagnostics"][0]["fix"];
    assert_eq!(fix["applicability"], "suggestion", "{fix}");
    assert!(
        fix["title"].as_str().unwrap().contains("its own migration"),
        "{fix}"
    );
    assert_eq!(fix["edits"][0]["insert"], " CONCURRENTLY");
    let (code, stdout, stderr) = run_in(dir.path(), &["lint", "m.sql", "--fix", only[0], only[1]]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("m.sql")).unwrap(),
        in_block
    );
    assert!(!stderr.contains("applied"), "{stderr}");
}

#[test]
fn fix_on_standard_input_prints_the_fixed_sql() {
    let out = support::pgrisk_in(
        &support::root(),
        &["lint", "-", "--fix", "--select", "create-index-blocking"],
        Some(b"CREATE INDEX a_idx ON orders (a);\n"),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "CREATE INDEX CONCURRENTLY a_idx ON orders (a);\n"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("<stdin>: 1 fix applied"), "{stderr}");
}

/// Lints `files` as one migration set, with the default settings' rules.
fn lint_set(files: Vec<MigrationFile>, settings: &Settings) -> Report {
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

/// One `--fix` pass over a set: the fixed files, and how many fixes were applied and skipped.
fn fix_pass(files: &[MigrationFile], report: &Report) -> (Vec<MigrationFile>, usize, usize) {
    let (mut applied, mut skipped) = (0, 0);
    let fixed = files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let fixed = pgrisk::fix::apply(
                &file.text,
                report.diagnostics.iter().filter(|d| d.file == Some(i)),
            );
            applied += fixed.applied;
            skipped += fixed.skipped.len();
            discover::from_text(file.path.clone(), fixed.text, &Default::default())
        })
        .collect();
    (fixed, applied, skipped)
}

/// PostgreSQL's regression SQL holds nearly every statement form: all safe fixes together add
/// no finding the original did not have, and a second pass applies only what overlapped.
#[test]
fn fixing_the_regression_corpus_adds_no_finding_and_converges() {
    let corpus = support::root().join("../shared/corpus");
    let found = discover::discover(&[corpus], &Default::default());
    let settings = Settings::default();
    let before = lint_set(found.files.clone(), &settings);
    let (once, applied, skipped) = fix_pass(&found.files, &before);
    let after = lint_set(once.clone(), &settings);
    // findings are compared per file
    let per_file = |report: &Report| -> BTreeMap<(String, String), usize> {
        let mut out = BTreeMap::new();
        for d in &report.diagnostics {
            let file = report
                .path_of(d)
                .map(|f| f.path.display().to_string())
                .unwrap_or_default();
            let key = (format!("{file} {}", d.rule), comparable(d.rule, &d.message));
            *out.entry(key).or_default() += 1;
        }
        out
    };
    let new = new_entries(&per_file(&before), &per_file(&after));
    assert!(
        new.is_empty(),
        "{} new findings:\n{}",
        new.len(),
        new.join("\n")
    );
    let (_, again, _) = fix_pass(&once, &after);
    eprintln!(
        "corpus: {applied} fixes applied ({skipped} overlapping), {again} more on a second pass; findings {} -> {}",
        before.diagnostics.len(),
        after.diagnostics.len()
    );
    assert!(applied > 1000, "only {applied} fixes applied");
    assert!(
        again <= skipped,
        "{again} fixes on the second pass, {skipped} skipped on the first"
    );
    assert!(after.diagnostics.len() < before.diagnostics.len());
}
