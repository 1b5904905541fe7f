//! `BEGIN` with no `COMMIT` or `ROLLBACK` by the end of the file.

use crate::analysis::Block;
use crate::rules::{Category, Check, FileCx, Finding, Rule, Severity, rule_doc};

pub static RULE: Rule = Rule {
    name: "transaction-unterminated",
    category: Category::Transaction,
    severity: Severity::Error,
    lock: None,
    summary: "a BEGIN without COMMIT leaves the transaction (and its locks) open",
    doc: rule_doc!("transaction-unterminated"),
    check: Check::File(check),
};

fn check(cx: &FileCx) -> Vec<Finding> {
    let Some(Block::Explicit { begin }) = cx.file.end.block else {
        return Vec::new();
    };
    vec![Finding::new(&RULE, begin, "this `BEGIN` is never committed or rolled back in this file: the runner may roll everything back, or keep the locks open")
        .help("end the transaction with `COMMIT;` in the same file")]
}
