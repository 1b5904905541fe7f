//! On a hot standby: long reads and the recovery conflicts that cancel them.

use super::{DatabaseCx, Outcome, Threshold, session_finding};
use crate::live::activity::{round, with_visible_sessions};
use crate::rules::{Category, Check, Finding, Rule, Severity};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "replica-analytics",
    category: Category::Database,
    severity: Severity::Warning,
    lock: None,
    summary: "long queries on a hot standby, and queries cancelled by recovery conflicts",
    doc: crate::rules::rule_doc!("replica-analytics"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[
    Threshold {
        key: "min-seconds",
        default: 60.0,
        doc: "seconds a query on the standby must have been running to be flagged (as long-running-query)",
    },
    Threshold {
        key: "min-conflicts",
        default: 1.0,
        doc: "queries cancelled by recovery conflicts since the stats reset that are flagged",
    },
];

pub fn check(cx: &DatabaseCx) -> Outcome {
    let server = &cx.snapshot.server;
    if !server.in_recovery {
        return Ok(Vec::new());
    }
    let activity = with_visible_sessions(cx.snapshot)?;
    let stats = activity.database_stats.as_ref().map_err(Clone::clone)?;
    let feedback = server.setting("hot_standby_feedback").map(str::to_owned);
    let delay_ms = server.setting_ms("max_standby_streaming_delay");
    let consequence = if feedback.as_deref() == Some("on") {
        "with hot_standby_feedback on, it holds back vacuum on the primary (bloat there)".to_owned()
    } else {
        format!(
            "replay that conflicts with it waits max_standby_streaming_delay ({}), then cancels it",
            delay_ms.map_or("unknown".into(), |d| format!("{} s", d / 1000.0))
        )
    };
    let mut findings: Vec<Finding> = activity
        .running_at_least(cx.threshold("min-seconds"))
        .map(|(s, seconds)| {
            session_finding(
                &RULE,
                s,
                format!(
                    "pid {} has been querying this standby for {seconds:.0} s: {consequence}",
                    s.pid
                ),
            )
            .evidence("query_seconds", round(seconds))
            .evidence("query", s.query_excerpt(500))
            .evidence("hot_standby_feedback", feedback.clone())
            .evidence("max_standby_streaming_delay_ms", delay_ms)
            .help(
                "run analytics on a replica of its own with hot_standby_feedback on and a \
                 generous max_standby_streaming_delay (accepting its lag), or in a warehouse; \
                 keep the failover standby free of long reads",
            )
        })
        .collect();
    let total: i64 = stats.conflicts.iter().map(|(_, n)| n).sum();
    if total as f64 >= cx.threshold("min-conflicts") {
        let mut finding = Finding::new(
            &RULE,
            Span::new(0, 0),
            format!("{total} queries on this standby were cancelled by recovery conflicts since the stats reset"),
        )
        .object(format!("database {}", server.database))
        .evidence("conflicts", total)
        .evidence("hot_standby_feedback", feedback.clone())
        .evidence("max_standby_streaming_delay_ms", delay_ms);
        for (cause, n) in &stats.conflicts {
            finding = finding.evidence(cause, *n);
        }
        findings.push(finding.help(
            "confl_snapshot: vacuum on the primary removed rows a query still needed \
             (hot_standby_feedback on, at the price of bloat there); confl_lock: an \
             ACCESS EXCLUSIVE lock was replayed (DDL, or vacuum truncating a table: \
             vacuum_truncate = off); confl_bufferpin: raise max_standby_streaming_delay",
        ));
    }
    Ok(findings)
}
