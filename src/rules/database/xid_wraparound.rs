//! Transaction-ID and multixact-ID ages approaching wraparound.

use super::{DatabaseCx, Outcome, Threshold};
use crate::rules::{Category, Check, Finding, Rule, Severity};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "xid-wraparound",
    category: Category::Database,
    severity: Severity::Error,
    lock: None,
    summary: "a database or table's transaction ID age is approaching wraparound",
    doc: crate::rules::rule_doc!("xid-wraparound"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[Threshold {
    key: "max-age-fraction",
    default: 0.5,
    doc: "age (XID or MXID) as a fraction of 2^31 that is flagged; PgHero warns with 1.5 billion left (~0.3), check_postgres at 1.3 billion (~0.6)",
}];

/// Transaction IDs are 32-bit and compared modulo 2^32: half the space is the past.
const LIMIT: f64 = 2_147_483_648.0;

/// The ages of one database or table and the evidence they give.
fn finding(
    cx: &DatabaseCx,
    object: String,
    what: &str,
    xid_age: i64,
    mxid_age: i64,
) -> Option<Finding> {
    let max = cx.threshold("max-age-fraction") * LIMIT;
    let (xid, mxid) = (xid_age as f64, mxid_age as f64);
    if xid < max && mxid < max {
        return None;
    }
    let server = &cx.snapshot.server;
    let freeze_max = server.setting_f64("autovacuum_freeze_max_age");
    let mxid_freeze_max = server.setting_f64("autovacuum_multixact_freeze_max_age");
    let (age, kind) = if xid / LIMIT >= mxid / LIMIT {
        (xid, "transaction ID")
    } else {
        (mxid, "multixact ID")
    };
    let past_freeze =
        freeze_max.is_some_and(|f| xid >= f) || mxid_freeze_max.is_some_and(|f| mxid >= f);
    Some(
        Finding::new(
            &RULE,
            Span::new(0, 0),
            format!(
                "{what} {object}: {kind} age {age:.0} is {:.3} % of the 2^31 limit ({:.0} left)",
                100.0 * age / LIMIT,
                LIMIT - age
            ),
        )
        .object(object)
        .evidence("xid_age", xid_age)
        .evidence("mxid_age", mxid_age)
        .evidence("fraction_of_limit", (age / LIMIT * 1e6).round() / 1e6)
        .evidence("transactions_left", LIMIT - age)
        .evidence("autovacuum_freeze_max_age", freeze_max)
        .evidence("autovacuum_multixact_freeze_max_age", mxid_freeze_max)
        .evidence("past_freeze_max_age", past_freeze)
        .help(if past_freeze {
            "autovacuum should already be running an anti-wraparound vacuum here: look for what \
             stops it (a long transaction, an inactive replication slot, a prepared \
             transaction, autovacuum cancelled by locks) and run VACUUM (FREEZE) on the oldest tables"
        } else {
            "run VACUUM (FREEZE) on the oldest tables in a quiet hour, and check that autovacuum \
             keeps up (autovacuum_freeze_max_age, cost limits)"
        }),
    )
}

pub fn check(cx: &DatabaseCx) -> Outcome {
    let activity = cx.snapshot.activity.as_ref().map_err(Clone::clone)?;
    let databases = activity.databases.as_ref().map_err(Clone::clone)?;
    let tables = activity.tables.as_ref().map_err(Clone::clone)?;
    let mut findings: Vec<Finding> = databases
        .iter()
        .filter_map(|d| finding(cx, d.name.clone(), "database", d.xid_age, d.mxid_age))
        .collect();
    findings.extend(tables.iter().filter_map(|t| {
        finding(
            cx,
            format!("{}.{}", t.schema, t.name),
            "table",
            t.xid_age,
            t.mxid_age,
        )
    }));
    Ok(findings)
}
