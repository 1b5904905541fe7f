//! Stage 5: findings → a report. Applies suppressions (and reports unused ones), sets
//! severities from the configuration, turns byte spans into 1-based positions and sorts.

pub mod size;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::analysis::{AnalyzedFile, AnalyzedStatement, LockMode, Understanding};
use crate::config::{FailOn, Settings};
use crate::rules::{self, Applicability, Category, Finding, Severity};
use crate::source::suppress::{Covers, Dialect, IgnoredName, Scope};
use crate::source::{Position, Span};

/// An edit of a fix: the byte span it replaces (for applying) and its positions (for output).
#[derive(Debug, Clone)]
pub struct TextEdit {
    pub span: Span,
    pub start: Position,
    pub end: Position,
    pub insert: String,
}

/// A finding's fix, with positions; `crate::fix` applies the safe ones.
#[derive(Debug, Clone)]
pub struct DiagnosticFix {
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<TextEdit>,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub rule: &'static str,
    pub severity: Severity,
    pub category: Category,
    /// Index into `Report::files`.
    pub file: Option<usize>,
    pub span: Span,
    pub start: Option<Position>,
    pub end: Option<Position>,
    pub message: String,
    pub help: Option<String>,
    pub object: Option<String>,
    pub lock: Option<LockMode>,
    pub evidence: BTreeMap<String, serde_json::Value>,
    pub fix: Option<DiagnosticFix>,
}

#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub files: usize,
    pub statements: usize,
    pub unparsed: usize,
    /// Accepted by sqlparser (every statement is offered to it only with `-v`).
    pub parsed: usize,
    /// Rejected by sqlparser but read by the token reader.
    pub recovered: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

#[derive(Debug, Clone)]
pub struct ReportFile {
    pub path: PathBuf,
    pub text: Arc<str>,
}

/// One normalized query with its cost (`live` from pg_stat_statements, `logs` from the log):
/// the `queries` array of the output contract.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QueryStat {
    /// Stable fingerprint (pg_stat_statements `queryid` in live).
    pub id: String,
    /// Normalized text (`$n` placeholders).
    pub query: String,
    /// One real instance, with its literals, when the source has one.
    pub example: Option<String>,
    pub calls: u64,
    pub total_ms: f64,
    pub mean_ms: f64,
    pub max_ms: f64,
    pub rows: Option<u64>,
}

/// What a bar of a chart is made of: one part, or stacked parts (connection states).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub parts: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Milliseconds,
    Count,
}

/// A bar chart for the HTML report, drawn by `render::html` as inline SVG.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    pub unit: Unit,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Default)]
pub struct Report {
    /// What was checked when it is not files: `live` names the server (never the password).
    pub target: Option<String>,
    /// `live`/`logs`: the query groups, sorted by total time; `None` for file commands.
    pub queries: Option<Vec<QueryStat>>,
    /// Checks skipped and why, preflight facts: shown in every format, never fatal.
    pub notes: Vec<String>,
    /// For `--format html`.
    pub charts: Vec<Chart>,
    pub files: Vec<ReportFile>,
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
    /// Statements sqlparser rejected, for `-v`: (file, line, reason, recovered?).
    pub unparsed: Vec<(usize, usize, String, bool)>,
    /// `--schema` statements that could not be replayed (the run goes on without them).
    pub schema_notes: Vec<String>,
    /// Inputs that could not be read (the others were still checked; SARIF reports them).
    pub input_errors: Vec<String>,
}

/// The statement a finding's span starts in. Statements are in file order: binary search for
/// the last one starting at or before the span.
fn statement_of(file: &AnalyzedFile, span: Span) -> Option<&AnalyzedStatement> {
    let after = file
        .statements
        .partition_point(|s| s.span.start <= span.start);
    after
        .checked_sub(1)
        .map(|i| &file.statements[i])
        .filter(|s| span.start <= s.span.end)
}

/// Removes suppressed findings and adds an `unused-ignore` finding for every name in a
/// suppression that silenced nothing (or names no rule, or a foreign rule pgrisk lacks).
fn apply_suppressions(
    file: &AnalyzedFile,
    findings: Vec<Finding>,
    settings: &Settings,
) -> Vec<Finding> {
    let suppressions = &file.source.suppressions;
    let mut used: Vec<Vec<bool>> = suppressions
        .iter()
        .map(|s| vec![false; s.names.len()])
        .collect();
    let mut kept = Vec::new();
    for finding in findings {
        let owner = statement_of(file, finding.span).map(|s| s.index);
        let suppressed_by = suppressions.iter().enumerate().find_map(|(i, s)| {
            let applies = match s.scope {
                Scope::File => true,
                Scope::Statement(target) => target.is_some() && target == owner,
            };
            applies
                .then(|| s.covering(finding.rule.name))
                .flatten()
                .map(|name| (i, name))
        });
        match suppressed_by {
            Some((i, name)) => used[i][name] = true,
            None => kept.push(finding),
        }
    }
    let unused_ignore = &rules::migration::unused_ignore::RULE;
    if !settings
        .enabled_rules()
        .iter()
        .any(|r| r.name == unused_ignore.name)
    {
        return kept;
    }
    for (suppression, used) in suppressions.iter().zip(used) {
        for name in suppression
            .names
            .iter()
            .zip(used)
            .filter(|(_, used)| !used)
            .map(|(name, _)| name)
        {
            let (message, help) = unused_message(suppression.dialect, name);
            kept.push(Finding::new(unused_ignore, suppression.span, message).help(help));
        }
    }
    kept
}

/// Why a suppression name silenced nothing, and what to do about it.
fn unused_message(dialect: Dialect, name: &IgnoredName) -> (String, &'static str) {
    let keyword = dialect.keyword();
    let written = &name.written;
    let unknown_pgrisk_rule = |rule: &str| rule != "all" && rules::find(rule).is_none();
    match &name.covers {
        Covers::Rules(r) if dialect == Dialect::Pgrisk && unknown_pgrisk_rule(&r[0]) => {
            let hint = crate::config::suggest(written)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            (
                format!("`{keyword}` names unknown rule `{written}`{hint}"),
                "remove it from the comment, or fix the rule name",
            )
        }
        Covers::Untranslated { known: true } => (
            format!("`{keyword} {written}`: pgrisk has no rule for what it ignores"),
            "nothing to suppress here; remove the name once the other tool is gone",
        ),
        Covers::Untranslated { known: false } => (
            format!("`{keyword} {written}`: not a rule name pgrisk can translate"),
            "check the spelling, or use `-- pgrisk-ignore <rule>` with pgrisk's rule name",
        ),
        Covers::Rules(r) if dialect != Dialect::Pgrisk => (
            format!(
                "this `{keyword}` for `{written}` (pgrisk: {}) suppresses nothing here",
                r.join(", ")
            ),
            "remove it from the comment",
        ),
        Covers::All | Covers::Rules(_) => (
            format!("this `{keyword}` for `{written}` suppresses nothing here"),
            "remove it from the comment, or fix the rule name",
        ),
    }
}

impl Report {
    /// Adds one analysed file and the findings of every rule on it (`rules::ALL`, so that an
    /// ignore comment for a rule left out by `--select` is still judged correctly).
    pub fn add_file(&mut self, file: &AnalyzedFile, findings: Vec<Finding>, settings: &Settings) {
        let index = self.files.len();
        let source = &file.source;
        self.files.push(ReportFile {
            path: source.path.clone(),
            text: Arc::from(source.text.as_str()),
        });
        self.summary.files += 1;
        self.summary.statements += file.statements.len();
        for s in &file.statements {
            match s.understanding {
                Understanding::Parsed => self.summary.parsed += 1,
                Understanding::Recovered => self.summary.recovered += 1,
                Understanding::Read | Understanding::Unknown => {}
            }
            if let Some(reason) = &s.parse_error {
                let line = source.position(s.span.start).line;
                let recovered = s.understanding == Understanding::Recovered;
                self.unparsed.push((index, line, reason.clone(), recovered));
                if s.understanding == Understanding::Unknown {
                    self.summary.unparsed += 1;
                }
            }
        }

        let mut kept = apply_suppressions(file, findings, settings);
        // every rule ran, so that suppressions can be judged; report only the enabled ones
        let enabled = settings.enabled_rules();
        kept.retain(|f| enabled.iter().any(|r| r.name == f.rule.name));
        for mut finding in kept {
            // names in messages come from the neutralized text: show the templates as written
            let statement = statement_of(file, finding.span).map_or(finding.span, |s| s.span);
            finding.message = source.as_written(statement, &finding.message);
            finding.help = finding.help.map(|h| source.as_written(statement, &h));
            finding.object = finding.object.map(|o| source.as_written(statement, &o));
            self.push(Some(index), finding, settings, |offset| {
                source.position(offset)
            });
        }
    }

    /// Adds findings about a running database: no file, `object` names the relation.
    pub fn add_database(&mut self, findings: Vec<Finding>, settings: &Settings) {
        let enabled = settings.enabled_rules();
        for finding in findings {
            if enabled.iter().any(|r| r.name == finding.rule.name) {
                self.push(None, finding, settings, |_| Position { line: 1, column: 1 });
            }
        }
    }

    fn push(
        &mut self,
        file: Option<usize>,
        f: Finding,
        settings: &Settings,
        position: impl Fn(usize) -> Position,
    ) {
        let severity = settings.severity_of_finding(f.rule, f.severity);
        match severity {
            Severity::Error => self.summary.errors += 1,
            Severity::Warning => self.summary.warnings += 1,
            Severity::Info => self.summary.infos += 1,
        }
        let fix = f.fix.map(|fix| DiagnosticFix {
            title: fix.title,
            applicability: fix.applicability,
            edits: fix
                .edits
                .into_iter()
                .map(|e| TextEdit {
                    span: e.span,
                    start: position(e.span.start),
                    end: position(e.span.end),
                    insert: e.insert,
                })
                .collect(),
        });
        self.diagnostics.push(Diagnostic {
            rule: f.rule.name,
            severity,
            category: f.rule.category,
            file,
            span: f.span,
            start: file.map(|_| position(f.span.start)),
            end: file.map(|_| position(f.span.end)),
            message: f.message,
            help: f.help,
            object: f.object,
            lock: f.lock,
            evidence: f.evidence,
            fix,
        });
    }

    /// Sorts by file, line, column, rule (the order every format prints); findings without
    /// a file come first, the most severe first, then by rule and object.
    pub fn finish(&mut self) {
        self.diagnostics.sort_by(|a, b| {
            let key = |d: &Diagnostic| {
                let unplaced = d.file.is_none();
                let severity = std::cmp::Reverse(unplaced.then_some(d.severity));
                let object = unplaced.then(|| d.object.clone());
                (d.file, severity, d.start, d.rule, object)
            };
            key(a).cmp(&key(b))
        });
    }

    pub fn path_of(&self, d: &Diagnostic) -> Option<&ReportFile> {
        d.file.and_then(|i| self.files.get(i))
    }

    /// Whether any finding reaches `--fail-on`.
    pub fn fails(&self, fail_on: FailOn) -> bool {
        match fail_on {
            FailOn::Never => false,
            FailOn::Severity(min) => self.diagnostics.iter().any(|d| d.severity >= min),
        }
    }
}
