//! `CREATE INDEX` without `CONCURRENTLY` on an existing table.

use crate::analysis::{ActionKind, LockMode};
use crate::rules::{Category, Check, Edit, Finding, Fix, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "create-index-blocking",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::Share),
    summary: "CREATE INDEX without CONCURRENTLY blocks writes for the whole build",
    doc: rule_doc!("create-index-blocking"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let ActionKind::CreateIndex(index) = &action.kind else {
            return None;
        };
        if index.concurrently || index.only {
            return None;
        }
        let fix = cx.keyword_span(action.span, "index").map(|kw| Fix {
            title: "build the index concurrently (outside a transaction block)".into(),
            edits: vec![Edit {
                span: kw.end_point(),
                insert: " CONCURRENTLY".into(),
            }],
        });
        Some(
            Finding::new(&RULE, action.span, format!(
                "`CREATE INDEX` on `{}` takes a SHARE lock: writes wait until the whole index is built",
                lock.relation
            ))
            .help("use `CREATE INDEX CONCURRENTLY` in a migration that does not run in a transaction")
            .fix(fix),
        )
    })
}
