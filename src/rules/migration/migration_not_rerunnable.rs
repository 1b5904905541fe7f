//! In a file that does not run in one transaction: CREATE without IF NOT EXISTS, DROP without
//! IF EXISTS. A failure half-way leaves the first statements applied, and a rerun then fails.

use crate::analysis::tables::{CREATE_IF_NOT_EXISTS, CREATE_MODIFIERS, DROP_IF_EXISTS, GuardForm};
use crate::analysis::{Action, ActionKind, Name, ObjectKind};
use crate::rules::{
    Applicability, Category, Check, Finding, Fix, Rule, Severity, StatementCx, rule_doc,
};
use crate::source::lex::Lexer;

pub static RULE: Rule = Rule {
    name: "migration-not-rerunnable",
    category: Category::Idempotency,
    severity: Severity::Info,
    lock: None,
    summary: "outside a transaction, CREATE/DROP without IF [NOT] EXISTS make a failed run impossible to rerun",
    doc: rule_doc!("migration-not-rerunnable"),
    check: Check::Statement(check),
};

/// Whether a failure after this statement leaves it applied: outside a transaction, in a
/// file of several statements (a lone statement leaves nothing half-done).
pub(crate) fn leaves_partial_runs(cx: &StatementCx) -> bool {
    !cx.statement.before.in_transaction() && cx.file.statements.len() >= 2
}

fn check(cx: &StatementCx) -> Vec<Finding> {
    if !leaves_partial_runs(cx) {
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
                .help(format!("write `{what} {fix}`, or run the file in one transaction"))
                .fix(guard_fix(cx, action)),
            )
        })
        .into_iter()
        .collect()
}

/// Whether a later statement of the file seeds `table` with an INSERT that only this
/// unguarded `CREATE TABLE` keeps from running twice.
fn seeded_later(cx: &StatementCx, table: &Name) -> bool {
    cx.file
        .statements
        .iter()
        .filter(|s| s.span.start > cx.statement.span.start)
        .any(|statement| {
            let later = StatementCx { statement, ..*cx };
            super::seed_insert_not_idempotent::replay_would_reach(&later, table)
        })
}

/// Adds the existence guard where PostgreSQL accepts one for this form. It is only a
/// suggestion for a table the file then seeds without a guard.
fn guard_fix(cx: &StatementCx, action: &Action) -> Option<Fix> {
    let applicability = match &action.kind {
        ActionKind::CreateTable { table, .. } if seeded_later(cx, table) => {
            Applicability::Suggestion
        }
        _ => Applicability::Safe,
    };
    let (forms, guard) = match &action.kind {
        ActionKind::CreateTable { .. } => (CREATE_IF_NOT_EXISTS, "IF NOT EXISTS"),
        // IF NOT EXISTS needs the index's name; on a concurrent build it hides a failed one
        ActionKind::CreateIndex(index) if index.name.is_some() && !index.concurrently => {
            (CREATE_IF_NOT_EXISTS, "IF NOT EXISTS")
        }
        // `CREATE SCHEMA IF NOT EXISTS` refuses schema elements
        ActionKind::CreateObject {
            kind: ObjectKind::Schema,
            ..
        } if cx.statement.actions.len() > 1 => return None,
        ActionKind::CreateObject { .. } => (CREATE_IF_NOT_EXISTS, "IF NOT EXISTS"),
        ActionKind::DropIndex { .. } | ActionKind::Drop { .. } => (DROP_IF_EXISTS, "IF EXISTS"),
        _ => return None,
    };
    let at = guard_point(
        cx.file.source.sql(),
        action.span,
        forms,
        cx.settings.pg_version,
    )?;
    let title = match applicability {
        Applicability::Safe => format!("add `{guard}`"),
        Applicability::Suggestion => format!(
            "add `{guard}`, and guard the INSERTs that seed the table below (a rerun would reach them and duplicate their rows)"
        ),
    };
    Some(Fix::insert(title, applicability, at, format!(" {guard}")))
}

/// Where the guard goes in the `CREATE`/`DROP` at `span`: after the object words (and
/// `CONCURRENTLY`), when one of `forms` names the object and exists at `pg_version`.
fn guard_point(
    sql: &str,
    span: crate::source::Span,
    forms: &[GuardForm],
    pg_version: u32,
) -> Option<usize> {
    let words: Vec<(String, usize)> = Lexer::new(&sql[..span.end], span.start)
        .filter(|t| !t.is_trivia())
        .take(8)
        .map(|t| (t.text(sql).to_ascii_lowercase(), t.span.end))
        .collect();
    let modifiers = words
        .iter()
        .skip(1)
        .take_while(|(w, _)| CREATE_MODIFIERS.contains(&w.as_str()))
        .count();
    let object = &words[(1 + modifiers).min(words.len())..];
    let form = forms.iter().find(|f| {
        pg_version >= f.since
            && f.words.split(' ').enumerate().all(|(i, word)| {
                object
                    .get(i)
                    .is_some_and(|(w, _)| w.eq_ignore_ascii_case(word))
            })
    })?;
    let mut last = form.words.split(' ').count() - 1;
    if object
        .get(last + 1)
        .is_some_and(|(w, _)| w == "concurrently")
    {
        last += 1;
    }
    // already guarded (a form the reader does not know): nothing to add
    if object.get(last + 1).is_some_and(|(w, _)| w == "if") {
        return None;
    }
    object.get(last).map(|(_, end)| *end)
}
