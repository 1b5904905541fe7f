//! `ORDER BY random()`.

use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "order-by-random",
    category: Category::Query,
    severity: Severity::Warning,
    lock: None,
    summary: "ORDER BY random() reads and sorts every matching row to return a few",
    doc: rule_doc!("order-by-random"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_query(cx, |q| {
        if !q.order_by_random {
            return Vec::new();
        }
        vec![Finding::new(&RULE, cx.statement.span, "`ORDER BY random()` reads and sorts every matching row to pick a few: cost grows with the table")
            .help("use `TABLESAMPLE SYSTEM (n)`, or pick random keys in a range and fetch them by index")]
    })
}
