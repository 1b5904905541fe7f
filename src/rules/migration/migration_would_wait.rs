//! `lint --dsn` preflight: a statement whose lock conflicts with one held (or already awaited)
//! on the live server would wait now, and the application's queries would queue behind it.

use crate::analysis::{Action, ActionKind, AnalyzedFile, LockMode};
use crate::diagnostic::size::{self, Operation};
use crate::live::locks::{Family, Holder, Preflight, Session};
use crate::rules::{Category, Check, Finding, Rule, Severity, rule_doc};

pub static RULE: Rule = Rule {
    name: "migration-would-wait",
    category: Category::Locking,
    severity: Severity::Error,
    lock: None,
    summary: "with --dsn: a statement's lock conflicts with a session on the server right now",
    doc: rule_doc!("migration-would-wait"),
    check: Check::Preflight,
};

/// The query families shown in evidence.
const TOP_FAMILIES: usize = 5;

/// What the statement does to the table while it holds the lock, for the duration estimate.
fn operation(action: &Action) -> Option<Operation> {
    match (&action.rewrite, &action.scan) {
        (Some(_), _) => Some(Operation::Rewrite),
        (None, Some(scan)) if scan.contains("index") => Some(Operation::IndexBuild),
        (None, Some(_)) => Some(Operation::Scan),
        (None, None) => None,
    }
}

/// A concurrent index build also waits, before each of its table scans, for every transaction
/// holding a lock that conflicts with SHARE on the table (those that wrote to it), though its
/// own lock blocks no reads or writes. Source: PostgreSQL's CREATE INDEX, "Building Indexes
/// Concurrently" (`WaitForLockers(..., ShareLock)` in `DefineIndex`).
fn waits_for_writers(action: &Action) -> bool {
    matches!(
        &action.kind,
        ActionKind::CreateIndex(index) if index.concurrently
    ) || matches!(
        action.kind,
        ActionKind::Reindex {
            concurrently: true,
            ..
        }
    )
}

/// A session the statement would wait for, and why: a lock on the relation (its mode and
/// whether granted), or an old snapshot (`None`).
struct Blocker<'a> {
    session: &'a Session,
    lock: Option<(LockMode, bool)>,
}

/// The sessions a lock of `mode` on `relation` taken by `action` would wait for.
fn blockers<'a>(
    preflight: &'a Preflight,
    action: &Action,
    relation: &str,
    mode: LockMode,
) -> Vec<Blocker<'a>> {
    let locks = &preflight.locks;
    let holding = |h: &'a Holder| Blocker {
        session: &h.session,
        lock: Some((h.mode, h.granted)),
    };
    let mut found: Vec<Blocker> = locks
        .blocking(relation, mode)
        .into_iter()
        .map(holding)
        .collect();
    if waits_for_writers(action) {
        let writers = locks
            .blocking(relation, LockMode::Share)
            .into_iter()
            .map(holding);
        let snapshots = locks.old_snapshots.iter().map(|session| Blocker {
            session,
            lock: None,
        });
        for blocker in writers.chain(snapshots) {
            if !found.iter().any(|b| b.session.pid == blocker.session.pid) {
                found.push(blocker);
            }
        }
    }
    found
}

/// What the wait means for the application.
fn consequence(mode: LockMode, concurrent: bool, relation: &str) -> String {
    match (mode.blocks_reads() || mode.blocks_writes(), concurrent) {
        (true, _) => format!(
            "its {mode} lock on `{relation}` conflicts with the lock held there now, and every \
             later query on `{relation}` it conflicts with would queue behind it"
        ),
        (false, true) => format!(
            "CONCURRENTLY waits for the transactions that wrote to `{relation}`, and for old \
             snapshots, to end; the \
             application is not blocked, but the migration hangs (holding {mode}, which stops \
             VACUUM and other schema changes on the table)"
        ),
        (false, false) => format!(
            "its {mode} lock on `{relation}` conflicts with the lock held there now; reads and \
             writes go on, the migration hangs"
        ),
    }
}

/// `41 min`, `12 s`, `3.2 h`.
fn duration(seconds: f64) -> String {
    match seconds {
        s if s < 120.0 => format!("{s:.0} s"),
        s if s < 7200.0 => format!("{:.0} min", s / 60.0),
        s => format!("{:.1} h", s / 3600.0),
    }
}

fn describe(blocker: &Blocker) -> String {
    let session = blocker.session;
    let age = session
        .state_seconds
        .or(session.transaction_seconds)
        .map(|s| format!(" for {}", duration(s)))
        .unwrap_or_default();
    let why = match blocker.lock {
        Some((_, true)) => "",
        Some((_, false)) => ", itself waiting",
        None => ", holding a snapshot",
    };
    let application = match session.application.as_str() {
        "" => String::new(),
        a => format!(", application `{a}`"),
    };
    format!(
        "pid {} (`{}`{age}{application}{why})",
        session.pid, session.state
    )
}

fn blocker_evidence(blocker: &Blocker) -> serde_json::Value {
    let session = blocker.session;
    serde_json::json!({
        "pid": session.pid,
        "state": session.state,
        "application": session.application,
        "user": session.user,
        "lock": blocker.lock.map_or("snapshot", |(mode, _)| mode.sql_name()),
        "granted": blocker.lock.is_none_or(|(_, granted)| granted),
        "transaction_seconds": session.transaction_seconds,
        "state_seconds": session.state_seconds,
        "query": session.query,
    })
}

/// The statement as a short label: its first line, cut to 60 characters.
fn label(text: &str) -> String {
    let line = text
        .trim()
        .lines()
        .next()
        .unwrap_or("")
        .trim_end_matches(';');
    match line.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

/// The families that would queue behind a lock of `mode` on `relation`, busiest first.
fn queued<'a>(
    preflight: &'a Preflight,
    relation: &str,
    mode: crate::analysis::LockMode,
) -> Vec<(&'a Family, Option<f64>)> {
    let mut families: Vec<_> = preflight
        .families
        .iter()
        .filter(|f| f.mode.conflicts_with(mode) && f.relations.iter().any(|r| r == relation))
        .map(|f| {
            let rate = preflight
                .counting_seconds
                .filter(|s| *s > 0.0)
                .map(|s| f.entry.calls as f64 / s);
            (f, rate)
        })
        .collect();
    families.sort_by_key(|f| std::cmp::Reverse(f.0.entry.calls));
    families
}

/// Findings for every statement of `file` whose lock on an existing relation would wait.
pub fn check(file: &AnalyzedFile, preflight: &Preflight) -> Vec<Finding> {
    let mut findings = Vec::new();
    for statement in &file.statements {
        let text = &file.source.sql()[statement.span.start..statement.span.end];
        for action in &statement.actions {
            for lock in action.locks.iter().filter(|l| l.existing) {
                let relation = lock.relation.key().to_string();
                let blockers = blockers(preflight, action, &relation, lock.mode);
                let Some(first) = blockers.first() else {
                    continue;
                };
                let others = match blockers.len() {
                    1 => String::new(),
                    n => format!(
                        " and {} other session{}",
                        n - 1,
                        if n == 2 { "" } else { "s" }
                    ),
                };
                let families = queued(preflight, &relation, lock.mode);
                let per_second: f64 = families.iter().filter_map(|f| f.1).sum();
                let mut finding = Finding::new(
                    &RULE,
                    statement.span,
                    format!(
                        "`{}` would wait behind {}{others}: {}",
                        label(text),
                        describe(first),
                        consequence(lock.mode, waits_for_writers(action), &relation)
                    ),
                )
                .with_lock(lock)
                .help(
                    "run it when the session is gone (or end it), and set `lock_timeout` so a \
                     wait gives up instead of blocking the application",
                )
                .evidence(
                    "blocked_by",
                    blockers.iter().map(blocker_evidence).collect::<Vec<_>>(),
                );
                let top: Vec<_> = families
                    .iter()
                    .take(TOP_FAMILIES)
                    .map(|(f, rate)| {
                        serde_json::json!({
                            "queryid": f.entry.queryid.to_string(),
                            "query": label(&f.entry.query),
                            "calls": f.entry.calls,
                            "calls_per_second": rate.map(|r| (r * 1000.0).round() / 1000.0),
                            "mean_ms": (f.entry.mean_ms * 1000.0).round() / 1000.0,
                        })
                    })
                    .collect();
                if !top.is_empty() {
                    finding = finding
                        .evidence("queued_queries", top)
                        .evidence("queued_per_second", (per_second * 1000.0).round() / 1000.0);
                }
                let table = size::find_table(&preflight.tables, &relation, &preflight.search_path);
                if let (Some(op), Some(table)) = (operation(action), table) {
                    let (seconds, basis) = size::estimate(op, table.total_bytes());
                    finding = finding
                        .evidence("estimated_lock_seconds", (seconds * 100.0).round() / 100.0)
                        .evidence("estimate_basis", basis)
                        .evidence(
                            "expected_queue",
                            (per_second * seconds * 10.0).round() / 10.0,
                        );
                }
                let mut measured = vec!["locks held now (pg_locks, pg_stat_activity)"];
                let mut assumed = Vec::new();
                match &preflight.families_skipped {
                    Some(reason) => assumed.push(format!("queries queued unknown: {reason}")),
                    None => {
                        measured.push("calls and mean time (pg_stat_statements)");
                        assumed.push(
                            "calls spread evenly since pg_stat_statements started counting"
                                .to_owned(),
                        );
                    }
                }
                if table.is_some() && operation(action).is_some() {
                    measured.push("table size");
                    assumed.push("lock duration from the measured throughput".to_owned());
                }
                assumed.push("the blocking session keeps its lock for an unknown time".into());
                findings.push(
                    finding
                        .evidence("measured", measured)
                        .evidence("assumed", assumed),
                );
            }
        }
    }
    findings
}
