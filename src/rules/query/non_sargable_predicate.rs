//! A function, cast or arithmetic around an indexed column in WHERE.

use crate::analysis::query::Probe;
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "non-sargable-predicate",
    category: Category::Query,
    severity: Severity::Warning,
    lock: None,
    summary: "wrapping an indexed column in a function hides it from its index",
    doc: rule_doc!("non-sargable-predicate"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_query(cx, |q| {
        q.probes()
            .filter_map(|probe| {
                let Probe::Wrapped(w) = probe else { return None };
                let table = q.table_of(&w.column)?;
                let lists = cx.catalog.indexed_column_lists(table);
                let bare = Probe::Column(w.column.clone());
                if !super::index_serves(&lists, &bare, &[]) || super::index_serves(&lists, probe, &[]) {
                    return None;
                }
                let finding = Finding::new(&RULE, cx.statement.span, format!(
                    "`{}` wraps the indexed column `{}`: the index on `{table}` cannot be used for this filter",
                    w.expr, w.column.column
                ))
                .help(format!("compare the bare column (move the function to the other side), or add an expression index on `{}`", w.expr));
                Some(super::index_evidence(finding, cx, table, &[w.column.column.as_str()]))
            })
            .collect()
    })
}
