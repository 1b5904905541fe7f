//! An index left invalid by a failed `CREATE INDEX CONCURRENTLY` or `REINDEX CONCURRENTLY`.

use crate::live::catalog::{self, part};
use crate::rules::database::{DatabaseCx, Outcome};
use crate::rules::{Category, Check, Finding, Rule, Severity, rule_doc};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "invalid-index",
    category: Category::Database,
    severity: Severity::Error,
    lock: None,
    summary: "an invalid index (a failed concurrent build) is written on every change but never read",
    doc: rule_doc!("invalid-index"),
    check: Check::Live,
};

pub fn check(cx: &DatabaseCx) -> Outcome {
    let facts = part(&cx.snapshot.catalog)?;
    let indexes = part(&facts.indexes)?;
    // sizes only add evidence: without them the finding still stands
    let sizes = cx
        .snapshot
        .sizes
        .as_ref()
        .map(catalog::index_sizes)
        .unwrap_or_default();
    Ok(indexes
        .iter()
        .filter(|i| !i.valid && !i.building)
        .map(|i| {
            let size = sizes.get(&i.object());
            Finding::new(
                &RULE,
                Span::new(0, 0),
                format!(
                    "index `{}` on `{}.{}` is invalid: queries never use it, yet every insert and update still maintains it{}",
                    i.object(),
                    i.schema,
                    i.table,
                    if i.unique { ", and its uniqueness is not guaranteed" } else { "" }
                ),
            )
            .object(i.object())
            .evidence("table", format!("{}.{}", i.schema, i.table))
            .evidence("definition", size.map(|s| s.definition.clone()))
            .evidence("size_bytes", size.map(|s| s.bytes))
            .evidence("unique", i.unique)
            .help(format!(
                "find why the build failed (duplicates, a deadlock, a cancel), then DROP INDEX CONCURRENTLY {} and build it again, or REINDEX INDEX CONCURRENTLY {} (PG12+)",
                i.object(),
                i.object()
            ))
        })
        .collect())
}
