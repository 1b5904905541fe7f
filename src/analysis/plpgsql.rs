//! SQL statements inside a PL/pgSQL `DO` body. The body runs at migration time, so an
//! `ALTER TABLE` inside `IF NOT EXISTS (...) THEN ... END IF` locks like any other.
//! Control flow is stripped; `EXECUTE 'literal'` contributes the literal's SQL.

use crate::source::Span;
use crate::source::lex::{Lexer, TokenKind};
use crate::source::split::split;

/// Spans (in `src` offsets) of the SQL statements inside the body at `body`.
pub fn statements(src: &str, body: Span) -> Vec<Span> {
    let text = &src[body.start..body.end];
    split(text, &[])
        .statements
        .iter()
        .filter_map(|s| {
            strip_control(
                src,
                Span::new(s.span.start + body.start, s.span.end + body.start),
            )
        })
        .collect()
}

/// Skips PL/pgSQL control words in front of a statement.
fn strip_control(src: &str, span: Span) -> Option<Span> {
    let tokens: Vec<_> = Lexer::new(&src[..span.end], span.start)
        .filter(|t| !t.is_trivia() && t.kind != TokenKind::Semicolon)
        .collect();
    let word = |i: usize, w: &str| tokens.get(i).is_some_and(|t| t.is_word(src, w));
    let mut i = 0;
    loop {
        if word(i, "declare") {
            // declarations run up to BEGIN; a declaration piece has no statement in it
            match (i..tokens.len()).find(|&j| word(j, "begin")) {
                Some(j) => i = j,
                None => return None,
            }
        } else if word(i, "begin") || word(i, "then") || word(i, "else") || word(i, "loop") {
            i += 1;
        } else if word(i, "exception")
            || word(i, "if")
            || word(i, "elsif")
            || word(i, "when")
            || word(i, "while")
        {
            let until = (i..tokens.len()).find(|&j| word(j, "then") || word(j, "loop"))?;
            i = until + 1;
        } else if word(i, "end") {
            i += if word(i + 1, "if") || word(i + 1, "loop") || word(i + 1, "case") {
                2
            } else {
                1
            };
        } else {
            break;
        }
    }
    let first = tokens.get(i)?;
    if first.is_word(src, "execute") {
        let literal = tokens.get(i + 1).filter(|t| t.kind == TokenKind::String)?;
        return Some(Span::new(
            literal.span.start + 1,
            literal.span.end.saturating_sub(1),
        ));
    }
    let is_plpgsql = [
        "perform", "raise", "return", "null", "get", "assert", "exit", "continue",
    ]
    .iter()
    .any(|w| first.is_word(src, w))
        || tokens.get(i + 1).is_some_and(|t| t.text(src) == ":=");
    (!is_plpgsql).then(|| Span::new(first.span.start, span.end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(body: &str) -> Vec<String> {
        statements(body, Span::new(0, body.len()))
            .into_iter()
            .map(|s| body[s.start..s.end].trim_end_matches(';').to_owned())
            .collect()
    }

    #[test]
    fn finds_ddl_inside_if_blocks() {
        let body = "BEGIN IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'i') THEN \
                    CREATE INDEX i ON t (a); END IF; END";
        assert_eq!(texts(body), vec!["CREATE INDEX i ON t (a)"]);
    }

    #[test]
    fn reads_execute_literals_and_skips_plpgsql() {
        let body =
            "DECLARE n int; BEGIN n := 1; PERFORM f(); EXECUTE 'ALTER TABLE t DROP COLUMN c'; END";
        assert_eq!(texts(body), vec!["ALTER TABLE t DROP COLUMN c"]);
    }
}
