//! pg_stat_statements read by `pgrisk live`: the workload a client ran shows in `queries`, the
//! query rules judge it with its counters as evidence, and a database without the extension
//! gets a note while the other checks still run.

use super::*;

const SCHEMA: &str = "CREATE EXTENSION pg_stat_statements;
    CREATE TABLE products (id bigint PRIMARY KEY, name text NOT NULL, category_id bigint);
    INSERT INTO products SELECT g, 'product ' || g, g % 10 FROM generate_series(1, 100) g;";

/// Runs each query `times` times through an ordinary client session named `shop`.
fn workload(cluster: &Cluster, database: &str, queries: &[(&str, usize)]) {
    support::runtime().block_on(async {
        let mut config = cluster.config(database);
        config.application_name("shop");
        let client = pgrisk::pg::connect::connect(&config).await.unwrap();
        for (query, times) in queries {
            for i in 0..*times {
                // a different literal each time: pg_stat_statements folds them into one entry
                let sql = query.replace("{i}", &i.to_string());
                client
                    .batch_execute(&sql)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
        }
    });
}

fn query_entry<'a>(report: &'a serde_json::Value, starts: &str) -> &'a serde_json::Value {
    report["queries"]
        .as_array()
        .unwrap_or_else(|| panic!("no queries array: {report}"))
        .iter()
        .find(|q| q["query"].as_str().unwrap_or("").starts_with(starts))
        .unwrap_or_else(|| panic!("no query starting with `{starts}`: {}", report["queries"]))
}

#[test]
fn the_workload_is_listed_and_judged_by_the_query_rules() {
    let cluster = start_cluster();
    psql(&cluster, "postgres", "CREATE DATABASE shop");
    psql(&cluster, "shop", SCHEMA);
    workload(
        &cluster,
        "shop",
        &[
            ("SELECT * FROM products WHERE id = {i}", 7),
            ("SELECT id FROM products WHERE name LIKE '%x{i}%'", 4),
        ],
    );
    let (output, report) = live_json(&cluster, "shop", &[]);
    assert!(
        output.status.code() != Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let star = query_entry(&report, "SELECT * FROM products WHERE id = $1");
    assert_eq!(star["calls"], 7, "{star}");
    assert!(star["total_ms"].as_f64().unwrap() > 0.0, "{star}");
    let like = query_entry(&report, "SELECT id FROM products WHERE name LIKE $1");
    assert_eq!(like["calls"], 4, "{like}");
    // sorted by total time, highest first
    let totals: Vec<f64> = report["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["total_ms"].as_f64().unwrap())
        .collect();
    assert!(totals.windows(2).all(|w| w[0] >= w[1]), "{totals:?}");

    let stars = findings(&report, "select-star");
    let found = stars
        .iter()
        .find(|d| d["evidence"]["query"] == star["query"])
        .unwrap_or_else(|| panic!("select-star on the pgss entry: {report}"));
    assert_eq!(found["evidence"]["calls"], 7, "{found}");
    assert_eq!(
        found["object"],
        format!("queryid {}", star["id"].as_str().unwrap())
    );
    // the live schema is known: select-star counts the table's columns
    assert_eq!(found["evidence"]["columns"], 3, "{found}");

    let notes = report["notes"].to_string();
    assert!(
        notes.contains("like-leading-wildcard") && notes.contains("hides literals"),
        "the LIKE $1 entry is reported as unjudgeable: {notes}"
    );
    assert!(
        findings(&report, "like-leading-wildcard").is_empty(),
        "no guess on a hidden literal: {report}"
    );
}

/// `live` on `database` completes (no exit 2) and its notes say `note`.
fn audit_noting(cluster: &Cluster, database: &str, note: &str) -> serde_json::Value {
    let (output, report) = live_json(cluster, database, &[]);
    assert!(
        output.status.code() != Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let notes = report["notes"].to_string();
    assert!(notes.contains(note), "`{note}` not in {notes}");
    report
}

#[test]
fn a_database_without_the_extension_gets_a_note_and_the_audit_goes_on() {
    let cluster = start_cluster();
    psql(&cluster, "postgres", "CREATE DATABASE bare");
    psql(&cluster, "bare", "CREATE TABLE t (id int)");
    let report = audit_noting(
        &cluster,
        "bare",
        "pg_stat_statements is not installed in this database",
    );
    assert!(report["queries"].is_null(), "{report}");
    assert_eq!(report["version"], 1);
}

#[test]
fn other_users_statements_are_counted_as_hidden() {
    let cluster = start_cluster();
    psql(&cluster, "postgres", "CREATE DATABASE shared");
    psql(
        &cluster,
        "shared",
        &format!("{SCHEMA} CREATE ROLE auditor LOGIN; GRANT SELECT ON products TO auditor;"),
    );
    workload(
        &cluster,
        "shared",
        &[("SELECT name FROM products WHERE id = {i}", 3)],
    );
    let dsn = format!("{} user=auditor", support::dsn(&cluster, "shared"));
    let output = support::pgrisk(&["live", "--no-config", "--dsn", &dsn, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("of other users hidden: grant pg_read_all_stats"),
        "{notes}"
    );
}

#[test]
fn an_extension_created_but_not_preloaded_is_named_as_such() {
    let cluster =
        start_cluster_with(ClusterOptions::default().setting("shared_preload_libraries", "''"));
    psql(&cluster, "postgres", "CREATE DATABASE unloaded");
    psql(&cluster, "unloaded", "CREATE EXTENSION pg_stat_statements");
    audit_noting(
        &cluster,
        "unloaded",
        "pg_stat_statements is installed but not loaded",
    );
}
