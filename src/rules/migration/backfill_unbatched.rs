//! A data change on an existing table not bounded by a key range or a LIMIT batch.

use crate::analysis::ActionKind;
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "backfill-unbatched",
    category: Category::Backfill,
    severity: Severity::Warning,
    lock: None,
    summary: "a data change on an existing table in one statement, not in key-range batches",
    doc: rule_doc!("backfill-unbatched"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let ActionKind::Dml {
            verb: verb @ ("UPDATE" | "DELETE"),
            facts: Some(facts),
            ..
        } = &action.kind
        else {
            return None;
        };
        if facts.limited || facts.bounds.as_ref().is_some_and(|b| b.is_batch()) {
            return None;
        }
        Some(
            Finding::new(&RULE, action.span, format!(
                "`{verb}` changes all matching rows of `{}` in one statement: one long transaction, row locks on every row, a burst of WAL and dead tuples",
                lock.relation
            ))
            .help("loop over key ranges (`WHERE id >= $1 AND id < $1 + 10000`) and commit between batches"),
        )
    })
}
