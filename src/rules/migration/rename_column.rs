//! `ALTER TABLE ... RENAME COLUMN` on an existing table.

use crate::analysis::{AlterOp, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "rename-column",
    category: Category::Compatibility,
    severity: Severity::Warning,
    lock: Some(LockMode::AccessExclusive),
    summary: "renaming a column breaks application code using the old name",
    doc: rule_doc!("rename-column"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let AlterOp::RenameColumn { from, to } = super::alter_op(action)? else {
            return None;
        };
        if !action.new_columns.is_empty() {
            return None;
        }
        Some(
            Finding::new(&RULE, action.span, format!(
                "renaming `{}`.`{from}` to `{to}` breaks every running instance of the application that still uses `{from}`",
                lock.relation
            ))
            .help("add the new column, write to both, backfill, move reads, then drop the old one (expand/contract)"),
        )
    })
}
