//! `REINDEX` without `CONCURRENTLY` where the target version has it.

use crate::analysis::{ActionKind, ConstraintKind, Feature, LockMode, Name, tables::available};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "reindex-blocking",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::Share),
    summary: "REINDEX without CONCURRENTLY blocks writes (and reads of the index)",
    doc: rule_doc!("reindex-blocking"),
    check: Check::Statement(check),
};

/// Whether the reindexed table (of the index) has an exclusion constraint, whose index
/// `REINDEX ... CONCURRENTLY` refuses (or, for a table, skips).
fn has_exclusion_constraint(cx: &StatementCx, target: &str, name: &Name) -> bool {
    let table = match target {
        "INDEX" => cx.catalog.table_of_index(name),
        _ => Some(name),
    };
    table.and_then(|t| cx.catalog.table(t)).is_some_and(|t| {
        t.constraints
            .iter()
            .any(|c| matches!(c.kind, ConstraintKind::Exclude))
    })
}

fn check(cx: &StatementCx) -> Vec<Finding> {
    if !available(Feature::ReindexConcurrently, cx.settings.pg_version) {
        return Vec::new();
    }
    cx.actions()
        .filter_map(|action| {
            let ActionKind::Reindex { target, name, concurrently: false } = &action.kind else { return None };
            // a REINDEX INDEX on an index we cannot place still locks an existing table
            let lock = action.strongest_existing_lock();
            if lock.is_none() && !action.locks.is_empty() {
                return None;
            }
            // REINDEX SYSTEM has no concurrent form
            let keyword = (*target != "SYSTEM")
                .then(|| cx.keyword_span(action.span, &target.to_ascii_lowercase()))
                .flatten();
            // `(CONCURRENTLY false)` would contradict the keyword: the option must change
            let obstacle = if cx.keyword_span(action.span, "concurrently").is_some() {
                Some("change the option list to `CONCURRENTLY true` instead".to_owned())
            } else if has_exclusion_constraint(cx, target, name) {
                Some("exclusion-constraint indexes cannot be rebuilt concurrently".to_owned())
            } else {
                None
            };
            let fix = keyword.map(|kw| super::concurrently_fix(cx, kw.end, "rebuild", true, obstacle));
            let finding = Finding::new(&RULE, action.span, format!(
                "`REINDEX {target}` on `{name}` blocks writes to the table and reads through the index until it finishes"
            ))
            .help("use `REINDEX ... CONCURRENTLY` outside a transaction block")
            .version_facts(action)
            .fix(fix);
            Some(match lock {
                Some(lock) => finding.with_lock(lock),
                None => finding.object(name),
            })
        })
        .collect()
}
