//! A statement taking SHARE or stronger on an existing relation with no `lock_timeout`.
//! Reported once per transaction (or once per file when statements autocommit).

use crate::analysis::{AnalyzedStatement, Block, LockMode};
use crate::rules::{
    Applicability, Category, Check, FileCx, Finding, Fix, Rule, Severity, rule_doc,
};

pub static RULE: Rule = Rule {
    name: "lock-without-timeout",
    category: Category::Locking,
    severity: Severity::Error,
    lock: None,
    summary: "a strong lock requested with no lock_timeout queues every later query behind it",
    doc: rule_doc!("lock-without-timeout"),
    check: Check::File(check),
};

/// The value the fix sets: long enough for a lock on a quiet table, short enough that the
/// queue behind a waiting migration stays harmless.
const LOCK_TIMEOUT: &str = "2s";

/// `SET [LOCAL] lock_timeout` on its own line before `statement`, at its indentation
/// (`LOCAL` inside a transaction block, so the setting ends with it).
fn set_timeout_fix(cx: &FileCx, statement: &AnalyzedStatement) -> Fix {
    let sql = cx.file.source.sql();
    let start = statement.span.start;
    let indent = &sql[super::line_start(sql, start)..start];
    let scope = if statement.before.in_transaction() {
        "LOCAL "
    } else {
        ""
    };
    let set = format!("SET {scope}lock_timeout = '{LOCK_TIMEOUT}';");
    let text = if indent.chars().all(char::is_whitespace) {
        format!("{set}{}{indent}", super::line_break(sql))
    } else {
        format!("{set} ")
    };
    // a lone statement sent as one query runs outside a transaction block; with a second
    // one the file becomes one implicit transaction (where CONCURRENTLY, VACUUM... fail)
    let lone_query =
        statement.before.block == Some(Block::Implicit) && cx.file.statements.len() == 1;
    let (title, applicability) = if lone_query {
        (
            format!(
                "set `lock_timeout` to {LOCK_TIMEOUT} in the runner's connection instead: with a SET, this file's statements become one implicit transaction"
            ),
            Applicability::Suggestion,
        )
    } else {
        (
            format!("set `lock_timeout` to {LOCK_TIMEOUT} before this statement"),
            Applicability::Safe,
        )
    };
    Fix::insert(title, applicability, start, text)
}

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
            .help(format!("`SET lock_timeout = '{LOCK_TIMEOUT}';` (or `SET LOCAL` inside the transaction) before it, and retry the migration on timeout"))
            .with_lock(lock)
            .fix(Some(set_timeout_fix(cx, statement))),
        );
        reported.push(scope);
    }
    findings
}
