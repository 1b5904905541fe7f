//! `TRUNCATE` of an existing table.

use crate::analysis::{ActionKind, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "truncate-table",
    category: Category::Compatibility,
    severity: Severity::Warning,
    lock: Some(LockMode::AccessExclusive),
    summary: "TRUNCATE deletes all rows under an ACCESS EXCLUSIVE lock",
    doc: rule_doc!("truncate-table"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let ActionKind::Truncate { .. } = &action.kind else {
            return None;
        };
        Some(
            Finding::new(&RULE, action.span, format!(
                "`TRUNCATE` removes every row of `{}` under an ACCESS EXCLUSIVE lock; code expecting the data breaks",
                lock.relation
            ))
            .help("delete in batches with a WHERE clause, or archive the table first if the data may be needed"),
        )
    })
}
