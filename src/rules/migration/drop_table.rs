//! `DROP TABLE` (and `DROP SCHEMA` / `DROP DATABASE`) of an existing object.

use crate::analysis::{ActionKind, LockMode, ObjectKind};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "drop-table",
    category: Category::Compatibility,
    severity: Severity::Warning,
    lock: Some(LockMode::AccessExclusive),
    summary: "dropping a table, schema or database breaks code that still uses it and loses its data",
    doc: rule_doc!("drop-table"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    cx.actions()
        .flat_map(|action| {
            let ActionKind::Drop { kind, names, .. } = &action.kind else { return Vec::new() };
            let what = match kind {
                ObjectKind::Table => "table",
                ObjectKind::Schema => "schema",
                ObjectKind::Database => "database",
                _ => return Vec::new(),
            };
            let existing = |name: &crate::analysis::Name| action.locks.iter().any(|l| l.existing && l.relation == *name);
            names
                .iter()
                .filter(|n| existing(n))
                .map(|name| {
                    Finding::new(&RULE, action.span, format!(
                        "dropping {what} `{name}` breaks any deployed code that still queries it, and its data is gone"
                    ))
                    .help("remove all application use first, keep a backup or rename it away for a release, then drop")
                    .object(name)
                    .locking(crate::analysis::LockMode::AccessExclusive)
                })
                .collect()
        })
        .collect()
}
