//! Real PostgreSQL in the loop. Each test starts its own disposable cluster (initdb +
//! pg_ctl on a Unix socket; as root through runuser) and removes it when done.
//!
//! The ground truth runs every locking and compatibility rule's `bad` and `good` examples
//! (docs and fixtures) on the server: the lock each finding claims must be the lock the
//! server shows in `pg_locks`, rewrites must show as a new relfilenode, and no traced
//! statement may contradict the analysis tables. It runs on Debian's PostgreSQL by default
//! and on every bin dir listed in `PGRISK_PG_BIN_DIRS` (see scripts/pg-versions.sh).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pgrisk::analysis::LockMode;
use pgrisk::commands::trace::analyze_files;
use pgrisk::pg::cluster::Cluster;
use pgrisk::rules::{self, Category, Rule, RuleSettings};
use pgrisk::source::discover::{DiscoverOptions, MigrationFile, from_text};
use pgrisk::trace::{self, Target, TracedStatement, Verdict};

use crate::support;

/// Rules whose bad examples must rewrite the table (new relfilenode).
const REWRITE_CLAIMS: &[&str] = &[
    "add-column-rewrite",
    "alter-column-type-rewrite",
    "table-rewrite",
];

/// Rules whose risk is the lock mode itself: their good examples must not take it on an
/// existing relation.
const LOCK_MODE_CLAIMS: &[&str] = &[
    "create-index-blocking",
    "drop-index-blocking",
    "reindex-blocking",
    "refresh-matview-blocking",
    "detach-partition-blocking",
];

/// Rules without a lock claim to check on a server, and why.
const NOT_TRACED: &[(&str, &str)] = &[
    (
        "add-column-required",
        "the bad example fails on a table with rows, by design",
    ),
    (
        "lock-held-across-statements",
        "the finding is on the statement after the lock",
    ),
];

fn file(name: &str, text: &str) -> MigrationFile {
    from_text(
        PathBuf::from(name),
        text.to_owned(),
        &DiscoverOptions::default(),
    )
}

struct Example {
    rule: &'static Rule,
    name: String,
    bad: bool,
    text: String,
    /// Doc examples must run on the server; fixtures share one schema whose objects
    /// some of them assume in contradictory states, so a fixture that fails is skipped.
    from_doc: bool,
}

/// Doc examples that fail on the server by design (the failure is the risk they show).
const FAILS_BY_DESIGN: &[&str] = &["concurrently-in-transaction"];

/// Every doc example (for the server's major) and top-level fixture of the traced rules.
fn examples(major: u32) -> Vec<Example> {
    let mut out = Vec::new();
    let traced = rules::ALL.iter().filter(|r| {
        matches!(r.category, Category::Locking | Category::Compatibility)
            && r.lock.is_some()
            && !NOT_TRACED.iter().any(|(n, _)| *n == r.name)
    });
    for rule in traced {
        for (i, (kind, version, body)) in support::examples(rule.doc).into_iter().enumerate() {
            if version.is_some_and(|v| v != major) {
                continue;
            }
            out.push(Example {
                rule,
                name: format!("rules/{}.md example {}", rule.name, i + 1),
                bad: kind == "bad",
                text: body,
                from_doc: true,
            });
        }
        for kind in ["bad", "good"] {
            let path = format!("fixtures/lint/{}/{kind}.sql", rule.name);
            if let Ok(text) = std::fs::read_to_string(support::root().join(&path)) {
                out.push(Example {
                    rule,
                    name: path,
                    bad: kind == "bad",
                    text,
                    from_doc: false,
                });
            }
        }
    }
    out
}

fn strongest_observed(traced: &TracedStatement, relation: &str) -> Option<LockMode> {
    traced
        .observed_locks
        .iter()
        .filter(|l| l.relation == relation)
        .filter_map(|l| LockMode::parse(&l.mode))
        .max()
}

#[derive(Default)]
struct Tally {
    claims_checked: usize,
    skipped: Vec<String>,
    statements: usize,
    confirmed: usize,
    not_traced: usize,
    failures: Vec<String>,
}

async fn check_example(
    cluster: &Cluster,
    database: &str,
    schema: &str,
    existing: &BTreeSet<String>,
    example: &Example,
    tally: &mut Tally,
) {
    let admin = support::connect(cluster, "postgres").await;
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {database} TEMPLATE pgrisk_schema"
        ))
        .await
        .expect("create example database");
    let client = support::connect(cluster, database).await;
    let (analyzed, catalog) = analyze_files(
        vec![file("schema.sql", schema)],
        vec![file(&example.name, &example.text)],
        cluster.major,
    );
    let settings = RuleSettings {
        pg_version: cluster.major,
        ..RuleSettings::default()
    };
    let findings = rules::check_file(&analyzed[0], &[example.rule], &settings, &catalog);
    let traced = match trace::trace(&client, &analyzed, Target::Disposable, 0).await {
        Ok(traced) => traced,
        Err(error) => {
            let note = format!(
                "{}: does not run on PostgreSQL {}: {error}",
                example.name, cluster.major
            );
            // a form the server's major does not have yet (e.g. DETACH ... CONCURRENTLY on 13)
            let older_syntax = error.to_string().contains("syntax error");
            if example.from_doc && !FAILS_BY_DESIGN.contains(&example.rule.name) && !older_syntax {
                tally.failures.push(note);
            } else {
                tally.skipped.push(note);
            }
            return;
        }
    };
    let statements = &analyzed[0].statements;
    for (statement, record) in statements.iter().zip(&traced) {
        tally.statements += 1;
        match record.verdict {
            Verdict::Confirmed => tally.confirmed += 1,
            Verdict::NotTraced => tally.not_traced += 1,
            Verdict::Mismatch => tally.failures.push(format!(
                "{}:{}: analysis contradicted by the server: {} [{}]",
                example.name,
                record.line,
                record.note.as_deref().unwrap_or(""),
                record.sql.split_whitespace().collect::<Vec<_>>().join(" ")
            )),
        }
        let own = |f: &&rules::Finding| {
            statement.span.start <= f.span.start && f.span.start <= statement.span.end
        };
        for finding in findings.iter().filter(own) {
            if record.verdict == Verdict::NotTraced {
                continue;
            }
            if let (Some(claimed), Some(relation)) = (finding.lock, &finding.object) {
                tally.claims_checked += 1;
                let seen = strongest_observed(record, relation);
                if seen != Some(claimed) {
                    tally.failures.push(format!(
                        "{}:{}: `{}` claims {claimed} on {relation}, the server took {seen:?}",
                        example.name, record.line, example.rule.name
                    ));
                }
            }
            if REWRITE_CLAIMS.contains(&example.rule.name) && !record.rewrite {
                tally.failures.push(format!(
                    "{}:{}: `{}` claims a rewrite, none happened",
                    example.name, record.line, example.rule.name
                ));
            }
        }
        if !example.bad && LOCK_MODE_CLAIMS.contains(&example.rule.name) {
            let dangerous = example.rule.lock.expect("lock-mode rules declare a lock");
            for lock in &record.observed_locks {
                let mode = LockMode::parse(&lock.mode);
                if existing.contains(&lock.relation) && mode.is_some_and(|m| m >= dangerous) {
                    tally.failures.push(format!(
                        "{}:{}: good example takes {} on existing {}",
                        example.name, record.line, lock.mode, lock.relation
                    ));
                }
            }
        }
    }
    // rules gated on a version (REINDEX CONCURRENTLY since 12, DETACH ... CONCURRENTLY
    // since 14) stay silent on older servers; elsewhere a bad example must fire
    let fires_on_default = || {
        let settings = RuleSettings::default();
        !rules::check_file(&analyzed[0], &[example.rule], &settings, &catalog).is_empty()
    };
    if example.bad && findings.is_empty() && (cluster.major >= 16 || !fires_on_default()) {
        tally
            .failures
            .push(format!("{}: bad example has no finding", example.name));
    }
}

#[test]
fn rule_lock_claims_match_real_servers() {
    let schema = std::fs::read_to_string(support::root().join("fixtures/trace/schema.sql"))
        .expect("fixtures/trace/schema.sql");
    for bin in support::pg_bin_dirs() {
        let cluster = Cluster::start(&bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        let mut tally = Tally::default();
        support::runtime().block_on(async {
            let admin = support::connect(&cluster, "postgres").await;
            admin.batch_execute("CREATE DATABASE pgrisk_schema").await.expect("template database");
            let template = support::connect(&cluster, "pgrisk_schema").await;
            // one statement at a time: CREATE TABLESPACE and friends refuse a transaction block
            let script = pgrisk::source::SourceFile::load(file("schema.sql", &schema));
            for statement in &script.statements {
                let sql = script.statement_sql(statement);
                if let Err(e) = template.batch_execute(sql).await {
                    panic!("fixtures/trace/schema.sql: {e:?}\n{sql}");
                }
            }
            let existing: BTreeSet<String> = template
                .query(
                    "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'",
                    &[],
                )
                .await
                .expect("list schema relations")
                .iter()
                .map(|r| r.get(0))
                .collect();
            drop(template);
            for (i, example) in examples(cluster.major).iter().enumerate() {
                check_example(&cluster, &format!("example_{i}"), &schema, &existing, example, &mut tally).await;
            }
        });
        eprintln!(
            "ground truth on PostgreSQL {}: {} statements traced, {} confirmed, {} not traced, {} lock claims checked, \
             {} examples skipped, {} failures",
            cluster.major,
            tally.statements,
            tally.confirmed,
            tally.not_traced,
            tally.claims_checked,
            tally.skipped.len(),
            tally.failures.len()
        );
        for skipped in &tally.skipped {
            eprintln!("  skipped {skipped}");
        }
        assert!(
            tally.claims_checked > 30,
            "too few claims checked: {}",
            tally.claims_checked
        );
        assert!(
            tally.failures.is_empty(),
            "PostgreSQL {}:\n{}",
            cluster.major,
            tally.failures.join("\n")
        );
    }
}

async fn catalog_snapshot(client: &tokio_postgres::Client) -> Vec<String> {
    client
        .query(
            "SELECT c.relname || ':' || c.relkind::text || ':' || c.relfilenode || ':' || \
             coalesce(string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull, ',' ORDER BY a.attnum), '') \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
             WHERE n.nspname = 'public' GROUP BY c.oid, c.relname, c.relkind, c.relfilenode ORDER BY 1",
            &[],
        )
        .await
        .expect("catalog snapshot")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn trace_on_a_user_server_never_leaves_changes_behind() {
    let bin = &support::pg_bin_dirs()[0];
    let cluster = Cluster::start(bin).expect("cluster");
    let rt = support::runtime();
    let client = rt.block_on(async {
        let admin = support::connect(&cluster, "postgres").await;
        admin.batch_execute("CREATE DATABASE app").await.unwrap();
        let client = support::connect(&cluster, "app").await;
        client
            .batch_execute("CREATE TABLE orders (id bigint PRIMARY KEY, total int); INSERT INTO orders SELECT g, g FROM generate_series(1, 100) g;")
            .await
            .unwrap();
        client
    });
    let before = rt.block_on(catalog_snapshot(&client));
    let dir = tempfile::tempdir().unwrap();
    let migration = dir.path().join("0002_change.sql");
    std::fs::write(
        &migration,
        "CREATE INDEX orders_total_idx ON orders (total);\nALTER TABLE orders ADD COLUMN note text NOT NULL DEFAULT 'x';\n\
         ALTER TABLE orders ALTER COLUMN total TYPE bigint;\nCREATE TABLE audit (id int);\nDROP TABLE audit;\n",
    )
    .unwrap();
    let dsn = support::dsn(&cluster, "app");
    let path = migration.to_string_lossy().into_owned();
    let out = support::pgrisk(&["trace", &path, "--dsn", &dsn, "--format", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let statements = report["statements"].as_array().expect("statements");
    assert_eq!(statements.len(), 5);
    assert_eq!(statements[2]["rewrite"], true, "{stdout}");
    assert_eq!(
        statements[0]["observed_locks"][0]["mode"], "ShareLock",
        "{stdout}"
    );
    assert!(
        statements.iter().all(|s| s["verdict"] != "mismatch"),
        "{stdout}"
    );
    let after = rt.block_on(catalog_snapshot(&client));
    assert_eq!(before, after, "the user's catalog changed");

    // CONCURRENTLY cannot be rolled back: refused unless asked, then skipped
    std::fs::write(
        &migration,
        "CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);\n",
    )
    .unwrap();
    let out = support::pgrisk(&["trace", &path, "--dsn", &dsn]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-non-transactional"));
    let out = support::pgrisk(&["trace", &path, "--dsn", &dsn, "--allow-non-transactional"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rt.block_on(catalog_snapshot(&client)), before);
}

#[test]
fn failing_statement_is_reported_with_file_line_and_server_message() {
    let dir = tempfile::tempdir().unwrap();
    let migration = dir.path().join("0001.sql");
    let path = migration.to_string_lossy().into_owned();
    let bin = support::pg_bin_dirs()[0].to_string_lossy().into_owned();
    // no position from the server: the statement's first line
    std::fs::write(&migration, "CREATE TABLE t (id int);\n\nALTER TABLE t\n  ADD COLUMN x int REFERENCES missing (id);\nSELECT 1;\n").unwrap();
    let out = support::pgrisk(&["trace", &path, "--pg-bin", &bin]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("0001.sql:3:"), "{stderr}");
    assert!(
        stderr.contains("relation \"missing\" does not exist"),
        "{stderr}"
    );
    // a position inside the statement: the line it points at
    std::fs::write(
        &migration,
        "CREATE TABLE t (id int);\nALTER TABLE t\n  ADD COLUMN x int,\n  ADD COLUMN y intt;\n",
    )
    .unwrap();
    let out = support::pgrisk(&["trace", &path, "--pg-bin", &bin]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("0001.sql:4:"), "{stderr}");
    assert!(stderr.contains("type \"intt\" does not exist"), "{stderr}");
}

#[test]
fn missing_server_binaries_say_how_to_install() {
    let out = support::pgrisk(&[
        "trace",
        "examples/migrations",
        "--pg-bin",
        "/nonexistent/bin",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("/nonexistent/bin: no `initdb` here"),
        "{stderr}"
    );
    let empty = tempfile::tempdir().unwrap();
    let out = support::pgrisk_in(
        &support::root(),
        &[
            "trace",
            "examples/migrations",
            "--pg-bin",
            &empty.path().to_string_lossy(),
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no `initdb` here"));
}

#[test]
fn cluster_starts_fast_and_is_removed_even_after_a_server_crash() {
    let bin = &support::pg_bin_dirs()[0];
    let start = std::time::Instant::now();
    let cluster = Cluster::start(bin).expect("cluster");
    let started_in = start.elapsed();
    eprintln!("cluster start: {started_in:?}");
    assert!(started_in < std::time::Duration::from_secs(30));
    let dir = cluster.socket_dir();
    assert!(dir.join("data/postmaster.pid").is_file());
    let rt = support::runtime();
    let client = rt.block_on(support::connect(&cluster, "postgres"));
    // kill the postmaster mid-session: the next query fails with a clear error
    let pid = std::fs::read_to_string(dir.join("data/postmaster.pid")).unwrap();
    let pid = pid.lines().next().unwrap().trim().to_owned();
    assert!(
        std::process::Command::new("kill")
            .args(["-9", &pid])
            .status()
            .unwrap()
            .success()
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (analyzed, _) = analyze_files(
        Vec::new(),
        vec![file("m.sql", "CREATE TABLE t (id int);")],
        cluster.major,
    );
    let result = rt.block_on(trace::trace(&client, &analyzed, Target::Disposable, 0));
    assert!(result.is_err(), "a dead server must be an error");
    drop(client);
    drop(cluster);
    assert!(
        !Path::new(&dir).exists(),
        "temp dir removed: {}",
        dir.display()
    );
}

#[test]
fn rows_option_seeds_new_tables_so_rewrites_have_data() {
    let dir = tempfile::tempdir().unwrap();
    let migration = dir.path().join("0001.sql");
    std::fs::write(
        &migration,
        "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer text NOT NULL, total int NOT NULL);\n\
         ALTER TABLE orders ALTER COLUMN total TYPE bigint;\nSELECT count(*) FROM orders;\n",
    )
    .unwrap();
    let path = migration.to_string_lossy().into_owned();
    let bin = support::pg_bin_dirs()[0].to_string_lossy().into_owned();
    let out = support::pgrisk(&[
        "trace", &path, "--pg-bin", &bin, "--rows", "500", "--format", "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let statements = report["statements"].as_array().unwrap();
    assert!(
        statements[0]["note"]
            .as_str()
            .unwrap_or("")
            .contains("seeded 500 rows"),
        "{report}"
    );
    assert_eq!(statements[1]["rewrite"], true);
    assert_eq!(statements[1]["verdict"], "confirmed");
}

#[test]
fn pg_dump_schema_only_output_loads_as_schema() {
    let bin = &support::pg_bin_dirs()[0];
    let cluster = Cluster::start(bin).expect("cluster");
    let rt = support::runtime();
    rt.block_on(async {
        let admin = support::connect(&cluster, "postgres").await;
        admin.batch_execute("CREATE DATABASE shop").await.unwrap();
        let client = support::connect(&cluster, "shop").await;
        client
            .batch_execute(
                "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL, name text);
                 CREATE UNIQUE INDEX users_email_key ON users (lower(email));
                 CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id),
                                      status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
                 CREATE INDEX orders_user_id_created_at_idx ON orders (user_id, created_at);
                 CREATE VIEW recent_orders AS SELECT * FROM orders WHERE created_at > now() - interval '1 day';",
            )
            .await
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("schema.sql");
    let pg_dump = bin.join("pg_dump");
    let pg_dump = if pg_dump.is_file() {
        pg_dump
    } else {
        PathBuf::from("pg_dump")
    };
    let socket = cluster.socket_dir();
    let out = std::process::Command::new(pg_dump)
        .args(["--schema-only", "--no-owner", "-h"])
        .arg(&socket)
        .args(["-U", "postgres", "-d", "shop", "-f"])
        .arg(&dump)
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let queries = dir.path().join("queries.sql");
    std::fs::write(
        &queries,
        "SELECT id FROM orders WHERE user_id = $1 AND created_at > $2;\nSELECT id FROM orders WHERE status = $1;\n\
         SELECT id FROM users WHERE lower(email) = $1;\n",
    )
    .unwrap();
    let (queries, dump) = (
        queries.to_string_lossy().into_owned(),
        dump.to_string_lossy().into_owned(),
    );
    let out = support::pgrisk(&["queries", &queries, "--schema", &dump, "--format", "gnu"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // status leads no index: found through the dumped schema; the composite and the
    // expression index from the dump silence the other two
    assert!(
        stdout.contains(":2:1: warning: `orders.status` is filtered on"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
}
