//! The audit runs end to end on a fresh database and stays read-only.

use super::*;

#[test]
fn a_fresh_database_is_audited_without_writing() {
    let cluster = start_cluster();
    psql(&cluster, "postgres", "CREATE DATABASE smoke");
    psql(&cluster, "smoke", "CREATE EXTENSION pg_stat_statements");
    live_json(&cluster, "smoke", &[]);
    // the second audit sees the first one's queries in pg_stat_statements: not reported
    let (output, report) = live_json(&cluster, "smoke", &[]);
    let queries = report["queries"].as_array().expect("queries");
    assert!(
        queries.iter().all(|q| !q["query"]
            .as_str()
            .is_some_and(|t| t.contains("pg_settings") || t.contains("pg_stat_statements s"))),
        "pgrisk's own audit queries are left out: {queries:#?}"
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(report["version"], 1);
    assert!(
        findings(&report, "invalid-index").is_empty(),
        "a fresh database has no invalid index: {report}"
    );
    assert_pgrisk_only_read(&cluster);
}

/// The server log (every statement logged with its application name) shows pgrisk sending
/// reads only: SELECT, WITH, SHOW, and its READ ONLY transactions.
pub fn assert_pgrisk_only_read(cluster: &Cluster) {
    let log = server_log(cluster);
    // a record is its prefixed first line and the continuation lines of a multi-line statement
    let mut records: Vec<String> = Vec::new();
    for line in log.lines() {
        match records.last_mut() {
            Some(last) if !line.starts_with("20") => {
                last.push(' ');
                last.push_str(line);
            }
            _ => records.push(line.to_owned()),
        }
    }
    let ours: Vec<&String> = records
        .iter()
        .filter(|l| l.contains("app=pgrisk "))
        .collect();
    assert!(!ours.is_empty(), "pgrisk's statements are logged: {log}");
    for line in ours {
        let Some(logged) = line.split("LOG:  ").nth(1) else {
            continue;
        };
        let statement = match logged.strip_prefix("statement: ") {
            Some(s) => s,
            None if logged.starts_with("execute ") => logged.split_once(": ").map_or("", |p| p.1),
            None => continue,
        };
        // audit queries carry pgrisk's tag (kept out of its pg_stat_statements report)
        let untagged = statement
            .trim_start()
            .trim_start_matches(pgrisk::live::QUERY_TAG);
        let upper = untagged.trim_start().to_ascii_uppercase();
        assert!(
            ["SELECT", "WITH", "BEGIN READ ONLY", "COMMIT", "SHOW"]
                .iter()
                .any(|p| upper.starts_with(p)),
            "pgrisk sent a statement that is not a read: {line}"
        );
    }
}

/// A statement_timeout even the preflight cannot meet: one line, exit 2, no report.
#[test]
fn a_statement_timeout_the_preflight_cannot_meet_is_one_line() {
    let cluster = start_cluster();
    let dsn = support::dsn(&cluster, "postgres");
    let output = support::pgrisk(&[
        "live",
        "--no-config",
        "--dsn",
        &dsn,
        "--statement-timeout",
        "1",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("statement timeout"), "{stderr}");
}

/// A session holds a lock a reader needs: that reader is skipped with a note after
/// lock_timeout, the others still run, and the report comes.
#[test]
fn a_reader_stopped_by_lock_timeout_becomes_a_note() {
    let cluster = start_cluster();
    psql(&cluster, "postgres", "CREATE DATABASE busy");
    psql(
        &cluster,
        "busy",
        "CREATE SEQUENCE ticket_seq; CREATE TABLE t (id int PRIMARY KEY)",
    );
    let runtime = support::runtime();
    let holder = runtime.block_on(hold_sequence_lock(&cluster, "busy"));
    let (output, report) = live_json(&cluster, "busy", &["--lock-timeout", "200"]);
    drop(holder);
    assert!(
        output.status.code() != Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let notes = notes(&report);
    assert!(
        notes.iter().any(|n| n.contains("lock_timeout")),
        "the locked sequence stops one reader: {notes:#?}"
    );
    assert!(
        report["target"]
            .as_str()
            .is_some_and(|t| t.contains("busy")),
        "the rest of the report is there: {report}"
    );
}

/// A migration's lock on `ticket_seq`, held in an open transaction on the returned client.
async fn hold_sequence_lock(cluster: &Cluster, database: &str) -> tokio_postgres::Client {
    let holder = setup_client(cluster, database).await;
    holder
        .batch_execute("BEGIN; ALTER SEQUENCE ticket_seq RESTART WITH 5")
        .await
        .expect("hold the lock");
    holder
}

/// The server stopped while pgrisk waits on a lock: one line, exit 2, within seconds.
#[test]
fn a_server_stopped_mid_audit_ends_it_with_one_line() {
    let cluster = start_cluster();
    psql(&cluster, "postgres", "CREATE DATABASE doomed");
    psql(&cluster, "doomed", "CREATE SEQUENCE ticket_seq");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    // reading the sequence's last value waits behind the migration's lock
    let holder = runtime.block_on(hold_sequence_lock(&cluster, "doomed"));
    let dsn = support::dsn(&cluster, "doomed");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_pgrisk"))
        .args([
            "live",
            "--no-config",
            "--dsn",
            &dsn,
            "--lock-timeout",
            "30000",
        ])
        .args(["--statement-timeout", "60000", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start pgrisk");
    std::thread::sleep(std::time::Duration::from_secs(2));
    let started = std::time::Instant::now();
    drop(cluster); // pg_ctl stop -m immediate (the lock holder too), and the directory removed
    drop(holder);
    let output = child.wait_with_output().expect("pgrisk ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "pgrisk hung after the server stopped"
    );
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].starts_with("pgrisk: error:"), "{stderr}");
}
