//! Filters and join keys on a table when none of them can use an index (schema known).

use crate::analysis::Name;
use crate::analysis::query::Probe;
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "unindexed-filter",
    category: Category::Query,
    severity: Severity::Warning,
    lock: None,
    summary: "filters or joins on columns no index leads: a sequential scan per call",
    doc: rule_doc!("unindexed-filter"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_query(cx, |q| {
        // a table read twice (a self-join) is judged once
        let mut tables: Vec<&Name> = Vec::new();
        for t in &q.tables {
            if !tables.contains(&&t.name) {
                tables.push(&t.name);
            }
        }
        tables
            .into_iter()
            .filter_map(|name| {
                let table = cx.catalog.table(name)?;
                // the conditions wholly on this table's known columns
                let conditions: Vec<&Vec<Probe>> = q
                    .conditions
                    .iter()
                    .filter(|c| {
                        c.iter().all(|p| {
                            q.table_of(p.column()) == Some(name)
                                && table.column(&p.column().column).is_some()
                        })
                    })
                    .collect();
                let pinned: Vec<&str> = conditions
                    .iter()
                    .filter_map(|c| match c.as_slice() {
                        [Probe::Column(column)] => Some(column.column.as_str()),
                        _ => None,
                    })
                    .collect();
                let lists = cx.catalog.indexed_column_lists(name);
                // one condition an index serves is a way in: the others filter what it finds
                let served = conditions
                    .iter()
                    .any(|c| c.iter().all(|p| super::index_serves(&lists, p, &pinned)));
                let mut columns: Vec<&str> = Vec::new();
                for probe in conditions.iter().copied().flatten() {
                    if let Probe::Column(c) = probe
                        && !columns.contains(&c.column.as_str())
                    {
                        columns.push(&c.column);
                    }
                }
                // expressions alone are non-sargable-predicate's to report
                if served || columns.is_empty() {
                    return None;
                }
                let message = match columns.as_slice() {
                    [one] => format!(
                        "`{name}.{one}` is filtered on but leads no index: each call reads the table sequentially"
                    ),
                    many => format!(
                        "`{name}` is filtered on {} but no index leads with any of them: each call reads the table sequentially",
                        many.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                    ),
                };
                let finding = Finding::new(&RULE, cx.statement.span, message)
                        .help(match columns.as_slice() {
                            [one] => format!("CREATE INDEX CONCURRENTLY ON {name} ({one});"),
                            _ => format!(
                                "index the filter that narrows the rows most, e.g. CREATE INDEX CONCURRENTLY ON {name} ({});",
                                columns[0]
                            ),
                        });
                Some(super::index_evidence(finding, cx, name, &columns))
            })
            .collect()
    })
}
