//! `ADD COLUMN ... NOT NULL` without a default on an existing table.

use crate::analysis::{AlterOp, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "add-column-required",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "ADD COLUMN NOT NULL without a default fails on a table with rows and breaks old inserts",
    doc: rule_doc!("add-column-required"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let AlterOp::AddColumn(column) = super::alter_op(action)? else {
            return None;
        };
        let has_default = column.default.as_ref().is_some_and(|d| !d.is_null);
        let filled =
            has_default || column.identity || column.is_serial() || column.generated.is_some();
        if !column.not_null || filled {
            return None;
        }
        Some(
            Finding::new(&RULE, column.span, format!(
                "`{}` is added NOT NULL without a default: the statement fails if `{}` has rows, and application code that inserts without it breaks",
                column.name, lock.relation
            ))
            .help("add it nullable (or with a non-volatile default), backfill, then enforce NOT NULL through a validated CHECK"),
        )
    })
}
