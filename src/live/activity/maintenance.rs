//! Counters and ages that vacuum, the buffer cache and schedulers leave behind: XID/MXID ages,
//! temp files, hit ratios, recovery conflicts, pg_cron jobs.

use super::super::{Read, Reader, Skipped};

/// `age(datfrozenxid)` and `mxid_age(datminmxid)` of one database (cluster-wide list).
#[derive(Debug, Clone)]
pub struct DatabaseAge {
    pub name: String,
    pub xid_age: i64,
    pub mxid_age: i64,
    pub allows_connections: bool,
}

/// A table of the audited database with its freeze ages (TOAST table included).
#[derive(Debug, Clone)]
pub struct TableAge {
    pub schema: String,
    pub name: String,
    pub xid_age: i64,
    pub mxid_age: i64,
}

/// `pg_stat_database` and `pg_stat_database_conflicts` of the audited database.
#[derive(Debug, Clone, Default)]
pub struct DatabaseStats {
    pub temp_files: i64,
    pub temp_bytes: i64,
    /// Seconds the counters cover: since `stats_reset`, or since the server started when the
    /// counters were never reset.
    pub counted_seconds: f64,
    pub since_reset: bool,
    /// Queries cancelled on a standby by recovery conflicts, by cause (`confl_snapshot`, ...).
    pub conflicts: Vec<(String, i64)>,
}

/// Buffer cache hits and reads of user tables and indexes (`pg_statio_user_*`).
#[derive(Debug, Clone, Default)]
pub struct CacheStats {
    pub heap_hit: i64,
    pub heap_read: i64,
    pub index_hit: i64,
    pub index_read: i64,
}

/// One `cron.job` row. Read as JSON, so that the columns of every pg_cron version fit.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct CronJob {
    pub jobid: i64,
    pub jobname: Option<String>,
    pub schedule: String,
    pub command: String,
    pub database: Option<String>,
    pub username: Option<String>,
    #[serde(default = "active_by_default")]
    pub active: bool,
}

fn active_by_default() -> bool {
    true
}

pub async fn databases(reader: &Reader<'_>) -> Read<Vec<DatabaseAge>> {
    let rows = reader
        .rows(
            "database ages (pg_database)",
            "SELECT datname::text, age(datfrozenxid)::int8, mxid_age(datminmxid)::int8, \
                    datallowconn FROM pg_database ORDER BY 2 DESC",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| DatabaseAge {
            name: r.get(0),
            xid_age: r.get(1),
            mxid_age: r.get(2),
            allows_connections: r.get(3),
        })
        .collect())
}

pub async fn tables(reader: &Reader<'_>) -> Read<Vec<TableAge>> {
    let rows = reader
        .rows(
            "table freeze ages (pg_class)",
            "SELECT n.nspname::text, c.relname::text, \
                    greatest(age(c.relfrozenxid), age(t.relfrozenxid))::int8, \
                    mxid_age(c.relminmxid)::int8 \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               LEFT JOIN pg_class t ON t.oid = c.reltoastrelid \
              WHERE c.relkind IN ('r', 'm') ORDER BY 3 DESC LIMIT 50",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| TableAge {
            schema: r.get(0),
            name: r.get(1),
            xid_age: r.get(2),
            mxid_age: r.get(3),
        })
        .collect())
}

/// The `pg_stat_database_conflicts` columns, by the version that added them.
const CONFLICT_COLUMNS: &[(u32, &str)] = &[
    (0, "confl_tablespace"),
    (0, "confl_lock"),
    (0, "confl_snapshot"),
    (0, "confl_bufferpin"),
    (0, "confl_deadlock"),
    (160000, "confl_active_logicalslot"),
];

pub async fn database_stats(reader: &Reader<'_>) -> Read<DatabaseStats> {
    let stats = reader
        .rows(
            "temp files (pg_stat_database)",
            "SELECT temp_files, temp_bytes, \
                    extract(epoch FROM now() - coalesce(stats_reset, pg_postmaster_start_time()))::float8, \
                    stats_reset IS NOT NULL \
               FROM pg_stat_database WHERE datname = current_database()",
            &[],
        )
        .await?;
    let row = stats
        .first()
        .ok_or_else(|| Skipped::new("pg_stat_database has no row for this database"))?;
    let columns: Vec<&str> = CONFLICT_COLUMNS
        .iter()
        .filter(|(min, _)| reader.server.version_num >= *min)
        .map(|(_, c)| *c)
        .collect();
    let conflicts_sql = format!(
        "SELECT {} FROM pg_stat_database_conflicts WHERE datname = current_database()",
        columns.join(", ")
    );
    let conflicts = reader
        .rows(
            "recovery conflicts (pg_stat_database_conflicts)",
            &conflicts_sql,
            &[],
        )
        .await?;
    Ok(DatabaseStats {
        temp_files: row.get(0),
        temp_bytes: row.get(1),
        counted_seconds: row.get(2),
        since_reset: row.get(3),
        conflicts: conflicts
            .first()
            .map(|r| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| ((*c).to_owned(), r.get::<_, i64>(i)))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

pub async fn cache(reader: &Reader<'_>) -> Read<CacheStats> {
    let rows = reader
        .rows(
            "cache hits (pg_statio_user_tables, pg_statio_user_indexes)",
            "SELECT (SELECT coalesce(sum(heap_blks_hit), 0)::int8 FROM pg_statio_user_tables), \
                    (SELECT coalesce(sum(heap_blks_read), 0)::int8 FROM pg_statio_user_tables), \
                    (SELECT coalesce(sum(idx_blks_hit), 0)::int8 FROM pg_statio_user_indexes), \
                    (SELECT coalesce(sum(idx_blks_read), 0)::int8 FROM pg_statio_user_indexes)",
            &[],
        )
        .await?;
    let r = &rows[0];
    Ok(CacheStats {
        heap_hit: r.get(0),
        heap_read: r.get(1),
        index_hit: r.get(2),
        index_read: r.get(3),
    })
}

/// pg_cron keeps its jobs in `cron.job` (whatever schema `pg_extension` names: the
/// extension itself lives in `pg_catalog`). Without pg_cron there is nothing to read.
pub async fn cron_jobs(reader: &Reader<'_>) -> Read<Option<Vec<CronJob>>> {
    if reader.server.extension("pg_cron").is_none() {
        return Ok(None);
    }
    let rows = reader
        .rows(
            "pg_cron jobs (cron.job)",
            "SELECT row_to_json(j)::text FROM cron.job j ORDER BY jobid",
            &[],
        )
        .await?;
    let jobs = rows
        .iter()
        .map(|r| {
            serde_json::from_str::<CronJob>(&r.get::<_, String>(0))
                .map_err(|e| Skipped::new(format!("pg_cron jobs: unexpected cron.job row: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(jobs))
}
