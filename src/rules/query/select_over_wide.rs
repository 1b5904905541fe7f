//! An explicit select list of 30 or more columns.

use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "select-over-wide",
    category: Category::Query,
    severity: Severity::Info,
    lock: None,
    summary: "a select list of 30 or more columns",
    doc: rule_doc!("select-over-wide"),
    check: Check::Statement(check),
};

/// `query.wide-columns` default.
const WIDE_COLUMNS: usize = 30;

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_query(cx, |q| {
        if q.select_columns < WIDE_COLUMNS || !q.stars.is_empty() {
            return Vec::new();
        }
        vec![Finding::new(&RULE, cx.statement.span, format!(
            "selects {} columns: check the caller needs them all; wide rows cost I/O, memory and network on every call",
            q.select_columns
        ))
        .help("select only the columns this code path reads; split rarely used wide columns into their own query")
        .evidence("columns", q.select_columns)]
    })
}
