//! The live check of `foreign-key-unindexed`: a foreign key whose columns lead no valid index
//! of the referencing table, read from the catalog with the table's size.

use std::collections::HashMap;

use crate::live::catalog::{self, Index, part};
use crate::rules::Finding;
use crate::rules::database::{DatabaseCx, Outcome};
use crate::rules::migration::foreign_key_unindexed::RULE;
use crate::source::Span;

/// Whether a valid, non-partial index has exactly the key's columns (in any order) first.
fn serves(index: &Index, columns: &[i16]) -> bool {
    let keys = index.keys();
    index.valid
        && index.predicate.is_none()
        && keys.len() >= columns.len()
        && columns.iter().all(|c| keys[..columns.len()].contains(c))
}

pub fn check(cx: &DatabaseCx) -> Outcome {
    let facts = part(&cx.snapshot.catalog)?;
    let (constraints, indexes) = (part(&facts.constraints)?, part(&facts.indexes)?);
    let sizes = catalog::table_sizes(&cx.snapshot.sizes);
    let mut by_table: HashMap<u32, Vec<&Index>> = HashMap::new();
    for index in indexes {
        by_table.entry(index.table_oid).or_default().push(index);
    }
    Ok(constraints
        .iter()
        // a partition's copy of a partitioned table's key is judged once, at the parent
        .filter(|c| c.kind == "f" && !c.inherited)
        .filter(|c| {
            let indexes = by_table.get(&c.table_oid).map_or(&[][..], Vec::as_slice);
            !indexes.iter().any(|i| serves(i, &c.columns))
        })
        .map(|c| {
            let table = format!("{}.{}", c.schema, c.table);
            let references = c.references.clone().unwrap_or_default();
            let columns = c.column_names.join(", ");
            let size = sizes.get(&table);
            let sized = size.map_or(String::new(), |t| {
                format!(" ({} rows, {})", t.rows.unwrap_or(0.0), catalog::size(t.table_bytes))
            });
            Finding::new(
                &RULE,
                Span::new(0, 0),
                format!(
                    "no index on `{table}` ({columns}) for its foreign key `{}` to `{references}`: each DELETE or key UPDATE on `{references}` scans `{table}`{sized}",
                    c.name
                ),
            )
            .object(&table)
            .evidence("constraint", c.name.clone())
            .evidence("columns", c.column_names.clone())
            .evidence("references", references.clone())
            .evidence("rows", size.and_then(|t| t.rows))
            .evidence("table_bytes", size.map(|t| t.table_bytes))
            .help(format!(
                "CREATE INDEX CONCURRENTLY ON {table} ({columns}); (a partial index does not count: the parent's deletes look up every row)"
            ))
        })
        .collect())
}
