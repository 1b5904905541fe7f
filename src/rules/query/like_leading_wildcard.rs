//! `LIKE '%...'`: a B-tree index cannot serve a pattern that starts with a wildcard.

use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "like-leading-wildcard",
    category: Category::Query,
    severity: Severity::Warning,
    lock: None,
    summary: "LIKE with a leading wildcard scans every row unless a trigram index exists",
    doc: rule_doc!("like-leading-wildcard"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    super::on_query(cx, |q| {
        q.leading_wildcard_likes
            .iter()
            .filter_map(|column| {
                let table = q.table_of(column);
                let trigram = table.is_some_and(|t| {
                    cx.catalog.indexed_column_lists(t).iter().flatten().any(|entry| {
                        entry.contains("trgm_ops") && super::entry_column(&entry.replace("gin_trgm_ops", "").replace("gist_trgm_ops", "")).as_deref() == Some(column.column.as_str())
                    })
                });
                if trigram {
                    return None;
                }
                let on = table.map(|t| format!(" on `{t}`")).unwrap_or_default();
                let finding = Finding::new(&RULE, cx.statement.span, format!(
                    "`{}` is matched with a pattern that starts with a wildcard: no B-tree index helps, so every row{on} is read",
                    column.column
                ))
                .help(format!("add a trigram index (`CREATE INDEX CONCURRENTLY ... USING gin ({} gin_trgm_ops)`) or use full-text search", column.column));
                Some(match table.filter(|t| cx.catalog.table(t).is_some()) {
                    Some(t) => super::index_evidence(finding, cx, t, &[column.column.as_str()]),
                    None => finding.evidence("columns", vec![column.column.as_str()]),
                })
            })
            .collect()
    })
}
