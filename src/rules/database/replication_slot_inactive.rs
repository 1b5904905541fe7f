//! Replication slots nobody consumes, which keep WAL (and maybe the xmin horizon) for ever.

use super::{DatabaseCx, Outcome, Threshold};
use crate::rules::{Category, Check, Finding, Rule, Severity};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "replication-slot-inactive",
    category: Category::Database,
    severity: Severity::Error,
    lock: None,
    summary: "an inactive replication slot retains WAL until the disk fills",
    doc: crate::rules::rule_doc!("replication-slot-inactive"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[Threshold {
    key: "min-retained-bytes",
    default: 0.0,
    doc: "WAL an inactive slot must retain to be flagged (0: every inactive slot, as PgHero lists them)",
}];

pub fn check(cx: &DatabaseCx) -> Outcome {
    let activity = cx.snapshot.activity.as_ref().map_err(Clone::clone)?;
    let slots = activity.slots.as_ref().map_err(Clone::clone)?;
    let min = cx.threshold("min-retained-bytes");
    // -1 (the default): a slot may keep WAL without bound (PG 13+)
    let keep_limit = cx
        .snapshot
        .server
        .setting("max_slot_wal_keep_size")
        .map(str::to_owned);
    Ok(slots
        .iter()
        .filter(|s| !s.active && s.retained_bytes.unwrap_or(0.0) >= min)
        .map(|s| {
            let retained = s.retained_bytes.unwrap_or(0.0);
            Finding::new(
                &RULE,
                Span::new(0, 0),
                format!(
                    "{} slot {:?} is inactive and retains {:.1} MiB of WAL",
                    s.kind,
                    s.name,
                    retained / 1_048_576.0
                ),
            )
            .object(format!("slot {}", s.name))
            .evidence("slot", s.name.clone())
            .evidence("slot_type", s.kind.clone())
            .evidence("database", s.database.clone())
            .evidence("retained_bytes", retained)
            .evidence("wal_status", s.wal_status.clone())
            .evidence("xmin_age", s.xmin_age)
            .evidence("catalog_xmin_age", s.catalog_xmin_age)
            .evidence("max_slot_wal_keep_size", keep_limit.clone())
            .help(format!(
                "if its consumer is gone for good, drop it: `SELECT pg_drop_replication_slot('{}')`; \
                 otherwise bring the consumer back, and set max_slot_wal_keep_size (PG 13+) so \
                 that a lost consumer cannot fill the disk",
                s.name
            ))
        })
        .collect())
}
