//! `UPDATE`/`DELETE` with no `WHERE` on an existing table.

use crate::analysis::ActionKind;
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "dml-without-where",
    category: Category::Backfill,
    severity: Severity::Error,
    lock: None,
    summary: "UPDATE or DELETE without WHERE changes every row of an existing table",
    doc: rule_doc!("dml-without-where"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let ActionKind::Dml {
            verb: verb @ ("UPDATE" | "DELETE"),
            has_where: false,
            ..
        } = &action.kind
        else {
            return None;
        };
        Some(
            Finding::new(
                &RULE,
                action.span,
                format!(
                    "`{verb}` without `WHERE` touches every row of `{}`",
                    lock.relation
                ),
            )
            .help("add a WHERE that names the rows meant, and batch it by key range"),
        )
    })
}
