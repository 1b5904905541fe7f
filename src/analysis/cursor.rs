//! A cursor over one statement's tokens with the small vocabulary the reader needs:
//! keywords, identifiers as PostgreSQL folds them, qualified names, balanced groups.

use std::borrow::Cow;

use super::model::Name;
use crate::source::Span;
use crate::source::lex::{Token, TokenKind, tokens};

pub struct Cursor<'a> {
    pub src: &'a str,
    toks: Cow<'a, [Token]>,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Tokens of `src[span]`, with spans in `src` offsets.
    pub fn new(src: &'a str, span: Span) -> Cursor<'a> {
        let offset = span.start;
        let toks = tokens(&src[span.start..span.end])
            .into_iter()
            .filter(|t| t.kind != TokenKind::Semicolon)
            .map(|mut t| {
                t.span = Span::new(t.span.start + offset, t.span.end + offset);
                t
            })
            .collect();
        Cursor {
            src,
            toks: Cow::Owned(toks),
            pos: 0,
        }
    }

    /// A cursor over tokens lexed earlier (the splitter's), without lexing again.
    pub fn from_tokens(src: &'a str, toks: &'a [Token]) -> Cursor<'a> {
        Cursor {
            src,
            toks: Cow::Borrowed(toks),
            pos: 0,
        }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    pub fn peek(&self) -> Option<Token> {
        self.toks.get(self.pos).copied()
    }

    pub fn peek_nth(&self, n: usize) -> Option<Token> {
        self.toks.get(self.pos + n).copied()
    }

    pub fn advance(&mut self) -> Option<Token> {
        let t = self.peek();
        self.pos += usize::from(t.is_some());
        t
    }

    pub fn mark(&self) -> usize {
        self.pos
    }

    pub fn reset(&mut self, mark: usize) {
        self.pos = mark;
    }

    pub fn text(&self, t: Token) -> &'a str {
        t.text(self.src)
    }

    /// Span from the token at `mark` to the last token consumed.
    pub fn span_since(&self, mark: usize) -> Span {
        let start = self.toks.get(mark).map_or(0, |t| t.span.start);
        let end = self
            .pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map_or(start, |t| t.span.end);
        Span::new(start, end.max(start))
    }

    /// Span of the whole statement's tokens.
    pub fn full_span(&self) -> Span {
        match (self.toks.first(), self.toks.last()) {
            (Some(a), Some(b)) => a.span.cover(b.span),
            _ => Span::default(),
        }
    }

    pub fn is(&self, word: &str) -> bool {
        self.is_nth(0, word)
    }

    pub fn is_nth(&self, n: usize, word: &str) -> bool {
        self.peek_nth(n).is_some_and(|t| t.is_word(self.src, word))
    }

    pub fn is_kind(&self, kind: TokenKind) -> bool {
        self.peek().is_some_and(|t| t.kind == kind)
    }

    pub fn eat(&mut self, word: &str) -> bool {
        let yes = self.is(word);
        self.pos += usize::from(yes);
        yes
    }

    /// Consumes an operator token with exactly this text (e.g. the `*` of `ONLY t *`).
    pub fn eat_op(&mut self, op: &str) -> bool {
        let yes = self
            .peek()
            .is_some_and(|t| t.kind == TokenKind::Op && self.text(t) == op);
        self.pos += usize::from(yes);
        yes
    }

    /// Consumes the words only if all of them follow, in order.
    pub fn eat_all(&mut self, words: &[&str]) -> bool {
        let yes = words.iter().enumerate().all(|(i, w)| self.is_nth(i, w));
        if yes {
            self.pos += words.len();
        }
        yes
    }

    /// Consumes a token of `kind`, returning it.
    pub fn eat_kind(&mut self, kind: TokenKind) -> Option<Token> {
        self.is_kind(kind).then(|| self.advance()).flatten()
    }

    /// The current word, lower-cased, without consuming it.
    pub fn word(&self) -> Option<String> {
        self.peek()
            .filter(|t| t.kind == TokenKind::Word)
            .map(|t| self.text(t).to_ascii_lowercase())
    }

    /// An identifier: unquoted words fold to lower case, quoted ones keep their case.
    pub fn ident(&mut self) -> Option<String> {
        let t = self.peek()?;
        let name = match t.kind {
            TokenKind::Word | TokenKind::PsqlVar => self.text(t).to_ascii_lowercase(),
            TokenKind::QuotedIdent => unquote_ident(self.text(t)),
            _ => return None,
        };
        self.pos += 1;
        Some(name)
    }

    /// `name`, `schema.name` or `db.schema.name` (the database part is dropped).
    pub fn name(&mut self) -> Option<Name> {
        let mut parts = vec![self.ident()?];
        while self.is_kind(TokenKind::Dot) && self.peek_nth(1).is_some_and(is_ident_token) {
            self.pos += 1;
            parts.extend(self.ident());
        }
        let name = parts.pop()?;
        Some(Name {
            schema: parts.pop(),
            name,
        })
    }

    /// Comma-separated names (`DROP TABLE a, b`).
    pub fn name_list(&mut self) -> Vec<Name> {
        let mut names = Vec::new();
        while let Some(name) = self.name() {
            names.push(name);
            self.eat_op("*");
            if self.eat_kind(TokenKind::Comma).is_none() {
                break;
            }
        }
        names
    }

    /// At `(`: skips to after the matching `)`. Returns the span inside the parentheses.
    pub fn skip_group(&mut self) -> Option<Span> {
        let open = self.eat_kind(TokenKind::LParen)?;
        let mut depth = 1usize;
        while let Some(t) = self.advance() {
            match t.kind {
                TokenKind::LParen => depth += 1,
                TokenKind::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(Span::new(open.span.end, t.span.start));
                    }
                }
                _ => {}
            }
        }
        Some(Span::new(open.span.end, self.full_span().end))
    }

    /// `(a, b, "C")`: the identifiers of a simple column list; expressions are kept as written.
    pub fn column_list(&mut self) -> Vec<String> {
        let Some(inner) = self.skip_group() else {
            return Vec::new();
        };
        let mut inner_cursor = Cursor::new(self.src, inner);
        let mut columns = Vec::new();
        while !inner_cursor.at_end() {
            let start = inner_cursor.mark();
            let simple = inner_cursor.ident();
            inner_cursor.skip_until_comma();
            let ended_at_item_end = inner_cursor.mark() == start + 1;
            let text = inner_cursor.span_since(start);
            columns.push(match simple {
                Some(ident) if ended_at_item_end => ident,
                _ => self.src[text.start..text.end].to_owned(),
            });
            inner_cursor.eat_kind(TokenKind::Comma);
        }
        columns
    }

    /// Advances to the next comma at parenthesis depth 0 (not consuming it) or the end.
    pub fn skip_until_comma(&mut self) {
        while let Some(t) = self.peek() {
            match t.kind {
                TokenKind::Comma => return,
                TokenKind::LParen => {
                    self.skip_group();
                }
                _ => self.pos += 1,
            }
        }
    }

    /// Advances while the current token is not one of `stops` at depth 0; returns the span covered.
    pub fn skip_until_word(&mut self, stops: &[&str]) -> Span {
        let start = self.mark();
        while let Some(t) = self.peek() {
            let at_stop = t.kind == TokenKind::Word && stops.iter().any(|s| t.is_word(self.src, s));
            if at_stop || matches!(t.kind, TokenKind::Comma | TokenKind::RParen) {
                break;
            }
            if t.kind == TokenKind::LParen {
                self.skip_group();
            } else {
                self.pos += 1;
            }
        }
        self.span_since(start)
    }

    /// Remaining tokens (from the cursor) as a slice.
    pub fn rest(&self) -> &[Token] {
        &self.toks[self.pos.min(self.toks.len())..]
    }
}

fn is_ident_token(t: Token) -> bool {
    matches!(
        t.kind,
        TokenKind::Word | TokenKind::QuotedIdent | TokenKind::PsqlVar
    )
}

pub fn unquote_ident(text: &str) -> String {
    let inner = text.strip_prefix("U&").unwrap_or(text);
    inner.trim_matches('"').replace("\"\"", "\"")
}

/// The value of a string literal token (`'a''b'` → `a'b`), or a word/number as written.
pub fn literal_value(src: &str, t: Token) -> String {
    let text = t.text(src);
    match t.kind {
        TokenKind::String => {
            let body = text.trim_start_matches(['E', 'e']);
            body.strip_prefix('\'')
                .and_then(|b| b.strip_suffix('\''))
                .unwrap_or(body)
                .replace("''", "'")
        }
        _ => text.to_owned(),
    }
}
