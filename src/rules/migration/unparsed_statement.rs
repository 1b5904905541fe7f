//! A statement neither sqlparser nor the token reader understood: no rule checked it.

use crate::analysis::Understanding;
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "unparsed-statement",
    category: Category::Meta,
    severity: Severity::Info,
    lock: None,
    summary: "a statement pgrisk could not read, so no rule checked it",
    doc: rule_doc!("unparsed-statement"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    if cx.statement.understanding != Understanding::Unknown {
        return Vec::new();
    }
    let reason = cx
        .statement
        .parse_error
        .as_deref()
        .unwrap_or("unknown statement form");
    vec![Finding::new(&RULE, cx.statement.span, format!("pgrisk could not read this statement, so no rule checked it: {reason}"))
        .help("check the syntax; if PostgreSQL accepts it, report it to pgrisk and suppress with `-- pgrisk-ignore unparsed-statement`")]
}
