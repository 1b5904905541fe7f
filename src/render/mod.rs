//! Stage 6: a report → text in one of the output formats, one file per format.

pub mod chart;
pub mod github;
pub mod gnu;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod units;

use std::io::{self, Write};
use std::path::{Component, Path};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

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
    /// SARIF 2.1.0 for code scanning (GitHub, Azure DevOps, IDE viewers)
    Sarif,
    /// A pull-request comment: counts, a table of findings, details per finding
    Markdown,
    /// JUnit XML for CI test dashboards: a test suite per file
    Junit,
    /// One self-contained HTML page: findings by severity, charts as inline SVG
    Html,
}

pub struct RenderOptions {
    pub color: bool,
    /// Terminal width for wrapping human output.
    pub width: usize,
    pub verbose: bool,
    /// Findings only: no summary line.
    pub quiet: bool,
    /// Where `file:line` links point in markdown output (GitHub Actions), if known.
    pub links: Option<SourceLinks>,
}

/// A commit of a hosted repository: `{server}/{repository}/blob/{commit}/{path}#L{line}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLinks {
    pub server: String,
    pub repository: String,
    pub commit: String,
}

impl SourceLinks {
    /// The link to lines of a relative path, or `None` for a path outside the repository.
    pub fn lines(&self, path: &Path, start: usize, end: usize) -> Option<String> {
        let path = relative_uri(path)?;
        let lines = if end > start {
            format!("L{start}-L{end}")
        } else {
            format!("L{start}")
        };
        Some(format!(
            "{}/{}/blob/{}/{path}#{lines}",
            self.server.trim_end_matches('/'),
            self.repository,
            self.commit
        ))
    }
}

/// The documentation page of a rule in the project repository (`rules/<name>.md`).
pub fn rule_doc_url(rule: &str) -> String {
    format!("{}/blob/main/rules/{rule}.md", env!("CARGO_PKG_REPOSITORY"))
}

/// RFC 3986 unreserved characters stay as they are in a path segment; all else is encoded.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One path segment, percent-encoded for a URI (`a b` → `a%20b`).
pub fn encode_segment(segment: &std::ffi::OsStr) -> String {
    utf8_percent_encode(&segment.to_string_lossy(), PATH_SEGMENT).to_string()
}

/// A relative path as a URI reference (`dir/a%20b.sql`): forward slashes, each segment
/// percent-encoded, `./` dropped. `None` for absolute paths.
pub fn relative_uri(path: &Path) -> Option<String> {
    let mut segments = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(segment) => segments.push(encode_segment(segment)),
            Component::ParentDir => segments.push("..".to_owned()),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(segments.join("/"))
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
        Format::Sarif => sarif::render(report, out),
        Format::Markdown => markdown::render(report, options, out),
        Format::Junit => junit::render(report, out),
        Format::Html => html::render(report, out),
    }
}
