//! A large table read mostly by sequential scans: a missing index, or queries that cannot use one.

use crate::live::catalog::{self, part};
use crate::rules::database::{DatabaseCx, Outcome, Threshold};
use crate::rules::{Category, Check, Finding, Rule, Severity, rule_doc};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "seq-scan-heavy",
    category: Category::Database,
    severity: Severity::Warning,
    lock: None,
    summary: "a large table read mostly by sequential scans",
    doc: rule_doc!("seq-scan-heavy"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[
    Threshold {
        key: "min-rows",
        default: 10_000.0,
        doc: "smallest table judged, in rows (PgHero: 10 000 live rows)",
    },
    Threshold {
        key: "min-index-share",
        default: 0.95,
        doc: "share of scans that should use an index (PgHero: 95 %)",
    },
    Threshold {
        key: "min-seq-rows-read",
        default: 1_000_000.0,
        doc: "fewest rows read by sequential scans for the table to count (pgrisk's own)",
    },
];

pub fn check(cx: &DatabaseCx) -> Outcome {
    let facts = part(&cx.snapshot.catalog)?;
    let tables = part(&facts.tables)?;
    let server = &cx.snapshot.server;
    let (min_rows, min_share, min_read) = (
        cx.threshold("min-rows"),
        cx.threshold("min-index-share"),
        cx.threshold("min-seq-rows-read"),
    );
    Ok(tables
        .iter()
        .filter_map(|t| {
            let stats = t.stats.as_ref()?;
            let rows = (stats.live_rows as f64).max(t.rows.unwrap_or(0.0));
            let idx = stats.idx_scans.unwrap_or(0);
            let total = stats.seq_scans + idx;
            let share = if total > 0 { idx as f64 / total as f64 } else { 1.0 };
            if rows < min_rows || share >= min_share || (stats.seq_rows_read as f64) < min_read {
                return None;
            }
            let per_scan = stats.seq_rows_read / stats.seq_scans.max(1);
            let mut finding = Finding::new(
                &RULE,
                Span::new(0, 0),
                format!(
                    "table `{}` ({rows:.0} rows) was read by {} sequential scans ({} rows read, {per_scan} per scan) and {idx} index scans: only {:.1} % of its scans use an index",
                    t.key(),
                    stats.seq_scans,
                    stats.seq_rows_read,
                    share * 100.0
                ),
            )
            .object(t.key())
            .evidence("seq_scan", stats.seq_scans)
            .evidence("idx_scan", stats.idx_scans)
            .evidence("seq_tup_read", stats.seq_rows_read)
            .evidence("rows", rows)
            .evidence("index_share", (share * 1000.0).round() / 1000.0)
            .evidence("stats_age_seconds", server.stats_age_seconds)
            .evidence("counters", catalog::counters_scope(server))
            .help("find the queries in pg_stat_statements (`pgrisk live` lists them) and EXPLAIN them: an index on their filter columns, or a rewrite so one can be used");
            // read from PostgreSQL 16 on (the catalog reader's version table)
            if let Some(last) = &stats.last_seq_scan {
                finding = finding.evidence("last_seq_scan", last.clone());
            }
            Some(finding)
        })
        .collect())
}
