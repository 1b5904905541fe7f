//! `file:line:col: severity: message [rule]`, the GNU error format editors understand.

use std::io::{self, Write};

use crate::diagnostic::Report;

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for d in &report.diagnostics {
        let path = report.path_of(d).map_or_else(
            || d.object.clone().unwrap_or_default(),
            |f| f.path.display().to_string(),
        );
        let (line, column) = d.start.map_or((0, 0), |p| (p.line, p.column));
        let message = d.message.replace('\n', " ");
        writeln!(
            out,
            "{path}:{line}:{column}: {}: {message} [{}]",
            d.severity.name(),
            d.rule
        )?;
    }
    Ok(())
}
