//! `SET NOT NULL` that must scan the table to prove it.

use crate::analysis::{AlterOp, Feature, LockMode, tables::available};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "set-not-null-scan",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock",
    doc: rule_doc!("set-not-null-scan"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    let pg = cx.settings.pg_version;
    super::on_existing(cx, |action, lock| {
        let AlterOp::SetNotNull { column } = super::alter_op(action)? else {
            return None;
        };
        let scan = action.scan.as_ref()?;
        let help = if available(Feature::NotNullConstraintNotValid, pg) {
            format!(
                "add `CONSTRAINT ... NOT NULL {column} NOT VALID`, then `VALIDATE CONSTRAINT` in a later transaction"
            )
        } else if available(Feature::NotNullFromCheck, pg) {
            format!(
                "add `CHECK ({column} IS NOT NULL) NOT VALID`, `VALIDATE` it in a later transaction, then `SET NOT NULL` and drop the check"
            )
        } else {
            "before PostgreSQL 12 there is no scan-free way: keep a validated CHECK instead of NOT NULL, or plan a window".to_owned()
        };
        Some(
            Finding::new(&RULE, action.span, format!(
                "`SET NOT NULL` on `{column}` {scan} while holding an ACCESS EXCLUSIVE lock on `{}`",
                lock.relation
            ))
            .help(help)
            .evidence("scan", scan.as_str()),
        )
    })
}
