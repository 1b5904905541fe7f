//! Suppression comments (DESIGN.md §6):
//! `-- pgrisk-ignore rule-a, rule-b: reason` silences those rules on the next statement,
//! `-- pgrisk-ignore-file rule-a: reason` on the whole file. `all` names every rule.

use super::{Span, Statement};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Index of the statement it applies to; `None` when no statement follows.
    Statement(Option<usize>),
    File,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The comment itself (where `unused-ignore` points).
    pub span: Span,
    pub rules: Vec<String>,
    pub scope: Scope,
    pub reason: Option<String>,
}

impl Suppression {
    pub fn covers(&self, rule: &str) -> bool {
        self.rules.iter().any(|r| r == rule || r == "all")
    }
}

pub fn collect(sql: &str, comments: &[Span], statements: &[Statement]) -> Vec<Suppression> {
    comments
        .iter()
        .filter_map(|&span| {
            let body = sql[span.start..span.end]
                .trim_start_matches("--")
                .trim_start_matches("/*")
                .trim_end_matches("*/")
                .trim();
            let (scope, rest) = if let Some(rest) = body.strip_prefix("pgrisk-ignore-file") {
                (Scope::File, rest)
            } else {
                let rest = body.strip_prefix("pgrisk-ignore")?;
                let next = statements.iter().position(|s| s.span.start >= span.end);
                (Scope::Statement(next), rest)
            };
            if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
                return None;
            }
            let (names, reason) = match rest.split_once(':') {
                Some((names, reason)) => (names, Some(reason.trim().to_owned())),
                None => (rest, None),
            };
            let rules = names
                .split([',', ' ', '\t'])
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect();
            Some(Suppression {
                span,
                rules,
                scope,
                reason: reason.filter(|r| !r.is_empty()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::split::split;
    use super::*;

    fn suppressions(sql: &str) -> Vec<Suppression> {
        let s = split(sql, &[]);
        let statements: Vec<Statement> = s
            .statements
            .iter()
            .map(|r| Statement {
                span: r.span,
                kind: r.kind,
                unterminated: false,
                copy_data: None,
                tokens: r.tokens.clone(),
            })
            .collect();
        collect(sql, &s.comments, &statements)
    }

    #[test]
    fn statement_ignore_applies_to_the_next_statement() {
        let s = suppressions(
            "SELECT 1;\n-- pgrisk-ignore drop-table, drop-cascade: legacy\nDROP TABLE t;",
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].rules, vec!["drop-table", "drop-cascade"]);
        assert_eq!(s[0].scope, Scope::Statement(Some(1)));
        assert_eq!(s[0].reason.as_deref(), Some("legacy"));
    }

    #[test]
    fn file_ignore_has_file_scope() {
        let s = suppressions("-- pgrisk-ignore-file lock-without-timeout\nSELECT 1;");
        assert_eq!(s[0].scope, Scope::File);
        assert!(s[0].covers("lock-without-timeout"));
    }

    #[test]
    fn similar_words_are_not_suppressions() {
        assert!(
            suppressions("-- pgrisk-ignored x\n-- see pgrisk-ignore docs\nSELECT 1;").is_empty()
        );
    }
}
