//! Statements that have been running for long.

use super::{DatabaseCx, Outcome, Threshold, session_finding};
use crate::live::activity::{round, with_visible_sessions};
use crate::rules::{Category, Check, Rule, Severity};

pub static RULE: Rule = Rule {
    name: "long-running-query",
    category: Category::Database,
    severity: Severity::Warning,
    lock: None,
    summary: "a statement has been running for long (holding its snapshot and locks)",
    doc: crate::rules::rule_doc!("long-running-query"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[Threshold {
    key: "min-seconds",
    default: 60.0,
    doc: "seconds a statement must have been running to be flagged (PgHero's long-running query threshold)",
}];

pub fn check(cx: &DatabaseCx) -> Outcome {
    // every statement on a hot standby is a read: replica-analytics judges those with the
    // replay conflicts that cancel them
    if cx.snapshot.server.in_recovery {
        return Ok(Vec::new());
    }
    let activity = with_visible_sessions(cx.snapshot)?;
    // client backends only: walsenders stream for ever, autovacuum workers run as long as the
    // table needs; a session waiting for a lock is blocked-sessions' finding
    let findings = activity
        .running_at_least(cx.threshold("min-seconds"))
        .map(|(s, seconds)| {
            session_finding(
                &RULE,
                s,
                format!(
                    "pid {} has been running one statement for {seconds:.0} s",
                    s.pid
                ),
            )
            .evidence("query_seconds", round(seconds))
            .evidence("xmin_age", s.xmin_age)
            .evidence("wait_event", s.wait_event.clone())
            .evidence("locks_held", activity.locks_held(s.pid))
            .evidence("query", s.query_excerpt(500))
            .help(
                "look at its plan (EXPLAIN, or auto_explain) and whether it belongs on a \
                 replica; set `statement_timeout` for the application role; \
                 `pg_cancel_backend(pid)` stops this one",
            )
        })
        .collect();
    Ok(findings)
}
