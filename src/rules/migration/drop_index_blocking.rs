//! `DROP INDEX` without `CONCURRENTLY`.

use crate::analysis::{ActionKind, LockMode};
use crate::rules::{Category, Check, Edit, Finding, Fix, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "drop-index-blocking",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "DROP INDEX without CONCURRENTLY blocks reads and writes on the table",
    doc: rule_doc!("drop-index-blocking"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let ActionKind::DropIndex {
            concurrently: false,
            names,
            ..
        } = &action.kind
        else {
            return None;
        };
        let fix = cx.keyword_span(action.span, "index").map(|kw| Fix {
            title: "drop the index concurrently (outside a transaction block)".into(),
            edits: vec![Edit {
                span: kw.end_point(),
                insert: " CONCURRENTLY".into(),
            }],
        });
        let index = names
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("`, `");
        Some(
            Finding::new(&RULE, action.span, format!(
                "`DROP INDEX` `{index}` takes an ACCESS EXCLUSIVE lock on `{}`: reads and writes wait",
                lock.relation
            ))
            .help("use `DROP INDEX CONCURRENTLY` in a migration that does not run in a transaction")
            .fix(fix),
        )
    })
}
