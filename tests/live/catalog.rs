//! The catalog checks beyond their fixtures: silent on a healthy database, and honest about
//! what a role with only `pg_monitor` can see.

use super::*;

/// The rules whose checks read the catalog facts.
const CATALOG_RULES: &[&str] = &[
    "constraint-not-validated",
    "dead-tuples",
    "duplicate-index",
    "foreign-key-unindexed",
    "invalid-index",
    "seq-scan-heavy",
    "sequence-exhaustion",
    "soft-delete-ghosts",
    "table-without-primary-key",
    "unused-index",
];

#[test]
fn a_healthy_database_gives_no_catalog_finding() {
    let cluster = start_cluster();
    psql(&cluster, "postgres", "CREATE DATABASE healthy");
    psql(
        &cluster,
        "healthy",
        "
CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE,
                        deleted_at timestamptz);
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                     customer_id bigint NOT NULL REFERENCES customers (id),
                     created_at timestamptz NOT NULL DEFAULT now(),
                     total numeric NOT NULL CHECK (total >= 0));
CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at);
CREATE TABLE order_lines (order_id bigint NOT NULL REFERENCES orders (id),
                          line int NOT NULL, sku text NOT NULL, PRIMARY KEY (order_id, line));
CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind text NOT NULL)
    PARTITION BY HASH (id);
CREATE TABLE events_0 PARTITION OF events FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE events_1 PARTITION OF events FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO customers (email, deleted_at)
    SELECT 'c' || g || '@example.com', CASE WHEN g % 50 = 0 THEN now() END FROM generate_series(1, 20000) g;
INSERT INTO orders (customer_id, total) SELECT g % 20000 + 1, g FROM generate_series(1, 50000) g;
INSERT INTO order_lines SELECT g, 1, 'sku' FROM generate_series(1, 50000) g;
INSERT INTO events (kind) SELECT 'click' FROM generate_series(1, 1000);
ANALYZE;
SET enable_seqscan = off;
SELECT count(*) FROM orders WHERE customer_id = 7;
SELECT count(*) FROM customers WHERE email = 'c7@example.com';
",
    );
    psql(&cluster, "healthy", "VACUUM");
    std::thread::sleep(std::time::Duration::from_secs(1));
    let (output, report) = live_json(&cluster, "healthy", &["--fail-on", "never"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for rule in CATALOG_RULES {
        assert!(
            findings(&report, rule).is_empty(),
            "{rule} on a healthy database: {:#?}",
            findings(&report, rule)
        );
        let skipped = format!("{rule} skipped");
        assert!(
            !notes(&report).iter().any(|n| n.starts_with(&skipped)),
            "{rule} was skipped: {:?}",
            notes(&report)
        );
    }
}

#[test]
fn a_pg_monitor_role_sees_the_catalog_but_not_other_roles_sequences_or_column_statistics() {
    let cluster = start_cluster();
    psql(&cluster, "postgres", "CREATE DATABASE monitored");
    psql(
        &cluster,
        "monitored",
        "
CREATE ROLE watcher LOGIN IN ROLE pg_monitor;
CREATE TABLE tickets (id serial PRIMARY KEY, deleted boolean NOT NULL);
INSERT INTO tickets (deleted) SELECT g % 10 <> 0 FROM generate_series(1, 100000) g;
SELECT setval('tickets_id_seq', 2100000000);
ANALYZE tickets;
",
    );
    // fails on the duplicates and leaves an invalid index behind
    let failed = support::runtime().block_on(async {
        setup_client(&cluster, "monitored")
            .await
            .batch_execute(
                "CREATE UNIQUE INDEX CONCURRENTLY tickets_deleted_key ON tickets (deleted)",
            )
            .await
    });
    assert!(
        failed.is_err(),
        "the unique build should fail on duplicates"
    );
    let audit = |user: &str| live_json_configured(&dsn_as(&cluster, "monitored", user), "");
    let owner = audit("postgres");
    let watcher = audit("watcher");
    // catalogs are readable by every role: the invalid index is seen by both
    for report in [&owner, &watcher] {
        assert_eq!(findings(report, "invalid-index").len(), 1, "{report:#}");
    }
    // the owner reads the sequence and the column statistics
    let sequence = findings(&owner, "sequence-exhaustion");
    assert!(
        sequence
            .iter()
            .any(|f| f["severity"] == "error" && f["evidence"]["column_type"] == "integer"),
        "{sequence:#?}"
    );
    assert_eq!(findings(&owner, "soft-delete-ghosts").len(), 1, "{owner:#}");
    // pg_monitor grants neither: the sequence is listed as unreadable, pg_stats shows nothing
    let sequence = findings(&watcher, "sequence-exhaustion");
    assert!(
        sequence.len() == 1
            && sequence[0]["severity"] == "info"
            && sequence[0]["evidence"]["unreadable"][0] == "public.tickets_id_seq",
        "{sequence:#?}"
    );
    assert!(
        findings(&watcher, "soft-delete-ghosts").is_empty(),
        "{watcher:#}"
    );
}

#[test]
fn on_a_standby_usage_counters_are_called_per_node_and_vacuum_counters_are_not_judged() {
    let primary = start_cluster();
    psql(&primary, "postgres", "CREATE DATABASE replicated");
    psql(
        &primary,
        "replicated",
        "
CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id int NOT NULL);
INSERT INTO events (account_id) SELECT g FROM generate_series(1, 500000) g;
CREATE INDEX events_account_id_idx ON events (account_id);
",
    );
    if !can_make_standby(&primary) {
        return;
    }
    let standby = primary
        .start_standby(&pgrisk::pg::cluster::ClusterOptions::default())
        .expect("standby");
    super::fixtures::wait_for_replay(&primary, &standby, "replicated");
    let (output, report) = live_json(&standby, "replicated", &["--fail-on", "never"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // the catalog is replicated: the index is there; its counters are the standby's own
    let unused = findings(&report, "unused-index");
    assert!(
        unused.len() == 1
            && unused[0]["evidence"]["counters"]
                .as_str()
                .is_some_and(|c| c.contains("this standby only")),
        "{unused:#?}"
    );
    assert!(
        notes(&report)
            .iter()
            .any(|n| n.starts_with("dead-tuples skipped: on a standby")),
        "{:?}",
        notes(&report)
    );
}

#[test]
fn a_configured_severity_overrides_the_level_a_check_chose() {
    let cluster = start_cluster();
    psql(&cluster, "postgres", "CREATE DATABASE levels");
    psql(
        &cluster,
        "levels",
        "
CREATE TABLE jobs (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
SELECT setval(pg_get_serial_sequence('jobs', 'id'), 1700000000);
CREATE TABLE events (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
SELECT setval(pg_get_serial_sequence('events', 'id'), 2000000000);
",
    );
    let levels = |config: &str| {
        let report = live_json_configured(&support::dsn(&cluster, "levels"), config);
        let mut found: Vec<(String, String)> = findings(&report, "sequence-exhaustion")
            .iter()
            .map(|f| (f["object"].to_string(), f["severity"].to_string()))
            .collect();
        found.sort();
        found
    };
    let pair = |jobs: &str, events: &str| {
        vec![
            (
                "\"public.events_id_seq\"".to_owned(),
                format!("\"{events}\""),
            ),
            ("\"public.jobs_id_seq\"".to_owned(), format!("\"{jobs}\"")),
        ]
    };
    // 79 % warns, 93 % errs; a [severity] entry for the rule sets both
    assert_eq!(levels(""), pair("warning", "error"));
    assert_eq!(
        levels("[severity]\nsequence-exhaustion = \"info\"\n"),
        pair("info", "info")
    );
}
