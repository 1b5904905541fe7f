//! `SELECT *` / `t.*` in an application query.

use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "select-star",
    category: Category::Query,
    severity: Severity::Warning,
    lock: None,
    summary: "SELECT * fetches every column, including ones the caller never reads",
    doc: rule_doc!("select-star"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_query(cx, |q| {
        let Some(star) = q.stars.first() else {
            return Vec::new();
        };
        let tables: Vec<_> = match star {
            Some(qualifier) => q
                .tables
                .iter()
                .filter(|t| t.alias.as_ref() == Some(qualifier) || t.name.name == *qualifier)
                .collect(),
            None => q.tables.iter().collect(),
        };
        let known: Vec<usize> = tables
            .iter()
            .filter_map(|t| cx.catalog.table(&t.name))
            .map(|t| t.columns.len())
            .collect();
        let count =
            (known.len() == tables.len() && !known.is_empty()).then(|| known.iter().sum::<usize>());
        let what = count.map_or("every column".to_owned(), |n| format!("all {n} columns"));
        let mut finding = Finding::new(&RULE, cx.statement.span, format!(
            "`SELECT {}*` fetches {what}: more I/O and network per call, no index-only scans, and a new column changes every result",
            star.as_deref().map(|q| format!("{q}.")).unwrap_or_default()
        ))
        .help("name the columns the caller uses");
        if let Some(n) = count {
            finding = finding.evidence("columns", n);
        }
        vec![finding]
    })
}
