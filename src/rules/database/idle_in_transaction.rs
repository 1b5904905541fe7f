//! Sessions left idle inside an open transaction.

use super::{DatabaseCx, Outcome, Threshold, session_finding};
use crate::live::activity::{round, with_visible_sessions};
use crate::rules::{Category, Check, Rule, Severity};

pub static RULE: Rule = Rule {
    name: "idle-in-transaction",
    category: Category::Database,
    severity: Severity::Warning,
    lock: None,
    summary: "a session sits idle inside an open transaction, holding its locks and the xmin horizon",
    doc: crate::rules::rule_doc!("idle-in-transaction"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[Threshold {
    key: "min-seconds",
    default: 60.0,
    doc: "seconds a session must have been idle in its transaction to be flagged",
}];

pub fn check(cx: &DatabaseCx) -> Outcome {
    let activity = with_visible_sessions(cx.snapshot)?;
    let min = cx.threshold("min-seconds");
    let mut findings = Vec::new();
    for s in activity.sessions.iter().filter(|s| s.is_client() && s.here) {
        let idle = match (s.state.as_deref(), s.state_seconds) {
            (Some(state), Some(idle))
                if state.starts_with("idle in transaction") && idle >= min =>
            {
                idle
            }
            _ => continue,
        };
        let locks = activity.locks_held(s.pid);
        let mut message = format!(
            "pid {} ({}) has been idle in transaction for {:.0} s",
            s.pid,
            if s.application.is_empty() {
                "no application_name"
            } else {
                &s.application
            },
            idle
        );
        if !locks.is_empty() {
            message.push_str(&format!(", holding {} lock(s)", locks.len()));
        }
        findings.push(
            session_finding(&RULE, s, message)
                .evidence("idle_seconds", round(idle))
                .evidence("transaction_seconds", s.transaction_seconds.map(round))
                .evidence("xmin_age", s.xmin_age)
                .evidence("locks_held", locks)
                .evidence("last_query", s.query_excerpt(200))
                .help(
                    "find the code path that opens a transaction and waits (a request that \
                     awaits another service, a worker that forgot COMMIT); set \
                     `idle_in_transaction_session_timeout` for the application role so the \
                     server ends such sessions; `pg_terminate_backend(pid)` ends this one now",
                ),
        );
    }
    Ok(findings)
}
