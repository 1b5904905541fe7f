//! `ALTER TYPE ... ADD VALUE` inside a transaction block.

use crate::analysis::{ActionKind, Feature, tables::available};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "enum-add-value-in-transaction",
    category: Category::Locking,
    severity: Severity::Warning,
    lock: None,
    summary: "ALTER TYPE ADD VALUE in a transaction fails before PG 12 and is unusable until commit after",
    doc: rule_doc!("enum-add-value-in-transaction"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    if !cx.statement.before.in_transaction() {
        return Vec::new();
    }
    let allowed = available(Feature::EnumAddValueInTransaction, cx.settings.pg_version);
    cx.actions()
        .filter_map(|action| {
            let ActionKind::EnumAddValue { type_name } = &action.kind else { return None };
            let consequence = if allowed {
                "the new value cannot be used until the transaction commits"
            } else {
                "this fails: before PostgreSQL 12 ADD VALUE cannot run inside a transaction block"
            };
            Some(
                Finding::new(&RULE, action.span, format!("`ALTER TYPE {type_name} ADD VALUE` runs in a transaction block: {consequence}"))
                    .help("run it in its own migration outside a transaction, before the code or migrations that use the value")
                    .object(type_name)
                    .version_facts(action),
            )
        })
        .collect()
}
