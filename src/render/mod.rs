//! Stage 6: a report → text in one of the output formats, one file per format.

pub mod github;
pub mod gnu;
pub mod human;
pub mod json;

use std::io::{self, Write};

use crate::diagnostic::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Source snippets with the rule, lock and help (miette)
    Human,
    /// The versioned JSON contract (see README)
    Json,
    /// GitHub Actions workflow commands (annotations on the PR diff)
    Github,
    /// `file:line:col: severity: message [rule]` for editors and errorformat
    Gnu,
}

pub struct RenderOptions {
    pub color: bool,
    /// Terminal width for wrapping human output.
    pub width: usize,
    pub verbose: bool,
    /// Findings only: no summary line.
    pub quiet: bool,
}

pub fn render(
    report: &Report,
    format: Format,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, options, out),
        Format::Json => json::render(report, out),
        Format::Github => github::render(report, out),
        Format::Gnu => gnu::render(report, out),
    }
}
