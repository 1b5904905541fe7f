//! The binary as users run it: exit codes (0/1/2), every output format, config errors,
//! and hostile input that must give a clear message, never a panic.

use std::collections::BTreeMap;

use crate::support::{self, pgrisk, pgrisk_in, run_in, temp_with};

const BAD: &str = "CREATE INDEX orders_created_idx ON orders (created_at);\n";
const GOOD: &str = "CREATE TABLE t (id bigint PRIMARY KEY);\n";

#[test]
fn exit_codes_follow_findings_and_fail_on() {
    let dir = temp_with(&[("bad.sql", BAD.as_bytes()), ("good.sql", GOOD.as_bytes())]);
    assert_eq!(run_in(dir.path(), &["lint", "good.sql"]).0, Some(0));
    assert_eq!(run_in(dir.path(), &["lint", "bad.sql"]).0, Some(1));
    assert_eq!(
        run_in(dir.path(), &["lint", "bad.sql", "--fail-on", "never"]).0,
        Some(0)
    );
    assert_eq!(
        run_in(
            dir.path(),
            &[
                "lint",
                "bad.sql",
                "--ignore",
                "create-index-blocking,lock-without-timeout"
            ]
        )
        .0,
        Some(0)
    );
    assert_eq!(
        run_in(dir.path(), &["lint", "bad.sql", "--fail-on", "sometimes"]).0,
        Some(2)
    );
}

// Mirror of the JSON contract (DESIGN.md §3); unknown fields are an error so that any
// change to the contract is deliberate.
#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct JsonOutput {
    version: u32,
    diagnostics: Vec<JsonDiagnostic>,
    summary: JsonSummary,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct JsonDiagnostic {
    rule: String,
    severity: String,
    category: String,
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    message: String,
    help: Option<String>,
    object: Option<String>,
    lock: Option<String>,
    evidence: BTreeMap<String, serde_json::Value>,
    fix: Option<JsonFix>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct JsonFix {
    title: String,
    applicability: String,
    edits: Vec<JsonEdit>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct JsonEdit {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    insert: String,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct JsonSummary {
    files: usize,
    statements: usize,
    unparsed: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
}

#[test]
fn json_output_follows_the_contract() {
    let dir = temp_with(&[("0001_orders.sql", format!("SELECT 1;\n  {BAD}").as_bytes())]);
    let only = "create-index-blocking,lock-without-timeout";
    let (code, stdout, _) = run_in(
        dir.path(),
        &[
            "lint",
            "0001_orders.sql",
            "--format",
            "json",
            "--select",
            only,
        ],
    );
    assert_eq!(code, Some(1));
    let out: JsonOutput = serde_json::from_str(&stdout).expect("valid JSON contract");
    assert_eq!(out.version, 1);
    assert_eq!(
        (
            out.summary.files,
            out.summary.statements,
            out.summary.unparsed
        ),
        (1, 2, 0)
    );
    assert_eq!(out.summary.errors, 2, "{:?}", out.diagnostics);
    assert_eq!((out.summary.warnings, out.summary.infos), (0, 0));
    let index = out
        .diagnostics
        .iter()
        .find(|d| d.rule == "create-index-blocking")
        .expect("finding");
    assert_eq!(index.severity, "error");
    assert_eq!(index.category, "locking");
    assert_eq!(index.file.as_deref(), Some("0001_orders.sql"));
    assert_eq!((index.line, index.column), (Some(2), Some(3)));
    assert_eq!(index.end_line, Some(2));
    // the span ends after the last token, before the semicolon (end columns are exclusive)
    assert_eq!(
        index.end_column,
        Some(3 + BAD.trim_end().trim_end_matches(';').chars().count())
    );
    assert_eq!(index.lock.as_deref(), Some("SHARE"));
    assert_eq!(index.object.as_deref(), Some("public.orders"));
    assert!(index.message.contains("SHARE lock"));
    assert!(index.help.as_deref().unwrap_or("").contains("CONCURRENTLY"));
    assert!(index.evidence.contains_key("blocks"));
    let fix = index.fix.as_ref().expect("a fix");
    assert!(!fix.title.is_empty());
    // two autocommit statements: the concurrent build is legal where it stands
    assert_eq!(fix.applicability, "safe");
    let edit = &fix.edits[0];
    // insert right after `CREATE INDEX` (columns are 1-based: "  CREATE INDEX" ends at 14)
    assert_eq!(
        (edit.line, edit.column, edit.end_line, edit.end_column),
        (2, 15, 2, 15)
    );
    assert_eq!(edit.insert, " CONCURRENTLY");
}

#[test]
fn github_gnu_and_human_formats() {
    let dir = temp_with(&[("m.sql", BAD.as_bytes())]);
    let (_, github, _) = run_in(
        dir.path(),
        &[
            "lint",
            "m.sql",
            "--format",
            "github",
            "--select",
            "create-index-blocking",
        ],
    );
    assert!(
        github.starts_with("::error file=m.sql,line=1,endLine=1,col=1,endColumn="),
        "{github}"
    );
    assert!(
        github.contains(",title=create-index-blocking::"),
        "{github}"
    );
    assert_eq!(github.lines().count(), 1);
    let (_, gnu, _) = run_in(
        dir.path(),
        &[
            "lint",
            "m.sql",
            "--format",
            "gnu",
            "--select",
            "create-index-blocking",
        ],
    );
    assert!(gnu.starts_with("m.sql:1:1: error: "), "{gnu}");
    assert!(gnu.trim_end().ends_with("[create-index-blocking]"), "{gnu}");
    let (_, human, _) = run_in(
        dir.path(),
        &["lint", "m.sql", "--select", "create-index-blocking"],
    );
    assert!(human.contains("create-index-blocking"), "{human}");
    assert!(human.contains("lock: SHARE on public.orders"), "{human}");
    assert!(
        !human.contains('\u{1b}'),
        "no colour codes when not a terminal"
    );
    assert!(
        human.contains("1 error, 0 warnings, 0 infos in 1 file"),
        "{human}"
    );
}

#[test]
fn stdin_is_linted_with_dash() {
    let out = pgrisk_in(
        &support::root(),
        &["lint", "-", "--format", "gnu"],
        Some(BAD.as_bytes()),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("<stdin>:1:1: error:"), "{stdout}");
}

#[test]
fn explain_and_rules_list_the_registry() {
    let out = pgrisk(&["explain", "create-index-blocking"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("# create-index-blocking"));
    let out = pgrisk(&["explain", "create-index-blockin"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `create-index-blocking`"));
    let out = pgrisk(&["rules"]);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert_eq!(listing.lines().count(), pgrisk::rules::ALL.len());
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("drop-index-blocking") && l.contains("ACCESS EXCLUSIVE"))
    );
}

#[test]
fn config_file_is_found_and_bad_config_is_a_located_error() {
    let dir = temp_with(&[
        (
            "pgrisk.toml",
            b"ignore = [\"create-index-blocking\", \"lock-without-timeout\"]\n",
        ),
        ("m.sql", BAD.as_bytes()),
    ]);
    assert_eq!(run_in(dir.path(), &["lint", "m.sql"]).0, Some(0));
    assert_eq!(
        run_in(dir.path(), &["lint", "m.sql", "--no-config"]).0,
        Some(1)
    );
    let dir = temp_with(&[
        ("pgrisk.toml", b"pg-version = 15\nfail_on = 'x'\n"),
        ("m.sql", BAD.as_bytes()),
    ]);
    let (code, _, stderr) = run_in(dir.path(), &["lint", "m.sql"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("pgrisk.toml:2:1"), "{stderr}");
    assert!(stderr.contains("unknown field"), "{stderr}");
    let dir = temp_with(&[
        ("pgrisk.toml", b"select = ['drop-colum']\n"),
        ("m.sql", BAD.as_bytes()),
    ]);
    let (code, _, stderr) = run_in(dir.path(), &["lint", "m.sql"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("did you mean `drop-column`"), "{stderr}");
}

#[test]
fn unreadable_inputs_are_reported_and_the_rest_still_checked() {
    let dir = temp_with(&[
        ("good.sql", GOOD.as_bytes()),
        ("bad.sql", BAD.as_bytes()),
        ("binary.sql", b"SELECT\0\x01\x02"),
        ("empty/readme.txt", b"no sql here"),
    ]);
    let (code, stdout, stderr) = run_in(
        dir.path(),
        &[
            "lint",
            "missing.sql",
            "binary.sql",
            "empty",
            "bad.sql",
            "--format",
            "gnu",
        ],
    );
    assert_eq!(code, Some(2), "an unreadable input makes the exit code 2");
    assert!(
        stderr.contains("missing.sql: no such file or directory"),
        "{stderr}"
    );
    assert!(
        stderr.contains("binary.sql: looks like a binary file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("empty: directory contains no .sql migrations"),
        "{stderr}"
    );
    assert!(
        stdout.contains("bad.sql:1:1: error:"),
        "the readable file is still linted: {stdout}"
    );
    for line in stderr.lines() {
        assert!(
            line.starts_with("pgrisk: "),
            "one-line messages only: {line}"
        );
    }
}

#[test]
fn invalid_utf8_is_linted_lossily_with_a_warning() {
    let mut body = b"-- caf\xe9\n".to_vec();
    body.extend_from_slice(BAD.as_bytes());
    let dir = temp_with(&[("latin1.sql", &body)]);
    let (code, stdout, stderr) = run_in(dir.path(), &["lint", "latin1.sql", "--format", "gnu"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("latin1.sql: not valid UTF-8 (first bad byte at line 1"),
        "{stderr}"
    );
    assert!(stdout.contains("latin1.sql:2:1: error:"), "{stdout}");
}

#[test]
fn huge_unterminated_and_deeply_nested_inputs_do_not_crash() {
    let deep = format!(
        "SELECT {}1{};\n{BAD}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let dir = temp_with(&[
        (
            "quote.sql",
            format!("{BAD}SELECT 'never closed;\n").as_bytes(),
        ),
        ("dollar.sql", b"DO $$ BEGIN PERFORM 1;\n"),
        ("deep.sql", deep.as_bytes()),
    ]);
    let big = std::fs::File::create(dir.path().join("big.sql")).unwrap();
    big.set_len(100 << 20).unwrap();
    let (code, stdout, stderr) = run_in(
        dir.path(),
        &[
            "lint",
            "quote.sql",
            "dollar.sql",
            "deep.sql",
            "big.sql",
            "--format",
            "gnu",
        ],
    );
    assert_eq!(code, Some(2), "big.sql is refused: {stderr}");
    assert!(
        stderr.contains("big.sql: file is too large (100.0 MiB > 32.0 MiB limit"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stdout.contains("quote.sql:1:1: error:"),
        "statements before the bad quote are checked: {stdout}"
    );
    assert!(
        stdout.contains("quote.sql:2:1: info:") && stdout.contains("[unparsed-statement]"),
        "{stdout}"
    );
    assert!(stdout.contains("dollar.sql:1:1: info:"), "{stdout}");
    assert!(
        stdout.contains("deep.sql:2:1: error:"),
        "the statement after deep nesting is checked: {stdout}"
    );
}

#[test]
fn rule_options_from_the_config_change_what_fires() {
    let table = b"CREATE TABLE ledger_entries (id bigint PRIMARY KEY, op_id text NOT NULL);\n";
    let dir = temp_with(&[("m.sql", table)]);
    let args = [
        "lint",
        "m.sql",
        "--select",
        "idempotency-key-missing",
        "--format",
        "gnu",
    ];
    assert_eq!(
        run_in(dir.path(), &args).0,
        Some(0),
        "ledger is not a default table word"
    );
    std::fs::write(
        dir.path().join("pgrisk.toml"),
        "[rules.idempotency-key-missing]\ntables = ['ledger']\n",
    )
    .unwrap();
    let (code, stdout, _) = run_in(dir.path(), &args);
    assert_eq!(code, Some(0), "a warning does not fail the run");
    assert!(stdout.contains("[idempotency-key-missing]"), "{stdout}");
    std::fs::write(
        dir.path().join("pgrisk.toml"),
        "[rules.idempotency-key-missing]\ntables = ['ledger']\nkey-columns = ['op_id']\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("m.sql"),
        b"CREATE TABLE ledger_entries (id bigint PRIMARY KEY, op_id text UNIQUE);\n",
    )
    .unwrap();
    assert!(
        !run_in(dir.path(), &args)
            .1
            .contains("idempotency-key-missing")
    );
}

/// `pgrisk queries q.sql --schema schema.sql`, findings one per line.
const QUERIES_WITH_SCHEMA: [&str; 6] = [
    "queries",
    "q.sql",
    "--schema",
    "schema.sql",
    "--format",
    "gnu",
];

#[test]
fn queries_use_the_schema_and_say_which_schema_statements_were_skipped() {
    let dir = temp_with(&[
        ("schema.sql", b"CREATE TABLE users (id bigint PRIMARY KEY, email text);\nCREATE FROBNICATOR x;\nCREATE INDEX ON users (email);\n"),
        ("q.sql", b"-- name: ByEmail :one\nSELECT id FROM users WHERE email = ?;\n-- name: Broken :one\nSELECT id FROM users WHERE id = = $1;\nSELECT * FROM users;\n"),
    ]);
    let (code, stdout, stderr) = run_in(dir.path(), &QUERIES_WITH_SCHEMA);
    assert_eq!(
        code,
        Some(0),
        "warnings and infos do not fail the run: {stdout}{stderr}"
    );
    assert!(
        stderr.contains("schema.sql:2: schema statement skipped"),
        "{stderr}"
    );
    assert!(
        !stdout.contains(":2:1:"),
        "email leads an index from the schema: {stdout}"
    );
    assert!(
        stdout.contains("q.sql:4:1: info:") && stdout.contains("[unparsed-statement]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("q.sql:5:1: warning: `SELECT *` fetches all 2 columns"),
        "{stdout}"
    );
}

#[test]
fn unqualified_query_names_follow_the_search_path() {
    // a pg_dump-style schema: every name qualified, `users` in two schemas
    let dir = temp_with(&[
        ("schema.sql", b"SELECT pg_catalog.set_config('search_path', '', false);\nCREATE SCHEMA app;\nCREATE TABLE app.users (id bigint PRIMARY KEY, email text);\nCREATE TABLE app.orders (id bigint PRIMARY KEY, note text);\nCREATE TABLE audit.users (id bigint);\n"),
        ("q.sql", b"SELECT id FROM users WHERE email = $1;\nSELECT id FROM orders WHERE note = $1;\n"),
    ]);
    let (_, stdout, stderr) = run_in(dir.path(), &QUERIES_WITH_SCHEMA);
    // `orders` exists in one schema only: found there; `users` is ambiguous: silent
    assert!(
        stdout.contains("q.sql:2:1:") && stdout.contains("[unindexed-filter]"),
        "{stdout}{stderr}"
    );
    assert!(!stdout.contains("q.sql:1:1:"), "{stdout}");
    let with_path = [&QUERIES_WITH_SCHEMA[..], &["--search-path", "app,public"]].concat();
    let (_, stdout, stderr) = run_in(dir.path(), &with_path);
    assert!(
        stdout.contains("q.sql:1:1:") && stdout.contains("`users.email`"),
        "the configured path picks app.users: {stdout}{stderr}"
    );
    // the evidence names the table, the column and the indexes the table has
    let json_args = [
        &with_path[..4],
        &["--format", "json", "--search-path", "app"],
    ]
    .concat();
    let (_, stdout, _) = run_in(dir.path(), &json_args);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let evidence = &report["diagnostics"][0]["evidence"];
    assert_eq!(evidence["table"], "app.users");
    assert_eq!(evidence["columns"], serde_json::json!(["email"]));
    assert_eq!(
        evidence["indexes"],
        serde_json::json!(["users_pkey PRIMARY KEY (id)"])
    );
}
