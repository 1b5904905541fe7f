//! Index, constraint, sequence and table statistics from the catalogs, `pg_stat_*` and
//! `pg_stats`: what the catalog checks judge.
//!
//! One query per part, set-based (no per-relation round trips), each in its own read-only
//! transaction: a part that fails (a privilege, a timeout) skips only the checks that need it.
//! No query here calls a per-relation function that locks (`pg_relation_size` and friends):
//! sizes and index definitions come from the sizes reader, which avoids locked relations.
//!
//! Catalog facts are replicated; `pg_stat_*` counters belong to the node that was read.

use super::sizes::{IndexSize, Sizes, TableSize};
use super::{Read, Reader, Server, Skipped};
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Index {
    pub oid: u32,
    pub table_oid: u32,
    pub schema: String,
    pub table: String,
    pub name: String,
    /// Access method (`btree`, `gin`, ...).
    pub method: String,
    /// `indkey`: key columns then INCLUDE columns; 0 is an expression.
    pub columns: Vec<i16>,
    /// `indnkeyatts`: how many of `columns` are keys.
    pub key_count: usize,
    /// Operator classes, collations and `indoption` flags of the key columns.
    pub classes: Vec<u32>,
    pub collations: Vec<u32>,
    pub options: Vec<i16>,
    /// `pg_get_expr` of `indexprs` and `indpred`.
    pub expressions: Option<String>,
    pub predicate: Option<String>,
    pub unique: bool,
    pub primary: bool,
    pub valid: bool,
    pub replica_identity: bool,
    /// An index attached to a partitioned index (judged at the parent).
    pub partition: bool,
    /// `pg_constraint.contype` of the constraint it backs (`p`, `u`, `x`).
    pub constraint: Option<String>,
    /// `idx_scan` on this node (`None` for a partitioned index: it has no counters).
    pub scans: Option<i64>,
    /// `last_idx_scan` (PG16+).
    pub last_scan: Option<String>,
    /// A `CREATE INDEX` or `REINDEX` is in progress on its table (`pg_stat_progress_create_index`).
    pub building: bool,
}

impl Index {
    pub fn keys(&self) -> &[i16] {
        &self.columns[..self.key_count.min(self.columns.len())]
    }

    pub fn included(&self) -> &[i16] {
        &self.columns[self.key_count.min(self.columns.len())..]
    }

    pub fn object(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// `r` table, `p` partitioned table, `m` materialized view.
    pub kind: String,
    pub partition: bool,
    pub has_primary_key: bool,
    /// Valid, non-partial unique indexes.
    pub unique_indexes: i64,
    /// `reltuples`, `None` when never analysed.
    pub rows: Option<f64>,
    pub reloptions: Vec<String>,
    pub stats: Option<TableStats>,
}

impl Table {
    pub fn key(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// A storage parameter (`autovacuum_enabled`, `autovacuum_vacuum_threshold`, ...).
    pub fn reloption(&self, name: &str) -> Option<&str> {
        self.reloptions
            .iter()
            .find_map(|o| o.strip_prefix(name)?.strip_prefix('='))
    }
}

/// `pg_stat_all_tables` counters of this node.
#[derive(Debug, Clone, Default)]
pub struct TableStats {
    pub live_rows: i64,
    pub dead_rows: i64,
    pub seq_scans: i64,
    pub seq_rows_read: i64,
    pub idx_scans: Option<i64>,
    pub last_vacuum: Option<String>,
    pub last_autovacuum: Option<String>,
    /// Seconds since the later of the two, `None` if never vacuumed.
    pub vacuum_age_seconds: Option<f64>,
    /// `last_seq_scan` (PG16+).
    pub last_seq_scan: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Constraint {
    pub schema: String,
    pub table: String,
    pub table_oid: u32,
    pub name: String,
    /// `f` foreign key, `c` check, ...
    pub kind: String,
    pub validated: bool,
    pub columns: Vec<i16>,
    /// Names of `columns`, in order.
    pub column_names: Vec<String>,
    /// The referenced table of a foreign key, `schema.name`.
    pub references: Option<String>,
    /// `pg_get_constraintdef`, read for NOT VALID constraints only (deparsing is slow).
    pub definition: Option<String>,
    /// Inherited from a partitioned table's constraint (judged at the parent).
    pub inherited: bool,
}

/// A sequence and one column it feeds (identity, `serial` ownership or a `nextval` default).
#[derive(Debug, Clone)]
pub struct SequenceUse {
    pub schema: String,
    pub name: String,
    pub start: i64,
    pub min: i64,
    pub max: i64,
    pub increment: i64,
    pub cycle: bool,
    /// `false` when the role may not read it, or it is unlogged on a standby.
    pub readable: bool,
    /// `None` when unreadable or never called.
    pub last_value: Option<i64>,
    pub column: Option<FedColumn>,
}

impl SequenceUse {
    pub fn object(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

#[derive(Debug, Clone)]
pub struct FedColumn {
    pub table: String,
    pub name: String,
    /// `format_type` of the column.
    pub type_name: String,
}

/// A boolean or date/time column's `pg_stats` row.
#[derive(Debug, Clone)]
pub struct FlagColumn {
    pub schema: String,
    pub table: String,
    pub column: String,
    pub boolean: bool,
    pub null_share: f64,
    /// The `true` share among the most common values (booleans).
    pub true_share: Option<f64>,
}

impl FlagColumn {
    /// The share of rows the column marks: `true` for a boolean, non-NULL for a timestamp.
    pub fn flagged_share(&self) -> f64 {
        if self.boolean {
            self.true_share.unwrap_or(0.0)
        } else {
            1.0 - self.null_share
        }
    }
}

/// Something that holds back the xmin horizon (what vacuum may clean).
#[derive(Debug, Clone)]
pub struct XminHolder {
    /// `session`, `prepared transaction`, `replication slot`.
    pub kind: String,
    pub name: String,
    pub xid_age: i64,
    pub age_seconds: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct CatalogFacts {
    pub indexes: Read<Vec<Index>>,
    pub tables: Read<Vec<Table>>,
    pub constraints: Read<Vec<Constraint>>,
    pub sequences: Read<Vec<SequenceUse>>,
    pub flag_columns: Read<Vec<FlagColumn>>,
    pub xmin_holders: Read<Vec<XminHolder>>,
}

/// One part of the facts, or why it is missing.
pub fn part<T>(read: &Read<T>) -> Result<&T, Skipped> {
    read.as_ref().map_err(Clone::clone)
}

/// Where the usage counters come from: they are per node and not replicated.
pub fn counters_scope(server: &Server) -> &'static str {
    if server.in_recovery {
        "counters of this standby only; check the primary and every replica before acting"
    } else {
        "counters of this primary only; replicas count their own scans"
    }
}

/// Index sizes and definitions from the sizes reader, by `schema.index`.
pub fn index_sizes(sizes: &Sizes) -> HashMap<String, &IndexSize> {
    sizes
        .tables
        .iter()
        .flat_map(|t| {
            t.indexes
                .iter()
                .map(move |i| (format!("{}.{}", t.schema, i.name), i))
        })
        .collect()
}

/// Table sizes from the sizes reader, by `schema.table` (empty when it was skipped: sizes
/// are evidence, not a condition).
pub fn table_sizes(sizes: &Read<Sizes>) -> HashMap<String, &TableSize> {
    sizes
        .iter()
        .flat_map(|s| s.tables.iter().map(|t| (t.key(), t)))
        .collect()
}

const USER_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

/// Columns that appeared in a later major: `(since, expression, fallback)`.
const VERSIONED: &[(&str, u32, &str)] = &[
    (
        "last_idx_scan",
        16,
        "pg_stat_get_lastscan(x.indexrelid)::text",
    ),
    ("last_seq_scan", 16, "s.last_seq_scan::text"),
];

fn versioned(server: &Server, column: &str) -> &'static str {
    VERSIONED
        .iter()
        .find(|(name, _, _)| *name == column)
        .map_or("NULL::text", |(_, since, expr)| {
            if server.major() >= *since {
                expr
            } else {
                "NULL::text"
            }
        })
}

fn indexes_sql(server: &Server) -> String {
    format!(
        "
WITH backing AS (
  SELECT conrelid, conindid, min(contype::text) AS contype FROM pg_constraint
  WHERE contype IN ('p', 'u', 'x') GROUP BY conrelid, conindid
), building AS (
  SELECT DISTINCT relid FROM pg_stat_progress_create_index WHERE relid IS NOT NULL
)
SELECT x.indexrelid, x.indrelid, n.nspname::text, c.relname::text, i.relname::text, am.amname::text,
  x.indkey::int2[], x.indnkeyatts::int4, x.indclass::oid[], x.indcollation::oid[], x.indoption::int2[],
  pg_get_expr(x.indexprs, x.indrelid), pg_get_expr(x.indpred, x.indrelid),
  x.indisunique, x.indisprimary, x.indisvalid, x.indisreplident, i.relispartition, b.contype,
  -- a partitioned index has no counters of its own
  CASE WHEN c.relkind <> 'p' THEN pg_stat_get_numscans(x.indexrelid) END,
  CASE WHEN c.relkind <> 'p' THEN {last_idx_scan} END,
  x.indrelid IN (SELECT relid FROM building)
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_am am ON am.oid = i.relam
LEFT JOIN backing b ON b.conrelid = x.indrelid AND b.conindid = x.indexrelid
WHERE {USER_SCHEMAS}",
        last_idx_scan = versioned(server, "last_idx_scan"),
    )
}

fn tables_sql(server: &Server) -> String {
    format!(
        "
WITH idx AS (
  SELECT indrelid, bool_or(indisprimary) AS pk,
         count(*) FILTER (WHERE indisunique AND indisvalid AND indpred IS NULL) AS uniques
  FROM pg_index GROUP BY indrelid
)
SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, c.relispartition,
  coalesce(idx.pk, false), coalesce(idx.uniques, 0), c.reltuples::float8,
  coalesce(c.reloptions, '{{}}')::text[],
  s.relid IS NOT NULL, s.n_live_tup, s.n_dead_tup, s.seq_scan, s.seq_tup_read, s.idx_scan,
  s.last_vacuum::text, s.last_autovacuum::text,
  extract(epoch FROM now() - greatest(s.last_vacuum, s.last_autovacuum))::float8,
  {last_seq_scan}
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN idx ON idx.indrelid = c.oid
LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p', 'm') AND c.relpersistence <> 't' AND {USER_SCHEMAS}
ORDER BY n.nspname, c.relname",
        last_seq_scan = versioned(server, "last_seq_scan"),
    )
}

const CONSTRAINTS: &str = "
SELECT n.nspname::text, c.relname::text, con.conrelid, con.conname::text, con.contype::text,
  con.convalidated, coalesce(con.conkey, '{}')::int2[],
  ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord),
  CASE WHEN con.confrelid <> 0 THEN rn.nspname || '.' || r.relname END,
  CASE WHEN NOT con.convalidated THEN pg_get_constraintdef(con.oid) END, con.conparentid <> 0
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class r ON r.oid = con.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE (con.contype = 'f' OR NOT con.convalidated) AND c.relpersistence <> 't' AND ";

const SEQUENCES: &str = "
WITH feeds AS (
  SELECT d.objid AS seq, d.refobjid AS rel, d.refobjsubid AS att FROM pg_depend d
  JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
  WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
    AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
  UNION
  -- a column default that depends on a sequence: nextval (deparsing adbin is too slow)
  SELECT d.refobjid, ad.adrelid, ad.adnum FROM pg_depend d
  JOIN pg_attrdef ad ON ad.oid = d.objid
  JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
  WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
), readable AS (
  SELECT s.oid, has_sequence_privilege(s.oid, 'SELECT,USAGE')
           AND (s.relpersistence <> 'u' OR NOT pg_is_in_recovery()) AS ok
  FROM pg_class s WHERE s.relkind = 'S'
    -- reading it would wait behind the lock
    AND s.oid NOT IN (SELECT relation FROM pg_locks
                      WHERE mode = 'AccessExclusiveLock' AND relation IS NOT NULL)
)
SELECT n.nspname::text, s.relname::text, q.seqstart, q.seqmin, q.seqmax, q.seqincrement, q.seqcycle,
  coalesce(r.ok, true), CASE WHEN r.ok THEN pg_sequence_last_value(s.oid) END,
  tn.nspname || '.' || t.relname, a.attname::text, format_type(a.atttypid, a.atttypmod)
FROM pg_sequence q
JOIN pg_class s ON s.oid = q.seqrelid
JOIN pg_namespace n ON n.oid = s.relnamespace
LEFT JOIN readable r ON r.oid = s.oid
LEFT JOIN feeds f ON f.seq = s.oid
LEFT JOIN pg_class t ON t.oid = f.rel
LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = f.rel AND a.attnum = f.att
WHERE s.relpersistence <> 't' AND ";

/// Boolean and date/time columns' statistics (soft-delete flags); `pg_stats` shows only the
/// columns the role may read. Partitioned parents are judged through their partitions.
const FLAG_COLUMNS: &str = "
SELECT st.schemaname::text, st.tablename::text, st.attname::text, a.atttypid = 'bool'::regtype,
  st.null_frac::float8,
  CASE WHEN a.atttypid = 'bool'::regtype THEN coalesce(
    (SELECT m.f::float8 FROM unnest(st.most_common_vals::text::bool[], st.most_common_freqs) m(v, f)
     WHERE m.v), 0) END
FROM pg_stats st
JOIN pg_namespace n ON n.nspname = st.schemaname
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = st.tablename
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = st.attname
WHERE NOT st.inherited AND c.relkind IN ('r', 'm')
  AND a.atttypid IN ('bool'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype, 'date'::regtype)
  AND ";

const XMIN_HOLDERS: &str = "
SELECT 'session', format('pid %s (%s, application %s)', pid, coalesce(state, '?'),
                         coalesce(nullif(application_name, ''), '-')),
  age(backend_xmin)::int8, extract(epoch FROM now() - xact_start)::float8
FROM pg_stat_activity WHERE backend_xmin IS NOT NULL AND pid <> pg_backend_pid()
UNION ALL
SELECT 'prepared transaction', gid, age(transaction)::int8, extract(epoch FROM now() - prepared)::float8
FROM pg_prepared_xacts
UNION ALL
SELECT 'replication slot', slot_name::text,
  greatest(coalesce(age(xmin), 0), coalesce(age(catalog_xmin), 0))::int8, NULL
FROM pg_replication_slots WHERE xmin IS NOT NULL OR catalog_xmin IS NOT NULL
ORDER BY 3 DESC";

pub async fn read(reader: &Reader<'_>) -> Read<CatalogFacts> {
    let server = reader.server;
    Ok(CatalogFacts {
        indexes: read_indexes(reader, &indexes_sql(server)).await,
        tables: read_tables(reader, &tables_sql(server)).await,
        constraints: read_constraints(reader).await,
        sequences: read_sequences(reader).await,
        flag_columns: read_flag_columns(reader).await,
        xmin_holders: read_xmin_holders(reader).await,
    })
}

async fn read_indexes(reader: &Reader<'_>, sql: &str) -> Read<Vec<Index>> {
    let rows = reader.rows("indexes", sql, &[]).await?;
    let mut indexes: Vec<Index> = rows
        .iter()
        .map(|r| Index {
            oid: r.get(0),
            table_oid: r.get(1),
            schema: r.get(2),
            table: r.get(3),
            name: r.get(4),
            method: r.get(5),
            columns: r.get(6),
            key_count: r.get::<_, i32>(7).max(0) as usize,
            classes: r.get(8),
            collations: r.get(9),
            options: r.get(10),
            expressions: r.get(11),
            predicate: r.get(12),
            unique: r.get(13),
            primary: r.get(14),
            valid: r.get(15),
            replica_identity: r.get(16),
            partition: r.get(17),
            constraint: r.get(18),
            scans: r.get(19),
            last_scan: r.get(20),
            building: r.get(21),
        })
        .collect();
    // by table (the checks compare within a table), sorted here rather than by the server
    indexes.sort_unstable_by_key(|i| (i.table_oid, i.oid));
    Ok(indexes)
}

async fn read_tables(reader: &Reader<'_>, sql: &str) -> Read<Vec<Table>> {
    let rows = reader.rows("table statistics", sql, &[]).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let reltuples: f64 = r.get(7);
            let stats = r.get::<_, bool>(9).then(|| TableStats {
                live_rows: r.get::<_, Option<i64>>(10).unwrap_or(0),
                dead_rows: r.get::<_, Option<i64>>(11).unwrap_or(0),
                seq_scans: r.get::<_, Option<i64>>(12).unwrap_or(0),
                seq_rows_read: r.get::<_, Option<i64>>(13).unwrap_or(0),
                idx_scans: r.get(14),
                last_vacuum: r.get(15),
                last_autovacuum: r.get(16),
                vacuum_age_seconds: r.get(17),
                last_seq_scan: r.get(18),
            });
            Table {
                oid: r.get(0),
                schema: r.get(1),
                name: r.get(2),
                kind: r.get(3),
                partition: r.get(4),
                has_primary_key: r.get(5),
                unique_indexes: r.get(6),
                rows: (reltuples >= 0.0).then_some(reltuples),
                reloptions: r.get(8),
                stats,
            }
        })
        .collect())
}

async fn read_constraints(reader: &Reader<'_>) -> Read<Vec<Constraint>> {
    let sql = format!("{CONSTRAINTS}{USER_SCHEMAS} ORDER BY n.nspname, c.relname, con.conname");
    let rows = reader.rows("constraints", &sql, &[]).await?;
    Ok(rows
        .iter()
        .map(|r| Constraint {
            schema: r.get(0),
            table: r.get(1),
            table_oid: r.get(2),
            name: r.get(3),
            kind: r.get(4),
            validated: r.get(5),
            columns: r.get(6),
            column_names: r.get(7),
            references: r.get(8),
            definition: r.get(9),
            inherited: r.get(10),
        })
        .collect())
}

async fn read_sequences(reader: &Reader<'_>) -> Read<Vec<SequenceUse>> {
    let sql = format!("{SEQUENCES}{USER_SCHEMAS} ORDER BY n.nspname, s.relname");
    let rows = reader.rows("sequences", &sql, &[]).await?;
    Ok(rows
        .iter()
        .map(|r| SequenceUse {
            schema: r.get(0),
            name: r.get(1),
            start: r.get(2),
            min: r.get(3),
            max: r.get(4),
            increment: r.get(5),
            cycle: r.get(6),
            readable: r.get(7),
            last_value: r.get(8),
            column: r
                .get::<_, Option<String>>(9)
                .zip(r.get::<_, Option<String>>(10))
                .map(|(table, name)| FedColumn {
                    table,
                    name,
                    type_name: r.get(11),
                }),
        })
        .collect())
}

async fn read_flag_columns(reader: &Reader<'_>) -> Read<Vec<FlagColumn>> {
    let sql = format!("{FLAG_COLUMNS}{USER_SCHEMAS}");
    let rows = reader.rows("column statistics", &sql, &[]).await?;
    Ok(rows
        .iter()
        .map(|r| FlagColumn {
            schema: r.get(0),
            table: r.get(1),
            column: r.get(2),
            boolean: r.get(3),
            null_share: r.get(4),
            true_share: r.get(5),
        })
        .collect())
}

async fn read_xmin_holders(reader: &Reader<'_>) -> Read<Vec<XminHolder>> {
    let rows = reader.rows("xmin holders", XMIN_HOLDERS, &[]).await?;
    Ok(rows
        .iter()
        .map(|r| XminHolder {
            kind: r.get(0),
            name: r.get(1),
            xid_age: r.get(2),
            age_seconds: r.get(3),
        })
        .collect())
}

/// `value` in the largest of `units` (`(size, name)`, largest first) it reaches, else in
/// `base` with no decimals.
fn scaled(value: f64, units: &[(f64, &str)], base: &str) -> String {
    units.iter().find(|(size, _)| value >= *size).map_or_else(
        || format!("{value:.0} {base}"),
        |(size, name)| format!("{:.1} {name}", value / size),
    )
}

/// `12.3 MB` style, for messages (evidence keeps the bytes).
pub fn size(bytes: i64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    scaled(
        bytes as f64,
        &[(1024.0 * MB, "GB"), (MB, "MB"), (1024.0, "kB")],
        "B",
    )
}

/// `3.0 days`, `5.0 h`, `40 s` style, for messages (evidence keeps the seconds).
pub fn duration(seconds: f64) -> String {
    scaled(
        seconds,
        &[(86_400.0, "days"), (3_600.0, "h"), (60.0, "min")],
        "s",
    )
}
