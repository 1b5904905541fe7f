//! An index another index of the same table already serves: its keys lead the other's.

use crate::live::catalog::{self, Index, part};
use crate::rules::database::{DatabaseCx, Outcome};
use crate::rules::{Category, Check, Finding, Rule, Severity, rule_doc};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "duplicate-index",
    category: Category::Database,
    severity: Severity::Warning,
    lock: None,
    summary: "an index whose keys lead another index of the same table is redundant",
    doc: rule_doc!("duplicate-index"),
    check: Check::Live,
};

/// Whether `wide` can do everything `narrow` does: same method, expressions and predicate,
/// and `narrow`'s keys (with their operator classes, collations and orderings) lead `wide`'s.
/// Only a btree serves a leading prefix of its keys; other methods must match exactly.
fn covers(wide: &Index, narrow: &Index) -> bool {
    let n = narrow.keys().len();
    let lengths_fit = if narrow.method == "btree" {
        n <= wide.keys().len()
    } else {
        n == wide.keys().len()
    };
    wide.valid
        && wide.oid != narrow.oid
        && wide.method == narrow.method
        && wide.expressions == narrow.expressions
        && wide.predicate == narrow.predicate
        && lengths_fit
        && leads(wide.keys(), narrow.keys(), n)
        && leads(&wide.classes, &narrow.classes, n)
        && leads(&wide.collations, &narrow.collations, n)
        && leads(&wide.options, &narrow.options, n)
        && narrow.included().iter().all(|c| wide.columns.contains(c))
}

/// Whether the first `n` entries of both lists exist and are equal.
fn leads<T: PartialEq>(a: &[T], b: &[T], n: usize) -> bool {
    a.len() >= n && b.len() >= n && a[..n] == b[..n]
}

/// Of two identical indexes, the one to keep ranks higher: primary key, then a constraint's,
/// then unique, then the older (lower oid).
fn rank(index: &Index) -> (u8, std::cmp::Reverse<u32>) {
    let level = if index.primary {
        3
    } else if index.constraint.is_some() {
        2
    } else {
        u8::from(index.unique)
    };
    (level, std::cmp::Reverse(index.oid))
}

fn enforces(index: &Index) -> bool {
    index.unique || index.primary || index.constraint.is_some()
}

/// The index that makes `index` redundant, if any, among the indexes of its table.
fn redundant_to<'a>(index: &Index, table: &'a [Index]) -> Option<&'a Index> {
    if !index.valid || index.partition {
        return None;
    }
    table.iter().find(|other| {
        if !covers(other, index) {
            return false;
        }
        let identical = covers(index, other);
        if identical {
            rank(index) < rank(other) && (!enforces(index) || other.unique)
        } else {
            !enforces(index)
        }
    })
}

pub fn check(cx: &DatabaseCx) -> Outcome {
    let facts = part(&cx.snapshot.catalog)?;
    let indexes = part(&facts.indexes)?;
    let sizes = catalog::index_sizes(part(&cx.snapshot.sizes)?);
    let mut findings = Vec::new();
    // the reader orders indexes by table: compare within each table only
    for table in indexes.chunk_by(|a, b| a.table_oid == b.table_oid) {
        for index in table {
            let Some(other) = redundant_to(index, table) else {
                continue;
            };
            let (mine, theirs) = (sizes.get(&index.object()), sizes.get(&other.object()));
            let definition =
                |s: Option<&&crate::live::sizes::IndexSize>| s.map(|s| s.definition.clone());
            findings.push(
                Finding::new(
                    &RULE,
                    Span::new(0, 0),
                    format!(
                        "index `{}` is redundant with `{}` on `{}.{}`{}: every write maintains both, and the wider one serves the same lookups",
                        index.object(),
                        other.object(),
                        index.schema,
                        index.table,
                        mine.map_or(String::new(), |s| format!(" ({} to reclaim)", catalog::size(s.bytes))),
                    ),
                )
                .object(index.object())
                .evidence("definition", definition(mine))
                .evidence("covered_by", other.object())
                .evidence("covered_by_definition", definition(theirs))
                .evidence("size_bytes", mine.map(|s| s.bytes))
                .help(format!(
                    "check that no query hint or constraint names it, then DROP INDEX CONCURRENTLY {};",
                    index.object()
                )),
            );
        }
    }
    Ok(findings)
}
