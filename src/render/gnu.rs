//! `file:line:col: severity: message [rule]`, the GNU error format editors understand. A
//! finding without a file is `object: severity: message [rule]`, and a note
//! `pgrisk: note: text` (the GNU form of a message from a program rather than a file).

use std::io::{self, Write};

use crate::diagnostic::Report;

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for d in &report.diagnostics {
        let message = d.message.replace('\n', " ");
        let severity = d.severity.name();
        match (report.path_of(d), d.start) {
            (Some(file), start) => {
                let (line, column) = start.map_or((0, 0), |p| (p.line, p.column));
                let path = file.path.display();
                writeln!(
                    out,
                    "{path}:{line}:{column}: {severity}: {message} [{}]",
                    d.rule
                )?;
            }
            (None, _) => {
                let object = d.object.as_deref().unwrap_or("pgrisk");
                writeln!(out, "{object}: {severity}: {message} [{}]", d.rule)?;
            }
        }
    }
    for note in &report.notes {
        writeln!(out, "pgrisk: note: {}", note.replace('\n', " "))?;
    }
    Ok(())
}
