//! Several `ALTER TABLE` statements on the same table in a row where one would do.

use crate::analysis::{ActionKind, AlterOp};
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
fn combinable_table(
    statement: &crate::analysis::AnalyzedStatement,
) -> Option<crate::analysis::Name> {
    let mut tables = statement.actions.iter().map(|a| match &a.kind {
        // RENAME stands alone, and VALIDATE belongs in its own transaction on purpose
        ActionKind::AlterTable {
            op:
                AlterOp::RenameColumn { .. }
                | AlterOp::RenameTable { .. }
                | AlterOp::ValidateConstraint { .. },
            ..
        } => None,
        ActionKind::AlterTable { table, .. } => Some(table.key()),
        _ => None,
    });
    let first = tables.next()??;
    tables.all(|t| t.as_ref() == Some(&first)).then_some(first)
}

fn check(cx: &FileCx) -> Vec<Finding> {
    let mut findings = Vec::new();
    for pair in cx.file.statements.windows(2) {
        let (Some(a), Some(b)) = (combinable_table(&pair[0]), combinable_table(&pair[1])) else {
            continue;
        };
        if a != b || !pair[1].actions.iter().any(|x| x.on_existing()) {
            continue;
        }
        findings.push(
            Finding::new(&RULE, pair[1].span, format!(
                "another `ALTER TABLE` on `{b}` right after the previous one: each statement waits for and takes the lock again"
            ))
            .help("combine the actions into one `ALTER TABLE ... , ...` statement")
            .object(&b),
        );
    }
    findings
}
