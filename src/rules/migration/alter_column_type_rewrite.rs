//! `ALTER COLUMN ... TYPE` that is not known to be binary-coercible.

use crate::analysis::{AlterOp, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "alter-column-type-rewrite",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "ALTER COLUMN TYPE rewrites the table and its indexes unless the change is binary-coercible",
    doc: rule_doc!("alter-column-type-rewrite"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let AlterOp::AlterColumnType { column, .. } = super::alter_op(action)? else {
            return None;
        };
        let rewrite = action.rewrite.as_ref()?;
        Some(
            Finding::new(&RULE, action.span, format!(
                "changing the type of `{column}` holds an ACCESS EXCLUSIVE lock on `{}` for a full rewrite: {rewrite}",
                lock.relation
            ))
            .help("add a new column of the new type, write to both, backfill in batches, then switch reads and drop the old column")
            .evidence("rewrite", rewrite.as_str()),
        )
    })
}
