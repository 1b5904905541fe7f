//! `INSERT` in a migration without `ON CONFLICT` or `WHERE NOT EXISTS`.

use crate::analysis::{ActionKind, Name};
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

fn check(cx: &StatementCx) -> Vec<Finding> {
    cx.actions()
        .filter_map(|action| {
            let ActionKind::Dml { verb: "INSERT", table, facts: Some(facts), .. } = &action.kind else { return None };
            if facts.on_conflict || facts.guarded_by_not_exists || created_or_emptied_earlier_in_file(cx, table) {
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

/// An unguarded `CREATE TABLE` of `table` earlier in this file (a replay fails there before
/// it reaches the INSERT, and no database can hold rows in a table this file creates), or a
/// `DELETE` without `WHERE` / `TRUNCATE` of it (a rebuild: each run starts from empty).
fn created_or_emptied_earlier_in_file(cx: &StatementCx, table: &Name) -> bool {
    let table = table.key();
    let same = |other: &Name| other.key() == table;
    cx.file
        .statements
        .iter()
        .take_while(|s| s.span.start < cx.statement.span.start)
        .flat_map(|s| &s.actions)
        .any(|a| match &a.kind {
            ActionKind::CreateTable {
                table: created,
                guarded: false,
                ..
            } => same(created),
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
