//! Size awareness (RULES.md "Size awareness"): with table sizes known (`lint --stats FILE` or
//! `--dsn`), the findings whose risk is the time a lock is held carry the table's rows and
//! bytes, an estimated lock duration, and a severity that follows the size.

use std::collections::BTreeMap;

use super::Report;
use crate::analysis::SearchPath;
use crate::live::sizes::TableSize;
use crate::rules::Severity;

/// What the statement does to the table while it holds the lock: what the duration scales with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Rewrite,
    IndexBuild,
    Scan,
}

const MIB: f64 = 1_048_576.0;

/// Throughput in bytes of the table (heap + indexes + TOAST) per second, measured by
/// `scripts/calibrate-lock-duration.sh` on a 3 000 000-row table (229 MB), 2026-12-04; the
/// machine, the version, the other sizes and how much runs vary are in docs/lock-duration.md.
const THROUGHPUT: &[(Operation, f64, &str)] = &[
    (
        Operation::Rewrite,
        38.5 * MIB,
        "rewrite 38.5 MB/s measured on PostgreSQL 15, docs/lock-duration.md",
    ),
    (
        Operation::IndexBuild,
        47.0 * MIB,
        "index build 47.0 MB/s measured on PostgreSQL 15, docs/lock-duration.md",
    ),
    (
        Operation::Scan,
        473.3 * MIB,
        "validation scan 473.3 MB/s measured on PostgreSQL 15, docs/lock-duration.md",
    ),
];

/// The rules whose risk grows with the table, and what their statement does to it. Others in
/// the locking and backfill categories are left alone: their risk is a failure or a wait in
/// the lock queue (`concurrently-in-transaction`, `lock-without-timeout`, ...) or what the data
/// means (`backfill-rewrites-history`), whatever the size.
pub const SIZE_AWARE: &[(&str, Operation)] = &[
    ("add-column-rewrite", Operation::Rewrite),
    ("alter-column-type-rewrite", Operation::Rewrite),
    ("attach-partition-scan", Operation::Scan),
    ("backfill-in-ddl-transaction", Operation::Rewrite),
    ("backfill-unbatched", Operation::Rewrite),
    ("constraint-validating-scan", Operation::Scan),
    ("create-index-blocking", Operation::IndexBuild),
    ("dml-without-where", Operation::Rewrite),
    ("exclusion-constraint-blocking", Operation::IndexBuild),
    ("primary-key-not-null-scan", Operation::Scan),
    ("refresh-matview-blocking", Operation::Rewrite),
    ("reindex-blocking", Operation::IndexBuild),
    ("set-not-null-scan", Operation::Scan),
    ("table-rewrite", Operation::Rewrite),
    ("unique-constraint-blocking", Operation::IndexBuild),
    ("validate-in-same-transaction", Operation::Scan),
];

/// `[rules.<name>] small-table-rows` / `large-table-rows` defaults.
pub const SIZE_OPTIONS: &[(&str, f64)] = &[
    ("small-table-rows", 10_000.0),
    ("large-table-rows", 1_000_000.0),
];

pub fn operation_of(rule: &str) -> Option<Operation> {
    SIZE_AWARE.iter().find(|(r, _)| *r == rule).map(|(_, o)| *o)
}

/// How long `operation` holds its lock on a table of `bytes`, and what the figure rests on.
pub fn estimate(operation: Operation, bytes: i64) -> (f64, &'static str) {
    let (_, rate, basis) = THROUGHPUT
        .iter()
        .find(|(o, _, _)| *o == operation)
        .expect("every operation has a measured throughput");
    (bytes as f64 / rate, basis)
}

/// The table a finding's `object` names: `schema.table`, or unqualified along `search_path`.
pub fn find_table<'a>(
    tables: &'a [TableSize],
    object: &str,
    search_path: &SearchPath,
) -> Option<&'a TableSize> {
    let lookup =
        |schema: &str, name: &str| tables.iter().find(|t| t.schema == schema && t.name == name);
    match object.split_once('.') {
        Some((schema, name)) => lookup(schema, name),
        None => search_path.schemas().find_map(|s| lookup(s, object)),
    }
}

fn option(thresholds: &BTreeMap<String, f64>, rule: &str, key: &str) -> f64 {
    let default = SIZE_OPTIONS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(0.0, |(_, v)| *v);
    thresholds
        .get(&format!("{rule}.{key}"))
        .copied()
        .unwrap_or(default)
}

/// Adds size evidence to the size-aware findings on known tables and sets their severity:
/// below `small-table-rows` `info`, above `large-table-rows` `error`, unchanged between.
pub fn apply(
    report: &mut Report,
    tables: &[TableSize],
    search_path: &SearchPath,
    thresholds: &BTreeMap<String, f64>,
) {
    for d in &mut report.diagnostics {
        let Some(operation) = operation_of(d.rule) else {
            continue;
        };
        let Some(table) = d
            .object
            .as_deref()
            .and_then(|o| find_table(tables, o, search_path))
        else {
            continue;
        };
        let bytes = table.total_bytes();
        d.evidence.insert("size_bytes".into(), bytes.into());
        let Some(rows) = table.rows else {
            d.evidence.insert(
                "rows".into(),
                "unknown (never analysed: reltuples = -1)".into(),
            );
            continue;
        };
        d.evidence
            .insert("rows".into(), (rows.round() as i64).into());
        let (seconds, basis) = estimate(operation, bytes);
        d.evidence.insert(
            "estimated_lock_seconds".into(),
            ((seconds * 100.0).round() / 100.0).into(),
        );
        d.evidence.insert("estimate_basis".into(), basis.into());
        let small = option(thresholds, d.rule, "small-table-rows");
        let large = option(thresholds, d.rule, "large-table-rows");
        let (severity, why) = if rows < small {
            (Severity::Info, format!("below small-table-rows ({small})"))
        } else if rows > large {
            (Severity::Error, format!("above large-table-rows ({large})"))
        } else {
            continue;
        };
        d.evidence.insert(
            "size_policy".into(),
            format!("{why}: {}", severity.name()).into(),
        );
        let summary = &mut report.summary;
        for (s, delta) in [(d.severity, -1i64), (severity, 1)] {
            let count = match s {
                Severity::Error => &mut summary.errors,
                Severity::Warning => &mut summary.warnings,
                Severity::Info => &mut summary.infos,
            };
            *count = count.saturating_add_signed(delta as isize);
        }
        d.severity = severity;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_aware_rules_exist_and_are_sorted() {
        assert!(SIZE_AWARE.windows(2).all(|w| w[0].0 < w[1].0));
        for (rule, _) in SIZE_AWARE {
            assert!(crate::rules::find(rule).is_some(), "{rule}");
        }
    }

    #[test]
    fn a_gigabyte_rewrite_takes_tens_of_seconds() {
        let (seconds, basis) = estimate(Operation::Rewrite, 1 << 30);
        assert!((10.0..60.0).contains(&seconds), "{seconds}");
        assert!(basis.contains("docs/lock-duration.md"));
    }
}
