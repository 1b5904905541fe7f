//! `ADD CONSTRAINT` CHECK / FOREIGN KEY (or an inline `REFERENCES`/`CHECK` on ADD COLUMN)
//! without `NOT VALID` on an existing table.

use crate::analysis::{AlterOp, ConstraintDef, ConstraintKind, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "constraint-validating-scan",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "ADD CONSTRAINT CHECK/FOREIGN KEY without NOT VALID scans the table under a write-blocking lock",
    doc: rule_doc!("constraint-validating-scan"),
    check: Check::Statement(check),
};

fn validating(c: &ConstraintDef) -> bool {
    !c.not_valid
        && matches!(
            c.kind,
            ConstraintKind::Check { .. }
                | ConstraintKind::ForeignKey { .. }
                | ConstraintKind::NotNull { .. }
        )
}

fn check(cx: &StatementCx) -> Vec<Finding> {
    cx.actions()
        .filter_map(|action| {
            let constraint = match super::alter_op(action)? {
                AlterOp::AddConstraint(c) => Some(c),
                AlterOp::AddColumn(column) => column.constraints.iter().find(|c| validating(c)),
                _ => None,
            }
            .filter(|c| validating(c))?;
            // the scan reads the altered table: harmless when the migrations just created it
            let table = action.locks.first().filter(|l| l.existing)?;
            let lock = action.strongest_existing_lock().unwrap_or(table);
            let what = match &constraint.kind {
                ConstraintKind::ForeignKey { references, .. } => format!("foreign key to `{references}`"),
                ConstraintKind::NotNull { column } => format!("NOT NULL constraint on `{column}`"),
                _ => "CHECK constraint".to_owned(),
            };
            let name = constraint.name.as_deref().map(|n| format!(" `{n}`")).unwrap_or_default();
            Some(
                Finding::new(&RULE, constraint.span, format!(
                    "adding the {what}{name} validates every existing row of `{}` while holding {}",
                    table.relation, lock.mode
                ))
                .help("add it with `NOT VALID`, then run `VALIDATE CONSTRAINT` in a separate transaction (SHARE UPDATE EXCLUSIVE: reads and writes continue)")
                .with_lock(lock)
                .version_facts(action),
            )
        })
        .collect()
}
