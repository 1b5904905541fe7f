//! `UPDATE ... SET col = now()` and friends: historical rows get the migration's time.

use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "backfill-volatile-value",
    category: Category::Backfill,
    severity: Severity::Warning,
    lock: None,
    summary: "a backfill stamps historical rows with migration-time values (now(), random())",
    doc: rule_doc!("backfill-volatile-value"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let facts = super::update_facts(action)?;
        let stamped: Vec<String> = facts
            .assigned
            .iter()
            .filter_map(|a| {
                a.migration_time_value
                    .as_ref()
                    .map(|f| format!("`{}` = `{f}()`", a.column))
            })
            .collect();
        if stamped.is_empty() {
            return None;
        }
        Some(
            Finding::new(&RULE, action.span, format!(
                "sets {} on existing rows of `{}`: every historical row gets the moment (or randomness) of the migration",
                stamped.join(", "),
                lock.relation
            ))
            .help("derive the value from the row's own data (e.g. created_at), or leave history NULL and document it"),
        )
    })
}
