//! `DETACH PARTITION` without `CONCURRENTLY` where the target version has it.

use crate::analysis::{AlterOp, Feature, LockMode, tables::available};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "detach-partition-blocking",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "DETACH PARTITION without CONCURRENTLY blocks reads and writes on the parent",
    doc: rule_doc!("detach-partition-blocking"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    if !available(Feature::DetachPartitionConcurrently, cx.settings.pg_version) {
        return Vec::new();
    }
    super::on_existing(cx, |action, lock| {
        let AlterOp::DetachPartition {
            partition,
            concurrently: false,
            finalize: false,
        } = super::alter_op(action)?
        else {
            return None;
        };
        Some(
            Finding::new(&RULE, action.span, format!(
                "`DETACH PARTITION` `{partition}` takes an ACCESS EXCLUSIVE lock on `{}`: all queries on the partitioned table wait",
                lock.relation
            ))
            .help("use `DETACH PARTITION ... CONCURRENTLY` outside a transaction block")
            // the catalog does not know the table's partitions, so whether one is DEFAULT
            .fix(Some(super::concurrently_fix(
                cx,
                action.span.end,
                "detach",
                true,
                Some("it fails if the table has a DEFAULT partition, which pgrisk cannot see; run outside a transaction".to_owned()),
            ))),
        )
    })
}
