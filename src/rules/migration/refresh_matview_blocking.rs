//! `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY`.

use crate::analysis::{ActionKind, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "refresh-matview-blocking",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every reader",
    doc: rule_doc!("refresh-matview-blocking"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, _lock| {
        let ActionKind::RefreshMatView {
            concurrently: false,
            name,
        } = &action.kind
        else {
            return None;
        };
        Some(
            Finding::new(&RULE, action.span, format!(
                "`REFRESH MATERIALIZED VIEW` `{name}` takes an ACCESS EXCLUSIVE lock: every query on it waits for the refresh"
            ))
            .help("use `REFRESH MATERIALIZED VIEW CONCURRENTLY` (needs a unique index on the view)"),
        )
    })
}
