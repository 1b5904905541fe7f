//! A sequence near the end of its range, or of the integer column it feeds: inserts fail when
//! it runs out (a `bigint` sequence into an `integer` column stops at 2^31 − 1).

use crate::live::catalog::{SequenceUse, part};
use crate::rules::database::{DatabaseCx, Outcome, Threshold};
use crate::rules::{Category, Check, Finding, Rule, Severity, rule_doc};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "sequence-exhaustion",
    category: Category::Database,
    severity: Severity::Error,
    lock: None,
    summary: "a sequence or the integer column it feeds is close to its maximum: inserts will fail",
    doc: rule_doc!("sequence-exhaustion"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[
    Threshold {
        key: "warning-share",
        default: 0.75,
        doc: "share of the range used from which a warning is given (pgwatch sequence_health: 75 %)",
    },
    Threshold {
        key: "error-share",
        default: 0.9,
        doc: "share of the range used from which an error is given (PgHero sequence_threshold: 0.9)",
    },
];

/// The range of the integer column types a sequence may feed.
const COLUMN_RANGES: &[(&str, i64, i64)] = &[
    ("smallint", i16::MIN as i64, i16::MAX as i64),
    ("integer", i32::MIN as i64, i32::MAX as i64),
    ("bigint", i64::MIN, i64::MAX),
];

/// How far the sequence has gone: `(share used, values left, the limit, what sets it)`.
fn progress(seq: &SequenceUse, last: i64) -> Option<(f64, i128, i64, &'static str)> {
    let column = seq.column.as_ref().and_then(|c| {
        COLUMN_RANGES
            .iter()
            .find(|(name, _, _)| *name == c.type_name)
    });
    let (low, high, set_by) = match column {
        Some((_, low, high)) if seq.increment > 0 && *high < seq.max => (seq.min, *high, "column"),
        Some((_, low, high)) if seq.increment < 0 && *low > seq.min => (*low, seq.max, "column"),
        _ => (seq.min, seq.max, "sequence"),
    };
    // a cycling sequence bounded by itself wraps around by design
    if seq.cycle && set_by == "sequence" {
        return None;
    }
    let span = high as i128 - low as i128;
    let (used, left, limit) = if seq.increment > 0 {
        (
            last as i128 - low as i128,
            high as i128 - last as i128,
            high,
        )
    } else {
        (high as i128 - last as i128, last as i128 - low as i128, low)
    };
    (span > 0).then(|| {
        (
            used as f64 / span as f64,
            left / seq.increment.unsigned_abs() as i128,
            limit,
            set_by,
        )
    })
}

pub fn check(cx: &DatabaseCx) -> Outcome {
    let facts = part(&cx.snapshot.catalog)?;
    let sequences = part(&facts.sequences)?;
    let (warning, error) = (cx.threshold("warning-share"), cx.threshold("error-share"));
    let mut findings = Vec::new();
    for seq in sequences {
        let Some(last) = seq.last_value else { continue };
        let Some((share, left, limit, set_by)) = progress(seq, last) else {
            continue;
        };
        if share < warning {
            continue;
        }
        let severity = if share >= error {
            Severity::Error
        } else {
            Severity::Warning
        };
        let target = seq.column.as_ref().map_or(String::new(), |c| {
            format!(" feeding `{}.{}` ({})", c.table, c.name, c.type_name)
        });
        let limited = if set_by == "column" {
            "the column's type"
        } else {
            "the sequence"
        };
        let mut finding = Finding::new(
            &RULE,
            Span::new(0, 0),
            format!(
                "sequence `{}`{target} has used {:.1} % of its range: {left} values left before {limited} stops at {limit}, then every insert fails",
                seq.object(),
                share * 100.0
            ),
        )
        .severity(severity)
        .object(seq.object())
        .evidence("last_value", last)
        .evidence("limit", limit)
        .evidence("limit_set_by", set_by)
        .evidence("used_share", (share * 10_000.0).round() / 10_000.0)
        .evidence("values_left", i64::try_from(left).unwrap_or(i64::MAX))
        .help("move the column to bigint (ALTER TABLE … ALTER COLUMN … TYPE bigint rewrites the table: add a new column and backfill on a large one), then ALTER SEQUENCE … AS bigint");
        if let Some(column) = &seq.column {
            finding = finding
                .evidence("column", format!("{}.{}", column.table, column.name))
                .evidence("column_type", column.type_name.clone());
        }
        findings.push(finding);
    }
    let mut unreadable: Vec<String> = sequences
        .iter()
        .filter(|s| !s.readable)
        .map(SequenceUse::object)
        .collect();
    // a sequence feeding several columns is listed once per column, next to each other
    unreadable.dedup();
    if !unreadable.is_empty() {
        findings.push(
            Finding::new(
                &RULE,
                Span::new(0, 0),
                format!(
                    "{} sequence(s) could not be read by role `{}` (no SELECT or USAGE, or unlogged on a standby): how far they are is unknown",
                    unreadable.len(),
                    cx.snapshot.server.user
                ),
            )
            .severity(Severity::Info)
            .evidence("unreadable", unreadable)
            .help("GRANT SELECT ON the sequences (or run as their owner) to check them"),
        );
    }
    Ok(findings)
}
