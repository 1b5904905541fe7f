//! `VACUUM FULL`, `CLUSTER`, `SET LOGGED/UNLOGGED`, `SET TABLESPACE`, `SET ACCESS METHOD`.

use crate::analysis::{ActionKind, AlterOp, LockMode};
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "table-rewrite",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "VACUUM FULL, CLUSTER and SET LOGGED/UNLOGGED/TABLESPACE/ACCESS METHOD rewrite the table",
    doc: rule_doc!("table-rewrite"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_existing(cx, |action, lock| {
        let rewrites_whole_table = matches!(
            &action.kind,
            ActionKind::Vacuum { full: true, .. }
                | ActionKind::Cluster { .. }
                | ActionKind::AlterTable {
                    op: AlterOp::Rewrite { .. },
                    ..
                }
                | ActionKind::AlterRelation { .. }
        );
        let rewrite = action.rewrite.as_ref().filter(|_| rewrites_whole_table)?;
        Some(
            Finding::new(&RULE, action.span, format!(
                "{rewrite}, holding an ACCESS EXCLUSIVE lock on `{}` until done: reads and writes wait",
                lock.relation
            ))
            .help("use an online tool (pg_repack, pg_squeeze) or a maintenance window")
            .evidence("rewrite", rewrite.as_str()),
        )
    })
}
