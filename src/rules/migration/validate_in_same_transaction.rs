//! `VALIDATE CONSTRAINT` in the transaction that added it `NOT VALID`, or while the
//! transaction already holds a write-blocking lock on the table.

use crate::analysis::{AlterOp, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "validate-in-same-transaction",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::ShareUpdateExclusive),
    summary: "VALIDATE CONSTRAINT in the same transaction keeps the strong lock for the whole scan",
    doc: rule_doc!("validate-in-same-transaction"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    let before = &cx.statement.before;
    cx.actions()
        .filter_map(|action| {
            let AlterOp::ValidateConstraint { name } = super::alter_op(action)? else { return None };
            let crate::analysis::ActionKind::AlterTable { table, .. } = &action.kind else { return None };
            let table = table.key();
            let own_lock = action.locks.first().filter(|l| l.existing)?;
            let added_here = before.not_valid_in_block.iter().any(|(t, c)| *t == table && c == name);
            let held = before
                .held
                .iter()
                .filter(|h| h.relation == table && h.mode.blocks_writes())
                .max_by_key(|h| h.mode);
            if !added_here && held.is_none() {
                return None;
            }
            let mode = held.map_or(LockMode::AccessExclusive, |h| h.mode);
            let why = if added_here {
                format!("`{name}` was added NOT VALID in this same transaction")
            } else {
                "this transaction already holds a write-blocking lock on it".to_owned()
            };
            Some(
                Finding::new(&RULE, action.span, format!(
                    "validating `{name}` scans `{table}` while the transaction keeps its {mode} lock ({why}): the NOT VALID step gains nothing"
                ))
                .help("commit after adding the constraint NOT VALID and run VALIDATE CONSTRAINT in its own transaction")
                .with_lock(own_lock),
            )
        })
        .collect()
}
