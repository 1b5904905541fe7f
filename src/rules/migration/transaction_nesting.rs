//! `BEGIN` inside an open transaction, or explicit `BEGIN`/`COMMIT` in a file the
//! framework already wraps in a transaction.

use crate::analysis::{ActionKind, Block};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};
use crate::source::TxMode;

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
    let wrapped = cx.file.source.tx == TxMode::Wrapped;
    // `COMMIT AND CHAIN` ends the block before its implicit BEGIN
    let mut block = cx.statement.before.block;
    cx.actions()
        .filter_map(|action| {
            let current = block;
            if matches!(action.kind, ActionKind::Commit | ActionKind::Rollback) {
                block = None;
            }
            let message = match (&action.kind, current) {
                (ActionKind::Begin | ActionKind::Commit, _) if wrapped => format!(
                    "{framework} already runs this file in one transaction: an explicit `{}` does not nest, it ends or splits the framework's transaction and the file is no longer atomic",
                    if action.kind == ActionKind::Begin { "BEGIN" } else { "COMMIT" }
                ),
                (ActionKind::Begin, Some(Block::Explicit { .. })) => {
                    "`BEGIN` inside an open transaction does nothing but warn: the first `COMMIT` ends the outer transaction".to_owned()
                }
                _ => return None,
            };
            Some(Finding::new(&RULE, action.span, message).help(
                "remove the explicit BEGIN/COMMIT, or opt the file out of the framework's transaction",
            ))
        })
        .collect()
}
