//! A `CONCURRENTLY` statement inside a transaction block, explicit or framework-made.

use crate::analysis::Block;
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "concurrently-in-transaction",
    category: Category::Locking,
    severity: Severity::Error,
    lock: None,
    summary: "CONCURRENTLY cannot run inside a transaction block: the migration fails",
    doc: rule_doc!("concurrently-in-transaction"),
    check: Check::Statement(check),
};

/// Why a statement here runs inside a transaction block, explicit or framework-made, so that
/// `CONCURRENTLY` and the like fail; `None` when it runs outside one. The phrase completes
/// "this statement cannot run inside a transaction block …".
pub(crate) fn transaction_block(cx: &StatementCx) -> Option<String> {
    match cx.statement.before.block? {
        Block::Explicit { .. } => {
            Some("inside the `BEGIN` block opened earlier in this file".to_owned())
        }
        Block::Wrapped => Some(format!(
            "and {} runs this file in a transaction ({})",
            cx.file.source.framework.name(),
            cx.file.source.tx_reason
        )),
        Block::Implicit => {
            // a lone statement in a multi-statement query is not in a transaction block
            let statements = cx.file.statements.len();
            (statements > 1).then(|| format!(
                "and the file's {statements} statements are sent as one query, which PostgreSQL runs as one implicit transaction"
            ))
        }
    }
}

fn check(cx: &StatementCx) -> Vec<Finding> {
    let Some(why) = transaction_block(cx) else {
        return Vec::new();
    };
    cx.actions()
        .filter(|a| a.kind.refuses_transaction_block())
        .map(|action| {
            Finding::new(&RULE, action.span, format!(
                "this statement cannot run inside a transaction block {why}: the migration fails with an error"
            ))
            .help("move this statement into its own migration that runs outside a transaction (see your framework's opt-out)")
            .evidence("framework", cx.file.source.framework.name())
        })
        .collect()
}
