//! Identifiers longer than PostgreSQL's 63 bytes, which it truncates silently.

use crate::analysis::ActionKind;
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "identifier-too-long",
    category: Category::Schema,
    severity: Severity::Error,
    lock: None,
    summary: "identifiers over 63 bytes are silently truncated",
    doc: rule_doc!("identifier-too-long"),
    check: Check::Statement(check),
};

/// NAMEDATALEN - 1: https://www.postgresql.org/docs/current/sql-syntax-lexical.html
const MAX_IDENTIFIER_BYTES: usize = 63;

fn check(cx: &StatementCx) -> Vec<Finding> {
    let mut names: Vec<(&str, crate::source::Span)> = Vec::new();
    for action in cx.actions() {
        match &action.kind {
            ActionKind::CreateTable {
                table, constraints, ..
            } => {
                names.push((&table.name, action.span));
                names.extend(
                    constraints
                        .iter()
                        .filter_map(|c| Some((c.name.as_deref()?, c.span))),
                );
            }
            ActionKind::CreateIndex(index) => {
                names.extend(index.name.as_deref().map(|n| (n, action.span)))
            }
            ActionKind::CreateObject { name, .. } => names.push((&name.name, action.span)),
            ActionKind::AlterTable {
                op: crate::analysis::AlterOp::AddConstraint(c),
                ..
            } => {
                names.extend(c.name.as_deref().map(|n| (n, c.span)));
            }
            ActionKind::AlterTable {
                op:
                    crate::analysis::AlterOp::RenameColumn { to, .. }
                    | crate::analysis::AlterOp::RenameTable { to },
                ..
            } => {
                names.push((to, action.span));
            }
            _ => {}
        }
        for d in super::defined_columns(action) {
            names.push((&d.column.name, d.column.span));
            names.extend(
                d.column
                    .constraints
                    .iter()
                    .filter_map(|c| Some((c.name.as_deref()?, c.span))),
            );
        }
    }
    names
        .into_iter()
        .filter(|(name, _)| name.len() > MAX_IDENTIFIER_BYTES)
        .map(|(name, span)| {
            let kept: String = name.char_indices().take_while(|(i, c)| i + c.len_utf8() <= MAX_IDENTIFIER_BYTES).map(|(_, c)| c).collect();
            Finding::new(&RULE, span, format!(
                "`{name}` is {} bytes: PostgreSQL silently truncates it to `{kept}`, so later references by the full name fail or hit another object",
                name.len()
            ))
            .help(format!("shorten it to at most {MAX_IDENTIFIER_BYTES} bytes"))
        })
        .collect()
}
