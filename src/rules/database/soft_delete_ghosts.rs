//! A large table where most rows are soft-deleted: every scan and index still carries them.
//! Judged from `pg_stats` only (no table scan).

use std::collections::HashMap;

use crate::live::catalog::{self, FlagColumn, Index, part};
use crate::rules::database::{DatabaseCx, Outcome, Threshold};
use crate::rules::{Category, Check, Finding, Rule, Severity, matches_pattern, rule_doc};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "soft-delete-ghosts",
    category: Category::Database,
    severity: Severity::Warning,
    lock: None,
    summary: "most rows of a large table are soft-deleted, yet scanned and indexed like live ones",
    doc: rule_doc!("soft-delete-ghosts"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[
    Threshold {
        key: "min-rows",
        default: 100_000.0,
        doc: "smallest table judged, in rows (pgwatch partial-index candidates: reltuples ≥ 1e5)",
    },
    Threshold {
        key: "min-flagged-share",
        default: 0.5,
        doc: "share of rows flagged deleted from which the table is reported (pgwatch: null_frac > 0.5)",
    },
];

/// An index predicate that keeps only live rows mentions the flag column.
fn excludes_flagged(index: &Index, column: &FlagColumn) -> bool {
    index.predicate.as_deref().is_some_and(|p| {
        p.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|word| word == column.column)
    })
}

pub fn check(cx: &DatabaseCx) -> Outcome {
    let facts = part(&cx.snapshot.catalog)?;
    let (columns, tables, indexes) = (
        part(&facts.flag_columns)?,
        part(&facts.tables)?,
        part(&facts.indexes)?,
    );
    let sizes = catalog::table_sizes(&cx.snapshot.sizes);
    let rows: HashMap<String, f64> = tables
        .iter()
        .filter_map(|t| Some((t.key(), t.rows?)))
        .collect();
    let mut table_indexes: HashMap<String, Vec<&Index>> = HashMap::new();
    // a unique or constraint index must hold every row: only the others can be partial
    let optional = |i: &&Index| i.valid && !i.unique && !i.primary && i.constraint.is_none();
    for index in indexes.iter().filter(optional) {
        table_indexes
            .entry(format!("{}.{}", index.schema, index.table))
            .or_default()
            .push(index);
    }
    let patterns = &cx.settings.soft_delete_columns;
    let (min_rows, min_share) = (cx.threshold("min-rows"), cx.threshold("min-flagged-share"));
    Ok(columns
        .iter()
        .filter(|c| patterns.iter().any(|p| matches_pattern(p, &c.column)))
        .filter_map(|c| {
            let table = format!("{}.{}", c.schema, c.table);
            let rows = *rows.get(&table)?;
            let share = c.flagged_share();
            if rows < min_rows || share < min_share {
                return None;
            }
            let (partial, full): (Vec<&Index>, Vec<&Index>) = table_indexes
                .get(&table)
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .partition(|i| excludes_flagged(i, c));
            let bytes = sizes.get(&table).map(|t| t.table_bytes);
            let flagged_bytes = bytes.map(|b| (b as f64 * share).round() as i64);
            let advice = if full.is_empty() {
                String::new()
            } else {
                format!(", and {} of its indexes still index the deleted rows", full.len())
            };
            Some(
                Finding::new(
                    &RULE,
                    Span::new(0, 0),
                    format!(
                        "{:.0} % of the {rows:.0} rows of `{table}` are flagged by `{}`{}{advice}: scans, vacuum and caches carry rows nobody reads",
                        share * 100.0,
                        c.column,
                        flagged_bytes.map_or(String::new(), |b| format!(" (about {})", catalog::size(b))),
                    ),
                )
                .object(&table)
                .evidence("column", c.column.clone())
                .evidence("rows", rows)
                .evidence("flagged_share", (share * 1000.0).round() / 1000.0)
                .evidence("flagged_bytes", flagged_bytes)
                .evidence("table_bytes", bytes)
                .evidence("non_partial_indexes", full.iter().map(|i| i.object()).collect::<Vec<_>>())
                .evidence("partial_indexes", partial.iter().map(|i| i.object()).collect::<Vec<_>>())
                .help(format!(
                    "make the hot indexes partial on the live rows (CREATE INDEX CONCURRENTLY … WHERE {}), and move or purge the deleted rows in batches (an archive table or a partition)",
                    if c.boolean { format!("NOT {}", c.column) } else { format!("{} IS NULL", c.column) }
                )),
            )
        })
        .collect())
}
