//! The audit runs end to end on a fresh database and stays read-only.

use super::*;

#[test]
fn a_fresh_database_is_audited_without_writing() {
    let cluster = start_cluster();
    psql(&cluster, "postgres", "CREATE DATABASE smoke");
    let (output, report) = live_json(&cluster, "smoke", &[]);
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
        let upper = statement.trim_start().to_ascii_uppercase();
        assert!(
            ["SELECT", "WITH", "BEGIN READ ONLY", "COMMIT", "SHOW"]
                .iter()
                .any(|p| upper.starts_with(p)),
            "pgrisk sent a statement that is not a read: {line}"
        );
    }
}
