//! Client connections close to the server's usable limit.

use std::collections::BTreeMap;

use serde_json::json;

use super::{DatabaseCx, Outcome, Threshold};
use crate::live::Server;
use crate::rules::{Category, Check, Finding, Rule, Severity};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "connections-near-limit",
    category: Category::Database,
    severity: Severity::Warning,
    lock: None,
    summary: "client connections are close to max_connections minus the reserved slots",
    doc: crate::rules::rule_doc!("connections-near-limit"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[
    Threshold {
        key: "max-fraction",
        default: 0.8,
        doc: "share of the usable connection slots in use that is flagged (check_postgres warns at 90 %)",
    },
    Threshold {
        key: "dominant-fraction",
        default: 0.5,
        doc: "share of the connections one application must hold for the pool advice to name it",
    },
];

/// Slots kept for roles with special rights, by the version that introduced the setting.
const RESERVED: &[(u32, &str)] = &[
    (0, "superuser_reserved_connections"),
    (160000, "reserved_connections"),
];

/// How many entries of each breakdown the evidence shows.
const TOP: usize = 10;

fn reserved(server: &Server) -> u64 {
    RESERVED
        .iter()
        .filter(|(min, _)| server.version_num >= *min)
        .filter_map(|(_, name)| server.setting(name)?.parse::<u64>().ok())
        .sum()
}

/// Counts by key, most first, at most [`TOP`].
fn top(keys: impl Iterator<Item = String>, label: &str) -> Vec<serde_json::Value> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for key in keys {
        *counts.entry(key).or_default() += 1;
    }
    let mut rows: Vec<(String, u64)> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows.into_iter()
        .take(TOP)
        .map(|(key, n)| json!({ label: key, "connections": n }))
        .collect()
}

pub fn check(cx: &DatabaseCx) -> Outcome {
    let activity = cx.snapshot.activity.as_ref().map_err(Clone::clone)?;
    let server = &cx.snapshot.server;
    let max_connections: u64 = server
        .setting("max_connections")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| crate::live::Skipped::new("max_connections is not readable"))?;
    let reserved = reserved(server);
    let usable = max_connections.saturating_sub(reserved).max(1);
    let clients: Vec<_> = activity.sessions.iter().filter(|s| s.is_client()).collect();
    let used = clients.len() as u64;
    let share = used as f64 / usable as f64;
    if share < cx.threshold("max-fraction") {
        return Ok(Vec::new());
    }
    let app_name = |a: &str| {
        if a.is_empty() {
            "(no application_name)".to_owned()
        } else {
            a.to_owned()
        }
    };
    let by_application = top(
        clients.iter().map(|s| app_name(&s.application)),
        "application",
    );
    let hidden = clients.iter().filter(|s| s.state.is_none()).count();
    let mut finding = Finding::new(
        &RULE,
        Span::new(0, 0),
        format!(
            "{used} client connections of {usable} usable ({:.0} % of max_connections {max_connections} minus {reserved} reserved)",
            100.0 * share
        ),
    )
    .object(format!("cluster (max_connections = {max_connections})"))
    .evidence("connections", used)
    .evidence("max_connections", max_connections)
    .evidence("reserved_connections", reserved)
    .evidence("usable_connections", usable)
    .evidence("used_fraction", (share * 1000.0).round() / 1000.0)
    .evidence("by_application", by_application.clone())
    .evidence(
        "by_user",
        top(
            clients
                .iter()
                .map(|s| s.user.clone().unwrap_or_else(|| "(unknown)".into())),
            "user",
        ),
    )
    .evidence(
        "by_state",
        top(
            clients
                .iter()
                .map(|s| s.state.clone().unwrap_or_else(|| "hidden".into())),
            "state",
        ),
    );
    if hidden > 0 {
        finding = finding.evidence(
            "hidden_states",
            format!("{hidden} sessions of other roles show no state without pg_read_all_stats (grant pg_monitor)"),
        );
    }
    let dominant = by_application.first().and_then(|top| {
        let n = top["connections"].as_u64()?;
        (n as f64 >= cx.threshold("dominant-fraction") * used as f64)
            .then(|| (top["application"].clone(), n))
    });
    let idle = clients
        .iter()
        .filter(|s| s.state.as_deref() == Some("idle"))
        .count();
    let help = match dominant {
        Some((application, n)) => {
            finding = finding.evidence("dominant_application", application.clone());
            format!(
                "{application} holds {n} of the {used} connections ({idle} of the {used} are idle): \
                 cap its pool so that the sum over every instance stays below {usable} — \
                 pgbouncer `default_pool_size`/`max_client_conn`, or the app pool's max size, \
                 e.g. HikariCP `maximumPoolSize`, Rails `pool`, SQLAlchemy `pool_size`"
            )
        }
        None => format!(
            "{idle} of the {used} connections are idle: put a pooler (pgbouncer in transaction mode) \
             in front, or lower each application's pool size; raising max_connections costs \
             memory per backend and needs a restart"
        ),
    };
    Ok(vec![finding.help(help)])
}
