//! A table created without a primary key (none added later in the set either).

use crate::analysis::ActionKind;
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "table-without-primary-key",
    category: Category::Schema,
    severity: Severity::Warning,
    lock: None,
    summary: "a table without a primary key: no row identity for updates, replication or dedup",
    doc: rule_doc!("table-without-primary-key"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    cx.actions()
        .filter_map(|action| {
            let ActionKind::CreateTable { table, partition_of: None, scratch: false, .. } = &action.kind else {
                return None;
            };
            // judged on the schema at the end of the set: a key added later counts; a table
            // dropped or renamed later is not judged
            if cx.catalog.table(table).is_none() || cx.catalog.has_primary_key(table) {
                return None;
            }
            Some(
                Finding::new(&RULE, action.span, format!(
                    "`{table}` has no primary key: rows cannot be addressed reliably, logical replication cannot send its UPDATEs and DELETEs, and duplicates go unnoticed"
                ))
                .help("add a primary key (e.g. `id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY`)")
                .object(table.key()),
            )
        })
        .collect()
}
