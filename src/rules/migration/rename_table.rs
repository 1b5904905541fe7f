//! `ALTER TABLE ... RENAME TO` on an existing table.

use crate::analysis::{AlterOp, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "rename-table",
    category: Category::Compatibility,
    severity: Severity::Warning,
    lock: Some(LockMode::AccessExclusive),
    summary: "renaming a table breaks application code using the old name",
    doc: rule_doc!("rename-table"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let AlterOp::RenameTable { to } = super::alter_op(action)? else {
            return None;
        };
        Some(
            Finding::new(&RULE, action.span, format!(
                "renaming `{}` to `{to}` breaks every running instance of the application that still queries the old name",
                lock.relation
            ))
            .help("rename, then create a view with the old name for the transition (or expand/contract with a new table)"),
        )
    })
}
