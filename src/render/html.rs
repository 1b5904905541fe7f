//! `--format html`: one self-contained page to attach to a ticket. Inline CSS and inline SVG
//! charts ([`super::chart`]); no script, font, image or style sheet is fetched, the only
//! URLs are the rule documentation links. Everything that comes from the server or a file
//! (names, query texts, SQL) is escaped, and the page holds no clock reading of its own, so
//! the same report renders to the same bytes.
//!
//! Not specific to `live`: a finding with a file shows `path:line` and its SQL, one without
//! shows the object it names; charts and query tables appear when the report has them.

use std::io::{self, Write};

use super::{chart, rule_doc_url, units};
use crate::diagnostic::{Diagnostic, QueryStat, Report};
use crate::rules::Severity;

/// Queries listed in the table under the charts.
const QUERY_ROWS: usize = 20;
/// Flagged SQL shown per finding is cut after this many characters.
const SQL_CHARS: usize = 1_500;

const STYLE: &str = "
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif;
  color: #1f2328; background: #f6f8fa; margin: 0; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 32px 48px; background: #fff;
  min-height: 100vh; box-sizing: border-box; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 15px; margin: 0 0 6px; }
.meta { color: #57606a; margin: 0; }
.counts { display: flex; gap: 12px; margin: 16px 0 0; padding: 0; list-style: none; }
.counts li { padding: 6px 14px; border-radius: 6px; font-weight: 600; border: 1px solid; }
.counts .error, .finding.error { border-color: #cf222e; }
.counts .warning, .finding.warning { border-color: #bf8700; }
.counts .info, .finding.info { border-color: #0969da; }
.counts .error { background: #ffebe9; } .counts .warning { background: #fff8c5; }
.counts .info { background: #ddf4ff; }
.finding { border-left: 4px solid; padding: 8px 14px; margin: 0 0 14px; background: #fbfcfd; }
.finding p { margin: 4px 0; }
.where { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; color: #57606a;
  font-weight: normal; margin-left: 8px; }
.help { color: #1a7f37; }
.finding p code { background: #eff2f5; padding: 1px 4px; border-radius: 4px; }
a { color: #0969da; text-decoration: none; }
table { border-collapse: collapse; margin: 6px 0; }
td, th { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, pre { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; font-size: 12px; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; white-space: pre-wrap;
  word-break: break-word; margin: 6px 0; }
figure { margin: 0 0 24px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg.chart { max-width: 100%; height: auto; font: 12px system-ui, 'DejaVu Sans', sans-serif; }
svg.chart text { fill: #1f2328; }
svg.chart .tick { fill: #57606a; font-size: 11px; }
svg.chart .grid { stroke: #d8dee4; stroke-width: 1; }
.empty, .none { color: #57606a; }
footer { margin-top: 40px; color: #57606a; font-size: 12px; }
";

/// Text or attribute content with the five markup characters as entities.
pub fn escape(s: &str) -> String {
    let mut escaped = String::with_capacity(s.len());
    for c in s.chars() {
        push_escaped(&mut escaped, c);
    }
    escaped
}

/// One character of text or attribute content: a markup character as its entity (the same
/// in HTML and XML), any other as it is.
pub fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c => out.push(c),
    }
}

/// Prose of a message or help: `code spans` as `<code>`, the rest escaped. An unpaired
/// backtick is shown as written.
fn prose(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return escape(s);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| match i % 2 {
            0 => escape(part),
            _ => format!("<code>{}</code>", escape(part)),
        })
        .collect()
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(page(report).as_bytes())
}

fn page(report: &Report) -> String {
    let title = match &report.target {
        Some(target) => format!("pgrisk report: {target}"),
        None => "pgrisk report".to_owned(),
    };
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(&title)
    );
    header(report, &mut html);
    findings(report, &mut html);
    if !report.charts.is_empty() {
        html.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n");
        for c in &report.charts {
            html.push_str(&format!(
                "<figure>\n<figcaption>{}</figcaption>\n{}</figure>\n",
                escape(&c.title),
                chart::svg(c)
            ));
        }
        html.push_str("</section>\n");
    }
    if let Some(queries) = report.queries.as_deref().filter(|q| !q.is_empty()) {
        queries_table(queries, &mut html);
    }
    let notes: Vec<&String> = report
        .notes
        .iter()
        .chain(&report.schema_notes)
        .chain(&report.input_errors)
        .collect();
    if !notes.is_empty() {
        html.push_str("<section id=\"notes\">\n<h2>Notes</h2>\n<ul>\n");
        for note in notes {
            html.push_str(&format!("<li>{}</li>\n", escape(note)));
        }
        html.push_str("</ul>\n</section>\n");
    }
    html.push_str(&format!(
        "<footer>pgrisk {}</footer>\n</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    ));
    html
}

fn header(report: &Report, html: &mut String) {
    html.push_str("<header>\n<h1>pgrisk report</h1>\n");
    if let Some(target) = &report.target {
        html.push_str(&format!("<p class=\"meta\">{}</p>\n", escape(target)));
    }
    let s = &report.summary;
    if s.files > 0 {
        html.push_str(&format!(
            "<p class=\"meta\">{} checked, {} statements, {} not understood</p>\n",
            plural(s.files, "file"),
            s.statements,
            s.unparsed
        ));
    }
    html.push_str("<ul class=\"counts\">\n");
    for (severity, n) in [
        (Severity::Error, s.errors),
        (Severity::Warning, s.warnings),
        (Severity::Info, s.infos),
    ] {
        html.push_str(&format!(
            "<li class=\"{}\">{}</li>\n",
            severity.name(),
            plural(n, severity.name())
        ));
    }
    html.push_str("</ul>\n</header>\n");
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Sections by severity, most severe first; within one, the report's order.
fn findings(report: &Report, html: &mut String) {
    html.push_str("<section id=\"findings\">\n");
    if report.diagnostics.is_empty() {
        html.push_str("<h2>Findings</h2>\n<p class=\"none\">No findings.</p>\n");
    }
    for (severity, heading) in [
        (Severity::Error, "Errors"),
        (Severity::Warning, "Warnings"),
        (Severity::Info, "Infos"),
    ] {
        let of: Vec<&Diagnostic> = report
            .diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .collect();
        if of.is_empty() {
            continue;
        }
        html.push_str(&format!("<h2>{heading} ({})</h2>\n", of.len()));
        for d in of {
            finding(report, d, html);
        }
    }
    html.push_str("</section>\n");
}

fn finding(report: &Report, d: &Diagnostic, html: &mut String) {
    let file = report.path_of(d);
    let place = match (file, d.start) {
        (Some(f), Some(p)) => format!("{}:{}", f.path.display(), p.line),
        (Some(f), None) => f.path.display().to_string(),
        (None, _) => d.object.clone().unwrap_or_default(),
    };
    html.push_str(&format!(
        "<article class=\"finding {}\">\n<h3><a href=\"{}\">{}</a><span class=\"where\">{}</span></h3>\n\
         <p>{}</p>\n",
        d.severity.name(),
        escape(&rule_doc_url(d.rule)),
        escape(d.rule),
        escape(&place),
        prose(&d.message)
    ));
    let mut rows: Vec<(String, String)> = Vec::new();
    if let (Some(object), Some(_)) = (&d.object, file) {
        rows.push(("object".into(), object.clone()));
    }
    if let Some(lock) = d.lock {
        rows.push(("lock".into(), format!("{lock} ({})", lock.blocks_summary())));
    }
    rows.extend(units::shown_evidence(&d.evidence));
    if !rows.is_empty() {
        html.push_str("<table class=\"evidence\">\n");
        for (key, value) in rows {
            html.push_str(&format!(
                "<tr><th>{}</th><td>{}</td></tr>\n",
                escape(&key),
                escape(&value)
            ));
        }
        html.push_str("</table>\n");
    }
    if let Some(help) = &d.help {
        html.push_str(&format!("<p class=\"help\">{}</p>\n", prose(help)));
    }
    if let Some(sql) = file.and_then(|f| f.text.get(d.span.start..d.span.end)) {
        let sql = sql.trim();
        let shown: String = sql.chars().take(SQL_CHARS).collect();
        let cut = if shown.len() < sql.len() { "\n…" } else { "" };
        html.push_str(&format!("<pre>{}{cut}</pre>\n", escape(&shown)));
    }
    html.push_str("</article>\n");
}

fn queries_table(queries: &[QueryStat], html: &mut String) {
    html.push_str(
        "<section id=\"queries\">\n<h2>Queries by total time</h2>\n<table>\n\
         <tr><th>query</th><th>calls</th><th>total</th><th>mean</th><th>max</th><th>rows</th></tr>\n",
    );
    for q in queries.iter().take(QUERY_ROWS) {
        let ms = |v: f64| units::seconds(v / 1000.0);
        html.push_str(&format!(
            "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            escape(&q.query),
            units::count(q.calls as f64),
            ms(q.total_ms),
            ms(q.mean_ms),
            ms(q.max_ms),
            q.rows.map_or_else(String::new, |r| units::count(r as f64))
        ));
    }
    html.push_str("</table>\n");
    if queries.len() > QUERY_ROWS {
        html.push_str(&format!(
            "<p class=\"meta\">The first {QUERY_ROWS} of {} queries.</p>\n",
            queries.len()
        ));
    }
    html.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_from_the_server_is_text() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(
            prose("`<a>` is `b`"),
            "<code>&lt;a&gt;</code> is <code>b</code>"
        );
        assert_eq!(prose("one ` tick <"), "one ` tick &lt;");
    }
}
