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

fn check(cx: &StatementCx) -> Vec<Finding> {
    let why = match cx.statement.before.block {
        None => return Vec::new(),
        Some(Block::Explicit { .. }) => {
            "inside the `BEGIN` block opened earlier in this file".to_owned()
        }
        Some(Block::Wrapped) => format!(
            "and {} runs this file in a transaction ({})",
            cx.file.source.framework.name(),
            cx.file.source.tx_reason
        ),
        Some(Block::Implicit) => {
            // a lone statement in a multi-statement query is not in a transaction block
            let statements = cx.file.statements.len();
            if statements <= 1 {
                return Vec::new();
            }
            format!(
                "and the file's {statements} statements are sent as one query, which PostgreSQL runs as one implicit transaction"
            )
        }
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
