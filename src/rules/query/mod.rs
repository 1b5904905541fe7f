//! Rules over application queries (`pgrisk queries`), one file each. Schema-dependent
//! rules stay silent for tables the schema does not know: they never guess.

pub mod insert_not_idempotent;
pub mod like_leading_wildcard;
pub mod non_sargable_predicate;
pub mod not_in_subquery;
pub mod offset_pagination;
pub mod on_conflict_without_unique;
pub mod order_by_random;
pub mod select_over_wide;
pub mod select_star;
pub mod unindexed_filter;

use crate::analysis::Name;
use crate::analysis::query::{Probe, QueryFacts};
use crate::rules::{Finding, StatementCx};

/// The evidence of a schema-dependent query finding: the table, the columns it is about and
/// the indexes the table has (`none` when it has none), so a reader sees what is missing.
pub(crate) fn index_evidence(
    finding: Finding,
    cx: &StatementCx,
    table: &Name,
    columns: &[&str],
) -> Finding {
    let indexes = cx.catalog.index_descriptions(table);
    let table = cx.catalog.qualified(table);
    finding
        .object(&table)
        .evidence("table", table.to_string())
        .evidence("columns", columns.to_vec())
        .evidence(
            "indexes",
            if indexes.is_empty() {
                vec!["none".to_owned()]
            } else {
                indexes
            },
        )
}

/// Whether one of an index's column lists (`lists`) can serve `probe`: the probe's column
/// (or expression) is the list's leading entry, or follows entries the query pins with
/// other conditions (`customer_id = $1 AND created_at >= $2` on `(customer_id, created_at)`).
pub(crate) fn index_serves(lists: &[Vec<String>], probe: &Probe, pinned: &[&str]) -> bool {
    let matches = |entry: &str| match probe {
        Probe::Column(c) => entry_column(entry).as_deref() == Some(c.column.as_str()),
        Probe::Wrapped(w) => {
            normalized_expr(entry, None) == normalized_expr(&w.expr, w.column.qualifier.as_deref())
        }
    };
    lists.iter().any(|list| {
        list.iter().position(|e| matches(e)).is_some_and(|at| {
            list[..at]
                .iter()
                .all(|e| entry_column(e).is_some_and(|c| pinned.contains(&c.as_str())))
        })
    })
}

/// Runs `build` on the statement's query facts, if it is a query that parsed.
pub(crate) fn on_query(
    cx: &StatementCx,
    build: impl FnOnce(&QueryFacts) -> Vec<Finding>,
) -> Vec<Finding> {
    cx.statement.query.as_deref().map(build).unwrap_or_default()
}

/// An index entry's column name: `created_at DESC` → `created_at`; expressions → `None`.
pub(crate) fn entry_column(entry: &str) -> Option<String> {
    if entry.contains('(') {
        return None;
    }
    entry
        .split_whitespace()
        .next()
        .map(|w| w.trim_matches('"').to_ascii_lowercase())
}

/// An expression as compared with index expressions: lower case, no spaces, no qualifiers.
pub(crate) fn normalized_expr(expr: &str, qualifier: Option<&str>) -> String {
    let flat: String = expr
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    match qualifier {
        Some(q) => flat.replace(&format!("{q}."), ""),
        None => flat,
    }
}
