//! `DROP ... CASCADE` and `TRUNCATE ... CASCADE`.

use crate::analysis::{ActionKind, AlterOp, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "drop-cascade",
    category: Category::Compatibility,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "CASCADE silently drops or empties every dependent object",
    doc: rule_doc!("drop-cascade"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    cx.actions()
        .filter_map(|action| {
            let verb = match &action.kind {
                ActionKind::Drop { cascade: true, .. } => "DROP",
                ActionKind::Truncate { cascade: true, .. } => "TRUNCATE",
                ActionKind::AlterTable { op: AlterOp::DropColumn { .. } | AlterOp::DropConstraint { .. }, .. } => "ALTER TABLE ... DROP",
                _ => return None,
            };
            let cascade = cx.keyword_span(action.span, "cascade")?;
            // dropping only objects these migrations created cascades to nothing deployed
            if !action.locks.is_empty() && !action.on_existing() {
                return None;
            }
            let finding = Finding::new(&RULE, cascade, format!(
                    "`{verb} ... CASCADE` also removes every dependent object (views, foreign keys, referencing rows) without listing them"
                ))
                .help("drop or change the dependents explicitly, so the migration says what it removes");
            Some(match action.strongest_existing_lock() {
                Some(lock) => finding.with_lock(lock),
                None => finding,
            })
        })
        .collect()
}
