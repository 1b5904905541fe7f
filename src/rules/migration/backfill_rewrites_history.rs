//! `UPDATE` that overwrites a column that existed before this migration set, on rows not
//! bounded to new data: today's business logic written over history.

use crate::analysis::dml::RowBounds;
use crate::rules::{Category, Check, Finding, Rule, RuleSettings, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "backfill-rewrites-history",
    category: Category::Backfill,
    severity: Severity::Error,
    lock: None,
    summary: "an UPDATE overwrites an existing column on historical rows",
    doc: rule_doc!("backfill-rewrites-history"),
    check: Check::Statement(check),
};

/// Columns whose bounds mean "only new rows": time stamps and ids.
fn is_time_or_id(column: &str) -> bool {
    column == "id"
        || column.ends_with("_at")
        || column.ends_with("_date")
        || column.starts_with("created")
}

/// Money columns (`money-columns`): a pattern matches the whole name or one of its
/// `_`-separated words, so `total_cents` and `tax` count and `coffee_origin` does not.
fn looks_like_money(settings: &RuleSettings, column: &str) -> bool {
    settings.money_columns.iter().any(|p| {
        crate::rules::matches_pattern(p, column)
            || column
                .split('_')
                .any(|w| crate::rules::matches_pattern(p, w))
    })
}

fn bounded_to_new_rows(bounds: Option<&RowBounds>, column: &str) -> bool {
    bounds.is_some_and(|b| {
        b.null_checked.iter().any(|c| c == column)
            || b.lower_bounded.iter().any(|c| is_time_or_id(c))
    })
}

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let facts = super::update_facts(action)?;
        let overwritten: Vec<&str> = facts
            .assigned
            .iter()
            .map(|a| a.column.as_str())
            .filter(|c| !action.new_columns.iter().any(|n| n == c))
            .filter(|c| !bounded_to_new_rows(facts.bounds.as_ref(), c))
            .collect();
        if overwritten.is_empty() {
            return None;
        }
        let money: Vec<&str> = overwritten
            .iter()
            .copied()
            .filter(|c| looks_like_money(cx.settings, c))
            .collect();
        let columns = overwritten.join("`, `");
        let money_note = if money.is_empty() {
            String::new()
        } else {
            format!(" (money: `{}`)", money.join("`, `"))
        };
        Some(
            Finding::new(&RULE, action.span, format!(
                "overwrites `{columns}`{money_note} on existing rows of `{}`: history now shows values computed by today's logic",
                lock.relation
            ))
            .help("write the new values to a new column (or apply them from an effective date on), bound the UPDATE to new rows, and keep an audit copy of what it replaces")
            .evidence("columns", overwritten.clone())
            .evidence("money", !money.is_empty()),
        )
    })
}
