//! pg_cron jobs that VACUUM or ANALYZE the whole database on a schedule.

use super::{DatabaseCx, Outcome, Threshold};
use crate::rules::{Category, Check, Finding, Rule, Severity};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "vacuum-whole-database-scheduled",
    category: Category::Database,
    severity: Severity::Warning,
    lock: None,
    summary: "a pg_cron job vacuums or analyzes the whole database on a schedule",
    doc: crate::rules::rule_doc!("vacuum-whole-database-scheduled"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[];

/// Words that may follow `VACUUM` or `ANALYZE` before the table list (the old option syntax).
const OPTION_WORDS: &[&str] = &["FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE"];

/// `VACUUM` or `ANALYZE` when one statement of `command` runs it without a table list.
pub fn whole_database(command: &str) -> Option<&'static str> {
    let without_comments: String = command
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ");
    without_comments.split(';').find_map(|statement| {
        let spaced = statement.replace('(', " ( ").replace(')', " ) ");
        let mut words = spaced
            .split_whitespace()
            .map(str::to_ascii_uppercase)
            .peekable();
        let verb = match words.next()?.as_str() {
            "VACUUM" => "VACUUM",
            "ANALYZE" | "ANALYSE" => "ANALYZE",
            _ => return None,
        };
        if words.peek().map(String::as_str) == Some("(") {
            // the parenthesized options
            words.by_ref().take_while(|w| w != ")").for_each(drop);
        }
        let table_list = words.any(|w| !OPTION_WORDS.contains(&w.as_str()));
        (!table_list).then_some(verb)
    })
}

pub fn check(cx: &DatabaseCx) -> Outcome {
    let activity = cx.snapshot.activity.as_ref().map_err(Clone::clone)?;
    // no pg_cron: nothing scheduled here to look at
    let Some(jobs) = activity.cron_jobs.as_ref().map_err(Clone::clone)? else {
        return Ok(Vec::new());
    };
    Ok(jobs
        .iter()
        .filter(|j| j.active)
        .filter_map(|job| {
            let verb = whole_database(&job.command)?;
            let database = job.database.clone().unwrap_or_else(|| cx.snapshot.server.database.clone());
            let name = job.jobname.clone().unwrap_or_else(|| format!("job {}", job.jobid));
            Some(
                Finding::new(
                    &RULE,
                    Span::new(0, 0),
                    format!(
                        "pg_cron job {name:?} runs {verb} on every table of database {database} at `{}`",
                        job.schedule
                    ),
                )
                .object(format!("cron job {}", job.jobid))
                .evidence("jobid", job.jobid)
                .evidence("jobname", job.jobname.clone())
                .evidence("schedule", job.schedule.clone())
                .evidence("command", job.command.clone())
                .evidence("database", database)
                .evidence("username", job.username.clone())
                .help(
                    "let autovacuum do the routine work (tune its per-table scale factors for the \
                     big tables); schedule only the tables that need it, by name, e.g. \
                     `VACUUM (ANALYZE) public.events`",
                ),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::whole_database;

    #[test]
    fn whole_database_commands_are_told_from_table_lists() {
        for (command, expected) in [
            ("VACUUM", Some("VACUUM")),
            ("vacuum analyze;", Some("VACUUM")),
            ("VACUUM (VERBOSE, ANALYZE)", Some("VACUUM")),
            ("VACUUM FULL VERBOSE", Some("VACUUM")),
            ("ANALYZE", Some("ANALYZE")),
            ("SELECT 1; ANALYZE VERBOSE -- nightly", Some("ANALYZE")),
            ("VACUUM ANALYZE public.events", None),
            ("VACUUM (ANALYZE) events, orders", None),
            ("ANALYZE orders", None),
            ("SELECT purge_old_rows()", None),
        ] {
            assert_eq!(whole_database(command), expected, "{command}");
        }
    }
}
