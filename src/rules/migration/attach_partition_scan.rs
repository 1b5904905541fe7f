//! `ATTACH PARTITION` with no validated CHECK proving the partition bound.

use crate::analysis::{AlterOp, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "attach-partition-scan",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "ATTACH PARTITION scans the partition under an ACCESS EXCLUSIVE lock",
    doc: rule_doc!("attach-partition-scan"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let AlterOp::AttachPartition { partition, .. } = super::alter_op(action)? else {
            return None;
        };
        let scan = action.scan.as_ref()?;
        // an empty partition created by these migrations has nothing to scan
        let partition_lock = action.locks.iter().find(|l| l.relation == *partition)?;
        if !partition_lock.existing {
            return None;
        }
        Some(
            Finding::new(&RULE, action.span, format!(
                "`ATTACH PARTITION` `{partition}` {scan} while holding {} on `{}`",
                lock.mode, lock.relation
            ))
            .help("add a CHECK constraint matching the partition bound as NOT VALID, VALIDATE it, then attach")
            .evidence("scan", scan.as_str()),
        )
    })
}
