//! 32-bit (or smaller) primary keys and id columns.

use crate::analysis::tables::NARROW_INTEGER_MAX;
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

fn check(cx: &StatementCx) -> Vec<Finding> {
    cx.actions()
        .flat_map(super::defined_columns)
        .filter_map(|d| {
            let ty = d.column.ty.as_ref().filter(|t| !t.array)?;
            let (_, limit) = NARROW_INTEGER_MAX.iter().find(|(narrow, _)| *narrow == ty.name)?;
            let name = d.column.name.as_str();
            let id_like = d.primary_key || name == "id" || name.ends_with("_id");
            id_like.then(|| {
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
