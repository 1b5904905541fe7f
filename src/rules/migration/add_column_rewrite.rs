//! `ADD COLUMN` that rewrites an existing table.

use crate::analysis::{AlterOp, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "add-column-rewrite",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "ADD COLUMN with a volatile default, serial, identity or stored generated column rewrites the table",
    doc: rule_doc!("add-column-rewrite"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let AlterOp::AddColumn(column) = super::alter_op(action)? else {
            return None;
        };
        let rewrite = action.rewrite.as_ref()?;
        Some(
            Finding::new(&RULE, column.span, format!(
                "adding `{}` rewrites `{}` under an ACCESS EXCLUSIVE lock: {rewrite}",
                column.name, lock.relation
            ))
            .help("add the column without the default (or as a plain nullable column), then backfill in batches and set the default")
            .evidence("rewrite", rewrite.as_str()),
        )
    })
}
