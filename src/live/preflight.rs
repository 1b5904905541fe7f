//! The first reader: who and where we are. Every other reader and check adapts to these facts
//! (server version, standby or primary, the role's rights, the extensions present).

use std::collections::BTreeMap;
use std::time::Duration;

use tokio_postgres::Client;

use super::{AuditError, tagged};

#[derive(Debug, Clone, Default)]
pub struct Setting {
    pub value: String,
    /// `pg_settings.unit` (`ms`, `kB`, `8kB`, ...), when the setting has one.
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Extension {
    pub version: String,
    pub schema: String,
}

#[derive(Debug, Clone, Default)]
pub struct Server {
    /// `server_version_num`, e.g. 150004.
    pub version_num: u32,
    /// `server_version` as the server shows it.
    pub version: String,
    pub in_recovery: bool,
    pub database: String,
    pub user: String,
    pub superuser: bool,
    pub pg_monitor: bool,
    pub pg_read_all_stats: bool,
    /// Every row of `pg_settings` the role can read.
    pub settings: BTreeMap<String, Setting>,
    /// Extensions installed in this database, by name.
    pub extensions: BTreeMap<String, Extension>,
    /// `pg_stat_database.stats_reset` of this database, and its age in seconds.
    pub stats_reset: Option<String>,
    pub stats_age_seconds: Option<f64>,
    /// The server's clock when the audit began, RFC 3339 in UTC.
    pub now: String,
}

impl Server {
    pub fn major(&self) -> u32 {
        self.version_num / 10_000
    }

    /// Whether other sessions' query texts and counters are visible.
    pub fn sees_all_stats(&self) -> bool {
        self.superuser || self.pg_read_all_stats || self.pg_monitor
    }

    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings.get(name).map(|s| s.value.as_str())
    }

    pub fn setting_f64(&self, name: &str) -> Option<f64> {
        self.setting(name)?.parse().ok()
    }

    /// A setting in milliseconds (`ms` and `s` units converted).
    pub fn setting_ms(&self, name: &str) -> Option<f64> {
        let setting = self.settings.get(name)?;
        let value: f64 = setting.value.parse().ok()?;
        Some(match setting.unit.as_deref() {
            Some("s") => value * 1000.0,
            Some("min") => value * 60_000.0,
            _ => value,
        })
    }

    /// A setting in bytes (`kB`, `8kB`, `MB` units converted).
    pub fn setting_bytes(&self, name: &str) -> Option<f64> {
        let setting = self.settings.get(name)?;
        let value: f64 = setting.value.parse().ok()?;
        let unit = match setting.unit.as_deref() {
            Some("B") | None => 1.0,
            Some("kB") => 1024.0,
            Some("8kB") => 8192.0,
            Some("MB") => 1024.0 * 1024.0,
            Some("16MB") => 16.0 * 1024.0 * 1024.0,
            Some(_) => return None,
        };
        Some(value * unit)
    }

    pub fn extension(&self, name: &str) -> Option<&Extension> {
        self.extensions.get(name)
    }
}

const IDENTITY: &str = "SELECT current_setting('server_version_num')::int, \
     current_setting('server_version'), pg_is_in_recovery(), current_database()::text, \
     current_user::text, \
     (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), \
     pg_has_role(current_user, 'pg_monitor', 'USAGE'), \
     pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'), \
     (SELECT stats_reset::text FROM pg_stat_database WHERE datname = current_database()), \
     (SELECT extract(epoch FROM now() - stats_reset)::float8 FROM pg_stat_database \
        WHERE datname = current_database()), \
     to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";

/// Reads the server facts. Without them no check can be judged, so a failure stops the audit.
pub async fn read(client: &Client, statement_timeout: Duration) -> Result<Server, AuditError> {
    let deadline = statement_timeout + Duration::from_secs(2);
    let fail = |e: String| AuditError(format!("preflight failed: {e}"));
    let queries = async {
        client.batch_execute("BEGIN READ ONLY").await?;
        let identity = client.query_one(&tagged(IDENTITY), &[]).await?;
        let settings = client
            .query(&tagged("SELECT name, setting, unit FROM pg_settings"), &[])
            .await?;
        let extensions = client
            .query(
                &tagged(
                    "SELECT extname::text, extversion, extnamespace::regnamespace::text \
                     FROM pg_extension",
                ),
                &[],
            )
            .await?;
        client.batch_execute("COMMIT").await?;
        Ok::<_, tokio_postgres::Error>((identity, settings, extensions))
    };
    let (identity, settings, extensions) = tokio::time::timeout(deadline, queries)
        .await
        .map_err(|_| fail(format!("no answer within {} s", deadline.as_secs())))?
        .map_err(|e| {
            fail(
                e.as_db_error()
                    .map_or_else(|| e.to_string(), |db| db.message().to_owned()),
            )
        })?;
    Ok(Server {
        version_num: identity.get::<_, i32>(0) as u32,
        version: identity.get(1),
        in_recovery: identity.get(2),
        database: identity.get(3),
        user: identity.get(4),
        superuser: identity.get::<_, Option<bool>>(5).unwrap_or(false),
        pg_monitor: identity.get(6),
        pg_read_all_stats: identity.get(7),
        stats_reset: identity.get(8),
        stats_age_seconds: identity.get(9),
        now: identity.get(10),
        settings: settings
            .iter()
            .map(|r| {
                let setting = Setting {
                    value: r.get::<_, Option<String>>(1).unwrap_or_default(),
                    unit: r.get(2),
                };
                (r.get(0), setting)
            })
            .collect(),
        extensions: extensions
            .iter()
            .map(|r| {
                let extension = Extension {
                    version: r.get(1),
                    schema: r.get(2),
                };
                (r.get(0), extension)
            })
            .collect(),
    })
}
