//! A PostgreSQL-aware lexer that never fails: every byte of the input ends up in
//! some token or in skipped whitespace. The splitter uses it to find statement
//! boundaries and the analysis uses it to read statements sqlparser rejects, so
//! both agree on spans to the byte.

use super::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Keyword or unquoted identifier (may contain `$` after the first char).
    Word,
    /// `"ident"` or `U&"ident"`.
    QuotedIdent,
    /// `'...'`, `E'...'`, `B'...'`, `X'...'`, `N'...'`, `U&'...'`.
    String,
    /// `$$...$$` or `$tag$...$tag$`.
    DollarString,
    Number,
    /// `$1` positional parameter.
    Param,
    /// psql variable interpolation: `:name`, `:'name'`, `:"name"`.
    PsqlVar,
    LineComment,
    BlockComment,
    /// A backslash meta-command (`\set x 1`) up to the end of the line.
    Meta,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Semicolon,
    Dot,
    /// Operators and any other punctuation, `::` included.
    Op,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
    /// A quote, dollar quote or block comment that reached the end of input.
    pub unterminated: bool,
}

impl Token {
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        &src[self.span.start..self.span.end]
    }

    pub fn is_trivia(&self) -> bool {
        matches!(self.kind, TokenKind::LineComment | TokenKind::BlockComment)
    }

    /// Case-insensitive keyword test for unquoted words.
    pub fn is_word(&self, src: &str, word: &str) -> bool {
        self.kind == TokenKind::Word && self.text(src).eq_ignore_ascii_case(word)
    }
}

pub struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str, start: usize) -> Self {
        Lexer {
            src,
            bytes: src.as_bytes(),
            pos: start,
        }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    /// Moves the cursor (used by the splitter to skip `COPY ... FROM stdin` data).
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos.min(self.bytes.len());
    }

    fn peek(&self, offset: usize) -> u8 {
        *self.bytes.get(self.pos + offset).unwrap_or(&0)
    }

    fn token(&mut self, kind: TokenKind, start: usize, unterminated: bool) -> Token {
        Token {
            kind,
            span: Span::new(start, self.pos),
            unterminated,
        }
    }

    /// Scans a quoted run closed by `quote`, where a doubled quote is an escaped one and,
    /// with `backslash`, `\x` escapes any byte. Returns whether it was terminated.
    fn scan_quoted(&mut self, quote: u8, backslash: bool) -> bool {
        self.pos += 1;
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            if backslash && b == b'\\' {
                self.pos += 2;
            } else if b == quote {
                if self.peek(1) == quote {
                    self.pos += 2;
                } else {
                    self.pos += 1;
                    return true;
                }
            } else {
                self.pos += 1;
            }
        }
        self.pos = self.bytes.len();
        false
    }

    fn scan_block_comment(&mut self) -> bool {
        let mut depth = 0usize;
        while self.pos < self.bytes.len() {
            if self.bytes[self.pos] == b'/' && self.peek(1) == b'*' {
                depth += 1;
                self.pos += 2;
            } else if self.bytes[self.pos] == b'*' && self.peek(1) == b'/' {
                depth -= 1;
                self.pos += 2;
                if depth == 0 {
                    return true;
                }
            } else {
                self.pos += 1;
            }
        }
        false
    }

    fn scan_to_eol(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
            self.pos += 1;
        }
    }

    /// `$tag$` opening at `self.pos`, if there is one: returns the tag's length in bytes.
    fn dollar_tag_len(&self) -> Option<usize> {
        let rest = &self.bytes[self.pos + 1..];
        if rest.first() == Some(&b'$') {
            return Some(2);
        }
        let first = *rest.first()?;
        if !(is_ident_start(first)) {
            return None;
        }
        let n = rest
            .iter()
            .take_while(|&&b| is_ident_char(b) && b != b'$')
            .count();
        (rest.get(n) == Some(&b'$')).then_some(n + 2)
    }

    fn scan_dollar_string(&mut self, tag_len: usize) -> bool {
        let tag = &self.src[self.pos..self.pos + tag_len];
        self.pos += tag_len;
        match self.src[self.pos..].find(tag) {
            Some(i) => {
                self.pos += i + tag_len;
                true
            }
            None => {
                self.pos = self.bytes.len();
                false
            }
        }
    }

    fn scan_word(&mut self) {
        while self.pos < self.bytes.len() && is_ident_char(self.bytes[self.pos]) {
            self.pos += 1;
        }
    }

    fn scan_number(&mut self) {
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            let exponent_sign =
                (b == b'+' || b == b'-') && matches!(self.bytes[self.pos - 1], b'e' | b'E');
            let decimal_point = b == b'.' && self.peek(1) != b'.';
            if b.is_ascii_alphanumeric() || b == b'_' || exponent_sign || decimal_point {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// psql `:name`, `:'name'` or `:"name"` at `self.pos` (not a `::` cast).
    fn psql_var_len(&self) -> Option<usize> {
        if self.pos > 0 && self.bytes[self.pos - 1] == b':' {
            return None;
        }
        let rest = &self.bytes[self.pos + 1..];
        match rest.first()? {
            b'\'' | b'"' => {
                let quote = rest[0];
                let n = rest[1..].iter().take_while(|&&b| is_ident_char(b)).count();
                (n > 0 && rest.get(n + 1) == Some(&quote)).then_some(n + 3)
            }
            &b if is_ident_start(b) => {
                Some(1 + rest.iter().take_while(|&&b| is_ident_char(b)).count())
            }
            _ => None,
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        loop {
            if self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            } else if self.src[self.pos..].starts_with('\u{feff}') {
                // a byte-order mark (editors on Windows write one) is not part of the SQL
                self.pos += '\u{feff}'.len_utf8();
            } else {
                break;
            }
        }
        if self.pos >= self.bytes.len() {
            return None;
        }
        let start = self.pos;
        let b = self.bytes[self.pos];
        let prefixed_quote = |q: u8| self.peek(1) == q;
        let single = |kind| (kind, 1usize);
        let (kind, len) = match b {
            b'-' if self.peek(1) == b'-' => {
                self.scan_to_eol();
                return Some(self.token(TokenKind::LineComment, start, false));
            }
            b'/' if self.peek(1) == b'*' => {
                let closed = self.scan_block_comment();
                return Some(self.token(TokenKind::BlockComment, start, !closed));
            }
            b'\\' => {
                self.scan_to_eol();
                return Some(self.token(TokenKind::Meta, start, false));
            }
            b'\'' => {
                let closed = self.scan_quoted(b'\'', false);
                return Some(self.token(TokenKind::String, start, !closed));
            }
            b'"' => {
                let closed = self.scan_quoted(b'"', false);
                return Some(self.token(TokenKind::QuotedIdent, start, !closed));
            }
            b'e' | b'E' if prefixed_quote(b'\'') => {
                self.pos += 1;
                let closed = self.scan_quoted(b'\'', true);
                return Some(self.token(TokenKind::String, start, !closed));
            }
            b'b' | b'B' | b'x' | b'X' | b'n' | b'N' if prefixed_quote(b'\'') => {
                self.pos += 1;
                let closed = self.scan_quoted(b'\'', false);
                return Some(self.token(TokenKind::String, start, !closed));
            }
            b'u' | b'U' if self.peek(1) == b'&' && matches!(self.peek(2), b'\'' | b'"') => {
                let quote = self.peek(2);
                self.pos += 2;
                let closed = self.scan_quoted(quote, false);
                let kind = if quote == b'"' {
                    TokenKind::QuotedIdent
                } else {
                    TokenKind::String
                };
                return Some(self.token(kind, start, !closed));
            }
            b'$' => {
                if let Some(tag_len) = self.dollar_tag_len() {
                    let closed = self.scan_dollar_string(tag_len);
                    return Some(self.token(TokenKind::DollarString, start, !closed));
                }
                self.pos += 1;
                while self.peek(0).is_ascii_digit() {
                    self.pos += 1;
                }
                return Some(self.token(TokenKind::Param, start, false));
            }
            b':' if self.peek(1) != b':' && self.psql_var_len().is_some() => {
                (TokenKind::PsqlVar, self.psql_var_len().unwrap_or(1))
            }
            b'0'..=b'9' => {
                self.scan_number();
                return Some(self.token(TokenKind::Number, start, false));
            }
            b'.' if self.peek(1).is_ascii_digit() => {
                self.pos += 1;
                self.scan_number();
                return Some(self.token(TokenKind::Number, start, false));
            }
            b if is_ident_start(b) => {
                self.scan_word();
                return Some(self.token(TokenKind::Word, start, false));
            }
            b'(' => single(TokenKind::LParen),
            b')' => single(TokenKind::RParen),
            b'[' => single(TokenKind::LBracket),
            b']' => single(TokenKind::RBracket),
            b',' => single(TokenKind::Comma),
            b';' => single(TokenKind::Semicolon),
            b'.' => single(TokenKind::Dot),
            _ if is_op_char(b) => {
                let n = self.bytes[self.pos..]
                    .iter()
                    .enumerate()
                    // `--` and `/*` inside an operator start a comment instead
                    .take_while(|&(i, &c)| {
                        is_op_char(c) && !(i > 0 && self.comment_starts_at(self.pos + i))
                    })
                    .count();
                (TokenKind::Op, n.max(1))
            }
            _ => {
                // any other byte, including the start of a non-ASCII char outside a word
                let width = self.src[self.pos..]
                    .chars()
                    .next()
                    .map_or(1, char::len_utf8);
                (TokenKind::Op, width)
            }
        };
        self.pos += len;
        Some(self.token(kind, start, false))
    }
}

impl Lexer<'_> {
    fn comment_starts_at(&self, at: usize) -> bool {
        matches!(
            (self.bytes.get(at), self.bytes.get(at + 1)),
            (Some(b'-'), Some(b'-')) | (Some(b'/'), Some(b'*'))
        )
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn is_op_char(b: u8) -> bool {
    b"+-*/<>=~!@#%^&|`?:".contains(&b)
}

/// All non-comment tokens of `text`.
pub fn tokens(text: &str) -> Vec<Token> {
    Lexer::new(text, 0).filter(|t| !t.is_trivia()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(TokenKind, &str)> {
        Lexer::new(src, 0).map(|t| (t.kind, t.text(src))).collect()
    }

    #[test]
    fn lexes_strings_with_doubled_quotes_and_escapes() {
        let src = r"'it''s' E'a\'b' x";
        assert_eq!(
            kinds(src),
            vec![
                (TokenKind::String, "'it''s'"),
                (TokenKind::String, r"E'a\'b'"),
                (TokenKind::Word, "x"),
            ]
        );
    }

    #[test]
    fn lexes_dollar_quotes_with_tags_and_params() {
        let src = "$fn$ a $$ b $fn$ $1 a$b";
        assert_eq!(
            kinds(src),
            vec![
                (TokenKind::DollarString, "$fn$ a $$ b $fn$"),
                (TokenKind::Param, "$1"),
                (TokenKind::Word, "a$b"),
            ]
        );
    }

    #[test]
    fn nested_block_comments_end_at_the_matching_close() {
        let src = "/* a /* b */ c */ d";
        assert_eq!(
            kinds(src)[0],
            (TokenKind::BlockComment, "/* a /* b */ c */")
        );
        assert_eq!(kinds(src)[1], (TokenKind::Word, "d"));
    }

    #[test]
    fn casts_are_not_psql_variables() {
        let src = "x::int :v :'v' :\"v\"";
        let k = kinds(src);
        assert_eq!(k[1], (TokenKind::Op, "::"));
        assert_eq!(k[3], (TokenKind::PsqlVar, ":v"));
        assert_eq!(k[4], (TokenKind::PsqlVar, ":'v'"));
        assert_eq!(k[5], (TokenKind::PsqlVar, ":\"v\""));
    }

    #[test]
    fn unterminated_quotes_run_to_the_end_and_say_so() {
        let toks: Vec<_> = Lexer::new("select 'abc", 0).collect();
        assert!(toks[1].unterminated);
        let toks: Vec<_> = Lexer::new("$$ body", 0).collect();
        assert!(toks[0].unterminated);
    }

    #[test]
    fn operator_followed_by_comment_splits() {
        let k = kinds("a =-- c\nb");
        assert_eq!(k[1], (TokenKind::Op, "="));
        assert_eq!(k[2].0, TokenKind::LineComment);
    }
}
