//! Suppression comments (DESIGN.md §6):
//! `-- pgrisk-ignore rule-a, rule-b: reason` silences those rules on the next statement,
//! `-- pgrisk-ignore-file rule-a: reason` on the whole file. `all` names every rule.
//! squawk's `-- squawk-ignore[-file] rule, ...` and eugene's `-- eugene: ignore E1, ...` are
//! read too, their names translated through [`super::foreign_ignores`]; with no names they
//! silence every rule, as in those tools.

use super::foreign_ignores;
use super::{Span, Statement};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Index of the statement it applies to; `None` when no statement follows.
    Statement(Option<usize>),
    File,
}

/// Whose comment syntax a suppression was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Pgrisk,
    Squawk,
    Eugene,
}

impl Dialect {
    /// The comment's keyword, as users write it.
    pub fn keyword(self) -> &'static str {
        match self {
            Dialect::Pgrisk => "pgrisk-ignore",
            Dialect::Squawk => "squawk-ignore",
            Dialect::Eugene => "eugene: ignore",
        }
    }
}

/// What one name in a suppression stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Covers {
    All,
    /// pgrisk rule names (one for a pgrisk name, any number for a foreign one).
    Rules(Vec<String>),
    /// A foreign name with no pgrisk counterpart, or one the mapping does not know.
    Untranslated {
        known: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredName {
    /// As written in the comment.
    pub written: String,
    pub covers: Covers,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The comment itself (where `unused-ignore` points).
    pub span: Span,
    pub dialect: Dialect,
    pub names: Vec<IgnoredName>,
    pub scope: Scope,
    pub reason: Option<String>,
}

impl Suppression {
    /// The index of the name that silences `rule`, if any.
    pub fn covering(&self, rule: &str) -> Option<usize> {
        self.names.iter().position(|n| match &n.covers {
            Covers::All => true,
            Covers::Rules(rules) => rules.iter().any(|r| r == rule),
            Covers::Untranslated { .. } => false,
        })
    }

    pub fn covers(&self, rule: &str) -> bool {
        self.covering(rule).is_some()
    }
}

/// (keyword, dialect, file scope?) — longer keywords first, so `-file` wins.
const KEYWORDS: &[(&str, Dialect, bool)] = &[
    ("pgrisk-ignore-file", Dialect::Pgrisk, true),
    ("pgrisk-ignore", Dialect::Pgrisk, false),
    ("squawk-ignore-file", Dialect::Squawk, true),
    ("squawk-ignore", Dialect::Squawk, false),
    ("eugene: ignore", Dialect::Eugene, false),
];

fn translate(dialect: Dialect, name: &str) -> Covers {
    let table = match dialect {
        Dialect::Pgrisk if name == "all" => return Covers::All,
        Dialect::Pgrisk => return Covers::Rules(vec![name.to_owned()]),
        Dialect::Squawk => foreign_ignores::SQUAWK,
        Dialect::Eugene => foreign_ignores::EUGENE,
    };
    match table
        .iter()
        .find(|(foreign, _)| foreign.eq_ignore_ascii_case(name))
    {
        Some((_, [])) => Covers::Untranslated { known: true },
        Some((_, rules)) => Covers::Rules(rules.iter().map(|r| (*r).to_owned()).collect()),
        None => Covers::Untranslated { known: false },
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
            let (rest, dialect, file_scope) = KEYWORDS
                .iter()
                .find_map(|&(kw, d, f)| body.strip_prefix(kw).map(|rest| (rest, d, f)))?;
            if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
                return None;
            }
            let scope = if file_scope {
                Scope::File
            } else {
                Scope::Statement(statements.iter().position(|s| s.span.start >= span.end))
            };
            // squawk and eugene have no reason syntax; a `:` there is part of the prose
            let (names, reason) = match (dialect, rest.split_once(':')) {
                (Dialect::Pgrisk, Some((names, reason))) => (names, Some(reason.trim().to_owned())),
                _ => (rest, None),
            };
            let mut names: Vec<IgnoredName> = names
                .split([',', ' ', '\t'])
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| IgnoredName {
                    written: n.to_owned(),
                    covers: translate(dialect, n),
                })
                .collect();
            if names.is_empty() && dialect != Dialect::Pgrisk {
                names.push(IgnoredName {
                    written: "all".to_owned(),
                    covers: Covers::All,
                });
            }
            Some(Suppression {
                span,
                dialect,
                names,
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
        let written: Vec<&str> = s[0].names.iter().map(|n| n.written.as_str()).collect();
        assert_eq!(written, ["drop-table", "drop-cascade"]);
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

    #[test]
    fn squawk_names_are_translated_and_an_empty_list_means_all() {
        let s = suppressions(
            "-- squawk-ignore ban-drop-column, renaming-column\nALTER TABLE t DROP COLUMN c;\n-- squawk-ignore-file\n",
        );
        assert_eq!(s[0].dialect, Dialect::Squawk);
        assert_eq!(s[0].scope, Scope::Statement(Some(0)));
        assert!(s[0].covers("drop-column") && s[0].covers("rename-column"));
        assert!(!s[0].covers("drop-table"));
        assert_eq!(s[1].scope, Scope::File);
        assert!(s[1].covers("create-index-blocking"));
    }

    #[test]
    fn eugene_ids_are_translated_and_unmapped_names_kept_as_written() {
        let s = suppressions(
            "-- eugene: ignore E6, W13\nCREATE INDEX i ON t (c);\n-- squawk-ignore ban-everything\nSELECT 1;",
        );
        assert!(s[0].covers("create-index-blocking"));
        assert_eq!(s[0].names[1].covers, Covers::Untranslated { known: true });
        assert_eq!(s[1].names[0].covers, Covers::Untranslated { known: false });
        assert_eq!(s[1].names[0].written, "ban-everything");
    }

    #[test]
    fn every_translation_names_a_pgrisk_rule() {
        for (foreign, rules) in foreign_ignores::SQUAWK
            .iter()
            .chain(foreign_ignores::EUGENE)
        {
            for rule in *rules {
                assert!(crate::rules::find(rule).is_some(), "{foreign} → {rule}");
            }
        }
    }
}
