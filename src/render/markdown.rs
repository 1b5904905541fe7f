//! `--format markdown`: a pull-request comment. A hidden marker line (so the GitHub Action
//! finds and updates its own comment), a headline with counts, a table of findings and a
//! collapsed `<details>` block per finding with the help, the lock and the flagged SQL.
//!
//! GitHub rejects comments over 65,536 characters: table rows are added while the comment
//! stays under 40,000 bytes and the rest are summarized by rule, then details while it stays
//! under [`BUDGET`].

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{RenderOptions, SourceLinks, rule_doc_url, units};
use crate::diagnostic::{Diagnostic, Report};
use crate::rules::Severity;

/// The first line of every comment: the Action looks for it to update its comment in place.
pub const MARKER: &str = "<!-- pgrisk-report -->";
/// Bytes of comment at most, but for a one-line closing note; bytes ≥ characters, so the
/// comment stays below GitHub's 65,536.
pub const BUDGET: usize = 60_000;
/// The table of findings stops here, so that details are shown for its first rows.
const TABLE_BUDGET: usize = 40_000;
/// The flagged SQL shown per finding is cut after this many lines or bytes.
const SQL_LINES: usize = 20;
const SQL_BYTES: usize = 2_000;

pub fn render(report: &Report, options: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(comment(report, options.links.as_ref()).as_bytes())
}

fn comment(report: &Report, links: Option<&SourceLinks>) -> String {
    let s = &report.summary;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let checked = match &report.target {
        Some(target) if report.files.is_empty() => format!("Checked {}.", escape_text(target)),
        _ => format!(
            "{} checked ({}, {} not understood).",
            plural(s.files, "file"),
            plural(s.statements, "statement"),
            s.unparsed
        ),
    };
    let mut text = format!("{MARKER}\n");
    if report.diagnostics.is_empty() {
        text.push_str(&format!("### pgrisk: no findings\n\n{checked}\n"));
        text.push_str(&notes(report));
        return text;
    }
    text.push_str(&format!(
        "### pgrisk: {}, {}, {}\n\n{checked}\n\n",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.infos, "info"),
    ));
    // the table first (one line a finding), then details for as many of its rows as fit
    // findings of a database name an object, not a place in a file
    let column = if report.diagnostics.iter().all(|d| d.file.is_none()) {
        "object"
    } else {
        "where"
    };
    let mut table = format!("| severity | rule | {column} | finding |\n|---|---|---|---|\n");
    let mut rows = 0;
    for d in &report.diagnostics {
        let row = format!(
            "| {} | [`{}`]({}) | {} | {} |\n",
            badge(d.severity),
            d.rule,
            rule_doc_url(d.rule),
            place(report, d, links),
            escape_cell(d.message.lines().next().unwrap_or_default()),
        );
        if text.len() + table.len() + row.len() > TABLE_BUDGET {
            break;
        }
        table.push_str(&row);
        rows += 1;
    }
    text.push_str(&table);
    let rest = &report.diagnostics[rows..];
    if !rest.is_empty() {
        text.push_str(&left_out(rest));
    }
    let mut details = 0;
    for d in &report.diagnostics[..rows] {
        let detail = detail(report, d);
        if text.len() + detail.len() + 2 > BUDGET {
            break;
        }
        if details == 0 {
            text.push('\n');
        }
        text.push_str(&detail);
        details += 1;
    }
    if details < rows {
        text.push_str(&format!(
            "_Details for the first {details} of {rows} findings above (comment size limit)._\n"
        ));
    }
    let notes = notes(report);
    if text.len() + notes.len() <= BUDGET {
        text.push_str(&notes);
    }
    text
}

/// The report's notes (checks skipped and why) as a list under a heading, or nothing.
fn notes(report: &Report) -> String {
    if report.notes.is_empty() {
        return String::new();
    }
    let mut text = String::from("\n**Notes**\n\n");
    for note in &report.notes {
        text.push_str(&format!("- {}\n", escape_cell(note)));
    }
    text
}

fn badge(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "❌ error",
        Severity::Warning => "⚠️ warning",
        Severity::Info => "ℹ️ info",
    }
}

/// `path:line`, linked to the lines on the hosting service when the commit is known.
fn place(report: &Report, d: &Diagnostic, links: Option<&SourceLinks>) -> String {
    let Some(file) = report.path_of(d) else {
        return escape_cell(d.object.as_deref().unwrap_or("(no file)"));
    };
    let start = d.start.map_or(1, |p| p.line);
    let end = d.end.map_or(start, |p| p.line);
    let label = escape_cell(&format!("{}:{start}", file.path.display()));
    match links.and_then(|l| l.lines(&file.path, start, end)) {
        Some(url) => format!("[{label}]({url})"),
        None => label,
    }
}

/// One finding's collapsed block: help, lock and what it blocks, the flagged SQL.
fn detail(report: &Report, d: &Diagnostic) -> String {
    let file = report.path_of(d);
    let place = match (file, d.start) {
        (Some(f), Some(p)) => format!("{}:{}", f.path.display(), p.line),
        _ => d.object.clone().unwrap_or_default(),
    };
    let mut text = format!(
        "<details>\n<summary>{} <code>{}</code> at {}</summary>\n\n{}\n",
        badge(d.severity),
        d.rule,
        escape_html(&place),
        escape_text(&d.message),
    );
    if !d.evidence.is_empty() {
        text.push('\n');
    }
    for (key, value) in units::shown_evidence(&d.evidence) {
        text.push_str(&format!(
            "- {}: {}\n",
            escape_html(&key),
            escape_cell(&value)
        ));
    }
    if let Some(help) = &d.help {
        text.push_str(&format!("\n**help:** {}\n", escape_text(help)));
    }
    if let Some(lock) = d.lock {
        let on = d
            .object
            .as_deref()
            .map(|o| format!(" on `{o}`"))
            .unwrap_or_default();
        text.push_str(&format!(
            "\n**lock:** `{lock}`{on}: {}\n",
            lock.blocks_summary()
        ));
    }
    if let Some(sql) = file.and_then(|f| f.text.get(d.span.start..d.span.end)) {
        text.push('\n');
        text.push_str(&sql_block(sql));
    }
    text.push_str("\n</details>\n\n");
    text
}

/// A fenced `sql` block of at most [`SQL_LINES`] lines and [`SQL_BYTES`] bytes. The fence is
/// longer than any backtick run in the SQL, so a string literal cannot close it.
fn sql_block(sql: &str) -> String {
    let sql = sql.trim();
    let mut cut = sql
        .match_indices('\n')
        .nth(SQL_LINES - 1)
        .map_or(sql.len(), |(i, _)| i)
        .min(SQL_BYTES);
    while !sql.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut shown = sql[..cut].to_owned();
    if cut < sql.len() {
        let more = sql[cut..].trim_start_matches('\n').lines().count();
        shown.push_str(&format!("\n-- … ({more} more lines)"));
    }
    let longest_run = shown.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    format!("{fence}sql\n{shown}\n{fence}\n")
}

/// "and N more findings", with counts by rule (most frequent first).
fn left_out(rest: &[Diagnostic]) -> String {
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for d in rest {
        *by_rule.entry(d.rule).or_default() += 1;
    }
    let mut counts: Vec<_> = by_rule.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let counts: Vec<String> = counts
        .iter()
        .map(|(rule, n)| format!("`{rule}` {n}"))
        .collect();
    format!(
        "\n**… and {} more findings** not shown (comment size limit; run `pgrisk lint` or \
         use `--format sarif` for all): {}.\n",
        rest.len(),
        counts.join(", ")
    )
}

/// A table cell: one line, `|` escaped (GitHub splits cells before reading code spans).
fn escape_cell(s: &str) -> String {
    escape_text(s)
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// Markdown text: `<`, `>`, `&` become entities outside code spans, where GitHub would read
/// them as HTML; inside backticks they are shown as written.
fn escape_text(s: &str) -> String {
    s.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 0 {
                escape_html(part)
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_fence_outgrows_backticks_and_long_sql_is_cut() {
        let block = sql_block("SELECT '```' AS x;");
        assert!(block.starts_with("````sql\n"), "{block}");
        let long = (0..50)
            .map(|i| format!("SELECT {i};"))
            .collect::<Vec<_>>()
            .join("\n");
        let block = sql_block(&long);
        assert_eq!(block.lines().count(), SQL_LINES + 3, "{block}");
        assert!(block.contains("(30 more lines)"), "{block}");
    }

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(
            escape_cell("a|b <x> `y < z|w`\nd"),
            "a\\|b &lt;x&gt; `y < z\\|w` d"
        );
    }
}
