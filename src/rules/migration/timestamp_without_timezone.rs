//! `timestamp` (without time zone) columns.

use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "timestamp-without-timezone",
    category: Category::Schema,
    severity: Severity::Warning,
    lock: None,
    summary: "timestamp without time zone stores wall-clock times whose zone is lost",
    doc: rule_doc!("timestamp-without-timezone"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::columns_of_type(
        cx,
        &RULE,
        &["timestamp without time zone"],
        |d, _| {
            format!(
                "`{}` is `timestamp without time zone`: the instant it means depends on each writer's time zone",
                d.column.name
            )
        },
        "use `timestamptz` (timestamp with time zone)",
    )
}
