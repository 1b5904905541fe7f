//! `ADD UNIQUE` / `ADD PRIMARY KEY` without `USING INDEX` on an existing table.

use crate::analysis::{AlterOp, ConstraintDef, ConstraintKind, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "unique-constraint-blocking",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "ADD UNIQUE/PRIMARY KEY builds an index under an ACCESS EXCLUSIVE lock",
    doc: rule_doc!("unique-constraint-blocking"),
    check: Check::Statement(check),
};

fn builds_index(c: &ConstraintDef) -> bool {
    matches!(
        c.kind,
        ConstraintKind::Unique {
            using_index: None,
            ..
        } | ConstraintKind::PrimaryKey {
            using_index: None,
            ..
        }
    )
}

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let constraint = match super::alter_op(action)? {
            AlterOp::AddConstraint(c) => Some(c),
            AlterOp::AddColumn(column) => column.constraints.iter().find(|c| builds_index(c)),
            _ => None,
        }
        .filter(|c| builds_index(c))?;
        let kind = if matches!(constraint.kind, ConstraintKind::PrimaryKey { .. }) {
            "PRIMARY KEY"
        } else {
            "UNIQUE"
        };
        Some(
            Finding::new(&RULE, constraint.span, format!(
                "adding a {kind} constraint builds its index while holding an ACCESS EXCLUSIVE lock on `{}`: reads and writes wait for the build",
                lock.relation
            ))
            .help(format!("`CREATE UNIQUE INDEX CONCURRENTLY` first, then `ADD CONSTRAINT ... {kind} USING INDEX`")),
        )
    })
}
