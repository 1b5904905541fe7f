//! A statement taking SHARE or stronger on an existing relation with no `lock_timeout`.
//! Reported once per transaction (or once per file when statements autocommit).

use crate::analysis::{Block, LockMode};
use crate::rules::{Category, Check, FileCx, Finding, Rule, Severity, rule_doc};

pub static RULE: Rule = Rule {
    name: "lock-without-timeout",
    category: Category::Locking,
    severity: Severity::Error,
    lock: None,
    summary: "a strong lock requested with no lock_timeout queues every later query behind it",
    doc: rule_doc!("lock-without-timeout"),
    check: Check::File(check),
};

/// Which scope a statement's lock belongs to: its transaction block, or the file.
#[derive(PartialEq)]
enum Scope {
    File,
    Block(Option<Block>, usize),
}

fn check(cx: &FileCx) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut reported: Vec<Scope> = Vec::new();
    let mut blocks_seen = 0;
    let mut previous_block = None;
    for statement in &cx.file.statements {
        let before = &statement.before;
        if before.block.is_some() && before.block != previous_block {
            blocks_seen += 1;
        }
        previous_block = before.block;
        let scope = match before.block {
            None => Scope::File,
            block => Scope::Block(block, blocks_seen),
        };
        if before.lock_timeout.is_active() || reported.contains(&scope) {
            continue;
        }
        let strong = statement.actions.iter().find_map(|a| {
            a.strongest_existing_lock()
                .filter(|l| l.mode >= LockMode::Share)
                .map(|l| (a, l))
        });
        let Some((action, lock)) = strong else {
            continue;
        };
        let state = match before.lock_timeout.effective_ms() {
            Some(0) => "`lock_timeout` is 0 (disabled)",
            _ => "no `lock_timeout` is set",
        };
        findings.push(
            Finding::new(&RULE, action.span, format!(
                "{state} before this {} lock on `{}`: if it has to wait, every query on the table queues behind it until it gets the lock",
                lock.mode, lock.relation
            ))
            .help("`SET lock_timeout = '2s';` (or `SET LOCAL` inside the transaction) before it, and retry the migration on timeout")
            .with_lock(lock),
        );
        reported.push(scope);
    }
    findings
}
