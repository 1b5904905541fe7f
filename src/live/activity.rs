//! Sessions, locks, connections, replication, wraparound ages and the settings audit: what the
//! server is doing now. Sessions and locks are the core (readable by every role); each other
//! part is read on its own, so a part the role may not read is skipped alone.

mod maintenance;
mod replication;
mod settings;

pub use maintenance::{CacheStats, CronJob, DatabaseAge, DatabaseStats, TableAge};
pub use replication::{Replica, Replication, Slot, StandbyReceiver};
pub use settings::{LoginRole, RoleTimeouts, TIMEOUTS, TimeoutSource, TimeoutValue};

use tokio_postgres::Row;

use super::{Read, Reader, Server};

/// A SQL expression that depends on the server version: the first row whose minimum
/// `server_version_num` the server meets. The last row should have minimum 0.
pub(crate) fn by_version(server: &Server, rows: &[(u32, &'static str)]) -> &'static str {
    rows.iter()
        .find(|(min, _)| server.version_num >= *min)
        .map_or("NULL", |(_, expr)| expr)
}

/// What `pg_stat_activity.query` says for another role's session without pg_read_all_stats.
const HIDDEN_QUERY: &str = "<insufficient privilege>";

/// One row of `pg_stat_activity` (pgrisk's own backend excluded).
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub pid: i32,
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: String,
    /// `client backend`, `walsender`, `autovacuum worker`, ...
    pub backend_type: String,
    /// `active`, `idle in transaction`, ...; `None` when hidden from this role.
    pub state: Option<String>,
    pub transaction_seconds: Option<f64>,
    pub query_seconds: Option<f64>,
    /// Time in the current state (how long it has been idle in transaction).
    pub state_seconds: Option<f64>,
    /// The older of `age(backend_xmin)` and `age(backend_xid)`: how far this session holds
    /// back the horizon vacuum may clean up to.
    pub xmin_age: Option<i64>,
    pub wait_event_type: Option<String>,
    pub wait_event: Option<String>,
    /// The current or last statement (first 1 000 characters); `None` when hidden.
    pub query: Option<String>,
    /// `pg_blocking_pids(pid)` of a session waiting for a heavyweight lock (found through
    /// `pg_locks`, which every role may read).
    pub blocked_by: Vec<i32>,
    /// Connected to the audited database.
    pub here: bool,
}

impl Session {
    pub fn is_client(&self) -> bool {
        self.backend_type == "client backend"
    }

    /// Who the session is, how old, and what it runs: the evidence every session finding shows.
    pub fn evidence(&self) -> serde_json::Value {
        serde_json::json!({
            "pid": self.pid,
            "application": self.application,
            "user": self.user,
            "state": self.state,
            "transaction_seconds": self.transaction_seconds.map(round),
            "state_seconds": self.state_seconds.map(round),
            "query": self.query_excerpt(200),
        })
    }

    /// The statement text shortened for evidence.
    pub fn query_excerpt(&self, chars: usize) -> Option<String> {
        let query = self.query.as_deref()?;
        let flat: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
        Some(match flat.char_indices().nth(chars) {
            Some((end, _)) => format!("{}…", &flat[..end]),
            None => flat,
        })
    }
}

/// Seconds to one decimal: evidence, not measurement noise.
pub fn round(seconds: f64) -> f64 {
    (seconds * 10.0).round() / 10.0
}

/// One heavyweight lock from `pg_locks`, held or awaited.
#[derive(Debug, Clone)]
pub struct Lock {
    pub pid: i32,
    /// `relation`, `tuple`, `transactionid`, ...
    pub locktype: String,
    /// `schema.name` in the audited database, `oid N` in another one.
    pub relation: Option<String>,
    /// `AccessShareLock`, `RowExclusiveLock`, ...
    pub mode: String,
    pub granted: bool,
    /// How long it has been awaited (`pg_locks.waitstart`, PG 14+; else since the statement began).
    pub wait_seconds: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Activity {
    pub sessions: Vec<Session>,
    /// Relation locks of other sessions (system catalogs left out) and every awaited lock.
    pub locks: Vec<Lock>,
    /// Client backends by application and state, most first: the HTML chart "Connections by
    /// application and state". A state the role may not see is `hidden`.
    pub connections_by_app_state: Vec<(String, String, u64)>,
    pub databases: Read<Vec<DatabaseAge>>,
    /// The oldest tables of the audited database by `relfrozenxid` age.
    pub tables: Read<Vec<TableAge>>,
    pub database_stats: Read<DatabaseStats>,
    pub cache: Read<CacheStats>,
    pub replication: Read<Replication>,
    pub slots: Read<Vec<Slot>>,
    pub timeouts: Read<RoleTimeouts>,
    /// `cron.job` rows; `None` when pg_cron is not installed in this database.
    pub cron_jobs: Read<Option<Vec<CronJob>>>,
}

impl Activity {
    pub fn session(&self, pid: i32) -> Option<&Session> {
        self.sessions.iter().find(|s| s.pid == pid)
    }

    /// Statements of the audited database's clients running for at least `min_seconds`, with
    /// their run time (a session waiting for a lock is blocked, not running).
    pub fn running_at_least(&self, min_seconds: f64) -> impl Iterator<Item = (&Session, f64)> {
        self.sessions
            .iter()
            .filter(|s| {
                s.is_client()
                    && s.here
                    && s.state.as_deref() == Some("active")
                    && s.wait_event_type.as_deref() != Some("Lock")
            })
            .filter_map(move |s| Some((s, s.query_seconds.filter(|t| *t >= min_seconds)?)))
    }

    /// Relation locks a session holds, as `relation mode`.
    pub fn locks_held(&self, pid: i32) -> Vec<String> {
        self.locks
            .iter()
            .filter(|l| l.pid == pid && l.granted && l.locktype == "relation")
            .filter_map(|l| Some(format!("{} {}", l.relation.as_deref()?, l.mode)))
            .collect()
    }

    /// The lock a session waits for.
    pub fn lock_awaited(&self, pid: i32) -> Option<&Lock> {
        self.locks.iter().find(|l| l.pid == pid && !l.granted)
    }
}

const SESSIONS: &str = "SELECT a.pid, a.datname::text, a.usename::text, \
       coalesce(a.application_name, ''), coalesce(a.backend_type, ''), a.state, \
       extract(epoch FROM now() - a.xact_start)::float8, \
       extract(epoch FROM now() - a.query_start)::float8, \
       extract(epoch FROM now() - a.state_change)::float8, \
       greatest(age(a.backend_xmin), age(a.backend_xid))::int8, a.wait_event_type, a.wait_event, left(a.query, 1000), \
       CASE WHEN EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted) \
            THEN pg_blocking_pids(a.pid) END, \
       coalesce(a.datname = current_database(), false) \
  FROM pg_stat_activity a WHERE a.pid <> pg_backend_pid()";

/// `{wait_start}` is `l.waitstart` where the server has it.
const LOCKS: &str = "SELECT l.pid, l.locktype, l.mode, l.granted, \
       CASE WHEN c.oid IS NOT NULL THEN n.nspname || '.' || c.relname \
            WHEN l.relation IS NOT NULL THEN 'oid ' || l.relation END, \
       extract(epoch FROM now() - coalesce({wait_start}, a.query_start))::float8 \
  FROM pg_locks l \
  LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
  LEFT JOIN pg_class c ON c.oid = l.relation \
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
  LEFT JOIN pg_namespace n ON n.oid = c.relnamespace \
 WHERE l.pid <> pg_backend_pid() \
   AND (NOT l.granted OR (l.locktype = 'relation' \
        AND coalesce(n.nspname NOT IN ('pg_catalog', 'information_schema'), true))) \
 LIMIT 10000";

const WAIT_START: &[(u32, &str)] = &[(140000, "l.waitstart"), (0, "NULL::timestamptz")];

pub async fn read(reader: &Reader<'_>) -> Read<Activity> {
    let sessions: Vec<Session> = reader
        .rows("sessions (pg_stat_activity)", SESSIONS, &[])
        .await?
        .iter()
        .map(session)
        .collect();
    let locks_sql = LOCKS.replace("{wait_start}", by_version(reader.server, WAIT_START));
    let locks = reader
        .rows("locks (pg_locks)", &locks_sql, &[])
        .await?
        .iter()
        .map(|r| Lock {
            pid: r.get(0),
            locktype: r.get(1),
            mode: r.get(2),
            granted: r.get(3),
            relation: r.get(4),
            wait_seconds: r.get(5),
        })
        .collect();
    Ok(Activity {
        connections_by_app_state: connections_by_app_state(&sessions),
        sessions,
        locks,
        databases: maintenance::databases(reader).await,
        tables: maintenance::tables(reader).await,
        database_stats: maintenance::database_stats(reader).await,
        cache: maintenance::cache(reader).await,
        replication: replication::read(reader).await,
        slots: replication::slots(reader).await,
        timeouts: settings::read(reader).await,
        cron_jobs: maintenance::cron_jobs(reader).await,
    })
}

fn session(r: &Row) -> Session {
    let query: Option<String> = r.get(12);
    Session {
        pid: r.get(0),
        database: r.get(1),
        user: r.get(2),
        application: r.get(3),
        backend_type: r.get(4),
        state: r.get(5),
        transaction_seconds: r.get(6),
        query_seconds: r.get(7),
        state_seconds: r.get(8),
        xmin_age: r.get(9),
        wait_event_type: r.get(10),
        wait_event: r.get(11),
        query: query.filter(|q| q != HIDDEN_QUERY),
        blocked_by: r.get::<_, Option<Vec<i32>>>(13).unwrap_or_default(),
        here: r.get(14),
    }
}

/// Client backends grouped by application and state, most connections first.
fn connections_by_app_state(sessions: &[Session]) -> Vec<(String, String, u64)> {
    let mut counts: std::collections::BTreeMap<(String, String), u64> = Default::default();
    for s in sessions.iter().filter(|s| s.is_client()) {
        let state = s.state.clone().unwrap_or_else(|| "hidden".into());
        *counts.entry((s.application.clone(), state)).or_default() += 1;
    }
    let mut rows: Vec<(String, String, u64)> =
        counts.into_iter().map(|((a, s), n)| (a, s, n)).collect();
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1))));
    rows
}

/// The activity, for a check that judges other sessions by their state and query: without
/// `pg_read_all_stats` those are NULL for other roles' sessions, so the check cannot look.
pub fn with_visible_sessions(snapshot: &super::Snapshot) -> Result<&Activity, super::Skipped> {
    let activity = snapshot.activity.as_ref().map_err(Clone::clone)?;
    if !snapshot.server.sees_all_stats() {
        return Err(super::Skipped::new(
            "other roles' session states and queries are hidden without pg_read_all_stats \
             (grant pg_monitor to the role pgrisk connects as)",
        ));
    }
    Ok(activity)
}
