//! More statements after ACCESS EXCLUSIVE was taken on an existing table in the same
//! transaction: the lock is held until COMMIT, through all of them.

use crate::analysis::{ActionKind, LockMode};
use crate::rules::{Category, Check, FileCx, Finding, Rule, Severity, rule_doc};

pub static RULE: Rule = Rule {
    name: "lock-held-across-statements",
    category: Category::Locking,
    severity: Severity::Warning,
    lock: Some(LockMode::AccessExclusive),
    summary: "an ACCESS EXCLUSIVE lock stays held through the rest of the transaction",
    doc: rule_doc!("lock-held-across-statements"),
    check: Check::File(check),
};

fn is_control(kind: &ActionKind) -> bool {
    matches!(
        kind,
        ActionKind::Commit
            | ActionKind::Rollback
            | ActionKind::Begin
            | ActionKind::SetVar { .. }
            | ActionKind::Reset { .. }
    )
}

fn check(cx: &FileCx) -> Vec<Finding> {
    let statements = &cx.file.statements;
    let source = &cx.file.source;
    let mut findings = Vec::new();
    // once per transaction: the first statement that runs while the lock is held
    let mut reported_since: Option<usize> = None;
    for statement in statements {
        let held = &statement.before.held;
        if held.is_empty() {
            reported_since = None;
            continue;
        }
        let Some(lock) = held.iter().find(|h| h.mode == LockMode::AccessExclusive) else {
            continue;
        };
        if reported_since.is_some() || statement.actions.iter().all(|a| is_control(&a.kind)) {
            continue;
        }
        reported_since = Some(lock.statement);
        let taken_at = source.position(lock.span.start).line;
        findings.push(
            Finding::new(&RULE, statement.span, format!(
                "this statement runs while the ACCESS EXCLUSIVE lock on `{}` taken at line {taken_at} is still held: every read and write of it waits until COMMIT",
                lock.relation
            ))
            .help("commit right after the statement that needs the lock; run the other steps in their own transactions")
            .object(&lock.relation)
            .evidence("lock_taken_at_line", taken_at)
            .locking(LockMode::AccessExclusive),
        );
    }
    findings
}
