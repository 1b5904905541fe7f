//! A constraint added `NOT VALID` and never validated: old rows are unchecked.

use crate::live::catalog::{self, part};
use crate::rules::database::{DatabaseCx, Outcome};
use crate::rules::{Category, Check, Finding, Rule, Severity, rule_doc};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "constraint-not-validated",
    category: Category::Database,
    severity: Severity::Warning,
    lock: None,
    summary: "a constraint left NOT VALID does not vouch for the rows that existed before it",
    doc: rule_doc!("constraint-not-validated"),
    check: Check::Live,
};

pub fn check(cx: &DatabaseCx) -> Outcome {
    let facts = part(&cx.snapshot.catalog)?;
    let constraints = part(&facts.constraints)?;
    let sizes = catalog::table_sizes(&cx.snapshot.sizes);
    Ok(constraints
        .iter()
        .filter(|c| !c.validated && !c.inherited)
        .map(|c| {
            let table = format!("{}.{}", c.schema, c.table);
            let size = sizes.get(&table);
            let kind = match c.kind.as_str() {
                "f" => "foreign key",
                "c" => "check constraint",
                "n" => "NOT NULL constraint",
                _ => "constraint",
            };
            Finding::new(
                &RULE,
                Span::new(0, 0),
                format!(
                    "{kind} `{}` on `{table}` is NOT VALID: new rows are checked, the rows that existed before it are not, and the planner cannot rely on it",
                    c.name
                ),
            )
            .object(&table)
            .evidence("table", table.clone())
            .evidence("constraint", c.name.clone())
            .evidence("definition", c.definition.clone())
            .evidence("table_bytes", size.map(|t| t.table_bytes))
            .evidence("rows", size.and_then(|t| t.rows))
            .help(format!(
                "ALTER TABLE {table} VALIDATE CONSTRAINT {}; scans the table under SHARE UPDATE EXCLUSIVE (reads and writes go on); fix the rows it rejects first",
                c.name
            ))
        })
        .collect())
}
