//! A foreign key whose referencing columns lead no index by the end of the migration set.

use crate::analysis::{ActionKind, AlterOp, ConstraintDef, ConstraintKind, Name};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "foreign-key-unindexed",
    category: Category::Schema,
    severity: Severity::Warning,
    lock: None,
    summary: "a foreign key without an index on its columns makes deletes on the parent scan the child",
    doc: rule_doc!("foreign-key-unindexed"),
    check: Check::Statement(check),
};

/// Every foreign key the action defines, with the referencing table.
fn foreign_keys(action: &crate::analysis::Action) -> Vec<(&Name, &ConstraintDef)> {
    let mut out = Vec::new();
    match &action.kind {
        ActionKind::CreateTable {
            table, constraints, ..
        } => {
            out.extend(constraints.iter().map(|c| (table, c)));
        }
        ActionKind::AlterTable {
            table,
            op: AlterOp::AddConstraint(c),
        } => out.push((table, c)),
        _ => {}
    }
    for d in super::defined_columns(action) {
        out.extend(d.column.constraints.iter().map(|c| (d.table, c)));
    }
    out.retain(|(_, c)| matches!(c.kind, ConstraintKind::ForeignKey { .. }));
    out
}

fn check(cx: &StatementCx) -> Vec<Finding> {
    cx.actions()
        .flat_map(foreign_keys)
        .filter_map(|(table, constraint)| {
            let ConstraintKind::ForeignKey { columns, references } = &constraint.kind else { return None };
            let indexed = cx
                .catalog
                .indexed_column_lists(table)
                .iter()
                .any(|list| list.len() >= columns.len() && list.iter().zip(columns).all(|(a, b)| a == b));
            // an existing table's own indexes are unknown without its schema: stay silent
            // rather than guess, unless the table or the key's columns are new in this set
            let known = cx.catalog.table(table)?;
            let new_table = known.origin != crate::analysis::Origin::Existing;
            let new_columns = columns.iter().all(|c| known.column(c).is_some_and(|c| c.added_in_run));
            if indexed || !(new_table || new_columns) {
                return None;
            }
            let cols = columns.join(", ");
            Some(
                Finding::new(&RULE, constraint.span, format!(
                    "no index on `{table}` ({cols}) for its foreign key to `{references}`: each DELETE or key UPDATE on `{references}` scans `{table}`, and joins on it cannot use an index"
                ))
                .help(format!("CREATE INDEX CONCURRENTLY ON {table} ({cols});"))
                .object(table.key())
                .evidence("columns", columns.clone()),
            )
        })
        .collect()
}
