//! An index nobody reads: 0 scans since the statistics were reset, yet written on every change.

use crate::live::catalog::{self, part};
use crate::rules::database::{DatabaseCx, Outcome, Threshold};
use crate::rules::{Category, Check, Finding, Rule, Severity, rule_doc};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "unused-index",
    category: Category::Database,
    severity: Severity::Info,
    lock: None,
    summary: "an index with no scans since the statistics were reset still costs every write",
    doc: rule_doc!("unused-index"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[
    Threshold {
        key: "min-bytes",
        default: 10.0 * 1024.0 * 1024.0,
        doc: "smallest index reported, in bytes (PgHero's unused_index_megabytes: 10 MB)",
    },
    Threshold {
        key: "max-scans",
        default: 0.0,
        doc: "most scans an index may have had and still count as unused (PgHero overview: 0)",
    },
];

pub fn check(cx: &DatabaseCx) -> Outcome {
    let facts = part(&cx.snapshot.catalog)?;
    let indexes = part(&facts.indexes)?;
    let sizes = catalog::index_sizes(part(&cx.snapshot.sizes)?);
    let server = &cx.snapshot.server;
    let (min_bytes, max_scans) = (cx.threshold("min-bytes"), cx.threshold("max-scans"));
    let since = match (&server.stats_reset, server.stats_age_seconds) {
        (Some(reset), Some(age)) => format!(
            "since the statistics were reset {} ago ({reset})",
            catalog::duration(age)
        ),
        _ => "since the statistics began (never reset)".to_owned(),
    };
    Ok(indexes
        .iter()
        // unique, primary and constraint indexes work without scans (enforcement is not counted)
        .filter(|i| !i.unique && !i.primary && i.constraint.is_none() && !i.replica_identity && i.valid)
        .filter_map(|i| {
            let scans = i.scans?;
            let size = sizes.get(&i.object())?;
            if scans as f64 > max_scans || (size.bytes as f64) < min_bytes {
                return None;
            }
            let mut finding = Finding::new(
                &RULE,
                Span::new(0, 0),
                format!(
                    "index `{}` on `{}.{}` ({}) has had {scans} scans {since}: it is written on every insert and update and vacuumed for nothing",
                    i.object(),
                    i.schema,
                    i.table,
                    catalog::size(size.bytes),
                ),
            )
            .object(i.object())
            .evidence("definition", size.definition.clone())
            .evidence("size_bytes", size.bytes)
            .evidence("scans", scans)
            .evidence("stats_reset", server.stats_reset.clone())
            .evidence("stats_age_seconds", server.stats_age_seconds)
            .evidence("counters", catalog::counters_scope(server))
            .help(format!(
                "check the primary and every replica (each counts its own scans); if none uses it: DROP INDEX CONCURRENTLY {};",
                i.object()
            ));
            // read from PostgreSQL 16 on (the catalog reader's version table)
            if let Some(last) = &i.last_scan {
                finding = finding.evidence("last_idx_scan", last.clone());
            }
            Some(finding)
        })
        .collect())
}
