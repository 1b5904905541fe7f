//! Hover (the rule's documentation) and code actions (the rule's fix, ignore comments).

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Hover, HoverContents, MarkupContent,
    MarkupKind, Range, TextEdit, WorkspaceEdit,
};

use super::check::{Flagged, as_migration};
use super::document::Document;
use super::position::{Encoding, PositionMap};
use crate::config::Settings;
use crate::rules;
use crate::source::{SourceFile, Span};

/// The docs of the rules flagged at `offset`.
pub fn hover(findings: &[Flagged], offset: usize) -> Option<Hover> {
    let here: Vec<&Flagged> = findings
        .iter()
        .filter(|f| f.span.start <= offset && offset <= f.span.end)
        .collect();
    let mut docs: Vec<&str> = Vec::new();
    for finding in &here {
        let doc = rules::find(finding.rule).map_or("", |r| r.doc);
        if !doc.is_empty() && !docs.contains(&doc) {
            docs.push(doc);
        }
    }
    let first = here.first()?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: docs.join("\n\n---\n\n"),
        }),
        range: Some(first.diagnostic.range),
    })
}

/// Quick fixes for the diagnostics the client names (or, if it names none of ours, the
/// findings that touch `range`): the rule's own fix, and ignore comments for the statement
/// and for the file.
pub fn code_actions(
    document: &Document,
    findings: &[Flagged],
    (range, named): (Range, &[lsp_types::Diagnostic]),
    settings: &Settings,
    encoding: Encoding,
) -> Vec<CodeActionOrCommand> {
    let map = PositionMap::new(&document.text, encoding);
    let is_named = |f: &Flagged| {
        named
            .iter()
            .any(|d| d.code == f.diagnostic.code && d.range == f.diagnostic.range)
    };
    let (from, to) = (map.offset(range.start), map.offset(range.end));
    let mut touched: Vec<&Flagged> = findings.iter().filter(|f| is_named(f)).collect();
    if touched.is_empty() {
        touched = findings
            .iter()
            .filter(|f| f.span.start <= to && from <= f.span.end)
            .collect();
    }
    if touched.is_empty() {
        return Vec::new();
    }
    let migration = as_migration(document, settings);
    let up_start = migration.up.first().map_or(0, |r| r.start);
    let file_comment_at = file_comment_offset(&document.text, up_start);
    let source = SourceFile::load(migration);
    let mut actions = Vec::new();
    let mut offered = Vec::new();
    for finding in touched {
        let edit = |edits: Vec<(Span, String)>| workspace_edit(document, &map, edits);
        if let Some(fix) = &finding.fix {
            actions.push(CodeAction {
                title: fix.title.clone(),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![finding.diagnostic.clone()]),
                edit: Some(edit(fix.edits.clone())),
                is_preferred: Some(true),
                ..CodeAction::default()
            });
        }
        if finding.rule == rules::migration::unused_ignore::RULE.name {
            continue;
        }
        let statement = statement_comment(&document.text, &source, finding.span.start);
        let file = (
            file_comment_at,
            format!("-- pgrisk-ignore-file {}: {REASON}\n", finding.rule),
        );
        let ignores = [
            (
                "statement",
                (
                    statement.0,
                    format!(
                        "{}-- pgrisk-ignore {}: {REASON}\n",
                        statement.1, finding.rule
                    ),
                ),
            ),
            ("file", file),
        ];
        for (scope, (at, comment)) in ignores {
            let key = (finding.rule, scope, at);
            if offered.contains(&key) {
                continue;
            }
            offered.push(key);
            actions.push(CodeAction {
                title: format!("Ignore {} for this {scope}", finding.rule),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![finding.diagnostic.clone()]),
                edit: Some(edit(vec![(Span::new(at, at), comment)])),
                ..CodeAction::default()
            });
        }
    }
    actions
        .into_iter()
        .map(CodeActionOrCommand::CodeAction)
        .collect()
}

/// Left for the user to replace: an ignore should say why it is safe.
const REASON: &str = "<why this is safe>";

fn workspace_edit(
    document: &Document,
    map: &PositionMap,
    edits: Vec<(Span, String)>,
) -> WorkspaceEdit {
    let edits = edits
        .into_iter()
        .map(|(span, new_text)| TextEdit {
            range: map.range(span.start, span.end),
            new_text,
        })
        .collect();
    WorkspaceEdit {
        changes: Some(HashMap::from([(document.uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    }
}

/// Where an ignore for the statement holding `offset` goes, and its indentation: the start of
/// the statement's line, or the statement itself when another statement ends on that line.
fn statement_comment(text: &str, source: &SourceFile, offset: usize) -> (usize, String) {
    let statements = &source.statements;
    let Some(i) = statements
        .partition_point(|s| s.span.start <= offset)
        .checked_sub(1)
        .or((!statements.is_empty()).then_some(0))
    else {
        return (offset, String::new());
    };
    let start = statements[i].span.start;
    let line_start = text[..start].rfind('\n').map_or(0, |n| n + 1);
    if i > 0 && statements[i - 1].span.end > line_start {
        return (start, "\n".to_owned());
    }
    let line = &text[line_start..];
    let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
    (line_start, indent.to_owned())
}

/// Where an ignore for the file goes: the first line of its "up" part (comments before a
/// goose or dbmate up marker are not read), after a BOM and after sqlx's `-- no-transaction`,
/// which must stay the first line.
fn file_comment_offset(text: &str, up_start: usize) -> usize {
    let up_start = up_start.min(text.len());
    let mut at = match text[..up_start].rfind('\n') {
        _ if up_start == 0 => 0,
        Some(n) if n + 1 == up_start => up_start,
        _ => text[up_start..]
            .find('\n')
            .map_or(text.len(), |n| up_start + n + 1),
    };
    if text[at..].starts_with('\u{feff}') {
        at += '\u{feff}'.len_utf8();
    }
    if text[at..].starts_with("-- no-transaction") {
        at = text[at..].find('\n').map_or(text.len(), |n| at + n + 1);
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_ignores_go_where_the_runner_reads_them() {
        assert_eq!(file_comment_offset("SELECT 1;\n", 0), 0);
        let sqlx = "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n";
        assert_eq!(file_comment_offset(sqlx, 0), 18);
        let goose = "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;\n";
        let file = crate::source::discover::from_text(
            "0001_x.sql".into(),
            goose.into(),
            &Default::default(),
        );
        let up_start = file.up.first().map_or(0, |r| r.start);
        assert_eq!(file_comment_offset(goose, up_start), "-- +goose Up\n".len());
    }
}
