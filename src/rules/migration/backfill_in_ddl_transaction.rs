//! A data change in the transaction that already holds ACCESS EXCLUSIVE or SHARE on the table.

use crate::analysis::{ActionKind, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "backfill-in-ddl-transaction",
    category: Category::Backfill,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "a backfill in the transaction that took a strong lock holds that lock for the whole backfill",
    doc: rule_doc!("backfill-in-ddl-transaction"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    let held = &cx.statement.before.held;
    cx.actions()
        .filter_map(|action| {
            let ActionKind::Dml { verb, table, facts, .. } = &action.kind else { return None };
            let insert_select = *verb == "INSERT" && facts.as_ref().is_some_and(|f| f.from_select);
            if !(matches!(*verb, "UPDATE" | "DELETE") || insert_select) {
                return None;
            }
            let table = table.key();
            // `held` has only SHARE or stronger locks
            let lock = held.iter().filter(|h| h.relation == table).max_by_key(|h| h.mode)?;
            let line = cx.file.source.position(lock.span.start).line;
            Some(
                Finding::new(&RULE, action.span, format!(
                    "`{verb}` runs in the transaction that took {} on `{table}` at line {line}: the lock is held for the whole data change",
                    lock.mode
                ))
                .help("commit the schema change first, then backfill in batches in separate transactions")
                .object(&table)
                .locking(lock.mode),
            )
        })
        .collect()
}
