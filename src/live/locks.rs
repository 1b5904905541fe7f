//! The migration preflight of `lint --dsn`: who holds or waits for a lock on a relation right
//! now (`pg_locks` joined to `pg_stat_activity`), and which query families of
//! `pg_stat_statements` would queue behind a statement that has to wait.

use super::statements::{Entry, Statements, first_keyword};
use super::{Read, Reader};
use crate::analysis::{LockMode, Name, SearchPath};
use crate::live::sizes::TableSize;

/// Another session, as `pg_stat_activity` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub pid: i32,
    /// `pg_stat_activity.state`: `active`, `idle in transaction`, ...
    pub state: String,
    pub application: String,
    pub user: String,
    /// Age of its transaction and of its current state.
    pub transaction_seconds: Option<f64>,
    pub state_seconds: Option<f64>,
    /// Its current (or last) statement, cut to 200 characters.
    pub query: String,
}

/// A session holding (or waiting for) a lock on a relation.
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    /// `schema.table`, as findings name relations.
    pub relation: String,
    pub mode: LockMode,
    pub granted: bool,
    pub session: Session,
}

#[derive(Debug, Clone, Default)]
pub struct Locks {
    pub holders: Vec<Holder>,
    /// Sessions of this database whose snapshot is older than [`OLD_SNAPSHOT_SECONDS`]
    /// (`backend_xmin` set): a concurrent index build waits for them to end.
    pub old_snapshots: Vec<Session>,
}

/// A snapshot held this long is reported: shorter ones end before they matter.
pub const OLD_SNAPSHOT_SECONDS: f64 = 60.0;

/// The `pg_stat_activity` columns of a [`Session`], in its field order after `pid`.
const SESSION_COLUMNS: &str = "
       coalesce(a.state, '(state hidden: grant pg_read_all_stats)'),
       coalesce(a.application_name, ''), coalesce(a.usename::text, ''),
       extract(epoch FROM now() - a.xact_start)::float8,
       extract(epoch FROM now() - a.state_change)::float8,
       coalesce(left(a.query, 200), '')";

/// Relation locks of this database held or awaited by other sessions. `pg_locks` shows every
/// backend's locks to any role; `pg_stat_activity` hides other users' state without
/// pg_read_all_stats, which the message then says.
const LOCKS: &str = "
SELECT n.nspname::text, c.relname::text, l.mode, l.granted, l.pid, {session}
FROM pg_locks l
JOIN pg_class c ON c.oid = l.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY a.xact_start NULLS LAST, l.pid";

const OLD_SNAPSHOTS: &str = "
SELECT a.pid, {session}
FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
  AND a.backend_xmin IS NOT NULL AND a.xact_start < now() - make_interval(secs => $1)
ORDER BY a.xact_start";

fn session(row: &tokio_postgres::Row, pid: usize) -> Session {
    Session {
        pid: row.get(pid),
        state: row.get(pid + 1),
        application: row.get(pid + 2),
        user: row.get(pid + 3),
        transaction_seconds: row.get(pid + 4),
        state_seconds: row.get(pid + 5),
        query: row.get(pid + 6),
    }
}

pub async fn read(reader: &Reader<'_>) -> Read<Locks> {
    let sql = LOCKS.replace("{session}", SESSION_COLUMNS);
    let rows = reader.rows("relation locks", &sql, &[]).await?;
    let holders = rows
        .iter()
        .filter_map(|r| {
            Some(Holder {
                relation: format!("{}.{}", r.get::<_, String>(0), r.get::<_, String>(1)),
                mode: LockMode::parse(r.get(2))?,
                granted: r.get(3),
                session: session(r, 4),
            })
        })
        .collect();
    let sql = OLD_SNAPSHOTS.replace("{session}", SESSION_COLUMNS);
    let rows = reader
        .rows("old snapshots", &sql, &[&OLD_SNAPSHOT_SECONDS])
        .await?;
    let old_snapshots = rows.iter().map(|r| session(r, 0)).collect();
    Ok(Locks {
        holders,
        old_snapshots,
    })
}

impl Locks {
    /// The sessions a `mode` lock on `relation` would queue behind: granted locks that
    /// conflict, and earlier waiters that conflict (the lock queue is first come, first
    /// served). One entry per session, its strongest conflicting lock.
    pub fn blocking(&self, relation: &str, mode: LockMode) -> Vec<&Holder> {
        let mut found: Vec<&Holder> = Vec::new();
        for h in self
            .holders
            .iter()
            .filter(|h| h.relation == relation && h.mode.conflicts_with(mode))
        {
            match found.iter_mut().find(|f| f.session.pid == h.session.pid) {
                Some(f) if f.mode < h.mode => *f = h,
                Some(_) => {}
                None => found.push(h),
            }
        }
        found
    }
}

/// What the preflight of `lint --dsn` read: the locks now, the query families, the sizes.
#[derive(Debug, Clone, Default)]
pub struct Preflight {
    pub locks: Locks,
    pub families: Vec<Family>,
    /// Seconds pg_stat_statements has been counting, for calls per second.
    pub counting_seconds: Option<f64>,
    pub tables: Vec<TableSize>,
    pub search_path: SearchPath,
    /// Why the query families are missing, when they are.
    pub families_skipped: Option<String>,
}

/// Reads the preflight facts; `tables` from the sizes reader.
pub async fn preflight(
    reader: &Reader<'_>,
    tables: Vec<TableSize>,
    search_path: SearchPath,
) -> Read<Preflight> {
    let locks = read(reader).await?;
    let (families, counting_seconds, families_skipped) = match super::statements::read(reader).await
    {
        Ok(statements) => (
            families(&statements, &tables, &search_path),
            statements.age_seconds,
            None,
        ),
        Err(skipped) => (Vec::new(), None, Some(skipped.reason)),
    };
    Ok(Preflight {
        locks,
        families,
        counting_seconds,
        tables,
        search_path,
        families_skipped,
    })
}

/// A normalized query of the application, with the relations it reads or writes and the lock
/// it takes on them.
#[derive(Debug, Clone)]
pub struct Family {
    pub entry: Entry,
    pub relations: Vec<String>,
    pub mode: LockMode,
}

/// The lock a query takes on its tables, from its first keyword: reads take ACCESS SHARE,
/// data changes ROW EXCLUSIVE (`SELECT ... FOR UPDATE`'s ROW SHARE conflicts with the same
/// DDL as ACCESS SHARE does, except `EXCLUSIVE`).
fn query_lock(text: &str) -> LockMode {
    match first_keyword(text).as_str() {
        "insert" | "update" | "delete" | "merge" | "copy" => LockMode::RowExclusive,
        _ => LockMode::AccessShare,
    }
}

/// `schema.table` of a name in a query: qualified as written, else the first schema of
/// `search_path` holding such a table (else `public`).
pub fn relation_key(name: &Name, tables: &[TableSize], search_path: &SearchPath) -> String {
    match &name.schema {
        Some(schema) => format!("{schema}.{}", name.name),
        None => crate::diagnostic::size::find_table(tables, &name.name, search_path)
            .map_or_else(|| format!("public.{}", name.name), TableSize::key),
    }
}

/// The query families of `statements`, each with the relations the query analyzer finds in it.
pub fn families(
    statements: &Statements,
    tables: &[TableSize],
    search_path: &SearchPath,
) -> Vec<Family> {
    statements
        .entries
        .iter()
        .filter_map(|entry| {
            let facts = crate::analysis::query::read_query(&entry.query).ok()??;
            let mut relations: Vec<String> = facts
                .tables
                .iter()
                .map(|t| relation_key(&t.name, tables, search_path))
                .chain(
                    facts
                        .insert
                        .iter()
                        .map(|(n, _)| relation_key(n, tables, search_path)),
                )
                .collect();
            relations.sort();
            relations.dedup();
            Some(Family {
                mode: query_lock(&entry.query),
                entry: entry.clone(),
                relations,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_lock_by_their_verb() {
        assert_eq!(query_lock("SELECT * FROM t"), LockMode::AccessShare);
        assert_eq!(query_lock("  update t set a = $1"), LockMode::RowExclusive);
        assert_eq!(
            query_lock("/* app */ INSERT INTO t VALUES ($1)"),
            LockMode::RowExclusive
        );
    }

    #[test]
    fn blocking_sessions_are_the_conflicting_ones_once_each() {
        let holder = |pid, mode| Holder {
            relation: "public.orders".into(),
            mode,
            granted: true,
            session: Session {
                pid,
                state: "idle in transaction".into(),
                application: "app".into(),
                user: "u".into(),
                transaction_seconds: Some(1.0),
                state_seconds: Some(1.0),
                query: String::new(),
            },
        };
        let locks = Locks {
            holders: vec![
                holder(1, LockMode::AccessShare),
                holder(1, LockMode::RowExclusive),
                holder(2, LockMode::AccessShare),
            ],
            old_snapshots: Vec::new(),
        };
        let add_column = locks.blocking("public.orders", LockMode::AccessExclusive);
        assert_eq!(add_column.len(), 2);
        assert_eq!(add_column[0].mode, LockMode::RowExclusive);
        assert!(
            locks
                .blocking("public.orders", LockMode::ShareUpdateExclusive)
                .is_empty()
        );
        assert!(
            locks
                .blocking("public.other", LockMode::AccessExclusive)
                .is_empty()
        );
    }
}
