//! The live check of `table-without-primary-key`: ordinary and partitioned tables without a
//! primary key. Partitions are judged through their parent (a parent's key covers them).

use crate::live::catalog::{self, part};
use crate::rules::Finding;
use crate::rules::database::{DatabaseCx, Outcome};
use crate::rules::migration::table_without_primary_key::RULE;
use crate::source::Span;

pub fn check(cx: &DatabaseCx) -> Outcome {
    let facts = part(&cx.snapshot.catalog)?;
    let tables = part(&facts.tables)?;
    let sizes = catalog::table_sizes(&cx.snapshot.sizes);
    Ok(tables
        .iter()
        .filter(|t| matches!(t.kind.as_str(), "r" | "p") && !t.partition && !t.has_primary_key)
        .map(|t| {
            let size = sizes.get(&t.key());
            let unique = if t.unique_indexes > 0 {
                format!(
                    " It has {} unique index(es): if one is on NOT NULL columns, ALTER TABLE … ADD PRIMARY KEY USING INDEX makes it the key without a scan.",
                    t.unique_indexes
                )
            } else {
                String::new()
            };
            Finding::new(
                &RULE,
                Span::new(0, 0),
                format!(
                    "table `{}` has no primary key: rows cannot be addressed one by one, logical replication cannot send its updates and deletes, and duplicates go unnoticed.{unique}",
                    t.key()
                ),
            )
            .object(t.key())
            .evidence("rows", t.rows)
            .evidence("table_bytes", size.map(|s| s.table_bytes))
            .evidence("unique_indexes", t.unique_indexes)
            .evidence("partitioned", t.kind == "p")
        })
        .collect())
}
