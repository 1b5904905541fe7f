//! Stage 1: files → statements with byte spans.
//!
//! `discover` finds and orders migration files and decides how their runner wraps them
//! in transactions; `split` cuts each file into statements; `template` neutralizes
//! templating so the text parses; `suppress` reads `-- pgrisk-ignore` comments. The
//! result, [`SourceFile`], owns the original text: every later stage points into it.

pub mod changes;
pub mod discover;
pub mod foreign_ignores;
pub mod git;
pub mod lex;
pub mod split;
pub mod suppress;
pub mod template;

use std::path::PathBuf;

pub use discover::{Framework, MigrationFile, TxMode};
pub use split::RawKind;
pub use suppress::Suppression;

/// A byte range in a file's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The empty span at this span's start (where an insertion goes).
    pub fn start_point(self) -> Span {
        Span::new(self.start, self.start)
    }

    /// The empty span at this span's end (where an insertion goes).
    pub fn end_point(self) -> Span {
        Span::new(self.end, self.end)
    }

    pub fn cover(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// 1-based line and column (column counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Byte offset → line/column, built once per file.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { line_starts }
    }

    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let line_start = self.line_starts[line];
        let column = text
            .get(line_start..offset)
            .map_or(offset - line_start, |s| s.chars().count())
            + 1;
        Position {
            line: line + 1,
            column,
        }
    }

    /// Byte offset of a 1-based line's start.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line.checked_sub(1)?).copied()
    }
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub span: Span,
    pub kind: RawKind,
    pub unterminated: bool,
    pub copy_data: Option<Span>,
    /// Its tokens in [`SourceFile::tokens`].
    pub tokens: std::ops::Range<usize>,
}

/// One migration file, split and ready for analysis.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    /// The file exactly as read: diagnostics and snippets show this.
    pub text: String,
    /// Same byte length as `text`, with templates neutralized and the "down" part blanked,
    /// when that changed anything (see [`SourceFile::sql`]).
    rewritten: Option<String>,
    pub lines: LineIndex,
    pub framework: Framework,
    pub tx: TxMode,
    pub tx_reason: String,
    pub statements: Vec<Statement>,
    /// The statements' tokens, lexed once by the splitter (taken by `analysis::prepare`).
    pub tokens: Vec<lex::Token>,
    pub suppressions: Vec<Suppression>,
}

impl SourceFile {
    pub fn load(file: MigrationFile) -> SourceFile {
        let mut rewritten = template::neutralize(&file.text);
        if !covers_all(&file.up, file.text.len()) {
            let sql = rewritten.get_or_insert_with(|| file.text.clone());
            blank_outside(sql, &file.up);
        }
        let sql = rewritten.as_deref().unwrap_or(&file.text);
        let split = split::split(sql, &file.statement_blocks);
        let statements: Vec<Statement> = split
            .statements
            .into_iter()
            .map(|s| Statement {
                span: s.span,
                kind: s.kind,
                unterminated: s.unterminated,
                copy_data: s.copy_data,
                tokens: s.tokens,
            })
            .collect();
        let suppressions = suppress::collect(sql, &split.comments, &statements);
        SourceFile {
            path: file.path,
            lines: LineIndex::new(&file.text),
            text: file.text,
            rewritten,
            framework: file.framework,
            tx: file.tx,
            tx_reason: file.tx_reason,
            statements,
            tokens: split.tokens,
            suppressions,
        }
    }

    /// The text later stages read: `text` with templates neutralized and the "down" part
    /// blanked, byte for byte the same length, so every span points into `text` too.
    pub fn sql(&self) -> &str {
        self.rewritten.as_deref().unwrap_or(&self.text)
    }

    pub fn statement_sql(&self, statement: &Statement) -> &str {
        &self.sql()[statement.span.start..statement.span.end]
    }

    pub fn position(&self, offset: usize) -> Position {
        self.lines.position(&self.text, offset)
    }

    /// `message` with the neutral names that templates inside `within` became (`________`)
    /// put back as the user wrote them (`{{ .Schema }}`), since names in messages come from
    /// the neutralized text.
    pub fn as_written(&self, within: Span, message: &str) -> String {
        let Some(sql) = &self.rewritten else {
            return message.to_owned();
        };
        let end = within.end.min(sql.len());
        let templates: Vec<(&str, &str)> = (within.start..end)
            .filter(|&i| {
                let original = self.text.as_bytes().get(i..i + 2);
                matches!(original, Some(b"{{") | Some(b"${")) && sql.as_bytes()[i] == b'_'
            })
            .filter_map(|start| {
                let len = sql.as_bytes()[start..]
                    .iter()
                    .take_while(|&&b| b == b'_')
                    .count();
                Some((
                    sql.get(start..start + len)?,
                    self.text.get(start..start + len)?,
                ))
            })
            .collect();
        let mut restored = message.to_owned();
        for (neutral, original) in templates {
            restored = replace_whole_word(&restored, neutral, original);
        }
        restored
    }
}

/// `text` with each occurrence of `word` that is not part of a longer identifier replaced.
fn replace_whole_word(text: &str, word: &str, with: &str) -> String {
    let is_ident = |c: Option<char>| c.is_some_and(|c| c == '_' || c.is_alphanumeric());
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (at, _) in text.match_indices(word) {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if at >= rest && !is_ident(before) && !is_ident(after) {
            out.push_str(&text[rest..at]);
            out.push_str(with);
            rest = at + word.len();
        }
    }
    out.push_str(&text[rest..]);
    out
}

/// Replaces everything outside `keep` by spaces (newlines stay), so that the "down" part of
/// a two-way migration file is never analysed yet offsets still match the file.
fn covers_all(keep: &[std::ops::Range<usize>], len: usize) -> bool {
    keep.len() == 1 && keep[0] == (0..len)
}

fn blank_outside(sql: &mut String, keep: &[std::ops::Range<usize>]) {
    let mut bytes = std::mem::take(sql).into_bytes();
    let mut kept = vec![false; bytes.len()];
    for range in keep {
        let end = range.end.min(kept.len());
        let start = range.start.min(end);
        kept[start..end].iter_mut().for_each(|k| *k = true);
    }
    for (b, keep) in bytes.iter_mut().zip(kept) {
        if !keep && *b != b'\n' {
            // blank whole chars: continuation bytes become spaces too
            *b = b' ';
        }
    }
    *sql = String::from_utf8(bytes).unwrap_or_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "ab\nçé x";
        let index = LineIndex::new(text);
        assert_eq!(index.position(text, 0), Position { line: 1, column: 1 });
        let x = text.find('x').unwrap();
        assert_eq!(index.position(text, x), Position { line: 2, column: 4 });
    }

    #[test]
    fn down_part_is_blanked_but_offsets_hold() {
        let mut sql = "UP;\nDOWN;".to_string();
        blank_outside(&mut sql, std::slice::from_ref(&(0..4)));
        assert_eq!(sql, "UP;\n     ");
    }

    #[test]
    fn neutralized_names_are_shown_as_written() {
        let text = "ALTER TABLE ${schema}.a DROP COLUMN x;\nDROP TABLE {{ .Schema }}.b;";
        let file = SourceFile::load(discover::from_text(
            "t.sql".into(),
            text.to_owned(),
            &discover::DiscoverOptions::default(),
        ));
        let neutral_a = format!("{}.a", "_".repeat("${schema}".len()));
        let whole = Span::new(0, text.len());
        assert_eq!(
            file.as_written(whole, &format!("on `{neutral_a}`")),
            "on `${schema}.a`"
        );
        let first = Span::new(0, text.find('\n').unwrap());
        let neutral_b = format!("{}.b", "_".repeat("{{ .Schema }}".len()));
        // only templates inside the span count
        assert_eq!(file.as_written(first, &neutral_b), neutral_b);
        assert_eq!(file.as_written(whole, &neutral_b), "{{ .Schema }}.b");
    }
}
