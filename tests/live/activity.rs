//! The activity checks as a whole: on a hot standby, with the rights of a monitoring role and
//! of a role without them, and read-only while other sessions hold locks and wait for them.

use std::sync::Arc;
use std::time::Duration;

use super::fixtures::wait_for_replay;
use super::smoke::assert_pgrisk_only_read;
use super::*;

/// The rules of the activity reader.
const ACTIVITY_RULES: &[&str] = &[
    "blocked-sessions",
    "cache-hit-ratio",
    "connections-near-limit",
    "idle-in-transaction",
    "long-running-query",
    "replica-analytics",
    "replication-lag",
    "replication-slot-inactive",
    "temp-files-heavy",
    "timeouts-disabled",
    "vacuum-whole-database-scheduled",
    "xid-wraparound",
];

/// Sessions kept open on `database` while the test runs: (runtime, clients).
fn open_sessions(
    cluster: &Cluster,
    database: &str,
    sessions: &[(&str, bool)],
) -> (tokio::runtime::Runtime, Vec<Arc<tokio_postgres::Client>>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut clients = Vec::new();
    for (sql, wait) in sessions {
        let client = Arc::new(runtime.block_on(setup_client(cluster, database)));
        let running = {
            let client = client.clone();
            let sql = (*sql).to_owned();
            runtime.spawn(async move { client.batch_execute(&sql).await.map(|_| ()) })
        };
        if *wait {
            runtime
                .block_on(running)
                .expect("session task")
                .expect("session SQL");
        } else {
            std::thread::sleep(Duration::from_millis(300));
        }
        clients.push(client);
    }
    (runtime, clients)
}

#[test]
fn a_hot_standby_is_audited_whole_and_its_checks_run() {
    let primary = start_cluster();
    psql(&primary, "postgres", "CREATE DATABASE shop");
    psql(
        &primary,
        "shop",
        "CREATE TABLE orders (id bigint PRIMARY KEY); INSERT INTO orders VALUES (1)",
    );
    if !can_make_standby(&primary) {
        return;
    }
    // command-line settings are not copied by pg_basebackup: log the standby's statements too
    let logged = ClusterOptions::default()
        .setting("shared_preload_libraries", "pg_stat_statements")
        .setting("log_statement", "all")
        .setting("log_line_prefix", "'%m [%p] app=%a '");
    let standby = primary.start_standby(&logged).expect("standby");
    wait_for_replay(&primary, &standby, "shop");
    let (output, report) = live_json(&standby, "shop", &["--fail-on", "never"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        report.to_string().contains("standby"),
        "the target says standby: {report}"
    );
    let notes = notes(&report);
    for rule in ACTIVITY_RULES {
        assert!(
            !notes
                .iter()
                .any(|n| n.starts_with(&format!("{rule} skipped"))),
            "{rule} runs on a standby: {notes:?}"
        );
    }
    // a healthy, caught-up standby: no lag, no slot, nothing long-running
    for rule in ["replication-lag", "replica-analytics", "long-running-query"] {
        assert!(
            findings(&report, rule).is_empty(),
            "{rule} on a healthy standby: {report}"
        );
    }
    assert_pgrisk_only_read(&standby);
}

#[test]
fn a_pg_monitor_role_sees_other_sessions_and_a_role_without_it_is_told_why_not() {
    let cluster = start_cluster();
    psql(&cluster, "postgres", "CREATE DATABASE rights");
    psql(
        &cluster,
        "rights",
        "CREATE ROLE monitor LOGIN IN ROLE pg_monitor; CREATE ROLE plain LOGIN; \
         CREATE TABLE orders (id bigint PRIMARY KEY); INSERT INTO orders VALUES (1)",
    );
    // the superuser's session, idle in a transaction holding a row lock
    let (_runtime, _clients) = open_sessions(
        &cluster,
        "rights",
        &[("BEGIN; SELECT id FROM orders FOR UPDATE", true)],
    );
    std::thread::sleep(Duration::from_millis(1200));
    let config = "[rules.idle-in-transaction]\nmin-seconds = 1\n";

    let monitor = live_json_configured(&dsn_as(&cluster, "rights", "monitor"), config);
    let idle = findings(&monitor, "idle-in-transaction");
    assert_eq!(idle.len(), 1, "pg_monitor sees the idle session: {monitor}");
    assert_eq!(
        idle[0]["evidence"]["last_query"],
        "BEGIN; SELECT id FROM orders FOR UPDATE"
    );
    assert!(
        idle[0]["evidence"]["locks_held"]
            .as_array()
            .is_some_and(|l| l.iter().any(|l| l == "public.orders RowShareLock")),
        "{monitor}"
    );

    let plain = live_json_configured(&dsn_as(&cluster, "rights", "plain"), config);
    assert!(
        findings(&plain, "idle-in-transaction").is_empty(),
        "{plain}"
    );
    let notes = notes(&plain);
    assert!(
        notes.iter().any(
            |n| n.starts_with("idle-in-transaction skipped") && n.contains("pg_read_all_stats")
        ),
        "the plain role is told why: {notes:?}"
    );
    // connections are still counted, and nothing else is skipped for want of rights
    for rule in [
        "connections-near-limit",
        "blocked-sessions",
        "xid-wraparound",
    ] {
        assert!(
            !notes
                .iter()
                .any(|n| n.starts_with(&format!("{rule} skipped"))),
            "{rule} runs without pg_monitor: {notes:?}"
        );
    }
}

#[test]
fn pgrisk_holds_nothing_stronger_than_access_share_while_sessions_lock_and_wait() {
    let cluster = start_cluster();
    psql(&cluster, "postgres", "CREATE DATABASE busy");
    psql(
        &cluster,
        "busy",
        "CREATE TABLE orders (id bigint PRIMARY KEY, status text); \
         INSERT INTO orders SELECT g, 'new' FROM generate_series(1, 1000) g",
    );
    let (runtime, _clients) = open_sessions(
        &cluster,
        "busy",
        &[
            ("BEGIN; ALTER TABLE orders ADD COLUMN note text", true),
            ("SELECT count(*) FROM orders", false),
            ("BEGIN; SELECT pg_sleep(0)", true),
        ],
    );
    std::thread::sleep(Duration::from_millis(1200));
    let dsn = support::dsn(&cluster, "busy");
    let audit = std::thread::spawn(move || {
        support::pgrisk(&["live", "--no-config", "--dsn", &dsn, "--format", "json"])
    });
    // sample pgrisk's relation locks for as long as it runs
    let watcher = runtime.block_on(setup_client(&cluster, "busy"));
    let mut samples = 0;
    let mut modes = std::collections::BTreeSet::new();
    while !audit.is_finished() {
        let rows = runtime
            .block_on(watcher.query(
                "SELECT l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                  WHERE a.application_name = 'pgrisk' AND l.locktype = 'relation'",
                &[],
            ))
            .expect("pg_locks");
        samples += 1;
        modes.extend(rows.iter().map(|r| r.get::<_, String>(0)));
    }
    let output = audit.join().expect("audit thread");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert!(samples > 0);
    assert!(
        modes.iter().all(|m| m == "AccessShareLock"),
        "pgrisk held {modes:?}"
    );
    let blocked = findings(&report, "blocked-sessions");
    assert_eq!(blocked.len(), 1, "{report}");
    assert_eq!(blocked[0]["evidence"]["blocked_sessions"], 1);
    assert_eq!(
        blocked[0]["evidence"]["blocked"][0]["mode"],
        "AccessShareLock"
    );
    assert_eq!(blocked[0]["object"], "public.orders");
    assert_pgrisk_only_read(&cluster);
}
