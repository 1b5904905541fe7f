//! `pg_stat_statements`, read once, with the column names of the installed extension version
//! (probed from `pg_extension.extversion`, not the server version: an extension is often left
//! at an older version after an upgrade).

use super::{Read, Reader, Skipped};
use crate::analysis::{self, Analyzer, Mode, Origin};
use crate::config::Settings;
use crate::diagnostic::{QueryStat, Report};
use crate::rules::{self, Category, Finding};
use crate::source::discover::{self, DiscoverOptions, Framework};
use crate::source::{SourceFile, Span};

/// One normalized statement of this database, as pg_stat_statements counts it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub queryid: i64,
    /// Normalized text (`$n` for the constants), cut to 10 000 characters.
    pub query: String,
    pub calls: u64,
    /// Planning (when `track_planning` is on) plus execution.
    pub total_ms: f64,
    pub mean_ms: f64,
    /// Slowest execution.
    pub max_ms: f64,
    pub rows: u64,
    /// Time spent reading shared blocks (0 unless `track_io_timing` is on).
    pub read_ms: f64,
    pub user: String,
}

#[derive(Debug, Clone, Default)]
pub struct Statements {
    /// Sorted by total time, highest first.
    pub entries: Vec<Entry>,
    /// Rows of other users whose text the role may not see (`<insufficient privilege>`).
    pub hidden: usize,
    /// Seconds the counters have been accumulating (since the extension's last reset, or the
    /// server start where the extension does not record resets).
    pub age_seconds: Option<f64>,
}

/// Column spellings by extension version: the first row whose version the installed one
/// reaches applies. Source: the `pg_stat_statements--X--Y.sql` upgrade scripts.
struct Columns {
    since: (u32, u32),
    total: &'static str,
    max: &'static str,
    read: &'static str,
    /// 1.9 keeps nested statements in rows of their own (`toplevel = false`): keep the
    /// statements the application sent.
    filter: &'static str,
    /// Where the counters' start is recorded.
    since_when: &'static str,
}

const RESET_1_9: &str = "(SELECT stats_reset FROM {schema}.pg_stat_statements_info)";

const COLUMNS: &[Columns] = &[
    Columns {
        since: (1, 11),
        total: "s.total_plan_time + s.total_exec_time",
        max: "s.max_exec_time",
        read: "s.shared_blk_read_time",
        filter: "AND s.toplevel",
        since_when: RESET_1_9,
    },
    Columns {
        since: (1, 9),
        total: "s.total_plan_time + s.total_exec_time",
        max: "s.max_exec_time",
        read: "s.blk_read_time",
        filter: "AND s.toplevel",
        since_when: RESET_1_9,
    },
    Columns {
        since: (1, 8),
        total: "s.total_plan_time + s.total_exec_time",
        max: "s.max_exec_time",
        read: "s.blk_read_time",
        filter: "",
        since_when: "pg_postmaster_start_time()",
    },
    Columns {
        since: (0, 0),
        total: "s.total_time",
        max: "s.max_time",
        read: "s.blk_read_time",
        filter: "",
        since_when: "pg_postmaster_start_time()",
    },
];

/// `1.10` → (1, 10); an unreadable version is taken as the oldest.
fn version(text: &str) -> (u32, u32) {
    let mut parts = text.split('.').map(|p| p.trim().parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

fn columns_for(extension_version: &str) -> &'static Columns {
    let installed = version(extension_version);
    COLUMNS
        .iter()
        .find(|c| installed >= c.since)
        .unwrap_or(&COLUMNS[COLUMNS.len() - 1])
}

/// The one query, for the installed version, on the view in the extension's schema.
fn statements_sql(schema: &str, columns: &Columns) -> String {
    let since_when = columns.since_when.replace("{schema}", schema);
    format!(
        "SELECT s.queryid, LEFT(s.query, 10000), s.calls, ({total})::float8, ({max})::float8, \
                s.rows, ({read})::float8, r.rolname::text, \
                extract(epoch FROM now() - coalesce({since_when}, pg_postmaster_start_time()))::float8 \
         FROM {schema}.pg_stat_statements s \
         JOIN pg_database d ON d.oid = s.dbid \
         LEFT JOIN pg_roles r ON r.oid = s.userid \
         WHERE s.calls > 0 AND d.datname = current_database() {filter} \
           AND s.query NOT LIKE '%{tag}%' \
         ORDER BY 4 DESC",
        tag = super::QUERY_TAG,
        total = columns.total,
        max = columns.max,
        read = columns.read,
        filter = columns.filter,
    )
}

/// What the server says when the library is not in `shared_preload_libraries`.
const NOT_LOADED: &str = "must be loaded via";

pub async fn read(reader: &Reader<'_>) -> Read<Statements> {
    let Some(extension) = reader.server.extension("pg_stat_statements") else {
        return Err(Skipped::new(
            "pg_stat_statements is not installed in this database: add it to \
             shared_preload_libraries and CREATE EXTENSION pg_stat_statements",
        ));
    };
    let sql = statements_sql(&extension.schema, columns_for(&extension.version));
    let rows =
        reader
            .rows("pg_stat_statements", &sql, &[])
            .await
            .map_err(|skipped| match skipped.reason.contains(NOT_LOADED) {
                true => Skipped::new(
                    "pg_stat_statements is installed but not loaded: add it to \
                 shared_preload_libraries and restart the server",
                ),
                false => skipped,
            })?;
    let mut statements = Statements::default();
    for row in rows {
        statements.age_seconds = row.get(8);
        // other users' rows without pg_read_all_stats: no text and no queryid
        let (Some(queryid), Some(query)) = (
            row.get::<_, Option<i64>>(0),
            row.get::<_, Option<String>>(1),
        ) else {
            statements.hidden += 1;
            continue;
        };
        if query == "<insufficient privilege>" {
            statements.hidden += 1;
            continue;
        }
        let calls = row.get::<_, i64>(2).max(0) as u64;
        let total_ms: f64 = row.get(3);
        statements.entries.push(Entry {
            queryid,
            query,
            calls,
            total_ms,
            mean_ms: total_ms / calls.max(1) as f64,
            max_ms: row.get(4),
            rows: row.get::<_, i64>(5).max(0) as u64,
            read_ms: row.get::<_, Option<f64>>(6).unwrap_or(0.0),
            user: row.get::<_, Option<String>>(7).unwrap_or_default(),
        });
    }
    Ok(statements)
}

impl Statements {
    /// The notes a reader of the report needs: hidden statements.
    pub fn notes(&self) -> Vec<String> {
        match self.hidden {
            0 => Vec::new(),
            n => vec![format!(
                "pg_stat_statements: {n} statement{} of other users hidden: grant \
                 pg_read_all_stats to the role pgrisk connects as",
                if n == 1 { "" } else { "s" }
            )],
        }
    }

    /// The `queries` array of the report.
    pub fn query_stats(&self) -> Vec<QueryStat> {
        self.entries
            .iter()
            .map(|e| QueryStat {
                id: e.queryid.to_string(),
                query: e.query.clone(),
                example: None,
                calls: e.calls,
                total_ms: e.total_ms,
                mean_ms: e.mean_ms,
                max_ms: e.max_ms,
                rows: Some(e.rows),
            })
            .collect()
    }
}

/// The first keyword of a statement, lower case, after the leading comments
/// pg_stat_statements keeps (`/* app=... */`).
pub fn first_keyword(text: &str) -> String {
    let mut text = text.trim_start();
    loop {
        text = match (text.strip_prefix("/*"), text.strip_prefix("--")) {
            (Some(rest), _) => rest.split_once("*/").map_or("", |p| p.1).trim_start(),
            (_, Some(rest)) => rest.split_once('\n').map_or("", |p| p.1).trim_start(),
            _ => break,
        };
    }
    text.split(|c: char| !c.is_ascii_alphabetic())
        .find(|w| !w.is_empty())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Statements the query rules judge. The others (DDL, `SET`, `BEGIN`, ...) are not the
/// application's queries, and replaying DDL would change the live schema the queries are
/// checked against.
const QUERY_KEYWORDS: &[&str] = &[
    "select", "with", "insert", "update", "delete", "merge", "values", "table",
];

/// Milliseconds to the microsecond, for evidence a person reads.
fn round_ms(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// Rules that need a literal pg_stat_statements replaced by `$n`, and the words before it.
const LITERAL_RULES: &[(&str, &[&str])] = &[
    ("like-leading-wildcard", &["like", "ilike", "~~", "~~*"]),
    ("offset-pagination", &["offset"]),
];

/// The literal-dependent rules whose literal is hidden in `query` (`LIKE $1`, `OFFSET $2`).
fn hidden_literals(query: &str) -> impl Iterator<Item = &'static str> + '_ {
    let lower = query.to_ascii_lowercase();
    let words: Vec<String> = lower
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    LITERAL_RULES.iter().filter_map(move |(rule, before)| {
        words
            .windows(2)
            .any(|w| before.contains(&w[0].as_str()) && w[1].starts_with('$'))
            .then_some(*rule)
    })
}

/// The statements part of a live report: the query rules' findings, `queries` and notes, or
/// why pg_stat_statements could not be read.
pub fn add_to_report(report: &mut Report, snapshot: &super::Snapshot, settings: &Settings) {
    let tables = snapshot.sizes.as_ref().map_or(&[][..], |s| &s.tables);
    match &snapshot.statements {
        Ok(statements) => report_into(report, statements, tables, settings),
        Err(skipped) => report.notes.push(skipped.reason.clone()),
    }
}

/// Runs the query rules on every entry (one query "file" each, checked against the live
/// schema replayed from `tables`), and fills the report's `queries`, findings and notes.
pub fn report_into(
    report: &mut Report,
    statements: &Statements,
    tables: &[super::sizes::TableSize],
    settings: &Settings,
) {
    let options = DiscoverOptions {
        framework: Some(Framework::Plain),
        ..DiscoverOptions::default()
    };
    let load = |name: String, text: String| {
        SourceFile::load(discover::from_text(name.into(), text, &options))
    };
    // only the tables some query names: replaying 10,000 tables for 20 queries cost more than
    // reading them from the server
    let texts: Vec<String> = statements
        .entries
        .iter()
        .map(|e| e.query.to_lowercase())
        .collect();
    let named: Vec<super::sizes::TableSize> = tables
        .iter()
        .filter(|t| {
            let name = t.name.to_lowercase();
            texts.iter().any(|q| q.contains(&name))
        })
        .cloned()
        .collect();
    let mut analyzer = Analyzer::new(settings.pg_version, settings.search_path.clone());
    analyzer.analyze(
        analysis::prepare(
            load(
                "<live schema>".into(),
                super::stats_file::schema_ddl(&named),
            ),
            false,
            Mode::Migrations,
        ),
        Origin::Existing,
    );
    let rules = rules::for_mode(Mode::Queries);
    let rule_settings = settings.rule_settings();
    let enabled = settings.enabled_rules();
    let mut findings = Vec::new();
    let mut hidden: Vec<&str> = Vec::new();
    let queries = statements
        .entries
        .iter()
        .filter(|e| QUERY_KEYWORDS.contains(&first_keyword(&e.query).as_str()));
    for (index, entry) in queries.enumerate() {
        let name = format!("queryid {}", entry.queryid);
        let file = analyzer.analyze(
            analysis::prepare(
                load(name.clone(), entry.query.clone()),
                false,
                Mode::Queries,
            ),
            Origin::Created { file: index },
        );
        for finding in rules::check_file(&file, &rules, &rule_settings, &analyzer.catalog) {
            // a query pg_stat_statements cut or pgrisk cannot read is not the application's fault
            if finding.rule.category == Category::Meta {
                continue;
            }
            findings.push(
                Finding {
                    span: Span::new(0, 0),
                    ..finding
                }
                .object(&name)
                .evidence("calls", entry.calls)
                .evidence("total_ms", round_ms(entry.total_ms))
                .evidence("mean_ms", round_ms(entry.mean_ms))
                .evidence("rows", entry.rows)
                .evidence("query", entry.query.as_str()),
            );
        }
        hidden
            .extend(hidden_literals(&entry.query).filter(|r| enabled.iter().any(|e| e.name == *r)));
    }
    hidden.sort_unstable();
    hidden.dedup();
    if !hidden.is_empty() {
        report.notes.push(format!(
            "{}: pg_stat_statements hides literals; run `pgrisk logs` on a query log to check them",
            hidden.join(", ")
        ));
    }
    report.notes.extend(statements.notes());
    report.queries = Some(statements.query_stats());
    report.add_database(findings, settings);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_spellings_follow_the_extension_version() {
        assert_eq!(columns_for("1.6").total, "s.total_time");
        assert_eq!(columns_for("1.7").max, "s.max_time");
        assert_eq!(columns_for("1.8").filter, "");
        assert_eq!(columns_for("1.9").filter, "AND s.toplevel");
        assert_eq!(columns_for("1.10").read, "s.blk_read_time");
        assert_eq!(columns_for("1.11").read, "s.shared_blk_read_time");
        assert_eq!(columns_for("1.12").read, "s.shared_blk_read_time");
        assert_eq!(columns_for("garbage").total, "s.total_time");
    }

    #[test]
    fn the_first_keyword_skips_leading_comments() {
        assert_eq!(first_keyword("/* app=shop */ -- x\n  SELECT 1"), "select");
        assert_eq!(first_keyword("CREATE TABLE t (id int)"), "create");
        assert_eq!(first_keyword("/* unterminated"), "");
    }

    #[test]
    fn hidden_literals_are_the_placeholders_after_like_and_offset() {
        let rules: Vec<_> =
            hidden_literals("SELECT * FROM t WHERE name ILIKE $1 ORDER BY id OFFSET $2").collect();
        assert_eq!(rules, ["like-leading-wildcard", "offset-pagination"]);
        assert_eq!(
            hidden_literals("SELECT * FROM t WHERE id = $1 LIMIT $2").count(),
            0
        );
    }

    #[test]
    fn the_view_is_qualified_with_the_extension_schema() {
        let sql = statements_sql("monitoring", columns_for("1.10"));
        assert!(sql.contains("FROM monitoring.pg_stat_statements s"));
        assert!(sql.contains("FROM monitoring.pg_stat_statements_info"));
    }
}
