//! The file `pgrisk live --export-stats` writes and `pgrisk lint --stats` reads: table sizes,
//! row estimates, columns and indexes of one database, so CI can judge migrations by the size
//! of the tables they touch without access to production. Documented in
//! `docs/stats-format.md`; `version` changes only when a reader would misread a newer file.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::sizes::TableSize;

pub const FORMAT: &str = "pgrisk-stats";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsFile {
    pub format: String,
    pub version: u32,
    pub server_version_num: u32,
    pub database: String,
    /// RFC 3339, UTC.
    pub captured_at: String,
    pub tables: Vec<TableSize>,
    /// `schema.table` of the tables left out: under an ACCESS EXCLUSIVE lock (granted or
    /// awaited) when the file was written, so not measured.
    #[serde(default)]
    pub locked: Vec<String>,
}

impl StatsFile {
    pub fn new(server: &super::Server, sizes: &super::sizes::Sizes) -> StatsFile {
        StatsFile {
            format: FORMAT.into(),
            version: VERSION,
            server_version_num: server.version_num,
            database: server.database.clone(),
            captured_at: server.now.clone(),
            tables: sizes.tables.clone(),
            locked: sizes.locked.clone(),
        }
    }

    /// Writes the file atomically: a temporary file beside it, renamed over it, so a reader
    /// never sees half a file.
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let fail = |e: std::io::Error| format!("--export-stats {}: {e}", path.display());
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        // tempfile's error names its random file name: name the directory instead
        let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| {
            format!(
                "--export-stats {}: cannot create a file in {}: {}",
                path.display(),
                dir.display(),
                e.kind()
            )
        })?;
        serde_json::to_writer_pretty(&mut file, self).map_err(|e| fail(e.into()))?;
        file.write_all(b"\n").map_err(fail)?;
        file.persist(path).map_err(|e| fail(e.error))?;
        Ok(())
    }

    /// Reads and checks a file; the error is one line naming the file.
    pub fn read(path: &Path) -> Result<StatsFile, String> {
        let fail = |m: String| format!("--stats {}: {m}", path.display());
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let head: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| fail(format!("not JSON: {e}")))?;
        if head["format"] != FORMAT {
            return Err(fail(format!(
                "not a {FORMAT} file (write one with `pgrisk live --export-stats FILE`)"
            )));
        }
        match head["version"].as_u64() {
            Some(v) if v == u64::from(VERSION) => {}
            other => {
                return Err(fail(format!(
                    "version {} is not supported (this pgrisk reads version {VERSION})",
                    other.map_or("?".into(), |v| v.to_string())
                )));
            }
        }
        serde_json::from_value(head).map_err(|e| fail(e.to_string()))
    }
}

/// `live --export-stats FILE`: the snapshot's table sizes, or why there are none.
pub fn export(snapshot: &super::Snapshot, path: &Path) -> Result<(), String> {
    let sizes = snapshot
        .sizes
        .as_ref()
        .map_err(|skipped| format!("--export-stats: cannot export, {}", skipped.reason))?;
    StatsFile::new(&snapshot.server, sizes).write(path)
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// The tables as DDL pgrisk's analyzer replays as the existing database (`--schema` from the
/// live catalog): one `CREATE TABLE` per table, its indexes as `pg_get_indexdef` wrote them,
/// and the primary key attached to its index.
pub fn schema_ddl(tables: &[TableSize]) -> String {
    let mut ddl = String::new();
    for table in tables {
        let name = format!("{}.{}", quote(&table.schema), quote(&table.name));
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|c| {
                let not_null = if c.not_null { " NOT NULL" } else { "" };
                format!("{} {}{not_null}", quote(&c.name), c.type_name)
            })
            .collect();
        ddl.push_str(&format!("CREATE TABLE {name} ({});\n", columns.join(", ")));
        for index in &table.indexes {
            ddl.push_str(&format!("{};\n", index.definition));
            if index.primary {
                ddl.push_str(&format!(
                    "ALTER TABLE {name} ADD PRIMARY KEY USING INDEX {};\n",
                    quote(&index.name)
                ));
            }
        }
    }
    ddl
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StatsFile {
        StatsFile {
            format: FORMAT.into(),
            version: VERSION,
            server_version_num: 150_018,
            database: "shop".into(),
            captured_at: "2026-12-04T19:58:58Z".into(),
            tables: vec![TableSize {
                schema: "public".into(),
                name: "orders".into(),
                kind: "r".into(),
                rows: Some(42.0),
                table_bytes: 8192,
                index_bytes: 16_384,
                toast_bytes: 0,
                columns: vec![super::super::sizes::Column {
                    name: "Id".into(),
                    type_name: "bigint".into(),
                    not_null: true,
                }],
                indexes: vec![super::super::sizes::IndexSize {
                    name: "orders_pkey".into(),
                    definition:
                        "CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (\"Id\")"
                            .into(),
                    bytes: 16_384,
                    unique: true,
                    primary: true,
                    valid: true,
                }],
            }],
            locked: vec!["public.busy".into()],
        }
    }

    #[test]
    fn a_written_file_reads_back_and_other_versions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stats.json");
        let file = sample();
        file.write(&path).unwrap();
        assert_eq!(StatsFile::read(&path).unwrap(), file);
        let newer = std::fs::read_to_string(&path)
            .unwrap()
            .replace("\"version\": 1", "\"version\": 2");
        std::fs::write(&path, newer).unwrap();
        let error = StatsFile::read(&path).unwrap_err();
        assert!(error.contains("version 2 is not supported"), "{error}");
    }

    #[test]
    fn the_schema_replays_columns_indexes_and_the_primary_key() {
        let ddl = schema_ddl(&sample().tables);
        assert!(ddl.contains("CREATE TABLE \"public\".\"orders\" (\"Id\" bigint NOT NULL);"));
        assert!(ddl.contains("ADD PRIMARY KEY USING INDEX \"orders_pkey\";"));
        let mut analyzer = crate::analysis::Analyzer::new(16, Default::default());
        let options = crate::source::discover::DiscoverOptions::default();
        let file = crate::source::discover::from_text("schema.sql".into(), ddl, &options);
        analyzer.analyze(
            crate::analysis::prepare(
                crate::source::SourceFile::load(file),
                false,
                crate::analysis::Mode::Migrations,
            ),
            crate::analysis::Origin::Existing,
        );
        let orders = crate::analysis::Name::new(None, "orders");
        assert!(analyzer.catalog.table(&orders).is_some());
        assert!(analyzer.catalog.has_primary_key(&orders));
    }
}
