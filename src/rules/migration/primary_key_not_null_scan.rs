//! `ADD PRIMARY KEY USING INDEX` on columns not known to be NOT NULL.

use crate::analysis::{AlterOp, ConstraintKind, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "primary-key-not-null-scan",
    category: Category::Locking,
    severity: Severity::Warning,
    lock: Some(LockMode::AccessExclusive),
    summary: "ADD PRIMARY KEY USING INDEX sets NOT NULL, scanning the table unless the columns already are",
    doc: rule_doc!("primary-key-not-null-scan"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let AlterOp::AddConstraint(c) = super::alter_op(action)? else {
            return None;
        };
        let ConstraintKind::PrimaryKey {
            using_index: Some(index),
            ..
        } = &c.kind
        else {
            return None;
        };
        let scan = action.scan.as_ref()?;
        Some(
            Finding::new(&RULE, c.span, format!(
                "`PRIMARY KEY USING INDEX {index}` {scan}, under an ACCESS EXCLUSIVE lock on `{}`",
                lock.relation
            ))
            .help("make the key columns NOT NULL first with the CHECK ... NOT VALID / VALIDATE / SET NOT NULL sequence"),
        )
    })
}
