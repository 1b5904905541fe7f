//! `ON CONFLICT (cols)` where no unique index or constraint matches the columns.

use crate::analysis::query::Conflict;
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "on-conflict-without-unique",
    category: Category::Query,
    severity: Severity::Error,
    lock: None,
    summary: "ON CONFLICT (cols) without a matching unique index fails at runtime",
    doc: rule_doc!("on-conflict-without-unique"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_query(cx, |q| {
        let Some((table, Conflict::Columns { columns, predicate })) = &q.insert else {
            return Vec::new();
        };
        if cx.catalog.table(table).is_none() {
            return Vec::new();
        }
        let mut wanted = columns.clone();
        wanted.sort();
        // with a predicate, a partial unique index may be the arbiter (PostgreSQL proves the
        // predicate implies the index's; pgrisk does not read predicates, so it assumes so)
        let arbiters = if *predicate {
            cx.catalog.unique_column_lists(table)
        } else {
            cx.catalog.conflict_arbiter_lists(table)
        };
        let matches = arbiters.iter().any(|list| {
            let mut have: Vec<String> =
                list.iter().filter_map(|e| super::entry_column(e)).collect();
            have.sort();
            have == wanted
        });
        if matches {
            return Vec::new();
        }
        let finding = Finding::new(&RULE, cx.statement.span, format!(
            "no unique index or constraint on `{table}` ({}): PostgreSQL rejects this ON CONFLICT at runtime",
            columns.join(", ")
        ))
        .help("create the unique index the conflict target names, or target an existing one");
        let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
        vec![super::index_evidence(finding, cx, table, &columns)]
    })
}
