//! `--format json`: the versioned output contract (DESIGN.md §3, documented in README).
//!
//! `{"version": 1, "diagnostics": [...], "summary": {...}}`. Each diagnostic has `rule`,
//! `severity`, `category`, `file`, `line`, `column`, `end_line`, `end_column` (1-based,
//! columns in characters; null for findings without a file), `message`, `help`, `object`,
//! `lock` (PostgreSQL's name, e.g. `"SHARE"`), `evidence` (an object) and `fix`
//! (`{"title", "applicability": "safe"|"suggestion", "edits": [{"line", "column", "end_line",
//! "end_column", "insert"}]}` or null; `lint --fix` applies only `safe` fixes).
//! `live` adds `target` (the server, without password), `queries` (query groups by total
//! time) and `notes` (checks skipped, with the reason).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::diagnostic::{QueryStat, Report};
use crate::rules::Applicability;

pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    /// `live`: the server audited (no password).
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'a str>,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    /// `live` and `logs`: query groups by total time.
    #[serde(skip_serializing_if = "Option::is_none")]
    queries: Option<&'a [QueryStat]>,
    /// Checks skipped and why.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    rule: &'a str,
    severity: &'a str,
    category: &'a str,
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    message: &'a str,
    help: Option<&'a str>,
    object: Option<&'a str>,
    lock: Option<&'a str>,
    evidence: &'a BTreeMap<String, serde_json::Value>,
    fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    applicability: Applicability,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    insert: &'a str,
}

#[derive(Serialize)]
struct JsonSummary {
    files: usize,
    statements: usize,
    unparsed: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let diagnostics = report
        .diagnostics
        .iter()
        .map(|d| JsonDiagnostic {
            rule: d.rule,
            severity: d.severity.name(),
            category: d.category.name(),
            file: report.path_of(d).map(|f| f.path.display().to_string()),
            line: d.start.map(|p| p.line),
            column: d.start.map(|p| p.column),
            end_line: d.end.map(|p| p.line),
            end_column: d.end.map(|p| p.column),
            message: &d.message,
            help: d.help.as_deref(),
            object: d.object.as_deref(),
            lock: d.lock.map(|l| l.sql_name()),
            evidence: &d.evidence,
            fix: d.fix.as_ref().map(|fix| JsonFix {
                title: &fix.title,
                applicability: fix.applicability,
                edits: fix
                    .edits
                    .iter()
                    .map(|e| JsonEdit {
                        line: e.start.line,
                        column: e.start.column,
                        end_line: e.end.line,
                        end_column: e.end.column,
                        insert: &e.insert,
                    })
                    .collect(),
            }),
        })
        .collect();
    let s = &report.summary;
    let output = Output {
        version: VERSION,
        target: report.target.as_deref(),
        diagnostics,
        queries: report.queries.as_deref(),
        notes: &report.notes,
        summary: JsonSummary {
            files: s.files,
            statements: s.statements,
            unparsed: s.unparsed,
            errors: s.errors,
            warnings: s.warnings,
            infos: s.infos,
        },
    };
    serde_json::to_writer_pretty(&mut *out, &output).map_err(io::Error::other)?;
    writeln!(out)
}
