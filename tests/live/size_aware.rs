//! Size-aware lint: sizes exported by `live --export-stats` (or read with `lint --dsn`) set the
//! severity of the findings whose risk grows with the table, with rows, bytes and an estimated
//! lock duration as evidence.

use super::*;

const MIGRATION: &str = "ALTER TABLE orders ALTER COLUMN total TYPE bigint;\n\
                         ALTER TABLE flags ALTER COLUMN x TYPE bigint;\n";

/// 20 000 orders (ANALYZEd, so reltuples is set) and 10 flags.
fn sized_database(cluster: &Cluster, database: &str) {
    psql(cluster, "postgres", &format!("CREATE DATABASE {database}"));
    psql(
        cluster,
        database,
        "CREATE TABLE orders (id bigint PRIMARY KEY, total integer NOT NULL);
         INSERT INTO orders SELECT g, g FROM generate_series(1, 20000) g;
         CREATE TABLE flags (id integer PRIMARY KEY, x integer);
         INSERT INTO flags SELECT g, g FROM generate_series(1, 10) g;
         ANALYZE orders; ANALYZE flags;",
    );
}

fn lint_json(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut all = vec!["lint", "--format", "json"];
    all.extend_from_slice(args);
    all.push("migration.sql");
    let output = support::pgrisk_in(dir, &all, None);
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), json)
}

fn on<'a>(report: &'a serde_json::Value, rule: &str, object: &str) -> &'a serde_json::Value {
    findings(report, rule)
        .into_iter()
        .find(|d| d["object"] == object)
        .unwrap_or_else(|| panic!("no {rule} on {object}: {report}"))
}

/// The policy with `large-table-rows = 15000`: orders (20 000 rows) above it, flags below 10 000.
fn assert_policy(report: &serde_json::Value) {
    let orders = on(report, "alter-column-type-rewrite", "public.orders");
    assert_eq!(orders["severity"], "error", "{orders}");
    let evidence = &orders["evidence"];
    assert_eq!(evidence["rows"], 20000, "{orders}");
    assert!(
        evidence["size_bytes"].as_i64().unwrap() > 500_000,
        "{orders}"
    );
    assert!(
        evidence["estimated_lock_seconds"].as_f64().unwrap() > 0.0,
        "{orders}"
    );
    assert!(
        evidence["estimate_basis"]
            .as_str()
            .unwrap()
            .contains("docs/lock-duration.md"),
        "{orders}"
    );
    assert!(
        evidence["size_policy"]
            .as_str()
            .unwrap()
            .contains("above large-table-rows")
    );
    let flags = on(report, "alter-column-type-rewrite", "public.flags");
    assert_eq!(flags["severity"], "info", "{flags}");
    assert_eq!(flags["evidence"]["rows"], 10, "{flags}");
}

/// `live --export-stats stats` on `dsn`; the audit must complete.
fn export_stats(dsn: &str, stats: &std::path::Path) {
    let output = support::pgrisk(&[
        "live",
        "--no-config",
        "--dsn",
        dsn,
        "--format",
        "json",
        "--export-stats",
        stats.to_str().unwrap(),
    ]);
    assert!(
        output.status.code() != Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

const CONFIG: &str = "[rules.alter-column-type-rewrite]\nlarge-table-rows = 15000\n";

#[test]
fn exported_stats_round_trip_into_size_aware_lint() {
    let cluster = start_cluster();
    sized_database(&cluster, "sized");
    let dir = support::temp_with(&[
        ("migration.sql", MIGRATION.as_bytes()),
        ("pgrisk.toml", CONFIG.as_bytes()),
    ]);
    let stats = dir.path().join("stats.json");
    let dsn = format!(
        "{} password=s3cret-never-shown",
        support::dsn(&cluster, "sized")
    );
    export_stats(&dsn, &stats);
    let text = std::fs::read_to_string(&stats).expect("the stats file is written");
    assert!(
        !text.contains("s3cret"),
        "the password never reaches the file"
    );
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(file["format"], "pgrisk-stats");
    assert_eq!(file["version"], 1);
    assert_eq!(file["database"], "sized");
    assert!(file["server_version_num"].as_u64().unwrap() >= 120000);
    // the server's clock, RFC 3339 in UTC: 2026-12-04T19:58:58Z
    let captured = file["captured_at"].as_str().unwrap_or_default();
    assert!(
        captured.len() == 20 && captured.as_bytes()[10] == b'T' && captured.ends_with('Z'),
        "{captured}"
    );
    let orders = file["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "orders")
        .expect("orders exported");
    assert_eq!(orders["rows"], 20000.0);
    assert_eq!(orders["indexes"][0]["name"], "orders_pkey");

    let (code, report) = lint_json(dir.path(), &["--stats", "stats.json"]);
    assert_eq!(code, Some(1), "{report}");
    assert_policy(&report);

    // without the option, 20 000 rows is between the defaults: severity unchanged, evidence added
    let (_, report) = lint_json(dir.path(), &["--no-config", "--stats", "stats.json"]);
    let orders = on(&report, "alter-column-type-rewrite", "public.orders");
    assert_eq!(orders["severity"], "error");
    assert_eq!(orders["evidence"]["rows"], 20000);
    assert!(orders["evidence"]["size_policy"].is_null(), "{orders}");
    assert_eq!(
        on(&report, "alter-column-type-rewrite", "public.flags")["severity"],
        "info"
    );

    // a file that is not a stats file is one clear error
    let (code, stderr) = {
        let output = support::pgrisk_in(
            dir.path(),
            &["lint", "--stats", "pgrisk.toml", "migration.sql"],
            None,
        );
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--stats pgrisk.toml: not JSON"), "{stderr}");
}

#[test]
fn lint_with_dsn_reads_the_sizes_live() {
    let cluster = start_cluster();
    sized_database(&cluster, "sizedlive");
    let dir = support::temp_with(&[
        ("migration.sql", MIGRATION.as_bytes()),
        ("pgrisk.toml", CONFIG.as_bytes()),
    ]);
    let dsn = support::dsn(&cluster, "sizedlive");
    let (code, report) = lint_json(dir.path(), &["--dsn", &dsn]);
    assert_eq!(code, Some(1), "{report}");
    assert_policy(&report);
    assert!(
        findings(&report, "migration-would-wait").is_empty(),
        "nobody holds a lock: {report}"
    );
}

#[test]
fn size_options_are_refused_on_rules_size_does_not_change() {
    let dir = support::temp_with(&[
        ("migration.sql", MIGRATION.as_bytes()),
        (
            "pgrisk.toml",
            b"[rules.concurrently-in-transaction]\nsmall-table-rows = 5\n",
        ),
    ]);
    let output = support::pgrisk_in(dir.path(), &["lint", "migration.sql"], None);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a size-aware rule"), "{stderr}");
}

#[test]
fn a_table_under_an_exclusive_lock_is_listed_not_waited_for() {
    let cluster = start_cluster();
    sized_database(&cluster, "lockedsizes");
    let runtime = support::runtime();
    let holder = runtime.block_on(async {
        let client = setup_client(&cluster, "lockedsizes").await;
        client
            .batch_execute("BEGIN; LOCK TABLE flags IN ACCESS EXCLUSIVE MODE;")
            .await
            .unwrap();
        client
    });
    let dir = support::temp_with(&[("migration.sql", MIGRATION.as_bytes())]);
    let stats = dir.path().join("stats.json");
    let dsn = support::dsn(&cluster, "lockedsizes");
    export_stats(&dsn, &stats);
    runtime.block_on(holder.batch_execute("COMMIT")).unwrap();
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(
        file["locked"],
        serde_json::json!(["public.flags"]),
        "{file}"
    );
    let (_, report) = lint_json(dir.path(), &["--no-config", "--stats", "stats.json"]);
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("under an ACCESS EXCLUSIVE lock when read: public.flags"),
        "{notes}"
    );
    // flags has no size: its finding keeps the rule's severity and gets no size evidence
    let flags = on(&report, "alter-column-type-rewrite", "public.flags");
    assert_eq!(flags["severity"], "error");
    assert!(flags["evidence"]["rows"].is_null(), "{flags}");
}
