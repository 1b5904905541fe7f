//! A table full of dead row versions: vacuum is off, behind, or held back by an old snapshot.

use crate::live::catalog::{self, Table, TableStats, XminHolder, part};
use crate::live::{Server, Skipped};
use crate::rules::database::{DatabaseCx, Outcome, Threshold};
use crate::rules::{Category, Check, Finding, Rule, Severity, rule_doc};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "dead-tuples",
    category: Category::Database,
    severity: Severity::Warning,
    lock: None,
    summary: "a table with many dead rows: vacuum is disabled, behind, or held back",
    doc: rule_doc!("dead-tuples"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[
    Threshold {
        key: "min-dead-share",
        default: 0.2,
        doc: "dead rows as a share of live rows (autovacuum_vacuum_scale_factor's default, 0.2)",
    },
    Threshold {
        key: "min-dead-rows",
        default: 10_000.0,
        doc: "fewest dead rows reported",
    },
    Threshold {
        key: "stale-vacuum-hours",
        default: 24.0,
        doc: "hours without a vacuum after which a table past its own autovacuum trigger is reported",
    },
    Threshold {
        key: "xmin-holder-seconds",
        default: 60.0,
        doc: "a transaction older than this that holds the xmin horizon is named as the cause",
    },
];

/// Dead rows past which autovacuum should have started: its threshold plus scale factor ×
/// rows, from the table's storage parameters or else the server's settings.
fn autovacuum_trigger(table: &Table, stats: &TableStats, server: &Server) -> Option<f64> {
    let value = |name: &str| {
        table
            .reloption(name)
            .and_then(|v| v.parse().ok())
            .or_else(|| server.setting_f64(name))
    };
    Some(
        value("autovacuum_vacuum_threshold")?
            + value("autovacuum_vacuum_scale_factor")?
                * table.rows.unwrap_or(0.0).max(stats.live_rows as f64),
    )
}

/// What keeps vacuum from cleaning: the oldest xmin holder old enough to matter.
fn holder(holders: &[XminHolder], min_seconds: f64) -> Option<&XminHolder> {
    holders
        .iter()
        .filter(|h| h.age_seconds.is_none_or(|s| s >= min_seconds))
        .max_by_key(|h| h.xid_age)
}

fn cause(table: &Table, server: &Server, holder: Option<&XminHolder>) -> String {
    if table.reloption("autovacuum_enabled") == Some("false")
        || table.reloption("autovacuum_enabled") == Some("off")
    {
        "autovacuum is disabled on this table (autovacuum_enabled = off)".into()
    } else if server.setting("autovacuum") == Some("off") {
        "autovacuum is off on this server".into()
    } else if let Some(h) = holder {
        format!(
            "vacuum cannot remove rows that {} {} may still see (xmin age {})",
            h.kind, h.name, h.xid_age
        )
    } else {
        "autovacuum has not caught up".into()
    }
}

fn judged(table: &Table, stats: &TableStats, cx: &DatabaseCx) -> bool {
    let dead = stats.dead_rows as f64;
    if dead < cx.threshold("min-dead-rows") {
        return false;
    }
    let share = dead >= cx.threshold("min-dead-share") * stats.live_rows as f64;
    let stale = autovacuum_trigger(table, stats, &cx.snapshot.server).is_some_and(|t| dead >= t)
        && stats
            .vacuum_age_seconds
            .is_none_or(|s| s >= cx.threshold("stale-vacuum-hours") * 3600.0);
    share || stale
}

pub fn check(cx: &DatabaseCx) -> Outcome {
    let server = &cx.snapshot.server;
    if server.in_recovery {
        return Err(Skipped::new(
            "on a standby dead-row counters are this node's and vacuum runs on the primary: audit the primary",
        ));
    }
    let facts = part(&cx.snapshot.catalog)?;
    let tables = part(&facts.tables)?;
    let holders = facts.xmin_holders.as_deref().unwrap_or_default();
    let holder = holder(holders, cx.threshold("xmin-holder-seconds"));
    Ok(tables
        .iter()
        .filter_map(|t| Some((t, t.stats.as_ref()?)))
        .filter(|(t, stats)| judged(t, stats, cx))
        .map(|(t, stats)| {
            let share = stats.dead_rows as f64 / (stats.live_rows.max(1)) as f64;
            let mut finding = Finding::new(
                &RULE,
                Span::new(0, 0),
                format!(
                    "table `{}` holds {} dead rows for {} live ({:.0} %); last vacuum {}: {}. Dead rows bloat the table and its indexes and slow every scan",
                    t.key(),
                    stats.dead_rows,
                    stats.live_rows,
                    share * 100.0,
                    stats.vacuum_age_seconds.map_or("never".to_owned(), |s| format!("{} ago", catalog::duration(s))),
                    cause(t, server, holder),
                ),
            )
            .object(t.key())
            .evidence("dead_rows", stats.dead_rows)
            .evidence("live_rows", stats.live_rows)
            .evidence("dead_share", (share * 1000.0).round() / 1000.0)
            .evidence("last_vacuum", stats.last_vacuum.clone())
            .evidence("last_autovacuum", stats.last_autovacuum.clone())
            .evidence("autovacuum_enabled", t.reloption("autovacuum_enabled").unwrap_or("default"))
            .evidence("autovacuum_trigger_rows", autovacuum_trigger(t, stats, server))
            .help(format!(
                "VACUUM (VERBOSE) {}; and find why autovacuum did not: its storage parameters, long transactions, prepared transactions, replication slots",
                t.key()
            ));
            if let Some(h) = holder {
                finding = finding.evidence(
                    "oldest_xmin_holder",
                    serde_json::json!({"kind": h.kind, "name": h.name, "xid_age": h.xid_age, "age_seconds": h.age_seconds}),
                );
            }
            finding
        })
        .collect())
}
