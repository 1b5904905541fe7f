//! Heap and index blocks served from disk rather than the buffer cache.

use super::{DatabaseCx, Outcome, Threshold};
use crate::rules::{Category, Check, Finding, Rule, Severity};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "cache-hit-ratio",
    category: Category::Database,
    severity: Severity::Info,
    lock: None,
    summary: "the buffer cache serves under 99 % of table or index block reads",
    doc: crate::rules::rule_doc!("cache-hit-ratio"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[
    Threshold {
        key: "min-ratio",
        default: 0.99,
        doc: "hit ratio below which heap or index reads are flagged (PgHero's cache_hit_rate_threshold)",
    },
    Threshold {
        key: "min-blocks",
        default: 10_000.0,
        doc: "blocks (hits + reads) that must have been requested before the ratio is judged",
    },
];

pub fn check(cx: &DatabaseCx) -> Outcome {
    let activity = cx.snapshot.activity.as_ref().map_err(Clone::clone)?;
    let cache = activity.cache.as_ref().map_err(Clone::clone)?;
    let server = &cx.snapshot.server;
    let min_ratio = cx.threshold("min-ratio");
    let min_blocks = cx.threshold("min-blocks");
    let shared_buffers = server.setting_bytes("shared_buffers");
    let mut findings = Vec::new();
    for (kind, hit, read) in [
        ("table", cache.heap_hit, cache.heap_read),
        ("index", cache.index_hit, cache.index_read),
    ] {
        let total = (hit + read) as f64;
        if total < min_blocks.max(1.0) {
            continue;
        }
        let ratio = hit as f64 / total;
        if ratio >= min_ratio {
            continue;
        }
        findings.push(
            Finding::new(
                &RULE,
                Span::new(0, 0),
                format!(
                    "{:.1} % of {kind} block reads in database {} were served from the buffer cache (under {:.0} %)",
                    100.0 * ratio,
                    server.database,
                    100.0 * min_ratio
                ),
            )
            .object(format!("database {} ({kind}s)", server.database))
            .evidence("kind", kind)
            .evidence("hit_ratio", (ratio * 10_000.0).round() / 10_000.0)
            .evidence("blocks_hit", hit)
            .evidence("blocks_read", read)
            .evidence("shared_buffers_bytes", shared_buffers)
            .evidence("stats_age_seconds", server.stats_age_seconds)
            .help(
                "reads the OS page cache may still serve, but PostgreSQL had to ask for them: \
                 check the hot set against shared_buffers, and the queries behind the reads \
                 (pg_stat_statements shared_blks_read); a sequential scan of a big table \
                 lowers the ratio on purpose (it uses a small ring buffer)",
            ),
        );
    }
    Ok(findings)
}
