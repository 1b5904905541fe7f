//! `INSERT` into a table with a unique idempotency key, without `ON CONFLICT`.

use crate::analysis::query::Conflict;
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "insert-not-idempotent",
    category: Category::Query,
    severity: Severity::Warning,
    lock: None,
    summary: "a retried INSERT into a table with an idempotency key fails with a unique violation",
    doc: rule_doc!("insert-not-idempotent"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_query(cx, |q| {
        let Some((table, Conflict::None)) = &q.insert else {
            return Vec::new();
        };
        let unique = cx.catalog.unique_column_lists(table);
        let Some(key) = unique.iter().flatten().find(|c| {
            crate::rules::migration::idempotency_key_missing::is_key_column(cx.settings, c)
        }) else {
            return Vec::new();
        };
        let finding = Finding::new(&RULE, cx.statement.span, format!(
            "`{table}` has a unique idempotency key `{key}`, but this INSERT has no ON CONFLICT: a retried request fails with a unique violation (the 500 that repeats)"
        ))
        .help(format!("add `ON CONFLICT ({key}) DO NOTHING` (and return the existing row), or DO UPDATE"));
        vec![super::index_evidence(finding, cx, table, &[key.as_str()])]
    })
}
