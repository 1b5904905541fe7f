//! `json` columns where `jsonb` would serve.

use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "json-column",
    category: Category::Schema,
    severity: Severity::Warning,
    lock: None,
    summary: "json instead of jsonb: no indexing, no equality, reparsed on every access",
    doc: rule_doc!("json-column"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::columns_of_type(
        cx,
        &RULE,
        &["json"],
        |d, _| {
            format!(
                "`{}` is `json`: stored as text, reparsed on every use, with no GIN index and no equality operator",
                d.column.name
            )
        },
        "use `jsonb` (keep `json` only when key order and duplicate keys must be preserved)",
    )
}
