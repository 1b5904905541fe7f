//! `INSERT` in a migration without `ON CONFLICT` or `WHERE NOT EXISTS`.

use crate::analysis::{Action, ActionKind, AlterOp, Name, ObjectKind};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "seed-insert-not-idempotent",
    category: Category::Idempotency,
    severity: Severity::Warning,
    lock: None,
    summary: "a seed INSERT that duplicates rows or fails when the migration is replayed",
    doc: rule_doc!("seed-insert-not-idempotent"),
    check: Check::Statement(check),
};

/// The table of an `INSERT` without a guard of its own (`ON CONFLICT`, `WHERE NOT EXISTS`).
fn unguarded_insert(action: &Action) -> Option<&Name> {
    match &action.kind {
        ActionKind::Dml {
            verb: "INSERT",
            table,
            facts: Some(facts),
            ..
        } if !facts.on_conflict && !facts.guarded_by_not_exists => Some(table),
        _ => None,
    }
}

fn check(cx: &StatementCx) -> Vec<Finding> {
    cx.actions()
        .filter_map(|action| {
            let table = unguarded_insert(action)?;
            if earlier_in_file(cx, table, true) {
                return None;
            }
            Some(
                Finding::new(&RULE, action.span, format!(
                    "this INSERT into `{table}` has no ON CONFLICT or NOT EXISTS guard: replaying the migration (or running it on a database that has the row) duplicates it or fails"
                ))
                .help("add `ON CONFLICT (key) DO NOTHING` (or DO UPDATE), or `INSERT ... SELECT ... WHERE NOT EXISTS (...)`")
                .object(table.key()),
            )
        })
        .collect()
}

/// Whether this statement inserts into `table` in a way only an unguarded `CREATE TABLE` of
/// it earlier in the file keeps safe: with `CREATE TABLE IF NOT EXISTS`, a replay reaches
/// the INSERT and duplicates its rows.
pub(crate) fn replay_would_reach(cx: &StatementCx, table: &Name) -> bool {
    cx.actions()
        .filter_map(unguarded_insert)
        .any(|t| t.key() == table.key())
        && !earlier_in_file(cx, table, false)
}

/// A `DELETE` without `WHERE` / `TRUNCATE` of `table` earlier in this file (a rebuild: each
/// run starts from empty), or, with `creates`, a `CREATE TABLE` of it that always makes a new
/// table: an unguarded one (a replay fails there before it reaches the INSERT, and no
/// database can hold rows in a table this file creates), or `IF NOT EXISTS` after the file
/// renamed or dropped the old table of that name (the copy-and-swap rebuild: the name is free
/// when the CREATE runs, so it cannot be skipped).
fn earlier_in_file(cx: &StatementCx, table: &Name, creates: bool) -> bool {
    let table = table.key();
    let same = |other: &Name| other.key() == table;
    let mut freed = false;
    cx.file
        .statements
        .iter()
        .take_while(|s| s.span.start < cx.statement.span.start)
        .flat_map(|s| &s.actions)
        .any(|a| match &a.kind {
            ActionKind::CreateTable {
                table: created,
                guarded,
                ..
            } => creates && same(created) && (!guarded || freed),
            ActionKind::AlterTable {
                table: renamed,
                op: AlterOp::RenameTable { .. },
            } => {
                freed |= same(renamed);
                false
            }
            ActionKind::Drop {
                kind: ObjectKind::Table,
                names,
                ..
            } => {
                freed |= names.iter().any(same);
                false
            }
            ActionKind::Dml {
                verb: "DELETE",
                table: emptied,
                has_where: false,
                ..
            } => same(emptied),
            ActionKind::Truncate { tables, .. } => tables.iter().any(same),
            _ => false,
        })
}
