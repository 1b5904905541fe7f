//! `ADD CONSTRAINT ... EXCLUDE` on an existing table.

use crate::analysis::{AlterOp, ConstraintKind, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "exclusion-constraint-blocking",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "ADD EXCLUDE builds its index under an ACCESS EXCLUSIVE lock and cannot be NOT VALID",
    doc: rule_doc!("exclusion-constraint-blocking"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let AlterOp::AddConstraint(c) = super::alter_op(action)? else {
            return None;
        };
        if c.kind != ConstraintKind::Exclude {
            return None;
        }
        Some(
            Finding::new(&RULE, c.span, format!(
                "the exclusion constraint builds its index while holding an ACCESS EXCLUSIVE lock on `{}`; there is no NOT VALID or concurrent form",
                lock.relation
            ))
            .help("create a new table with the constraint and move data over, or schedule a maintenance window"),
        )
    })
}
