//! The settings audit: which timeouts a login role's session gets in the audited database.
//!
//! pgrisk's own session cannot just read its settings (it sets both timeouts itself at
//! startup), so the value is resolved the way the server does at login, from the most specific
//! level down: `ALTER ROLE … IN DATABASE … SET`, `ALTER ROLE … SET`, `ALTER DATABASE … SET`,
//! `ALTER ROLE ALL SET`, the configuration files (`pg_file_settings`, superuser only), the
//! built-in default.

use std::collections::BTreeMap;

use super::super::{Read, Reader};

/// The timeouts audited, in the order findings name them.
pub const TIMEOUTS: [&str; 2] = ["statement_timeout", "idle_in_transaction_session_timeout"];

/// Where a role's effective value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeoutSource {
    RoleInDatabase,
    Role,
    Database,
    AllRoles,
    ConfigFile { file: String, line: i32 },
    BuiltIn,
}

impl std::fmt::Display for TimeoutSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TimeoutSource::RoleInDatabase => f.write_str("ALTER ROLE … IN DATABASE … SET"),
            TimeoutSource::Role => f.write_str("ALTER ROLE … SET"),
            TimeoutSource::Database => f.write_str("ALTER DATABASE … SET"),
            TimeoutSource::AllRoles => f.write_str("ALTER ROLE ALL SET"),
            TimeoutSource::ConfigFile { file, line } => write!(f, "{file}:{line}"),
            TimeoutSource::BuiltIn => f.write_str("built-in default"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimeoutValue {
    /// As written (`0`, `30s`, `5min`, `1000`).
    pub value: String,
    pub source: TimeoutSource,
}

impl TimeoutValue {
    /// `0` in any unit: the timeout is off.
    pub fn disabled(&self) -> bool {
        let number: String = self
            .value
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        number.parse::<f64>().is_ok_and(|n| n == 0.0)
    }
}

#[derive(Debug, Clone)]
pub struct LoginRole {
    pub name: String,
    pub superuser: bool,
    pub replication: bool,
    /// The effective value of each of [`TIMEOUTS`], in that order; `None` when it comes from
    /// the server configuration and that could not be read.
    pub timeouts: [Option<TimeoutValue>; 2],
}

#[derive(Debug, Clone, Default)]
pub struct RoleTimeouts {
    pub roles: Vec<LoginRole>,
    /// Why the configuration files' values are unknown, when they are.
    pub config_unreadable: Option<String>,
}

/// `(role or "" for every role, in this database only?) -> setting -> value`.
type Overrides = BTreeMap<(String, bool), BTreeMap<String, String>>;

pub async fn read(reader: &Reader<'_>) -> Read<RoleTimeouts> {
    let roles = reader
        .rows(
            "login roles (pg_roles)",
            "SELECT rolname::text, rolsuper, rolreplication FROM pg_roles \
              WHERE rolcanlogin ORDER BY 1",
            &[],
        )
        .await?;
    let overrides: Overrides = reader
        .rows(
            "role and database settings (pg_db_role_setting)",
            "SELECT coalesce(r.rolname::text, ''), s.setdatabase <> 0, s.setconfig \
               FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole \
              WHERE s.setdatabase IN (0, (SELECT oid FROM pg_database \
                                          WHERE datname = current_database()))",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            let config: Vec<String> = r.get::<_, Option<Vec<String>>>(2).unwrap_or_default();
            let values = config
                .iter()
                .filter_map(|item| item.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            ((r.get(0), r.get(1)), values)
        })
        .collect();
    let files = reader
        .rows(
            "configuration files (pg_file_settings)",
            "SELECT name, setting, sourcefile, sourceline FROM pg_file_settings \
              WHERE name = ANY($1) AND applied ORDER BY seqno",
            &[&TIMEOUTS.to_vec()],
        )
        .await;
    let (file_values, config_unreadable) = match files {
        Ok(rows) => {
            // later entries win, as when the server reads the files
            let values: BTreeMap<String, TimeoutValue> = rows
                .iter()
                .map(|r| {
                    let source = TimeoutSource::ConfigFile {
                        file: r.get::<_, Option<String>>(2).unwrap_or_default(),
                        line: r.get::<_, Option<i32>>(3).unwrap_or_default(),
                    };
                    let value = r.get::<_, Option<String>>(1).unwrap_or_default();
                    (r.get(0), TimeoutValue { value, source })
                })
                .collect();
            (Some(values), None)
        }
        Err(skipped) => (None, Some(skipped.reason)),
    };
    let roles = roles
        .iter()
        .map(|r| {
            let name: String = r.get(0);
            let timeouts =
                TIMEOUTS.map(|setting| resolve(&overrides, file_values.as_ref(), &name, setting));
            LoginRole {
                superuser: r.get(1),
                replication: r.get(2),
                name,
                timeouts,
            }
        })
        .collect();
    Ok(RoleTimeouts {
        roles,
        config_unreadable,
    })
}

/// The value a new session of `role` in the audited database starts with.
fn resolve(
    overrides: &Overrides,
    files: Option<&BTreeMap<String, TimeoutValue>>,
    role: &str,
    setting: &str,
) -> Option<TimeoutValue> {
    let levels = [
        ((role, true), TimeoutSource::RoleInDatabase),
        ((role, false), TimeoutSource::Role),
        (("", true), TimeoutSource::Database),
        (("", false), TimeoutSource::AllRoles),
    ];
    for ((who, in_database), source) in levels {
        let found = overrides
            .get(&(who.to_owned(), in_database))
            .and_then(|values| values.get(setting));
        if let Some(value) = found {
            return Some(TimeoutValue {
                value: value.clone(),
                source,
            });
        }
    }
    let files = files?;
    Some(files.get(setting).cloned().unwrap_or(TimeoutValue {
        value: "0".into(),
        source: TimeoutSource::BuiltIn,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides(rows: &[(&str, bool, &str, &str)]) -> Overrides {
        let mut map = Overrides::new();
        for (role, db, k, v) in rows {
            map.entry(((*role).to_owned(), *db))
                .or_default()
                .insert((*k).to_owned(), (*v).to_owned());
        }
        map
    }

    #[test]
    fn the_most_specific_level_wins_and_the_files_come_last() {
        let set = overrides(&[
            ("app", true, "statement_timeout", "5s"),
            ("app", false, "statement_timeout", "0"),
            ("", true, "statement_timeout", "1min"),
        ]);
        let files = BTreeMap::new();
        let app = resolve(&set, Some(&files), "app", "statement_timeout").unwrap();
        assert_eq!(app.source, TimeoutSource::RoleInDatabase);
        assert!(!app.disabled());
        let other = resolve(&set, Some(&files), "other", "statement_timeout").unwrap();
        assert_eq!(
            (other.value.as_str(), other.source),
            ("1min", TimeoutSource::Database)
        );
        let idle = resolve(
            &set,
            Some(&files),
            "app",
            "idle_in_transaction_session_timeout",
        );
        assert_eq!(idle.unwrap().source, TimeoutSource::BuiltIn);
        assert_eq!(
            resolve(&set, None, "app", "idle_in_transaction_session_timeout"),
            None
        );
    }

    #[test]
    fn zero_in_any_unit_is_disabled() {
        for (value, disabled) in [("0", true), ("0ms", true), ("0.0s", true), ("30s", false)] {
            let v = TimeoutValue {
                value: value.into(),
                source: TimeoutSource::BuiltIn,
            };
            assert_eq!(v.disabled(), disabled, "{value}");
        }
    }
}
