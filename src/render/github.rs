//! GitHub Actions workflow commands: each finding becomes an annotation on the PR diff.
//! https://docs.github.com/en/actions/using-workflows/workflow-commands-for-github-actions

use std::io::{self, Write};

use crate::diagnostic::Report;
use crate::rules::Severity;

/// Message data escapes `%`, CR and LF; property values also `:` and `,`.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for d in &report.diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some(file) = report.path_of(d) {
            props.push(format!(
                "file={}",
                escape_property(&file.path.display().to_string())
            ));
        }
        if let (Some(start), Some(end)) = (d.start, d.end) {
            props.push(format!("line={}", start.line));
            props.push(format!("endLine={}", end.line));
            if start.line == end.line {
                props.push(format!("col={}", start.column));
                props.push(format!("endColumn={}", end.column));
            }
        }
        props.push(format!("title={}", escape_property(d.rule)));
        // without a file the annotation lands on the run summary: name the object in it
        let mut message = match (report.path_of(d), &d.object) {
            (None, Some(object)) => format!("{object}: {}", d.message),
            _ => d.message.clone(),
        };
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        writeln!(
            out,
            "::{command} {}::{}",
            props.join(","),
            escape_data(&message)
        )?;
    }
    for note in &report.notes {
        writeln!(out, "::notice title=pgrisk::{}", escape_data(note))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_workflow_command_syntax() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
