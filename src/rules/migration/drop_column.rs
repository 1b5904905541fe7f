//! `ALTER TABLE ... DROP COLUMN` on an existing table.

use crate::analysis::{AlterOp, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "drop-column",
    category: Category::Compatibility,
    severity: Severity::Warning,
    lock: Some(LockMode::AccessExclusive),
    summary: "dropping a column breaks application code still reading or writing it",
    doc: rule_doc!("drop-column"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let AlterOp::DropColumn { column } = super::alter_op(action)? else {
            return None;
        };
        if !action.new_columns.is_empty() {
            return None;
        }
        Some(
            Finding::new(&RULE, action.span, format!(
                "dropping `{column}` from `{}` breaks every running query, ORM model or prepared statement that still names it",
                lock.relation
            ))
            .help("stop reading and writing the column in a deploy first (ignore it in the ORM), then drop it in a later migration"),
        )
    })
}
