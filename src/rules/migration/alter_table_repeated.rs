//! Several `ALTER TABLE` statements on the same table in a row where one would do.

use crate::analysis::{ActionKind, AlterOp, AnalyzedStatement, Name};
use crate::rules::{Category, Check, FileCx, Finding, Rule, Severity, rule_doc};

pub static RULE: Rule = Rule {
    name: "alter-table-repeated",
    category: Category::Locking,
    severity: Severity::Info,
    lock: None,
    summary: "consecutive ALTER TABLE statements on one table take the lock (and scan) repeatedly",
    doc: rule_doc!("alter-table-repeated"),
    check: Check::File(check),
};

/// The table of a statement whose actions could be merged into one ALTER TABLE.
fn combinable_table(statement: &AnalyzedStatement) -> Option<Name> {
    let mut tables = statement.actions.iter().map(|a| match &a.kind {
        ActionKind::AlterTable { op, .. } if stands_alone(op) => None,
        ActionKind::AlterTable { table, .. } => Some(table.key()),
        _ => None,
    });
    let first = tables.next()??;
    tables.all(|t| t.as_ref() == Some(&first)).then_some(first)
}

/// RENAME and ATTACH/DETACH cannot share a statement, VALIDATE belongs in its own
/// transaction on purpose, and SET NOT NULL merged with dropping its CHECK scans again.
fn stands_alone(op: &AlterOp) -> bool {
    match op {
        AlterOp::RenameColumn { .. }
        | AlterOp::RenameTable { .. }
        | AlterOp::ValidateConstraint { .. }
        | AlterOp::AttachPartition { .. }
        | AlterOp::DetachPartition { .. }
        | AlterOp::SetNotNull { .. } => true,
        AlterOp::Other { what } => what == "RENAME CONSTRAINT",
        _ => false,
    }
}

fn check(cx: &FileCx) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut in_run = false;
    for pair in cx.file.statements.windows(2) {
        let table = match (combinable_table(&pair[0]), combinable_table(&pair[1])) {
            (Some(a), Some(b)) if a == b => Some(b),
            _ => None,
        };
        // a run of several is reported once, on its second statement
        let first_of_run = !in_run;
        in_run = table.is_some();
        let Some(table) = table.filter(|_| first_of_run) else {
            continue;
        };
        if !pair[1].actions.iter().any(|a| a.on_existing()) {
            continue;
        }
        findings.push(
            Finding::new(&RULE, pair[1].span, format!(
                "another `ALTER TABLE` on `{table}` right after the previous one: each statement waits for and takes the lock again"
            ))
            .help("combine the actions into one `ALTER TABLE ... , ...` statement")
            .object(&table),
        );
    }
    findings
}
