//! Queries spilling to temporary files, by volume per day against work_mem.

use super::{DatabaseCx, Outcome, Threshold};
use crate::rules::{Category, Check, Finding, Rule, Severity};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "temp-files-heavy",
    category: Category::Database,
    severity: Severity::Info,
    lock: None,
    summary: "queries write many temporary files: sorts and hashes spill past work_mem",
    doc: crate::rules::rule_doc!("temp-files-heavy"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[Threshold {
    key: "work-mem-per-day",
    default: 1000.0,
    doc: "temp bytes per day, in multiples of work_mem, that are flagged (no anchor has a default; 1000 × 4 MB is 4 GB a day)",
}];

const DAY: f64 = 86_400.0;

pub fn check(cx: &DatabaseCx) -> Outcome {
    let activity = cx.snapshot.activity.as_ref().map_err(Clone::clone)?;
    let stats = activity.database_stats.as_ref().map_err(Clone::clone)?;
    let server = &cx.snapshot.server;
    let Some(work_mem) = server.setting_bytes("work_mem").filter(|w| *w > 0.0) else {
        return Err(crate::live::Skipped::new("work_mem is not readable"));
    };
    // counters younger than a day count as one day, so that a fresh reset does not inflate the rate
    let days = (stats.counted_seconds / DAY).max(1.0);
    let per_day = stats.temp_bytes as f64 / days;
    let multiple = per_day / work_mem;
    if stats.temp_files == 0 || multiple < cx.threshold("work-mem-per-day") {
        return Ok(Vec::new());
    }
    Ok(vec![
        Finding::new(
            &RULE,
            Span::new(0, 0),
            format!(
                "database {} writes {:.1} MiB of temporary files a day ({multiple:.1} × work_mem {} kB)",
                server.database,
                per_day / 1_048_576.0,
                work_mem / 1024.0
            ),
        )
        .object(format!("database {}", server.database))
        .evidence("temp_files", stats.temp_files)
        .evidence("temp_bytes", stats.temp_bytes)
        .evidence("counted_days", (stats.counted_seconds / DAY * 1000.0).round() / 1000.0)
        .evidence("since_stats_reset", stats.since_reset)
        .evidence("temp_bytes_per_day", per_day.round())
        .evidence("work_mem_bytes", work_mem)
        .evidence("work_mem_multiple_per_day", (multiple * 100.0).round() / 100.0)
        .help(
            "find the queries with `log_temp_files = 0` or pg_stat_statements' temp_blks_written; \
             add the index that avoids the sort, or raise work_mem for those sessions or roles \
             (`SET work_mem`), not globally: every sort and hash of every session may use it",
        ),
    ])
}
