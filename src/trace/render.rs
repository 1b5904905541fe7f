//! Trace reports: a table for terminals, the JSON contract (`statements`, DESIGN.md §3) and
//! Markdown for a pull-request comment.

use std::io::{self, Write};

use super::{TracedStatement, Verdict};

fn one_line(sql: &str, max: usize) -> String {
    let flat: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

fn locks_text(s: &TracedStatement) -> String {
    if s.observed_locks.is_empty() {
        return "—".into();
    }
    s.observed_locks
        .iter()
        .map(|l| format!("{} {}", l.relation, l.mode))
        .collect::<Vec<_>>()
        .join(", ")
}

fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Confirmed => "confirmed",
        Verdict::Mismatch => "MISMATCH",
        Verdict::NotTraced => "not traced",
    }
}

pub fn human(statements: &[TracedStatement], server: &str, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "traced on {server}")?;
    for s in statements {
        writeln!(out, "{}:{}: {}", s.file, s.line, one_line(&s.sql, 90))?;
        writeln!(
            out,
            "    locks: {}\n    rewrite: {}   duration: {:.1} ms   predicted: {}   {}{}",
            locks_text(s),
            if s.rewrite {
                s.rewritten.join(", ")
            } else {
                "no".into()
            },
            s.duration_ms,
            s.predicted_lock.as_deref().unwrap_or("no lock"),
            verdict_text(s.verdict),
            s.note
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
        )?;
    }
    summary(statements, out)
}

fn summary(statements: &[TracedStatement], out: &mut dyn Write) -> io::Result<()> {
    let count = |v| statements.iter().filter(|s| s.verdict == v).count();
    writeln!(
        out,
        "{} statements: {} confirmed, {} mismatch, {} not traced",
        statements.len(),
        count(Verdict::Confirmed),
        count(Verdict::Mismatch),
        count(Verdict::NotTraced)
    )
}

pub fn json(statements: &[TracedStatement], server: &str, out: &mut dyn Write) -> io::Result<()> {
    let value = serde_json::json!({ "version": crate::render::json::VERSION, "server": server, "statements": statements });
    serde_json::to_writer_pretty(&mut *out, &value).map_err(io::Error::other)?;
    writeln!(out)
}

pub fn markdown(
    statements: &[TracedStatement],
    server: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "### pgrisk trace\n\nTraced on {server}.\n")?;
    writeln!(
        out,
        "| statement | locks taken | rewrite | ms | predicted | verdict |"
    )?;
    writeln!(out, "|---|---|---|---:|---|---|")?;
    for s in statements {
        let cell = |t: String| t.replace('|', "\\|");
        writeln!(
            out,
            "| `{}:{}` {} | {} | {} | {:.1} | {} | {} |",
            s.file,
            s.line,
            cell(format!("`{}`", one_line(&s.sql, 60))),
            cell(locks_text(s)),
            if s.rewrite { "**yes**" } else { "no" },
            s.duration_ms,
            s.predicted_lock.as_deref().unwrap_or("—"),
            verdict_text(s.verdict),
        )?;
    }
    writeln!(out)?;
    summary(statements, out)
}
