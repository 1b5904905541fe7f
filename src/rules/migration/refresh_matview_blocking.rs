//! `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY`.

use crate::analysis::{ActionKind, LockMode, Name};
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

/// Whether the catalog knows an index `REFRESH ... CONCURRENTLY` can use: unique, not
/// partial, on column names only (no expressions).
fn has_refresh_key(cx: &StatementCx, view: &Name) -> bool {
    let plain = |c: &String| c.chars().all(|ch| ch.is_alphanumeric() || ch == '_');
    cx.catalog
        .conflict_arbiter_lists(view)
        .iter()
        .any(|columns| !columns.is_empty() && columns.iter().all(plain))
}

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, _lock| {
        let ActionKind::RefreshMatView {
            concurrently: false,
            name,
        } = &action.kind
        else {
            return None;
        };
        // `WITH NO DATA` empties the view, which CONCURRENTLY cannot do
        let fix = cx
            .keyword_span(action.span, "no")
            .is_none()
            .then(|| cx.keyword_span(action.span, "view"))
            .flatten()
            .map(|kw| {
                let obstacle = (!has_refresh_key(cx, name)).then(|| {
                    "it needs a unique index on column names of the view, covering all rows, and pgrisk knows none".to_owned()
                });
                // REFRESH ... CONCURRENTLY may run inside a transaction block
                super::concurrently_fix(cx, kw.end, "refresh", false, obstacle)
            });
        Some(
            Finding::new(&RULE, action.span, format!(
                "`REFRESH MATERIALIZED VIEW` `{name}` takes an ACCESS EXCLUSIVE lock: every query on it waits for the refresh"
            ))
            .help("use `REFRESH MATERIALIZED VIEW CONCURRENTLY` (needs a unique index on the view)")
            .fix(fix),
        )
    })
}
