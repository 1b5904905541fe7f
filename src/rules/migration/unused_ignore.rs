//! A `-- pgrisk-ignore` comment that suppresses nothing or names an unknown rule.
//! The diagnostic stage produces these findings while applying suppressions.

use crate::rules::{Category, Check, Rule, Severity, rule_doc};

pub static RULE: Rule = Rule {
    name: "unused-ignore",
    category: Category::Meta,
    severity: Severity::Info,
    lock: None,
    summary: "a pgrisk-ignore comment that suppresses nothing",
    doc: rule_doc!("unused-ignore"),
    check: Check::Diagnostic,
};
