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
    let mut findings = Vec::new();
    for (i, statement) in statements.iter().enumerate() {
        // the lock is taken by this statement and still held by the next one
        let Some(next) = statements.get(i + 1) else {
            break;
        };
        let newly_held = next.before.held.iter().find(|h| {
            h.statement == statement.index
                && h.mode == LockMode::AccessExclusive
                && !statement
                    .before
                    .held
                    .iter()
                    .any(|old| old.relation == h.relation && old.mode == h.mode)
        });
        let Some(held) = newly_held else { continue };
        let later: Vec<_> = statements[i + 1..]
            .iter()
            .take_while(|s| s.before.held.iter().any(|h| h.statement == held.statement))
            .filter(|s| !s.actions.iter().all(|a| is_control(&a.kind)))
            .collect();
        if later.is_empty() {
            continue;
        }
        findings.push(
            Finding::new(&RULE, held.span, format!(
                "the ACCESS EXCLUSIVE lock on `{}` taken here is held through {} more statement(s) until COMMIT: reads and writes wait for all of them",
                held.relation,
                later.len()
            ))
            .help("commit right after the statement that needs the lock; run the other steps in their own transactions")
            .object(&held.relation)
            .evidence("statements_after", later.len()),
        );
    }
    findings
}
