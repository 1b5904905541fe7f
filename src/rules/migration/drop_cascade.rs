//! `DROP ... CASCADE` and `TRUNCATE ... CASCADE`.

use crate::analysis::ActionKind;
use crate::rules::{Category, Check, Finding, Rule, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "drop-cascade",
    category: Category::Compatibility,
    severity: Severity::Error,
    lock: None,
    summary: "CASCADE silently drops or empties every dependent object",
    doc: rule_doc!("drop-cascade"),
    check: Check::Statement(check),
};

fn check(cx: &StatementCx) -> Vec<Finding> {
    cx.actions()
        .filter_map(|action| {
            let verb = match &action.kind {
                ActionKind::Drop { cascade: true, .. } => "DROP",
                ActionKind::Truncate { cascade: true, .. } => "TRUNCATE",
                _ => return None,
            };
            let span = cx.keyword_span(action.span, "cascade").unwrap_or(action.span);
            Some(
                Finding::new(&RULE, span, format!(
                    "`{verb} ... CASCADE` also removes every dependent object (views, foreign keys, referencing rows) without listing them"
                ))
                .help("drop or change the dependents explicitly, so the migration says what it removes"),
            )
        })
        .collect()
}
