//! `DROP INDEX` without `CONCURRENTLY`.

use crate::analysis::{ActionKind, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "drop-index-blocking",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "DROP INDEX without CONCURRENTLY blocks reads and writes on the table",
    doc: rule_doc!("drop-index-blocking"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let ActionKind::DropIndex {
            concurrently: false,
            names,
            ..
        } = &action.kind
        else {
            return None;
        };
        let partitioned = names.iter().any(|index| {
            cx.catalog
                .table_of_index(index)
                .and_then(|table| cx.catalog.table(table))
                .is_some_and(|t| t.partitioned == Some(true))
        });
        let obstacle = if partitioned {
            Some("not supported for an index of a partitioned table")
        } else if names.len() > 1 {
            Some("it drops one index per statement: split this one first")
        } else if cx.keyword_span(action.span, "cascade").is_some() {
            Some("it does not support CASCADE: drop the dependent objects first")
        } else {
            None
        };
        let fix = cx.keyword_span(action.span, "index").map(|kw| {
            super::concurrently_fix(
                cx,
                kw.end,
                "drop the index",
                true,
                obstacle.map(String::from),
            )
        });
        let index = names
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("`, `");
        Some(
            Finding::new(&RULE, action.span, format!(
                "`DROP INDEX` `{index}` takes an ACCESS EXCLUSIVE lock on `{}`: reads and writes wait",
                lock.relation
            ))
            .help("use `DROP INDEX CONCURRENTLY` in a migration that does not run in a transaction")
            .fix(fix),
        )
    })
}
