//! `CREATE INDEX` without `CONCURRENTLY` on an existing table.

use crate::analysis::{ActionKind, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

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
        let partitioned = cx
            .catalog
            .table(&index.table)
            .is_some_and(|t| t.partitioned == Some(true));
        let obstacle = if partitioned {
            Some("not supported on a partitioned table: build each partition's index concurrently and attach it".to_owned())
        } else if index.if_not_exists && super::migration_not_rerunnable::leaves_partial_runs(cx) {
            Some("with IF NOT EXISTS, a rerun after a failed build would skip the INVALID index it leaves".to_owned())
        } else {
            None
        };
        let fix = cx
            .keyword_span(action.span, "index")
            .map(|kw| super::concurrently_fix(cx, kw.end, "build the index", true, obstacle));
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
