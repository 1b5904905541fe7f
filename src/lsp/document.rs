//! Open buffers: their text as the editor has it, kept in step with incremental changes.

use std::path::PathBuf;

use lsp_types::{TextDocumentContentChangeEvent, Url};

use super::position::{Encoding, PositionMap};

#[derive(Debug)]
pub struct Document {
    pub uri: Url,
    /// `None` for buffers that are no file (e.g. `untitled:`): they are checked alone.
    pub path: Option<PathBuf>,
    pub text: String,
    pub version: i32,
}

impl Document {
    pub fn new(uri: Url, text: String, version: i32) -> Document {
        let path = (uri.scheme() == "file")
            .then(|| uri.to_file_path().ok())
            .flatten();
        Document {
            uri,
            path,
            text,
            version,
        }
    }

    /// The path it is checked (and reported) under.
    pub fn lint_path(&self) -> PathBuf {
        self.path
            .clone()
            .unwrap_or_else(|| PathBuf::from(self.uri.as_str()))
    }

    /// Applies the changes in order: each range is in the text as the previous one left it;
    /// a change without a range replaces the whole text.
    pub fn apply(
        &mut self,
        changes: Vec<TextDocumentContentChangeEvent>,
        version: i32,
        encoding: Encoding,
    ) {
        for change in changes {
            match change.range {
                Some(range) => {
                    let map = PositionMap::new(&self.text, encoding);
                    let start = map.offset(range.start);
                    let end = map.offset(range.end).max(start);
                    self.text.replace_range(start..end, &change.text);
                }
                None => self.text = change.text,
            }
        }
        self.version = version;
    }
}

/// Whether pgrisk checks a buffer: SQL by the client's language id or by the file name.
pub fn is_sql(language_id: &str, uri: &Url) -> bool {
    matches!(language_id, "sql" | "pgsql" | "postgres" | "postgresql")
        || uri
            .path()
            .rsplit_once('.')
            .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("sql"))
}

#[cfg(test)]
mod tests {
    use lsp_types::{Position, Range};

    use super::*;

    fn change(range: ((u32, u32), (u32, u32)), text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(
                Position::new(range.0.0, range.0.1),
                Position::new(range.1.0, range.1.1),
            )),
            range_length: None,
            text: text.to_owned(),
        }
    }

    #[test]
    fn range_edits_apply_in_order_in_utf16_units() {
        let uri = Url::parse("file:///m/0002.sql").unwrap();
        let mut doc = Document::new(uri, "SELECT '😀';\nSELECT 2;\n".into(), 1);
        // after the emoji (two UTF-16 units from column 8), then on the next line
        doc.apply(
            vec![
                change(((0, 10), (0, 10)), "é"),
                change(((1, 7), (1, 8)), "3"),
            ],
            2,
            Encoding::Utf16,
        );
        assert_eq!(doc.text, "SELECT '😀é';\nSELECT 3;\n");
        assert_eq!(doc.version, 2);
        assert_eq!(
            doc.path.as_deref(),
            Some(std::path::Path::new("/m/0002.sql"))
        );
    }

    #[test]
    fn sql_is_told_by_language_or_extension() {
        let sql = Url::parse("file:///m/0001.SQL").unwrap();
        let md = Url::parse("file:///m/notes.md").unwrap();
        assert!(is_sql("", &sql));
        assert!(is_sql("sql", &md));
        assert!(!is_sql("markdown", &md));
    }
}
