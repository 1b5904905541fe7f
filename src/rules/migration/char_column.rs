//! `char(n)` columns.

use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "char-column",
    category: Category::Schema,
    severity: Severity::Info,
    lock: None,
    summary: "char(n) pads with spaces and is no faster than text",
    doc: rule_doc!("char-column"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::columns_of_type(
        cx,
        &RULE,
        &["character"],
        |d, _| {
            format!(
                "`{}` is `char(n)`: values are blank-padded, comparisons ignore trailing spaces, and it is no faster than `text`",
                d.column.name
            )
        },
        "use `text` (with a CHECK on length if the length matters)",
    )
}
