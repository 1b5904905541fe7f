//! 32-bit (or smaller) primary keys and id columns.

use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "int-id-overflow",
    category: Category::Schema,
    severity: Severity::Warning,
    lock: None,
    summary: "integer ids run out at 2.1 billion; the fix later is a table rewrite",
    doc: rule_doc!("int-id-overflow"),
    check: Check::Statement(check),
};

const NARROW: &[&str] = &["integer", "serial", "smallint", "smallserial"];

fn check(cx: &StatementCx) -> Vec<Finding> {
    cx.actions()
        .flat_map(super::defined_columns)
        .filter_map(|d| {
            let ty = d.column.ty.as_ref().filter(|t| !t.array && NARROW.contains(&t.name.as_str()))?;
            let name = d.column.name.as_str();
            let id_like = d.primary_key || name == "id" || name.ends_with("_id");
            id_like.then(|| {
                let limit = if ty.name.starts_with("small") { "32,767" } else { "2,147,483,647" };
                Finding::new(&RULE, d.column.span, format!(
                    "`{name}` is `{}`: ids stop at {limit}, and widening it later rewrites the table (and every table referencing it)",
                    ty.name
                ))
                .help("use `bigint` (with `GENERATED ... AS IDENTITY`) for ids and the columns that reference them")
                .object(d.table.key())
            })
        })
        .collect()
}
