//! In a file that does not run in one transaction: CREATE without IF NOT EXISTS, DROP without
//! IF EXISTS. A failure half-way leaves the first statements applied, and a rerun then fails.

use crate::analysis::ActionKind;
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "migration-not-rerunnable",
    category: Category::Idempotency,
    severity: Severity::Info,
    lock: None,
    summary: "outside a transaction, CREATE/DROP without IF [NOT] EXISTS make a failed run impossible to rerun",
    doc: rule_doc!("migration-not-rerunnable"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    // inside a transaction the file is atomic; a lone statement leaves nothing half-done
    if cx.statement.before.in_transaction() || cx.file.statements.len() < 2 {
        return Vec::new();
    }
    // a statement is atomic (a DO block, CREATE SCHEMA with its elements): the first
    // unguarded action is where a rerun fails
    cx.actions()
        .find_map(|action| {
            let (what, fix) = match &action.kind {
                ActionKind::CreateTable { guarded: false, .. } => ("CREATE TABLE", "IF NOT EXISTS"),
                ActionKind::CreateIndex(index) if index.concurrently && index.if_not_exists => {
                    return Some(
                        Finding::new(&RULE, action.span, "`CREATE INDEX CONCURRENTLY IF NOT EXISTS` skips an INVALID index left by a failed build, so a rerun reports success with a broken index")
                            .help("on rerun, check `pg_index.indisvalid` and drop an invalid index before building again"),
                    );
                }
                ActionKind::CreateIndex(index) if !index.if_not_exists => ("CREATE INDEX", "IF NOT EXISTS"),
                ActionKind::CreateObject { guarded: false, .. } => ("CREATE", "IF NOT EXISTS (or OR REPLACE)"),
                ActionKind::DropIndex { guarded: false, .. } => ("DROP INDEX", "IF EXISTS"),
                ActionKind::Drop { guarded: false, .. } => ("DROP", "IF EXISTS"),
                _ => return None,
            };
            Some(
                Finding::new(&RULE, action.span, format!(
                    "`{what}` without `{fix}` in a file that does not run in one transaction: if a later statement fails, rerunning the file fails here"
                ))
                .help(format!("write `{what} {fix}`, or run the file in one transaction")),
            )
        })
        .into_iter()
        .collect()
}
