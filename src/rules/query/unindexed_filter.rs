//! A filter or join key on a column that leads no index (schema known).

use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "unindexed-filter",
    category: Category::Query,
    severity: Severity::Warning,
    lock: None,
    summary: "a filter or join on a column no index leads: a sequential scan per call",
    doc: rule_doc!("unindexed-filter"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_query(cx, |q| {
        let mut seen = Vec::new();
        q.filters
            .iter()
            .filter_map(|column| {
                let table_name = q.table_of(column)?;
                let table = cx.catalog.table(table_name)?;
                table.column(&column.column)?;
                // covered when it leads an index, or follows columns this query also filters
                // on (`customer_id = $1 AND created_at >= $2` on (customer_id, created_at))
                let filtered: Vec<&str> = q
                    .filters
                    .iter()
                    .filter(|f| q.table_of(f) == Some(table_name))
                    .map(|f| f.column.as_str())
                    .collect();
                let lists = cx.catalog.indexed_column_lists(table_name);
                let leads = lists.iter().any(|list| {
                    let columns: Vec<String> = list.iter().map(|e| super::entry_column(e).unwrap_or_default()).collect();
                    columns
                        .iter()
                        .position(|c| *c == column.column)
                        .is_some_and(|at| columns[..at].iter().all(|c| filtered.contains(&c.as_str())))
                });
                let key = (table_name.key(), column.column.clone());
                if leads || seen.contains(&key) {
                    return None;
                }
                seen.push(key);
                Some(
                    Finding::new(&RULE, cx.statement.span, format!(
                        "`{table_name}.{}` is filtered on but leads no index: each call reads the table sequentially",
                        column.column
                    ))
                    .help(format!("CREATE INDEX CONCURRENTLY ON {table_name} ({});", column.column))
                    .object(table_name.key())
                    .evidence("column", column.column.as_str()),
                )
            })
            .collect()
    })
}
