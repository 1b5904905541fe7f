//! `BEGIN` inside an open transaction, or explicit `BEGIN`/`COMMIT` in a file the
//! framework already wraps in a transaction.

use crate::analysis::{ActionKind, Block};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "transaction-nesting",
    category: Category::Transaction,
    severity: Severity::Error,
    lock: None,
    summary: "BEGIN inside a transaction (or in a file the framework wraps) does not nest",
    doc: rule_doc!("transaction-nesting"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    let framework = cx.file.source.framework.name();
    cx.actions()
        .filter_map(|action| {
            let message = match (&action.kind, cx.statement.before.block) {
                (ActionKind::Begin, Some(Block::Explicit { .. })) => {
                    "`BEGIN` inside an open transaction does nothing but warn: the first `COMMIT` ends the outer transaction".to_owned()
                }
                (ActionKind::Begin, Some(Block::Wrapped)) => format!(
                    "{framework} already runs this file in a transaction: this `BEGIN` does not nest, and the matching `COMMIT` ends the framework's transaction early"
                ),
                (ActionKind::Commit, Some(Block::Wrapped)) => format!(
                    "`COMMIT` ends the transaction {framework} opened for this file: what follows runs outside it and is no longer atomic"
                ),
                _ => return None,
            };
            Some(Finding::new(&RULE, action.span, message).help(
                "remove the explicit BEGIN/COMMIT, or opt the file out of the framework's transaction",
            ))
        })
        .collect()
}
