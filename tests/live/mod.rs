//! `pgrisk live` against real servers: disposable clusters with pg_stat_statements preloaded
//! and every statement logged, pathologies created for real.

use std::process::Output;

use pgrisk::pg::cluster::{Cluster, ClusterOptions};

use crate::support;

mod activity;
mod catalog;
mod connect;
mod fixtures;
mod preflight;
mod size_aware;
mod smoke;
mod statements;

/// A cluster as the live tests want it: pg_stat_statements loaded, every statement logged
/// with its application name (to prove pgrisk writes nothing).
pub fn start_cluster() -> Cluster {
    start_cluster_with(ClusterOptions::default())
}

pub fn start_cluster_with(extra: ClusterOptions) -> Cluster {
    let bin = support::pg_bin_dirs().remove(0);
    let options = ClusterOptions::default()
        .setting("shared_preload_libraries", "pg_stat_statements")
        .setting("log_statement", "all")
        .setting("log_line_prefix", "'%m [%p] app=%a '")
        .setting("track_io_timing", "on")
        .with(&extra);
    Cluster::start_with(&bin, &options).unwrap_or_else(|e| panic!("{}: {e}", bin.display()))
}

/// Runs SQL as the superuser on `database` (setup of a pathology).
pub fn psql(cluster: &Cluster, database: &str, sql: &str) {
    support::runtime().block_on(async {
        let client = setup_client(cluster, database).await;
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    });
}

/// A superuser connection named `test-setup`, so that the log tells it from pgrisk's.
pub async fn setup_client(cluster: &Cluster, database: &str) -> tokio_postgres::Client {
    let mut config = cluster.config(database);
    config.application_name("test-setup");
    pgrisk::pg::connect::connect(&config)
        .await
        .expect("connect to the test cluster")
}

/// `pgrisk live --format json` on `database`, with extra arguments.
pub fn live_json(cluster: &Cluster, database: &str, extra: &[&str]) -> (Output, serde_json::Value) {
    let dsn = support::dsn(cluster, database);
    let mut args = vec!["live", "--no-config", "--dsn", &dsn, "--format", "json"];
    args.extend_from_slice(extra);
    let output = support::pgrisk(&args);
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): stdout {} stderr {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output, json)
}

/// The DSN of `database` on the test cluster, connecting as `user`.
pub fn dsn_as(cluster: &Cluster, database: &str, user: &str) -> String {
    support::dsn(cluster, database).replace("user=postgres", &format!("user={user}"))
}

/// `pgrisk live --format json --fail-on never` on `dsn` with `config` as its pgrisk.toml; the
/// audit must complete.
pub fn live_json_configured(dsn: &str, config: &str) -> serde_json::Value {
    let file = tempfile::NamedTempFile::new().expect("config file");
    std::fs::write(file.path(), config).expect("write config");
    let path = file.path().to_string_lossy().into_owned();
    let output = support::pgrisk(&[
        "live",
        "--config",
        &path,
        "--dsn",
        dsn,
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert!(
        output.status.success(),
        "pgrisk live failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json")
}

/// The notes of a live JSON report.
pub fn notes(report: &serde_json::Value) -> Vec<String> {
    report["notes"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The findings of one rule in a live JSON report.
pub fn findings<'a>(report: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics array")
        .iter()
        .filter(|d| d["rule"] == rule)
        .collect()
}

/// Whether a hot standby can be made from `primary` (the relocatable builds of
/// scripts/pg-versions.sh have no `pg_basebackup`); says so when not.
pub fn can_make_standby(primary: &Cluster) -> bool {
    let can = primary.has_tool("pg_basebackup");
    if !can {
        eprintln!(
            "skipped: no pg_basebackup in this PostgreSQL {}",
            primary.major
        );
    }
    can
}

/// The server log, for the read-only proof.
pub fn server_log(cluster: &Cluster) -> String {
    std::fs::read_to_string(cluster.log_path()).unwrap_or_default()
}
