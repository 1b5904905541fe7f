//! `fixtures/live/<rule>/{bad,good}.sql`: every live check sees its pathology created for real
//! (bad: at least one finding, with the declared evidence) and stays silent on the healthy
//! version (good). The same files are the examples of the rule's doc.
//!
//! A fixture is SQL run on a fresh database, with directives in comments:
//! - `-- session: NAME` starts a section run on a connection of its own that stays open until
//!   the audit is over (an open `BEGIN` leaves it idle in transaction); `-- session: NAME
//!   nowait` does not wait for it to finish (a statement that blocks on a lock); `-- session:
//!   NAME standby` runs it on the hot standby (with `-- cluster: standby`).
//!   Text before the first session runs first, on a setup connection that is then closed.
//! - `-- cluster: own` gives the fixture a cluster of its own (for cluster-wide state),
//!   `-- cluster: standby` also runs the audit on a hot standby of it, made after the setup.
//! - `-- setting: name = value` starts that cluster with the setting (implies `own`).
//! - `-- config: <toml line>` lines form the pgrisk.toml of the audit (thresholds).
//! - `-- wait: SECONDS` before the audit; `-- min-version: N` skips older servers (and a
//!   standby fixture is skipped where the installation has no `pg_basebackup`);
//!   `-- requires: EXTENSION` skips servers whose installation lacks that extension.
//! - `-- evidence: key, key` (bad only): a finding must carry these evidence keys.
//!
//! `PGRISK_LIVE_FIXTURE=rule[,rule]` runs only those rules' fixtures and prints their
//! findings (while writing one, and for the examples of its doc).
//!
//! Statistics: the setup's counters reach `pg_stat_*` when its connection closes (with
//! `-- wait: 1` for the exit to finish). A session's counters wait for its next idle flush,
//! which PG15+ rate-limits to one a second and otherwise delays by up to 10 s: put statements
//! whose counters the check reads in the setup, or end the session with
//! `SELECT pg_stat_force_next_flush();` (PG15+).

use std::path::Path;
use std::time::Duration;

use pgrisk::pg::cluster::{Cluster, ClusterOptions};
use pgrisk::rules::database::CHECKS;

use super::*;

#[derive(Debug, Default)]
struct Fixture {
    setup: String,
    /// (name, nowait, on the standby, SQL)
    sessions: Vec<(String, bool, bool, String)>,
    own_cluster: bool,
    standby: bool,
    settings: ClusterOptions,
    config: Vec<String>,
    wait: f64,
    min_version: u32,
    requires: Vec<String>,
    evidence: Vec<String>,
}

fn parse(text: &str) -> Fixture {
    let mut fixture = Fixture::default();
    let mut current: Option<usize> = None;
    for line in text.lines() {
        let directive = line
            .trim()
            .strip_prefix("-- ")
            .and_then(|d| d.split_once(": "));
        match directive {
            Some(("session", spec)) => {
                let mut words = spec.split_whitespace();
                let name = words.next().unwrap_or("session").to_owned();
                let flags: Vec<&str> = words.collect();
                let nowait = flags.contains(&"nowait");
                let on_standby = flags.contains(&"standby");
                fixture
                    .sessions
                    .push((name, nowait, on_standby, String::new()));
                current = Some(fixture.sessions.len() - 1);
            }
            Some(("cluster", "own")) => fixture.own_cluster = true,
            Some(("cluster", "standby")) => {
                fixture.own_cluster = true;
                fixture.standby = true;
            }
            Some(("setting", spec)) => {
                let (name, value) = spec.split_once('=').expect("setting: name = value");
                fixture.settings =
                    std::mem::take(&mut fixture.settings).setting(name.trim(), value.trim());
                fixture.own_cluster = true;
            }
            Some(("config", toml)) => fixture.config.push(toml.to_owned()),
            Some(("wait", seconds)) => fixture.wait = seconds.trim().parse().expect("wait: N"),
            Some(("min-version", v)) => fixture.min_version = v.trim().parse().expect("N"),
            Some(("requires", extension)) => fixture.requires.push(extension.trim().to_owned()),
            Some(("evidence", keys)) => fixture
                .evidence
                .extend(keys.split(',').map(|k| k.trim().to_owned())),
            _ => {
                let section = match current {
                    Some(i) => &mut fixture.sessions[i].3,
                    None => &mut fixture.setup,
                };
                section.push_str(line);
                section.push('\n');
            }
        }
    }
    fixture
}

/// Runs one fixture and returns the rule's findings with the declared evidence keys none of
/// them carries, or `None` when the server is too old.
fn run_fixture(
    shared: &Cluster,
    rule: &str,
    kind: &str,
    path: &Path,
) -> Option<(Vec<serde_json::Value>, Vec<String>)> {
    let fixture = parse(&std::fs::read_to_string(path).expect("fixture"));
    if !fixture.requires.iter().all(|e| available(shared, e)) {
        eprintln!("{rule} {kind}: skipped, needs {:?}", fixture.requires);
        return None;
    }
    let own = fixture
        .own_cluster
        .then(|| start_cluster_with(fixture.settings.clone()));
    let primary = own.as_ref().unwrap_or(shared);
    // the relocatable builds of scripts/pg-versions.sh have no pg_basebackup
    let no_standby = fixture.standby && !primary.has_tool("pg_basebackup");
    if primary.major < fixture.min_version || no_standby {
        return None;
    }
    let database = format!("fx_{}_{kind}", rule.replace('-', "_"));
    psql(primary, "postgres", &format!("CREATE DATABASE {database}"));
    if !fixture.setup.trim().is_empty() {
        psql(primary, &database, &fixture.setup);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let standby = fixture.standby.then(|| {
        let standby = primary
            .start_standby(&ClusterOptions::default())
            .expect("standby");
        wait_for_replay(primary, &standby, &database);
        standby
    });
    let mut clients = Vec::new();
    for (name, nowait, on_standby, sql) in &fixture.sessions {
        let target = match (&standby, on_standby) {
            (Some(standby), true) => standby,
            (None, true) => {
                panic!("{rule} {kind}: session {name} on a standby needs `-- cluster: standby`")
            }
            _ => primary,
        };
        let client = runtime.block_on(setup_client(target, &database));
        let client = std::sync::Arc::new(client);
        let running = {
            let client = client.clone();
            let sql = sql.clone();
            let name = name.clone();
            runtime.spawn(async move {
                if let Err(e) = client.batch_execute(&sql).await {
                    eprintln!("fixture session {name}: {e}");
                }
            })
        };
        if !nowait {
            runtime.block_on(running).expect("session task");
        } else {
            // give the statement time to reach its lock wait
            std::thread::sleep(Duration::from_millis(300));
        }
        clients.push(client);
    }
    std::thread::sleep(Duration::from_secs_f64(fixture.wait));
    let audited = standby.as_ref().unwrap_or(primary);
    let dsn = support::dsn(audited, &database);
    let report = live_json_configured(&dsn, &fixture.config.join("\n"));
    drop(clients);
    let skipped = format!("{rule} skipped");
    let notes = notes(&report);
    let skip = notes.iter().find(|n| n.starts_with(&skipped));
    assert!(skip.is_none(), "{rule} {kind}: {skip:?}");
    let found: Vec<serde_json::Value> = findings(&report, rule).into_iter().cloned().collect();
    if std::env::var_os("PGRISK_LIVE_FIXTURE").is_some() {
        eprintln!(
            "{rule} {kind}: {}",
            serde_json::to_string_pretty(&found).unwrap_or_default()
        );
    }
    let missing = fixture
        .evidence
        .iter()
        .filter(|key| !found.iter().any(|f| !f["evidence"][key.as_str()].is_null()))
        .map(|key| format!("{rule} bad: no finding has evidence `{key}`: {found:#?}"))
        .collect();
    Some((found, missing))
}

/// Whether the server installation has `extension` (before a cluster preloads it).
fn available(cluster: &Cluster, extension: &str) -> bool {
    support::runtime().block_on(async {
        let client = setup_client(cluster, "postgres").await;
        client
            .query_one(
                "SELECT count(*) FROM pg_available_extensions WHERE name = $1",
                &[&extension],
            )
            .await
            .is_ok_and(|r| r.get::<_, i64>(0) == 1)
    })
}

/// Waits until the standby has replayed the fixture's database (it appears in pg_database).
pub fn wait_for_replay(primary: &Cluster, standby: &Cluster, database: &str) {
    psql(primary, "postgres", "SELECT pg_switch_wal()");
    let runtime = support::runtime();
    for _ in 0..100 {
        let seen = runtime.block_on(async {
            let client = setup_client(standby, "postgres").await;
            client
                .query_one(
                    "SELECT count(*) FROM pg_database WHERE datname = $1",
                    &[&database],
                )
                .await
                .map(|r| r.get::<_, i64>(0) == 1)
                .unwrap_or(false)
        });
        if seen {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the standby never replayed database {database}");
}

#[test]
fn live_fixtures_find_each_pathology_and_stay_silent_when_healthy() {
    let shared = start_cluster();
    let mut failures = Vec::new();
    let only = std::env::var("PGRISK_LIVE_FIXTURE").unwrap_or_default();
    let selected = |rule: &str| only.is_empty() || only.split(',').any(|r| r.trim() == rule);
    for check in CHECKS.iter().filter(|c| selected(c.rule.name)) {
        let rule = check.rule.name;
        let dir = support::root().join("fixtures/live").join(rule);
        for kind in ["bad", "good"] {
            let path = dir.join(format!("{kind}.sql"));
            if !path.is_file() {
                failures.push(format!("fixtures/live/{rule}/{kind}.sql is missing"));
                continue;
            }
            let Some((found, missing)) = run_fixture(&shared, rule, kind, &path) else {
                continue;
            };
            failures.extend(missing);
            match (kind, found.len()) {
                ("bad", 0) => failures.push(format!("{rule}: bad.sql gives no finding")),
                ("good", n) if n > 0 => {
                    failures.push(format!("{rule}: good.sql gives {n} finding(s): {found:#?}"))
                }
                _ => {}
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
