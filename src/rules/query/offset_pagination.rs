//! `OFFSET` of 1000 or more, or a parameter.

use crate::analysis::query::Offset;
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "offset-pagination",
    category: Category::Query,
    severity: Severity::Warning,
    lock: None,
    summary: "large OFFSETs read and discard every skipped row",
    doc: rule_doc!("offset-pagination"),
    check: Check::Statement(check),
};

/// Offsets from here on read enough discarded rows to matter.
const LARGE_OFFSET: i64 = 1000;

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_query(cx, |q| {
        let what = match q.offset {
            Some(Offset::Literal(n)) if n >= LARGE_OFFSET => format!("`OFFSET {n}`"),
            Some(Offset::Parameter) => "`OFFSET` from a parameter".to_owned(),
            _ => return Vec::new(),
        };
        vec![Finding::new(&RULE, cx.statement.span, format!(
            "{what} reads and throws away every skipped row: deep pages get slower and slower"
        ))
        .help("paginate by key: `WHERE (created_at, id) < ($1, $2) ORDER BY created_at DESC, id DESC LIMIT n`")]
    })
}
