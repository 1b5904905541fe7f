//! `--format junit`: JUnit XML for CI test dashboards (GitLab, Jenkins, Azure DevOps).
//!
//! One `<testsuite>` per file: dashboards list suites and their failures, and a migration is
//! what a developer opens and fixes, so a file is the unit to show. One `<testcase>` per
//! finding, with a `<failure type="RULE">` for errors and warnings; infos pass with their
//! message in `<system-out>`. A file without findings gets one passing testcase, so the
//! dashboard counts clean files too. Findings without a file (`live`) go to one suite named
//! after the target, a case per finding named by rule and object; the report's notes are
//! that suite's `<system-out>`.
//!
//! The document is four element kinds with fixed attributes, written directly; [`escape`]
//! also replaces characters XML 1.0 forbids, which a generic escape leaves in.

use std::io::{self, Write};

use crate::diagnostic::{Diagnostic, Report};
use crate::rules::Severity;

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    // suite name → its findings, files in report order first
    let mut suites: Vec<(String, Vec<&Diagnostic>)> = report
        .files
        .iter()
        .map(|f| (f.path.display().to_string(), Vec::new()))
        .collect();
    let mut unplaced = Vec::new();
    for d in &report.diagnostics {
        match d.file.filter(|&i| i < suites.len()) {
            Some(i) => suites[i].1.push(d),
            None => unplaced.push(d),
        }
    }
    let target_suite = report.target.is_some() || !unplaced.is_empty();
    if target_suite {
        let name = report.target.as_deref().unwrap_or("(no file)");
        suites.push((name.to_owned(), unplaced));
    }
    let tests: usize = suites.iter().map(|(_, f)| f.len().max(1)).sum();
    let failures = report
        .diagnostics
        .iter()
        .filter(|d| fails(d.severity))
        .count();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="pgrisk" tests="{tests}" failures="{failures}" errors="0">"#
    )?;
    let last = suites.len().saturating_sub(1);
    for (i, (name, findings)) in suites.iter().enumerate() {
        let notes: &[String] = if target_suite && i == last {
            &report.notes
        } else {
            &[]
        };
        write_suite(out, name, findings, notes)?;
    }
    writeln!(out, "</testsuites>")
}

fn fails(severity: Severity) -> bool {
    severity >= Severity::Warning
}

fn write_suite(
    out: &mut dyn Write,
    name: &str,
    findings: &[&Diagnostic],
    notes: &[String],
) -> io::Result<()> {
    let name = escape(name);
    let failures = findings.iter().filter(|d| fails(d.severity)).count();
    writeln!(
        out,
        r#"  <testsuite name="{name}" tests="{}" failures="{failures}" errors="0" skipped="0">"#,
        findings.len().max(1)
    )?;
    if findings.is_empty() {
        writeln!(
            out,
            r#"    <testcase name="no findings" classname="{name}"/>"#
        )?;
    }
    for d in findings {
        let at = match (d.start, &d.object) {
            (Some(p), _) => format!(" at {}:{}", p.line, p.column),
            (None, Some(object)) => format!(" on {object}"),
            (None, None) => String::new(),
        };
        writeln!(
            out,
            r#"    <testcase name="{}" classname="{name}">"#,
            escape(&format!("{}{at}", d.rule))
        )?;
        let mut body = d.message.clone();
        if let Some(help) = &d.help {
            body.push_str(&format!("\nhelp: {help}"));
        }
        if let Some(lock) = d.lock {
            body.push_str(&format!("\nlock: {lock} ({})", lock.blocks_summary()));
        }
        if let Some(object) = &d.object {
            body.push_str(&format!("\nobject: {object}"));
        }
        if fails(d.severity) {
            writeln!(
                out,
                r#"      <failure message="{}" type="{}">{}</failure>"#,
                escape(d.message.lines().next().unwrap_or_default()),
                escape(d.rule),
                escape(&body)
            )?;
        } else {
            writeln!(out, "      <system-out>{}</system-out>", escape(&body))?;
        }
        writeln!(out, "    </testcase>")?;
    }
    if !notes.is_empty() {
        writeln!(
            out,
            "    <system-out>{}</system-out>",
            escape(&notes.join("\n"))
        )?;
    }
    writeln!(out, "  </testsuite>")
}

/// Text or attribute content: markup characters as entities, line breaks and tabs as
/// character references (attribute values would otherwise fold them into spaces), and the
/// characters XML 1.0 does not allow at all as U+FFFD.
fn escape(s: &str) -> String {
    let mut escaped = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => escaped.push_str("&#10;"),
            '\r' => escaped.push_str("&#13;"),
            '\t' => escaped.push_str("&#9;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => escaped.push('\u{fffd}'),
            c => super::html::push_escaped(&mut escaped, c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_characters_xml_forbids() {
        assert_eq!(
            escape("a<b & \"c\"\n\u{1}"),
            "a&lt;b &amp; &quot;c&quot;&#10;\u{fffd}"
        );
    }
}
