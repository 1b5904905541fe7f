//! Statement splitter: text → statements with byte spans, following psql's rules.
//! Semicolons end a statement only outside quotes, comments, parentheses and
//! `BEGIN ATOMIC ... END` bodies; backslash meta-commands stand alone; the data
//! of `COPY ... FROM stdin` runs to the `\.` line and belongs to its COPY.

use std::ops::Range;

use super::Span;
use super::lex::{Lexer, Token, TokenKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawKind {
    Sql,
    /// A psql backslash command such as `\set` or `\connect`.
    Meta,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStatement {
    /// From the first token to the terminating `;` (inclusive) or the last token.
    pub span: Span,
    pub kind: RawKind,
    /// Inline data of `COPY ... FROM stdin`, up to and including the `\.` line.
    pub copy_data: Option<Span>,
    /// A quote, dollar quote or comment inside it never closed.
    pub unterminated: bool,
    /// Its tokens (comments and the final `;` excluded) in [`Split::tokens`].
    pub tokens: Range<usize>,
}

#[derive(Debug, Default)]
pub struct Split {
    pub statements: Vec<RawStatement>,
    /// Every comment, in order (suppressions are read from these).
    pub comments: Vec<Span>,
    /// The tokens of all statements, lexed once for every later stage.
    pub tokens: Vec<Token>,
}

/// Tracks one statement while its tokens arrive.
#[derive(Default)]
struct Pending {
    first: Option<Token>,
    /// Index of the first token in `Split::tokens`.
    token_start: usize,
    last: Option<Token>,
    words: usize,
    head: [Option<Span>; 3],
    paren_depth: usize,
    /// Depth of `BEGIN ATOMIC ... END` nesting in SQL-standard function bodies.
    atomic_depth: usize,
    previous_word_begin: bool,
    unterminated: bool,
}

impl Pending {
    fn push(&mut self, text: &str, token: Token, tokens: &mut Vec<Token>) {
        if self.first.is_none() {
            self.token_start = tokens.len();
        }
        tokens.push(token);
        self.first.get_or_insert(token);
        self.last = Some(token);
        self.unterminated |= token.unterminated;
        match token.kind {
            TokenKind::LParen => self.paren_depth += 1,
            TokenKind::RParen => self.paren_depth = self.paren_depth.saturating_sub(1),
            TokenKind::Word => {
                if self.words < self.head.len() {
                    self.head[self.words] = Some(token.span);
                }
                self.words += 1;
                self.track_atomic(token.text(text));
                return;
            }
            _ => {}
        }
        self.previous_word_begin = false;
    }

    fn track_atomic(&mut self, word: &str) {
        let is = |w: &str| word.eq_ignore_ascii_case(w);
        if self.previous_word_begin && is("atomic") && self.atomic_depth == 0 {
            self.atomic_depth = 1;
        } else if self.atomic_depth > 0 && (is("begin") || is("case")) {
            self.atomic_depth += 1;
        } else if self.atomic_depth > 0 && is("end") {
            self.atomic_depth -= 1;
        }
        self.previous_word_begin = is("begin");
    }

    fn head_is(&self, text: &str, words: &[&str]) -> bool {
        words
            .iter()
            .zip(self.head.iter())
            .all(|(w, span)| span.is_some_and(|s| text[s.start..s.end].eq_ignore_ascii_case(w)))
    }

    fn open(&self) -> bool {
        self.paren_depth > 0 || self.atomic_depth > 0
    }

    fn take(&mut self, end: usize, tokens_end: usize) -> Option<RawStatement> {
        let first = self.first?;
        let statement = RawStatement {
            span: Span::new(first.span.start, end),
            kind: RawKind::Sql,
            copy_data: None,
            unterminated: self.unterminated,
            tokens: self.token_start..tokens_end,
        };
        *self = Pending::default();
        Some(statement)
    }
}

/// Splits `text` into statements. `blocks` are byte ranges that must stay one statement
/// whatever they contain (goose `StatementBegin`/`StatementEnd`).
pub fn split(text: &str, blocks: &[Range<usize>]) -> Split {
    // about one token per five bytes of SQL: sized once, not grown by doubling
    let mut out = Split {
        tokens: Vec::with_capacity(text.len() / 5),
        ..Split::default()
    };
    let mut lexer = Lexer::new(text, 0);
    let mut pending = Pending::default();
    while let Some(token) = lexer.next() {
        if let Some(block) = blocks.iter().find(|b| b.contains(&token.span.start)) {
            let end = pending.last.map_or(0, |t| t.span.end);
            out.statements.extend(pending.take(end, out.tokens.len()));
            out.statements.extend(block_statement(
                text,
                block,
                &mut out.comments,
                &mut out.tokens,
            ));
            lexer.seek(block.end);
            continue;
        }
        match token.kind {
            TokenKind::LineComment | TokenKind::BlockComment => out.comments.push(token.span),
            TokenKind::Meta => {
                let is_go = text[token.span.start..token.span.end].starts_with("\\g");
                if pending.first.is_none() {
                    out.statements.push(RawStatement {
                        span: token.span,
                        kind: RawKind::Meta,
                        copy_data: None,
                        unterminated: false,
                        tokens: out.tokens.len()..out.tokens.len(),
                    });
                } else if is_go {
                    // `\g` and friends send the buffered query like a semicolon does
                    let end = pending.last.map_or(token.span.start, |t| t.span.end);
                    out.statements.extend(pending.take(end, out.tokens.len()));
                }
            }
            TokenKind::Semicolon if !pending.open() => {
                let is_copy_from_stdin = pending.head_is(text, &["copy"])
                    && copy_reads_stdin(text, pending.first.map_or(0, |t| t.span.start), token);
                if let Some(mut statement) = pending.take(token.span.end, out.tokens.len()) {
                    if is_copy_from_stdin {
                        let data = copy_data_span(text, token.span.end);
                        lexer.seek(data.end);
                        statement.copy_data = Some(data);
                    }
                    out.statements.push(statement);
                }
            }
            _ => pending.push(text, token, &mut out.tokens),
        }
    }
    let end = pending.last.map_or(0, |t| t.span.end);
    out.statements.extend(pending.take(end, out.tokens.len()));
    out
}

fn block_statement(
    text: &str,
    block: &Range<usize>,
    comments: &mut Vec<Span>,
    tokens: &mut Vec<Token>,
) -> Option<RawStatement> {
    let token_start = tokens.len();
    let mut first = None;
    let mut last = None;
    let mut unterminated = false;
    for token in Lexer::new(&text[..block.end], block.start) {
        if token.is_trivia() {
            comments.push(token.span);
            continue;
        }
        first.get_or_insert(token.span.start);
        last = Some(token.span.end);
        tokens.push(token);
        unterminated |= token.unterminated;
    }
    Some(RawStatement {
        span: Span::new(first?, last?),
        kind: RawKind::Sql,
        copy_data: None,
        unterminated,
        tokens: token_start..tokens.len(),
    })
}

fn copy_reads_stdin(text: &str, start: usize, semicolon: Token) -> bool {
    let words: Vec<String> = Lexer::new(&text[..semicolon.span.start], start)
        .filter(|t| t.kind == TokenKind::Word)
        .map(|t| t.text(text).to_ascii_lowercase())
        .collect();
    words.windows(2).any(|w| w[0] == "from" && w[1] == "stdin")
}

/// COPY data starts on the line after the statement and ends with a line holding `\.`.
fn copy_data_span(text: &str, after: usize) -> Span {
    let start = text[after..]
        .find('\n')
        .map_or(text.len(), |i| after + i + 1);
    let mut line_start = start;
    while line_start < text.len() {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i + 1);
        if text[line_start..line_end].trim_end() == "\\." {
            return Span::new(start, line_end);
        }
        line_start = line_end;
    }
    Span::new(start, text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<&str> {
        split(src, &[])
            .statements
            .iter()
            .map(|s| &src[s.span.start..s.span.end])
            .collect()
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let src = "SELECT ';'; -- a; b\nSELECT \"x;y\" /* ; */ FROM t;";
        assert_eq!(
            texts(src),
            vec!["SELECT ';';", "SELECT \"x;y\" /* ; */ FROM t;"]
        );
    }

    #[test]
    fn keeps_dollar_quoted_body_as_one_statement() {
        let src =
            "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql; SELECT 2;";
        let t = texts(src);
        assert_eq!(t.len(), 2);
        assert!(t[0].ends_with("LANGUAGE sql;"));
    }

    #[test]
    fn keeps_do_block_with_nested_dollar_quotes_together() {
        let src = "DO $$ BEGIN EXECUTE $x$ SELECT 1; $x$; END $$; SELECT 1;";
        assert_eq!(texts(src).len(), 2);
    }

    #[test]
    fn escaped_string_with_backslash_quote_does_not_end_early() {
        let src = r"INSERT INTO t VALUES (E'a\';b'); SELECT 1;";
        assert_eq!(
            texts(src),
            vec![r"INSERT INTO t VALUES (E'a\';b');", "SELECT 1;"]
        );
    }

    #[test]
    fn psql_meta_commands_stand_alone() {
        let src = "\\set ON_ERROR_STOP on\nSELECT 1;\n\\connect other\nSELECT 2;";
        let s = split(src, &[]).statements;
        let kinds: Vec<_> = s.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            vec![RawKind::Meta, RawKind::Sql, RawKind::Meta, RawKind::Sql]
        );
    }

    #[test]
    fn gset_ends_the_buffered_query() {
        assert_eq!(
            texts("SELECT 1 AS x \\gset\nSELECT 2;"),
            vec!["SELECT 1 AS x", "SELECT 2;"]
        );
    }

    #[test]
    fn copy_from_stdin_data_is_skipped_to_the_terminator() {
        let src = "COPY t (a) FROM stdin;\n1;2\n'x\n\\.\nSELECT 1;";
        let s = split(src, &[]).statements;
        assert_eq!(s.len(), 2);
        let data = s[0].copy_data.unwrap();
        assert_eq!(&src[data.start..data.end], "1;2\n'x\n\\.\n");
        assert_eq!(&src[s[1].span.start..s[1].span.end], "SELECT 1;");
    }

    #[test]
    fn semicolons_inside_parentheses_do_not_split() {
        let src = "CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY a; NOTIFY b); SELECT 1;";
        assert_eq!(texts(src).len(), 2);
    }

    #[test]
    fn begin_atomic_bodies_stay_whole() {
        let src = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT 3;";
        let t = texts(src);
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t[0].ends_with("END;"));
    }

    #[test]
    fn statement_blocks_are_never_split() {
        let src = "SELECT 0;\nCREATE FUNCTION f() AS 'a; b' ; x; y\nSELECT 9;";
        let start = src.find("CREATE").unwrap();
        let end = src.find("\nSELECT 9").unwrap();
        let block = std::ops::Range { start, end };
        let t: Vec<_> = split(src, std::slice::from_ref(&block))
            .statements
            .iter()
            .map(|s| &src[s.span.start..s.span.end])
            .collect();
        assert_eq!(
            t,
            vec![
                "SELECT 0;",
                "CREATE FUNCTION f() AS 'a; b' ; x; y",
                "SELECT 9;"
            ]
        );
    }

    #[test]
    fn unterminated_quote_is_flagged_and_swallows_the_rest() {
        let s = split("SELECT 1; SELECT 'oops; SELECT 2;", &[]).statements;
        assert_eq!(s.len(), 2);
        assert!(s[1].unterminated);
    }

    #[test]
    fn byte_order_mark_and_crlf_line_ends_are_whitespace() {
        let src = "\u{feff}SELECT 1;\r\n\\i other.sql\r\nSELECT 2;\r\n";
        let s = split(src, &[]).statements;
        assert_eq!(s.len(), 3);
        assert_eq!(&src[s[0].span.start..s[0].span.end], "SELECT 1;");
        assert_eq!(s[1].kind, RawKind::Meta);
        assert_eq!(&src[s[2].span.start..s[2].span.end], "SELECT 2;");
    }

    #[test]
    fn trailing_statement_without_semicolon_is_kept() {
        assert_eq!(
            texts("SELECT 1;\nSELECT 2\n-- end\n"),
            vec!["SELECT 1;", "SELECT 2"]
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let src = format!("SELECT {}1{};", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(texts(&src).len(), 1);
    }
}
