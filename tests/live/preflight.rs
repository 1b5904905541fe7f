//! `lint --dsn` preflight: a session holding a conflicting lock now makes
//! `migration-would-wait` name it, with the application's queries that would queue behind.

use super::*;

/// `lint --dsn DSN --select migration-would-wait` on `dir/migration.sql`: exit code and report.
fn preflight_lint(dir: &std::path::Path, dsn: &str) -> (Option<i32>, serde_json::Value) {
    let output = support::pgrisk_in(
        dir,
        &[
            "lint",
            "--no-config",
            "--dsn",
            dsn,
            "--select",
            "migration-would-wait",
            "--format",
            "json",
            "migration.sql",
        ],
        None,
    );
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), report)
}

#[test]
fn a_migration_behind_an_idle_transaction_is_reported_with_its_pid() {
    let cluster = start_cluster();
    psql(&cluster, "postgres", "CREATE DATABASE busy");
    psql(
        &cluster,
        "busy",
        "CREATE EXTENSION pg_stat_statements;
         CREATE TABLE orders (id bigint PRIMARY KEY, note text);
         INSERT INTO orders SELECT g, 'n' FROM generate_series(1, 1000) g;
         ANALYZE orders;",
    );
    let runtime = support::runtime();
    let (holder, pid) = runtime.block_on(async {
        let mut config = cluster.config("busy");
        config.application_name("billing-worker");
        let client = pgrisk::pg::connect::connect(&config).await.unwrap();
        for i in 0..20 {
            client
                .batch_execute(&format!("SELECT note FROM orders WHERE id = {i}"))
                .await
                .unwrap();
        }
        let pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        client
            .batch_execute("BEGIN; SELECT * FROM orders LIMIT 1;")
            .await
            .unwrap();
        (client, pid)
    });
    let dir = support::temp_with(&[("migration.sql", b"ALTER TABLE orders ADD COLUMN x int;\n")]);
    let dsn = support::dsn(&cluster, "busy");
    let lint = |dir: &std::path::Path| preflight_lint(dir, &dsn);

    let (code, report) = lint(dir.path());
    assert_eq!(code, Some(1), "{report}");
    let found = findings(&report, "migration-would-wait");
    assert_eq!(found.len(), 1, "{report}");
    let finding = found[0];
    let message = finding["message"].as_str().unwrap();
    assert!(message.contains(&format!("pid {pid}")), "{message}");
    assert!(message.contains("idle in transaction"), "{message}");
    assert!(message.contains("billing-worker"), "{message}");
    assert_eq!(finding["object"], "public.orders");
    let blocker = &finding["evidence"]["blocked_by"][0];
    assert_eq!(blocker["pid"], pid, "{finding}");
    assert_eq!(blocker["lock"], "ACCESS SHARE", "{finding}");
    assert_eq!(blocker["granted"], true);
    let queued = finding["evidence"]["queued_queries"]
        .as_array()
        .unwrap_or_else(|| panic!("queued queries from pg_stat_statements: {finding}"));
    let family = queued
        .iter()
        .find(|q| {
            q["query"]
                .as_str()
                .unwrap()
                .contains("SELECT note FROM orders")
        })
        .unwrap_or_else(|| panic!("the SELECT family queues behind: {finding}"));
    assert_eq!(family["calls"], 20, "{family}");
    assert!(
        family["calls_per_second"].as_f64().unwrap() > 0.0,
        "{family}"
    );
    assert!(
        finding["evidence"]["assumed"].is_array() && finding["evidence"]["measured"].is_array()
    );

    // once the transaction ends, nothing waits
    runtime.block_on(holder.batch_execute("COMMIT")).unwrap();
    let (code, report) = lint(dir.path());
    assert_eq!(code, Some(0), "{report}");
    assert!(findings(&report, "migration-would-wait").is_empty());
}

#[test]
fn a_concurrent_index_build_waits_for_writers_but_not_for_readers() {
    let cluster = start_cluster();
    psql(&cluster, "postgres", "CREATE DATABASE writes");
    psql(
        &cluster,
        "writes",
        "CREATE TABLE orders (id bigint PRIMARY KEY, note text);
         INSERT INTO orders SELECT g, 'n' FROM generate_series(1, 100) g;",
    );
    let dir = support::temp_with(&[(
        "migration.sql",
        b"CREATE INDEX CONCURRENTLY orders_note ON orders (note);\n",
    )]);
    let dsn = support::dsn(&cluster, "writes");
    let lint = || preflight_lint(dir.path(), &dsn);
    let runtime = support::runtime();
    let open = |sql: &'static str| {
        runtime.block_on(async {
            let client = setup_client(&cluster, "writes").await;
            let pid: i32 = client
                .query_one("SELECT pg_backend_pid()", &[])
                .await
                .unwrap()
                .get(0);
            client.batch_execute(sql).await.unwrap();
            (client, pid)
        })
    };

    // a reader's ACCESS SHARE does not stop CONCURRENTLY
    let (reader, _) = open("BEGIN; SELECT * FROM orders LIMIT 1;");
    let (code, report) = lint();
    assert_eq!(code, Some(0), "{report}");
    runtime.block_on(reader.batch_execute("COMMIT")).unwrap();

    // a transaction that wrote to the table does
    let (writer, pid) = open("BEGIN; UPDATE orders SET note = 'y' WHERE id = 1;");
    let (code, report) = lint();
    assert_eq!(code, Some(1), "{report}");
    let found = findings(&report, "migration-would-wait");
    let message = found[0]["message"].as_str().unwrap();
    assert!(message.contains(&format!("pid {pid}")), "{message}");
    assert!(
        message.contains("the application is not blocked"),
        "{message}"
    );
    assert_eq!(
        found[0]["evidence"]["blocked_by"][0]["lock"],
        "ROW EXCLUSIVE"
    );
    runtime.block_on(writer.batch_execute("ROLLBACK")).unwrap();
}
