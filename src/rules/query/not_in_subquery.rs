//! `NOT IN (SELECT ...)`.

use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "not-in-subquery",
    category: Category::Query,
    severity: Severity::Warning,
    lock: None,
    summary: "NOT IN (SELECT ...) returns nothing when the subquery yields a NULL, and cannot anti-join",
    doc: rule_doc!("not-in-subquery"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_query(cx, |q| {
        if !q.not_in_subquery {
            return Vec::new();
        }
        vec![Finding::new(&RULE, cx.statement.span, "`NOT IN (SELECT ...)` is empty as soon as the subquery returns one NULL, and the planner cannot turn it into an anti-join")
            .help("use `NOT EXISTS (SELECT 1 FROM ... WHERE ...)`")]
    })
}
