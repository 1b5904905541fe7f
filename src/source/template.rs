//! Templated migrations: Go templates `{{ ... }}` and Flyway `${placeholder}` are replaced by
//! neutral text of the same byte length before splitting, psql variables `:var`, `:'var'`,
//! `:"var"` before a statement goes to sqlparser; every span still points into the file.

use std::borrow::Cow;

use super::lex::{Lexer, TokenKind};

/// Go template actions that only steer the template and produce no SQL text.
const GO_CONTROL_WORDS: &[&str] = &[
    "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
];

/// Returns the text with Go templates and Flyway placeholders neutralized; `None` when
/// there are none. These are expanded before any SQL exists, so they are replaced anywhere.
pub fn neutralize(text: &str) -> Option<String> {
    if !text.contains("{{") && !text.contains("${") {
        return None;
    }
    let mut bytes = text.as_bytes().to_vec();
    let mut changed = replace_delimited(text, &mut bytes, "{{", "}}", go_replacement);
    changed |= replace_delimited(text, &mut bytes, "${", "}", |_| b'_');
    // every replacement wrote ASCII over whole constructs, so the result stays UTF-8
    changed.then(|| String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned()))
}

/// psql variables (`:var`, `:'var'`, `:"var"`), interpolated only outside quotes, become an
/// identifier, a string or a quoted identifier of the same length. The token reader takes
/// them as names already; this is for the text handed to sqlparser.
pub fn neutralize_psql_variables(statement: &str) -> Cow<'_, str> {
    let vars: Vec<_> = Lexer::new(statement, 0)
        .filter(|t| t.kind == TokenKind::PsqlVar)
        .collect();
    if vars.is_empty() {
        return Cow::Borrowed(statement);
    }
    let mut bytes = statement.as_bytes().to_vec();
    for token in vars {
        let span = &mut bytes[token.span.start..token.span.end];
        let quote = matches!(span[1], b'\'' | b'"').then_some(span[1]);
        span.fill(b'x');
        let last = span.len() - 1;
        match quote {
            Some(q) => (span[0], span[last]) = (q, q),
            None => span[0] = b'_',
        }
    }
    Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|_| statement.to_owned()))
}

/// A value action becomes an identifier (`_____`); a control action becomes blanks.
fn go_replacement(inner: &str) -> u8 {
    let word = inner
        .trim_start_matches('-')
        .trim()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or("");
    let is_comment = inner.trim_start_matches('-').trim_start().starts_with("/*");
    if is_comment || GO_CONTROL_WORDS.contains(&word) {
        b' '
    } else {
        b'_'
    }
}

fn replace_delimited(
    text: &str,
    bytes: &mut [u8],
    open: &str,
    close: &str,
    fill_for: impl Fn(&str) -> u8,
) -> bool {
    let mut changed = false;
    let mut from = 0;
    while let Some(start) = text[from..].find(open).map(|i| from + i) {
        let body_start = start + open.len();
        let Some(end) = text[body_start..]
            .find(close)
            .map(|i| body_start + i + close.len())
        else {
            break;
        };
        let inner = &text[body_start..end - close.len()];
        if inner.contains('\n') && open == "${" {
            // `${` then a newline is not a Flyway placeholder (e.g. JS in a plv8 body)
            from = body_start;
            continue;
        }
        let fill = fill_for(inner);
        // keep line breaks so line numbers stay right
        for b in bytes[start..end].iter_mut().filter(|b| **b != b'\n') {
            *b = fill;
        }
        changed = true;
        from = end;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_value_becomes_identifier_of_same_length() {
        let src = "CREATE INDEX i ON {{ .Schema }}.users (id);";
        let out = neutralize(src).unwrap();
        assert_eq!(out.len(), src.len());
        assert_eq!(out, "CREATE INDEX i ON _____________.users (id);");
    }

    #[test]
    fn go_control_actions_become_blanks() {
        let out = neutralize("{{ if .Prod }}\nSELECT 1;\n{{ end }}").unwrap();
        assert_eq!(out, "              \nSELECT 1;\n         ");
    }

    #[test]
    fn flyway_placeholder_is_neutralized() {
        let src = "ALTER TABLE ${schema}.orders ADD COLUMN x int;";
        let out = neutralize(src).unwrap();
        assert_eq!(out, "ALTER TABLE _________.orders ADD COLUMN x int;");
    }

    #[test]
    fn psql_variables_keep_their_kind() {
        let src = "SELECT :v, :'name', :\"tbl\", x::int, ':kept';";
        let out = neutralize_psql_variables(src);
        assert_eq!(out, "SELECT _x, 'xxxxx', \"xxxx\", x::int, ':kept';");
    }

    #[test]
    fn plain_sql_is_left_alone() {
        assert!(neutralize("SELECT a::text FROM t WHERE b = :v;").is_none());
        assert!(matches!(
            neutralize_psql_variables("SELECT a::text;"),
            Cow::Borrowed(_)
        ));
    }
}
