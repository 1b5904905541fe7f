//! `trace`: runs migrations on a real server and records what each statement really did —
//! the relation locks its transaction holds afterwards (`pg_locks`), the relations whose
//! storage changed (`pg_class.relfilenode`, a rewrite) and its duration — beside the static
//! prediction from the analysis.
//!
//! On a disposable cluster each statement runs in its own transaction, committed so the next
//! one sees the schema. On a user's server (`--dsn`) everything runs in one transaction that
//! is always rolled back; locks are diffed per statement.

pub mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde::Serialize;
use tokio_postgres::Client;

use crate::analysis::{ActionKind, AnalyzedFile, AnalyzedStatement, LockMode};

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObservedLock {
    pub relation: String,
    /// `pg_locks.mode`, e.g. `ShareLock`.
    pub mode: String,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Confirmed,
    Mismatch,
    NotTraced,
}

#[derive(Debug, Clone, Serialize)]
pub struct TracedStatement {
    pub file: String,
    pub line: usize,
    pub sql: String,
    pub observed_locks: Vec<ObservedLock>,
    /// Relations whose storage was rewritten.
    pub rewritten: Vec<String>,
    pub rewrite: bool,
    pub duration_ms: f64,
    /// The strongest lock the analysis predicts, by PostgreSQL's mode name (e.g. `SHARE`).
    pub predicted_lock: Option<String>,
    pub predicted_rewrite: bool,
    pub verdict: Verdict,
    /// Why the verdict is what it is (what differed, or why it was not traced).
    pub note: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("{file}:{line}: the server rejected the statement: {message}")]
    Statement {
        file: String,
        line: usize,
        message: String,
    },
    #[error(
        "{file}:{line}: this statement cannot run inside a transaction, so it cannot be rolled back on \
         your server; pass --allow-non-transactional to skip it, or trace on a disposable cluster"
    )]
    NonTransactional { file: String, line: usize },
    #[error("database: {0}")]
    Database(#[from] tokio_postgres::Error),
}

/// Where statements run, which decides whether anything may be committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A throwaway cluster: statements commit one by one.
    Disposable,
    /// The user's server: one transaction, always rolled back.
    UserServer { allow_non_transactional: bool },
}

const LOCKS_SQL: &str = "
    SELECT n.nspname || '.' || c.relname, l.mode
    FROM pg_locks l
    JOIN pg_class c ON c.oid = l.relation
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'";

const STORAGE_SQL: &str = "
    SELECT c.oid::bigint, n.nspname || '.' || c.relname, c.relfilenode::bigint
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%'";

async fn locks(client: &Client) -> Result<BTreeSet<ObservedLock>, tokio_postgres::Error> {
    Ok(client
        .query(LOCKS_SQL, &[])
        .await?
        .iter()
        .map(|row| ObservedLock {
            relation: row.get(0),
            mode: row.get(1),
        })
        .collect())
}

async fn storage(client: &Client) -> Result<BTreeMap<i64, (String, i64)>, tokio_postgres::Error> {
    Ok(client
        .query(STORAGE_SQL, &[])
        .await?
        .iter()
        .map(|row| (row.get::<_, i64>(0), (row.get(1), row.get(2))))
        .collect())
}

fn non_transactional(statement: &AnalyzedStatement) -> bool {
    statement
        .actions
        .iter()
        .any(|a| a.kind.refuses_transaction_block())
}

fn is_transaction_control(statement: &AnalyzedStatement) -> bool {
    statement.actions.iter().any(|a| {
        matches!(
            a.kind,
            ActionKind::Begin | ActionKind::Commit | ActionKind::Rollback
        )
    })
}

/// The strongest predicted lock per relation, keyed like `pg_locks` names (`schema.table`).
fn predicted_locks(statement: &AnalyzedStatement) -> BTreeMap<String, LockMode> {
    let mut predicted: BTreeMap<String, LockMode> = BTreeMap::new();
    for lock in statement.actions.iter().flat_map(|a| &a.locks) {
        let entry = predicted
            .entry(lock.relation.key().to_string())
            .or_insert(lock.mode);
        *entry = (*entry).max(lock.mode);
    }
    predicted
}

fn strongest_per_relation<'a>(
    locks: impl IntoIterator<Item = &'a ObservedLock>,
) -> BTreeMap<&'a str, LockMode> {
    let mut strongest: BTreeMap<&str, LockMode> = BTreeMap::new();
    for lock in locks {
        if let Some(mode) = LockMode::parse(&lock.mode) {
            let entry = strongest.entry(lock.relation.as_str()).or_insert(mode);
            *entry = (*entry).max(mode);
        }
    }
    strongest
}

/// Compares the prediction with what the server did. `held_before` are the locks the
/// transaction already held (only on a user's server, where one transaction runs everything):
/// a relation already locked at least as strongly cannot show what this statement took.
fn judge(
    predicted: &BTreeMap<String, LockMode>,
    held_before: &BTreeSet<ObservedLock>,
    held_after: &BTreeSet<ObservedLock>,
    predicted_rewrite: bool,
    rewrite: bool,
) -> (Verdict, Option<String>) {
    let before = strongest_per_relation(held_before);
    let after = strongest_per_relation(held_after);
    let mut differences = Vec::new();
    let mut unverifiable = Vec::new();
    let mut compared = false;
    for (relation, mode) in predicted {
        // the relation may not exist under that name (an index whose table is unknown)
        let Some(seen) = after.get(relation.as_str()) else {
            continue;
        };
        if before.get(relation.as_str()) == Some(seen) && seen != mode {
            unverifiable.push(format!("{relation} was already held {seen}"));
            continue;
        }
        compared = true;
        if seen != mode {
            differences.push(format!("{relation}: predicted {mode}, observed {seen}"));
        }
    }
    if predicted_rewrite != rewrite {
        differences.push(format!(
            "rewrite: predicted {predicted_rewrite}, observed {rewrite}"
        ));
    }
    if !differences.is_empty() {
        return (Verdict::Mismatch, Some(differences.join("; ")));
    }
    match (compared || predicted.is_empty(), unverifiable.is_empty()) {
        (true, true) => (Verdict::Confirmed, None),
        (true, false) => (Verdict::Confirmed, Some(unverifiable.join("; "))),
        (false, true) => (
            Verdict::NotTraced,
            Some("no predicted relation was locked under that name".into()),
        ),
        (false, false) => (Verdict::NotTraced, Some(unverifiable.join("; "))),
    }
}

/// Runs every statement of `files` in order on `client` and records what happened.
/// `seed_rows` > 0 fills every table the migrations create with that many generated rows,
/// so that later scans and rewrites have something to read.
pub async fn trace(
    client: &Client,
    files: &[AnalyzedFile],
    target: Target,
    seed_rows: u64,
) -> Result<Vec<TracedStatement>, TraceError> {
    let mut out = Vec::new();
    let user_server = matches!(target, Target::UserServer { .. });
    if user_server {
        client.batch_execute("BEGIN").await?;
    }
    let result = trace_in(client, files, target, seed_rows, &mut out).await;
    if user_server {
        // never leave anything behind on a user's server, whatever happened
        let rolled_back = client.batch_execute("ROLLBACK").await;
        result?;
        rolled_back?;
    } else {
        result?;
    }
    Ok(out)
}

async fn trace_in(
    client: &Client,
    files: &[AnalyzedFile],
    target: Target,
    seed_rows: u64,
    out: &mut Vec<TracedStatement>,
) -> Result<(), TraceError> {
    for file in files {
        let source = &file.source;
        let path = source.path.display().to_string();
        for statement in &file.statements {
            let raw = &source.statements[statement.index];
            let sql = source.statement_sql(raw).to_owned();
            let line = source.position(statement.span.start).line;
            let predicted = predicted_locks(statement);
            let predicted_rewrite = statement.actions.iter().any(|a| a.rewrite.is_some());
            let mut traced = TracedStatement {
                file: path.clone(),
                line,
                sql: sql.clone(),
                observed_locks: Vec::new(),
                rewritten: Vec::new(),
                rewrite: false,
                duration_ms: 0.0,
                predicted_lock: predicted.values().max().map(|m| m.sql_name().to_owned()),
                predicted_rewrite,
                verdict: Verdict::NotTraced,
                note: None,
            };
            if is_transaction_control(statement) {
                traced.note = Some("transaction control is managed by the tracer".into());
                out.push(traced);
                continue;
            }
            let outside_transaction = non_transactional(statement);
            if outside_transaction {
                match target {
                    Target::UserServer {
                        allow_non_transactional: false,
                    } => {
                        return Err(TraceError::NonTransactional { file: path, line });
                    }
                    Target::UserServer {
                        allow_non_transactional: true,
                    } => {
                        traced.note =
                            Some("skipped: cannot run inside the rolled-back transaction".into());
                        out.push(traced);
                        continue;
                    }
                    Target::Disposable => {}
                }
            }
            let in_own_transaction = target == Target::Disposable && !outside_transaction;
            if in_own_transaction {
                client.batch_execute("BEGIN").await?;
            }
            let locks_before = if target == Target::Disposable {
                BTreeSet::new()
            } else {
                locks(client).await?
            };
            let storage_before = storage(client).await?;
            let start = Instant::now();
            let executed = client.batch_execute(&sql).await;
            traced.duration_ms = start.elapsed().as_secs_f64() * 1000.0;
            if let Err(error) = executed {
                if in_own_transaction {
                    client.batch_execute("ROLLBACK").await?;
                }
                return Err(statement_error(&path, line, &sql, &error));
            }
            let locks_after = locks(client).await?;
            let storage_after = storage(client).await?;
            if in_own_transaction {
                client.batch_execute("COMMIT").await?;
            }
            traced.observed_locks = locks_after.difference(&locks_before).cloned().collect();
            traced.rewritten = storage_before
                .iter()
                .filter(|(oid, (_, node))| {
                    storage_after
                        .get(oid)
                        .is_some_and(|(_, after)| after != node)
                })
                .map(|(_, (name, _))| name.clone())
                .collect();
            traced.rewrite = !traced.rewritten.is_empty();
            if outside_transaction {
                traced.note = Some("runs outside a transaction: its locks end with it".into());
            } else {
                let (verdict, note) = judge(
                    &predicted,
                    &locks_before,
                    &locks_after,
                    predicted_rewrite,
                    traced.rewrite,
                );
                traced.verdict = verdict;
                traced.note = note;
            }
            if seed_rows > 0 {
                for action in &statement.actions {
                    if let ActionKind::CreateTable {
                        table,
                        scratch: false,
                        ..
                    } = &action.kind
                    {
                        let seeded =
                            seed(client, &table.key().to_string(), seed_rows, target).await?;
                        let note = seeded.map_or_else(
                            || format!("seeded {seed_rows} rows"),
                            |e| format!("not seeded: {e}"),
                        );
                        traced.note =
                            Some(traced.note.map_or(note.clone(), |n| format!("{n}; {note}")));
                    }
                }
            }
            out.push(traced);
        }
    }
    Ok(())
}

/// A value expression for row `g` of a NOT NULL column without a default, by type.
fn seed_value(ty: &str) -> Option<&'static str> {
    let ty = ty.split('(').next().unwrap_or(ty).trim();
    Some(match ty {
        "smallint" => "(g % 32000)",
        "integer" | "bigint" | "numeric" | "real" | "double precision" => "g",
        "text" | "character varying" | "citext" => "'seed ' || g",
        "character" => "left(g::text, 1)",
        "boolean" => "true",
        "date" | "timestamp without time zone" | "timestamp with time zone" => "now()",
        "uuid" => "md5(g::text)::uuid",
        "json" | "jsonb" => "'{}'",
        "bytea" => "'\\x00'",
        "inet" | "cidr" => "'127.0.0.1'",
        "interval" => "'1 day'",
        _ => return None,
    })
}

const COLUMNS_SQL: &str = "
    SELECT a.attname::text, format_type(a.atttypid, a.atttypmod)
    FROM pg_attribute a
    WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped
      AND a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = ''
    ORDER BY a.attnum";

/// Inserts `rows` generated rows into `table`; `Some(reason)` when that was not possible
/// (a foreign key, a type without a generator). Never fails the trace itself.
async fn seed(
    client: &Client,
    table: &str,
    rows: u64,
    target: Target,
) -> Result<Option<String>, TraceError> {
    let columns = client.query(COLUMNS_SQL, &[&table]).await?;
    let mut names = Vec::new();
    let mut values = Vec::new();
    for row in &columns {
        let (name, ty): (String, String) = (row.get(0), row.get(1));
        let Some(value) = seed_value(&ty) else {
            return Ok(Some(format!("no generator for `{name}` of type {ty}")));
        };
        names.push(format!("\"{}\"", name.replace('"', "\"\"")));
        values.push(value);
    }
    let insert = format!(
        "INSERT INTO {table} ({}) SELECT {} FROM generate_series(1, {rows}) AS g",
        names.join(", "),
        values.join(", ")
    );
    let (begin, commit, undo) = match target {
        Target::Disposable => ("BEGIN", "COMMIT", "ROLLBACK"),
        Target::UserServer { .. } => (
            "SAVEPOINT pgrisk_seed",
            "RELEASE SAVEPOINT pgrisk_seed",
            "ROLLBACK TO SAVEPOINT pgrisk_seed",
        ),
    };
    client.batch_execute(begin).await?;
    match client.batch_execute(&insert).await {
        Ok(()) => {
            client.batch_execute(commit).await?;
            Ok(None)
        }
        Err(e) => {
            client.batch_execute(undo).await?;
            Ok(Some(
                e.as_db_error()
                    .map_or_else(|| e.to_string(), |d| d.message().to_owned()),
            ))
        }
    }
}

/// The server's message, with the line of the error inside the file when it says where.
fn statement_error(
    file: &str,
    line: usize,
    sql: &str,
    error: &tokio_postgres::Error,
) -> TraceError {
    let Some(db) = error.as_db_error() else {
        return TraceError::Statement {
            file: file.into(),
            line,
            message: error.to_string(),
        };
    };
    let error_line = match db.position() {
        Some(tokio_postgres::error::ErrorPosition::Original(position)) => {
            let before: String = sql.chars().take(*position as usize).collect();
            line + before.matches('\n').count()
        }
        _ => line,
    };
    TraceError::Statement {
        file: file.into(),
        line: error_line,
        message: format!("{}: {}", db.severity(), db.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(relation: &str, mode: &str) -> ObservedLock {
        ObservedLock {
            relation: relation.into(),
            mode: mode.into(),
        }
    }

    #[test]
    fn judge_compares_the_strongest_observed_mode() {
        let none = BTreeSet::new();
        let predicted = BTreeMap::from([("public.orders".to_owned(), LockMode::Share)]);
        let observed = BTreeSet::from([
            lock("public.orders", "ShareLock"),
            lock("public.orders", "AccessShareLock"),
        ]);
        assert_eq!(
            judge(&predicted, &none, &observed, false, false).0,
            Verdict::Confirmed
        );
        let observed = BTreeSet::from([lock("public.orders", "AccessExclusiveLock")]);
        let (verdict, note) = judge(&predicted, &none, &observed, false, false);
        assert_eq!(verdict, Verdict::Mismatch);
        assert!(
            note.unwrap()
                .contains("predicted SHARE, observed ACCESS EXCLUSIVE")
        );
        let observed = BTreeSet::from([lock("public.orders", "ShareLock")]);
        assert_eq!(
            judge(&predicted, &none, &observed, true, false).0,
            Verdict::Mismatch
        );
    }

    #[test]
    fn a_lock_already_held_stronger_cannot_be_judged() {
        let predicted = BTreeMap::from([("public.orders".to_owned(), LockMode::Share)]);
        let held = BTreeSet::from([lock("public.orders", "AccessExclusiveLock")]);
        let (verdict, note) = judge(&predicted, &held, &held, false, false);
        assert_eq!(verdict, Verdict::NotTraced);
        assert!(note.unwrap().contains("already held"));
    }
}
