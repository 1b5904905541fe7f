//! Human output: miette snippets with the rule, the lock and what it blocks, and help.
//! Deterministic when not a terminal (no colour, fixed width), so fixtures can hold it.

use std::io::{self, Write};

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use super::{RenderOptions, rule_doc_url, units};
use crate::diagnostic::{Diagnostic, Report};
use crate::rules::Severity;

pub fn render(report: &Report, options: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_links(false);
    if let (Some(target), false) = (&report.target, options.quiet) {
        writeln!(out, "checked: {target}\n")?;
    }
    for d in &report.diagnostics {
        let mut text = String::new();
        let rendered = match (report.path_of(d), d.start) {
            (Some(file), Some(start)) => {
                let (offset, len) = label_span(&file.text, d);
                let snippet = Snippet {
                    diag: miette_diagnostic(d, Some((offset, len))),
                    source: FileWindow {
                        name: file.path.display().to_string(),
                        text: &file.text,
                        anchor: offset,
                        anchor_line: start.line.saturating_sub(1),
                    },
                };
                handler.render_report(&mut text, &snippet)
            }
            _ => handler.render_report(&mut text, &miette_diagnostic(d, None)),
        };
        rendered.map_err(io::Error::other)?;
        out.write_all(text.as_bytes())?;
        writeln!(out)?;
    }
    if options.quiet {
        return Ok(());
    }
    write_summary(report, options, out)
}

/// A finding with its file. miette counts line numbers from the start of the source it is
/// given, so handing it whole files made output quadratic in findings per file (2.3 s for
/// the corpus's 16k findings); [`FileWindow`] hands it the lines near the finding instead.
#[derive(Debug)]
struct Snippet<'a> {
    diag: MietteDiagnostic,
    source: FileWindow<'a>,
}

impl std::fmt::Display for Snippet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.diag.fmt(f)
    }
}

impl std::error::Error for Snippet<'_> {}

impl miette::Diagnostic for Snippet<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.diag.code()
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.diag.severity()
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.diag.help()
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.diag.labels()
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
}

/// A file whose line number is known at one offset (`anchor`, on 0-based `anchor_line`).
#[derive(Debug)]
struct FileWindow<'a> {
    name: String,
    text: &'a str,
    anchor: usize,
    anchor_line: usize,
}

impl SourceCode for FileWindow<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let line_start = |end: usize| self.text[..end].rfind('\n').map_or(0, |i| i + 1);
        let mut start = line_start(span.offset().min(self.anchor).min(self.text.len()));
        for _ in 0..context_lines_before {
            if start == 0 {
                break;
            }
            start = line_start(start - 1);
        }
        let skipped_lines =
            (self.anchor_line).saturating_sub(self.text[start..self.anchor].matches('\n').count());
        let shifted = SourceSpan::new((span.offset() - start).into(), span.len());
        let inner =
            self.text[start..].read_span(&shifted, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            SourceSpan::new((inner.span().offset() + start).into(), inner.span().len()),
            inner.line() + skipped_lines,
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// Labels only the first line of a finding, so a long statement stays one snippet line.
fn label_span(text: &str, d: &Diagnostic) -> (usize, usize) {
    let start = d.span.start.min(text.len());
    let end = d.span.end.min(text.len()).max(start);
    let first_line_end = text[start..end].find('\n').map_or(end, |i| start + i);
    (start, first_line_end.saturating_sub(start).max(1))
}

fn miette_diagnostic(d: &Diagnostic, span: Option<(usize, usize)>) -> MietteDiagnostic {
    let severity = match d.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    };
    let mut help = d.help.clone().unwrap_or_default();
    if let Some(lock) = d.lock {
        let on = d
            .object
            .as_deref()
            .map(|o| format!(" on {o}"))
            .unwrap_or_default();
        help.push_str(&format!("\nlock: {lock}{on} ({})", lock.blocks_summary()));
    }
    for (key, value) in units::shown_evidence(&d.evidence) {
        help.push_str(&format!("\n{key}: {value}"));
    }
    help.push_str(&format!("\ndocs: pgrisk explain {}", d.rule));
    // a finding without a file has no snippet: the object leads its message, and the doc
    // link is there for a report read away from a terminal with pgrisk
    let message = match (d.file, &d.object) {
        (None, Some(object)) => format!("{object}: {}", d.message),
        _ => d.message.clone(),
    };
    if d.file.is_none() {
        help.push_str(&format!("\nweb: {}", rule_doc_url(d.rule)));
    }
    let mut diag = MietteDiagnostic::new(message)
        .with_code(d.rule)
        .with_severity(severity)
        .with_help(help.trim_start().to_owned());
    if let Some((offset, len)) = span {
        diag = diag.with_label(LabeledSpan::new_primary_with_span(
            Some(d.category.name().to_owned()),
            (offset, len),
        ));
    }
    diag
}

fn write_summary(report: &Report, options: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    if options.verbose {
        for (file, line, reason, recovered) in &report.unparsed {
            let how = if *recovered {
                "read by pgrisk's token reader"
            } else {
                "not understood"
            };
            let path = report.files[*file].path.display();
            writeln!(
                out,
                "note: {path}:{line}: sqlparser rejected the statement ({how}): {reason}"
            )?;
        }
    }
    for note in &report.notes {
        writeln!(out, "note: {note}")?;
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if report.files.is_empty() && report.target.is_some() {
        return writeln!(
            out,
            "{}, {}, {}",
            plural(s.errors, "error"),
            plural(s.warnings, "warning"),
            plural(s.infos, "info"),
        );
    }
    let coverage = if options.verbose {
        format!(
            "; sqlparser accepted {}, rejected {} that pgrisk's reader read",
            s.parsed, s.recovered
        )
    } else {
        String::new()
    };
    writeln!(
        out,
        "{}, {}, {} in {} ({}, {} not understood{coverage})",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.infos, "info"),
        plural(s.files, "file"),
        plural(s.statements, "statement"),
        s.unparsed,
    )
}
