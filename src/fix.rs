//! Stage 6, for `lint --fix`: applies the safe fixes of a report to a file's text, shows
//! them as a unified diff, and writes the result back only if the file is still as read.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, TextEdit};
use crate::rules::Applicability;
use crate::source::Span;

/// One file's text with its safe fixes applied.
#[derive(Debug)]
pub struct Fixed<'a> {
    pub text: String,
    /// How many fixes were applied.
    pub applied: usize,
    /// Safe fixes left out because an edit overlaps one of a fix applied before it (in
    /// text order); a second `--fix` run may apply them.
    pub skipped: Vec<&'a Diagnostic>,
}

/// Two edits conflict when their spans overlap, or when both start at the same offset (two
/// insertions there would have no defined order).
fn conflict(a: Span, b: Span) -> bool {
    a.start == b.start || (a.start < b.end && b.start < a.end)
}

/// Applies the safe fixes among `diagnostics` (all of one file) to `text`. Fixes are taken
/// in the order of their first edit; a fix is applied whole or not at all, and one that
/// conflicts with a fix already taken is skipped.
pub fn apply<'a>(text: &str, diagnostics: impl IntoIterator<Item = &'a Diagnostic>) -> Fixed<'a> {
    let mut fixes: Vec<(&Diagnostic, &[TextEdit])> = diagnostics
        .into_iter()
        .filter_map(|d| {
            let fix = d.fix.as_ref()?;
            (fix.applicability == Applicability::Safe && !fix.edits.is_empty())
                .then_some((d, fix.edits.as_slice()))
        })
        .collect();
    fixes.sort_by_key(|(_, edits)| edits.iter().map(|e| e.span.start).min());
    let mut taken: Vec<&TextEdit> = Vec::new();
    let mut skipped = Vec::new();
    let mut applied = 0;
    for (diagnostic, edits) in fixes {
        let fits = edits.iter().all(|e| {
            e.span.end <= text.len()
                && text.is_char_boundary(e.span.start)
                && text.is_char_boundary(e.span.end)
                && taken.iter().all(|t| !conflict(t.span, e.span))
        });
        if fits {
            taken.extend(edits);
            applied += 1;
        } else {
            skipped.push(diagnostic);
        }
    }
    taken.sort_by_key(|e| e.span.start);
    let mut out =
        String::with_capacity(text.len() + taken.iter().map(|e| e.insert.len()).sum::<usize>());
    let mut copied = 0;
    for edit in taken {
        out.push_str(&text[copied..edit.span.start]);
        out.push_str(&edit.insert);
        copied = edit.span.end;
    }
    out.push_str(&text[copied..]);
    Fixed {
        text: out,
        applied,
        skipped,
    }
}

/// The change from `old` to `new` as a unified diff with `a/<path>` and `b/<path>` headers
/// (what `git apply` and `patch -p1` read).
pub fn unified_diff(path: &Path, old: &str, new: &str) -> String {
    let path = path.strip_prefix("./").unwrap_or(path).display();
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{}: changed on disk since pgrisk read it; not fixed (run again)", .0.display())]
    Changed(PathBuf),
    #[error("{}: not valid UTF-8; pgrisk does not rewrite it", .0.display())]
    NotUtf8(PathBuf),
    #[error("{}: cannot write the fixes: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
}

/// Checks that the file at `path` still holds exactly `as_read`.
pub fn unchanged_since_read(path: &Path, as_read: &str) -> Result<(), WriteError> {
    let io_error = |error| WriteError::Io {
        path: path.to_path_buf(),
        error,
    };
    let now = fs::read(path).map_err(io_error)?;
    if now == as_read.as_bytes() {
        return Ok(());
    }
    if std::str::from_utf8(&now).is_err() {
        return Err(WriteError::NotUtf8(path.to_path_buf()));
    }
    Err(WriteError::Changed(path.to_path_buf()))
}

/// Replaces the file at `path` by `new`, unless it no longer holds `as_read`. The text goes
/// to a temporary file in the same directory, with the original's permissions, which is then
/// renamed over the original (through symlinks): readers see the old or the new file, never
/// half of one.
pub fn write_if_unchanged(path: &Path, as_read: &str, new: &str) -> Result<(), WriteError> {
    let io_error = |error| WriteError::Io {
        path: path.to_path_buf(),
        error,
    };
    let target = fs::canonicalize(path).map_err(io_error)?;
    let permissions = fs::metadata(&target).map_err(io_error)?.permissions();
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(io_error)?;
    temp.write_all(new.as_bytes()).map_err(io_error)?;
    temp.as_file()
        .set_permissions(permissions)
        .map_err(io_error)?;
    temp.as_file().sync_all().map_err(io_error)?;
    // compared as late as possible: whatever changed the file meanwhile wins
    unchanged_since_read(path, as_read)?;
    temp.persist(&target).map_err(|e| io_error(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::DiagnosticFix;
    use crate::rules::{Category, Severity};
    use crate::source::Position;

    fn diagnostic(applicability: Applicability, edits: &[(usize, usize, &str)]) -> Diagnostic {
        let at = Position { line: 1, column: 1 };
        Diagnostic {
            rule: "create-index-blocking",
            severity: Severity::Error,
            category: Category::Locking,
            file: Some(0),
            span: Span::default(),
            start: Some(at),
            end: Some(at),
            message: String::new(),
            help: None,
            object: None,
            lock: None,
            evidence: Default::default(),
            fix: Some(DiagnosticFix {
                title: "t".into(),
                applicability,
                edits: edits
                    .iter()
                    .map(|(start, end, insert)| TextEdit {
                        span: Span::new(*start, *end),
                        start: at,
                        end: at,
                        insert: (*insert).to_owned(),
                    })
                    .collect(),
            }),
        }
    }

    #[test]
    fn applies_safe_edits_in_text_order_and_skips_overlaps() {
        let text = "CREATE INDEX i ON t (a);";
        let later = diagnostic(Applicability::Safe, &[(24, 24, "\nSELECT 1;")]);
        let first = diagnostic(Applicability::Safe, &[(12, 12, " CONCURRENTLY")]);
        let same_point = diagnostic(Applicability::Safe, &[(12, 12, " IF NOT EXISTS")]);
        let suggestion = diagnostic(Applicability::Suggestion, &[(0, 0, "BEGIN; ")]);
        let fixed = apply(text, [&later, &first, &same_point, &suggestion]);
        assert_eq!(
            fixed.text,
            "CREATE INDEX CONCURRENTLY i ON t (a);\nSELECT 1;"
        );
        assert_eq!(fixed.applied, 2);
        assert_eq!(fixed.skipped.len(), 1);
        assert!(std::ptr::eq(fixed.skipped[0], &same_point));
    }

    #[test]
    fn a_fix_is_applied_whole_or_not_at_all() {
        let text = "ALTER TABLE t ADD CHECK (a > 0);";
        let replace = diagnostic(Applicability::Safe, &[(18, 31, "CHECK (a >= 0)")]);
        // its first edit falls inside the replaced span, so its second is not applied either
        let both = diagnostic(Applicability::Safe, &[(20, 20, "!"), (32, 32, "\n")]);
        let fixed = apply(text, [&replace, &both]);
        assert_eq!(fixed.text, "ALTER TABLE t ADD CHECK (a >= 0);");
        assert_eq!((fixed.applied, fixed.skipped.len()), (1, 1));
    }

    #[test]
    fn diff_has_git_headers() {
        let diff = unified_diff(Path::new("m/1.sql"), "a;\nb;\n", "a;\nc;\n");
        assert!(diff.starts_with("--- a/m/1.sql\n+++ b/m/1.sql\n"), "{diff}");
        assert!(diff.contains("-b;\n+c;\n"), "{diff}");
    }

    #[test]
    fn writes_atomically_keeping_permissions_and_refuses_a_changed_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.sql");
        fs::write(&path, "SELECT 1;\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_if_unchanged(&path, "SELECT 1;\n", "SELECT 2;\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "SELECT 2;\n");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        // someone edits the file after pgrisk read "SELECT 2;"
        fs::write(&path, "SELECT 3;\n").unwrap();
        let refused = write_if_unchanged(&path, "SELECT 2;\n", "SELECT 4;\n");
        assert!(
            matches!(refused, Err(WriteError::Changed(_))),
            "{refused:?}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "SELECT 3;\n");
        // nothing is left behind in the directory
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        fs::write(&path, b"SELECT '\xff';\n").unwrap();
        let lossy = String::from_utf8_lossy(b"SELECT '\xff';\n").into_owned();
        let refused = write_if_unchanged(&path, &lossy, "SELECT 5;\n");
        assert!(
            matches!(refused, Err(WriteError::NotUtf8(_))),
            "{refused:?}"
        );
    }
}
