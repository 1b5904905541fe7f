//! A buffer's findings: its migration set found as `pgrisk lint <dir>` finds it (same order,
//! same framework detection), open buffers in place of their files, and the migrations before
//! the buffer replayed as the existing database, so locking rules fire on their tables.

use std::path::{Path, PathBuf};

use lsp_types::{DiagnosticSeverity, DiagnosticTag, NumberOrString, Url};

use super::document::Document;
use super::position::{Encoding, PositionMap};
use crate::analysis::Mode;
use crate::commands::lint::{Input, check_files};
use crate::config::Settings;
use crate::diagnostic::{self, Diagnostic};
use crate::rules::Severity;
use crate::source::Span;
use crate::source::discover::{self, MigrationFile};

/// Which buffers are checked together: the files of one migration directory, or one buffer
/// that is no file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SetKey {
    Dir(PathBuf),
    Alone(Url),
}

impl SetKey {
    pub fn of(document: &Document) -> SetKey {
        match &document.path {
            Some(path) => SetKey::Dir(migration_dir(path)),
            None => SetKey::Alone(document.uri.clone()),
        }
    }

    pub fn dir(&self) -> Option<&Path> {
        match self {
            SetKey::Dir(dir) => Some(dir),
            SetKey::Alone(_) => None,
        }
    }
}

/// The directory whose migrations run with this file: its own, or for one-directory-per-
/// migration layouts (diesel `<version>_x/up.sql`, Prisma `<version>_x/migration.sql`) the
/// one above.
fn migration_dir(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase());
    let versioned = dir.file_name().is_some_and(|d| {
        d.to_string_lossy()
            .starts_with(|c: char| c.is_ascii_digit())
    });
    match (name.as_deref(), dir.parent()) {
        (Some("up.sql" | "migration.sql"), Some(above)) if versioned => above.to_owned(),
        _ => dir.to_owned(),
    }
}

/// One finding in a buffer, in byte offsets of the text it was found in.
#[derive(Debug, Clone)]
pub struct Flagged {
    pub rule: &'static str,
    pub span: Span,
    pub diagnostic: lsp_types::Diagnostic,
    pub fix: Option<ByteFix>,
}

#[derive(Debug, Clone)]
pub struct ByteFix {
    pub title: String,
    pub edits: Vec<(Span, String)>,
}

/// The fix of a report diagnostic (its one access point, so a change of its shape stays here).
/// A suggestion is offered too, since the user picks it, but its title says it is one.
fn fix_of(d: &Diagnostic) -> Option<(String, &[diagnostic::TextEdit])> {
    d.fix.as_ref().map(|fix| {
        let title = match fix.applicability {
            crate::rules::Applicability::Safe => fix.title.clone(),
            crate::rules::Applicability::Suggestion => {
                format!("{} (suggestion: review it)", fix.title)
            }
        };
        (title, fix.edits.as_slice())
    })
}

/// Checks each open buffer of a set: the files before it (open buffers in place of their
/// files) are its context, the existing database, and it runs with the files after it, as
/// `pgrisk lint --schema <earlier files> <it and later>` would. Returns each buffer's
/// findings, in the order given.
pub fn check_set(
    set: &SetKey,
    open: &[&Document],
    settings: &Settings,
    encoding: Encoding,
) -> Vec<Vec<Flagged>> {
    let options = settings.discover_options();
    let mut files = match set {
        // unreadable files and an empty directory leave the set to the open buffers
        SetKey::Dir(dir) => discover::discover(std::slice::from_ref(dir), &options).files,
        SetKey::Alone(_) => Vec::new(),
    };
    for document in open {
        let path = document.lint_path();
        let buffer = discover::from_text(path.clone(), document.text.clone(), &options);
        match files.iter_mut().find(|f| same_file(&f.path, &path)) {
            Some(file) => *file = buffer,
            // not on disk yet, or left out by `include`/`exclude`: the user opened it, so it
            // is checked, last in the set
            None => files.push(buffer),
        }
    }
    open.iter()
        .map(|document| {
            let path = document.lint_path();
            let Some(at) = files.iter().position(|f| same_file(&f.path, &path)) else {
                return Vec::new();
            };
            let report = check_files(
                Input {
                    context: files[..at].to_vec(),
                    files: files[at..].to_vec(),
                    mode: Mode::Migrations,
                    parse_all: false,
                },
                settings,
            );
            let map = PositionMap::new(&document.text, encoding);
            // the buffer is the first checked file
            report
                .diagnostics
                .iter()
                .filter(|d| d.file == Some(0))
                .map(|d| flagged(d, &map))
                .collect()
        })
        .collect()
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

fn flagged(d: &Diagnostic, map: &PositionMap) -> Flagged {
    let message = match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    };
    let diagnostic = lsp_types::Diagnostic {
        range: map.range(d.span.start, d.span.end),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Info => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(d.rule.to_owned())),
        source: Some("pgrisk".to_owned()),
        message,
        // editors grey out an ignore comment that silences nothing
        tags: (d.rule == crate::rules::migration::unused_ignore::RULE.name)
            .then(|| vec![DiagnosticTag::UNNECESSARY]),
        ..lsp_types::Diagnostic::default()
    };
    let fix = fix_of(d).map(|(title, edits)| ByteFix {
        title,
        edits: edits
            .iter()
            .map(|e| {
                let start = map.offset_of_column(e.start.line, e.start.column);
                let end = map.offset_of_column(e.end.line, e.end.column);
                (Span::new(start, end), e.insert.clone())
            })
            .collect(),
    });
    Flagged {
        rule: d.rule,
        span: d.span,
        diagnostic,
        fix,
    }
}

/// The buffer as its runner would read it (framework, "up" part), for placing comments.
pub fn as_migration(document: &Document, settings: &Settings) -> MigrationFile {
    discover::from_text(
        document.lint_path(),
        document.text.clone(),
        &settings.discover_options(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_directory_per_migration_layouts_use_the_directory_above() {
        let set = |p: &str| migration_dir(Path::new(p));
        assert_eq!(
            set("/db/migrations/0002_orders.sql"),
            Path::new("/db/migrations")
        );
        assert_eq!(
            set("/db/migrations/2024-01-01-120000_x/up.sql"),
            Path::new("/db/migrations")
        );
        assert_eq!(
            set("/p/migrations/20240101_init/migration.sql"),
            Path::new("/p/migrations")
        );
        assert_eq!(set("/p/sql/up.sql"), Path::new("/p/sql"));
    }
}
