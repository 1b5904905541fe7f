//! `pgrisk.toml`: the file schema (every field optional, unknown keys rejected) and its
//! layering into [`Settings`]: defaults < file < environment (`PGRISK_*`) < flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::analysis::SearchPath;
use crate::rules::{self, Severity};
use crate::source::Framework;

pub const FILE_NAME: &str = "pgrisk.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    pub pg_version: Option<u32>,
    pub framework: Option<String>,
    pub assume_in_transaction: Option<bool>,
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub severity: Option<BTreeMap<String, String>>,
    pub fail_on: Option<String>,
    pub max_file_size: Option<u64>,
    /// Schemas unqualified names are looked up in, as the application's `search_path`.
    pub search_path: Option<Vec<String>>,
    /// `[rules.<name>]` option tables; checked against rule names.
    pub rules: Option<BTreeMap<String, toml::Table>>,
}

/// When the exit code becomes 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Severity(Severity),
    Never,
}

impl FailOn {
    pub fn parse(s: &str) -> Option<FailOn> {
        match s {
            "never" => Some(FailOn::Never),
            _ => Severity::parse(s).map(FailOn::Severity),
        }
    }
}

/// Resolved settings: no `Option`s left where a default exists.
#[derive(Debug, Clone)]
pub struct Settings {
    pub pg_version: u32,
    pub framework: Option<Framework>,
    pub assume_in_transaction: bool,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub severity: BTreeMap<String, Severity>,
    pub fail_on: FailOn,
    pub max_file_size: u64,
    pub search_path: SearchPath,
    /// `[rules.<name>]` options (its `pg_version` is replaced by the one above when used).
    pub rule_options: crate::rules::RuleSettings,
    /// The config file used, if any.
    pub config_path: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            pg_version: 16,
            framework: None,
            assume_in_transaction: false,
            include: Vec::new(),
            exclude: Vec::new(),
            select: Vec::new(),
            ignore: Vec::new(),
            severity: BTreeMap::new(),
            fail_on: FailOn::Severity(Severity::Error),
            max_file_size: 32 << 20,
            search_path: SearchPath::default(),
            rule_options: crate::rules::RuleSettings::default(),
            config_path: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Value { origin: String, message: String },
}

/// Finds `pgrisk.toml` walking up from `start`.
pub fn find_config(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|p| p.is_file())
}

pub fn load_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .map(|s| line_col(&text, s.start))
            .map_or(String::new(), |(l, c)| format!(":{l}:{c}"));
        ConfigError::Invalid {
            path: format!("{shown}{at}"),
            message: e.message().trim().to_owned(),
        }
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl Settings {
    /// Applies a config file on top of the current settings.
    pub fn apply_file(&mut self, file: FileConfig, path: &Path) -> Result<(), ConfigError> {
        let origin = path.display().to_string();
        let err = |message: String| ConfigError::Value {
            origin: origin.clone(),
            message,
        };
        if let Some(v) = file.pg_version {
            self.pg_version = check_pg_version(v).map_err(err)?;
        }
        if let Some(name) = file.framework {
            self.framework = Some(parse_framework(&name).map_err(err)?);
        }
        if let Some(v) = file.search_path {
            self.search_path = SearchPath::parse(&v.join(","));
        }
        if let Some(v) = file.assume_in_transaction {
            self.assume_in_transaction = v;
        }
        if let Some(v) = file.include {
            self.include = v;
        }
        if let Some(v) = file.exclude {
            self.exclude = v;
        }
        if let Some(v) = file.select {
            self.select = check_rule_names(&v, "select").map_err(err)?;
        }
        if let Some(v) = file.ignore {
            self.ignore = check_rule_names(&v, "ignore").map_err(err)?;
        }
        if let Some(map) = file.severity {
            for (rule, severity) in map {
                check_rule_names(std::slice::from_ref(&rule), "severity").map_err(err)?;
                let parsed = Severity::parse(&severity).ok_or_else(|| {
                    err(format!(
                        "severity.{rule}: `{severity}` is not one of error, warning, info"
                    ))
                })?;
                self.severity.insert(rule, parsed);
            }
        }
        if let Some(v) = file.fail_on {
            self.fail_on = FailOn::parse(&v).ok_or_else(|| {
                err(format!(
                    "fail-on: `{v}` is not one of error, warning, info, never"
                ))
            })?;
        }
        if let Some(v) = file.max_file_size {
            self.max_file_size = v;
        }
        if let Some(tables) = file.rules {
            let names: Vec<String> = tables.keys().cloned().collect();
            check_rule_names(&names, "rules").map_err(err)?;
            for (rule, table) in &tables {
                for (key, value) in table {
                    self.apply_rule_option(rule, key, value)
                        .map_err(|m| err(format!("rules.{rule}.{key}: {m}")))?;
                }
            }
        }
        self.config_path = Some(path.to_owned());
        Ok(())
    }

    fn apply_rule_option(
        &mut self,
        rule: &str,
        key: &str,
        value: &toml::Value,
    ) -> Result<(), String> {
        let list = || -> Result<Vec<String>, String> {
            value
                .as_array()
                .and_then(|items| {
                    items
                        .iter()
                        .map(|i| i.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or_else(|| "expected a list of strings".to_owned())
        };
        let options = &mut self.rule_options;
        match (rule, key) {
            ("idempotency-key-missing", "tables") => options.idempotency_tables = list()?,
            ("idempotency-key-missing", "key-columns") => options.idempotency_key_columns = list()?,
            ("backfill-rewrites-history", "money-columns") => options.money_columns = list()?,
            ("soft-delete-ghosts", "columns") => options.soft_delete_columns = list()?,
            (_, "small-table-rows" | "large-table-rows") => {
                if crate::diagnostic::size::operation_of(rule).is_none() {
                    return Err(
                        "not a size-aware rule (the list: README, \"Size awareness\")".into(),
                    );
                }
                options
                    .thresholds
                    .insert(format!("{rule}.{key}"), number(value)?);
            }
            _ => match crate::rules::database::threshold(rule, key) {
                Some(threshold) => {
                    options
                        .thresholds
                        .insert(format!("{rule}.{}", threshold.key), number(value)?);
                }
                None => return Err("unknown option for this rule".into()),
            },
        }
        Ok(())
    }

    /// What discovery needs from these settings.
    pub fn discover_options(&self) -> crate::source::discover::DiscoverOptions {
        crate::source::discover::DiscoverOptions {
            framework: self.framework,
            assume_in_transaction: self.assume_in_transaction,
            max_file_bytes: self.max_file_size,
            include: self.include.clone(),
            exclude: self.exclude.clone(),
        }
    }

    /// Rule settings for a run: the `[rules.*]` options with the target version.
    pub fn rule_settings(&self) -> crate::rules::RuleSettings {
        crate::rules::RuleSettings {
            pg_version: self.pg_version,
            ..self.rule_options.clone()
        }
    }

    /// `PGRISK_PG_VERSION`, `PGRISK_FAIL_ON`, `PGRISK_FRAMEWORK`, `PGRISK_SELECT`, `PGRISK_IGNORE`,
    /// `PGRISK_SEARCH_PATH`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let err = |var: &str, message: String| ConfigError::Value {
            origin: var.to_owned(),
            message,
        };
        if let Some(v) = get("PGRISK_PG_VERSION") {
            let n = v
                .trim()
                .parse()
                .map_err(|_| err("PGRISK_PG_VERSION", format!("`{v}` is not a major version")))?;
            self.pg_version = check_pg_version(n).map_err(|m| err("PGRISK_PG_VERSION", m))?;
        }
        if let Some(v) = get("PGRISK_FAIL_ON") {
            self.fail_on = FailOn::parse(v.trim()).ok_or_else(|| {
                err(
                    "PGRISK_FAIL_ON",
                    format!("`{v}` is not one of error, warning, info, never"),
                )
            })?;
        }
        if let Some(v) = get("PGRISK_SEARCH_PATH") {
            self.search_path = SearchPath::parse(&v);
        }
        if let Some(v) = get("PGRISK_FRAMEWORK") {
            self.framework = Some(parse_framework(&v).map_err(|m| err("PGRISK_FRAMEWORK", m))?);
        }
        for (var, target) in [
            ("PGRISK_SELECT", &mut self.select),
            ("PGRISK_IGNORE", &mut self.ignore),
        ] {
            if let Some(v) = get(var) {
                let names: Vec<String> = split_list(&v);
                *target = check_rule_names(&names, var).map_err(|m| err(var, m))?;
            }
        }
        Ok(())
    }

    /// The rules to run: `select` (or all) minus `ignore`.
    pub fn enabled_rules(&self) -> Vec<&'static rules::Rule> {
        rules::ALL
            .iter()
            .copied()
            .filter(|r| {
                self.select.is_empty() || self.select.iter().any(|s| s == r.name || s == "all")
            })
            .filter(|r| !self.ignore.iter().any(|s| s == r.name))
            .collect()
    }

    pub fn severity_of(&self, rule: &rules::Rule) -> Severity {
        self.severity_of_finding(rule, None)
    }

    /// A finding's severity: the user's `[severity]` for the rule, else the level the check
    /// chose for this finding, else the rule's default.
    pub fn severity_of_finding(&self, rule: &rules::Rule, chosen: Option<Severity>) -> Severity {
        self.severity
            .get(rule.name)
            .copied()
            .or(chosen)
            .unwrap_or(rule.severity)
    }
}

/// A numeric option value (TOML integer or float).
fn number(value: &toml::Value) -> Result<f64, String> {
    value
        .as_float()
        .or_else(|| value.as_integer().map(|i| i as f64))
        .ok_or_else(|| "expected a number".to_owned())
}

pub fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn check_pg_version(v: u32) -> Result<u32, String> {
    if (9..=19).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "pg-version {v} is not a PostgreSQL major version pgrisk knows (9 to 19)"
        ))
    }
}

pub fn parse_framework(name: &str) -> Result<Framework, String> {
    Framework::from_name(name).ok_or_else(|| {
        let known: Vec<_> = Framework::ALL.iter().map(|f| f.name()).collect();
        format!("unknown framework `{name}` (known: {})", known.join(", "))
    })
}

/// Every name must be a rule (or `all`); otherwise an error with a suggestion.
pub fn check_rule_names(names: &[String], key: &str) -> Result<Vec<String>, String> {
    for name in names {
        if name != "all" && rules::find(name).is_none() {
            let hint = suggest(name)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(format!(
                "{key}: unknown rule `{name}`{hint} (see `pgrisk rules`)"
            ));
        }
    }
    Ok(names.to_vec())
}

/// The closest rule name, if it is close enough to be a typo.
pub fn suggest(name: &str) -> Option<&'static str> {
    rules::ALL
        .iter()
        .map(|r| (edit_distance(name, r.name), r.name))
        .filter(|(d, _)| *d <= name.len() / 3 + 1)
        .min()
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FileConfig, String> {
        toml::from_str(text).map_err(|e| e.message().to_owned())
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(
            parse("pg-verison = 15")
                .unwrap_err()
                .contains("unknown field")
        );
    }

    #[test]
    fn unknown_rule_names_get_a_suggestion() {
        let err = check_rule_names(&["create-index-blockin".into()], "ignore").unwrap_err();
        assert!(
            err.contains("did you mean `create-index-blocking`"),
            "{err}"
        );
    }

    #[test]
    fn file_values_override_defaults() {
        let mut s = Settings::default();
        let file =
            parse("pg-version = 12\nfail-on = \"warning\"\n[severity]\ndrop-column = \"error\"")
                .unwrap();
        s.apply_file(file, Path::new("pgrisk.toml")).unwrap();
        assert_eq!(s.pg_version, 12);
        assert_eq!(s.fail_on, FailOn::Severity(Severity::Warning));
        assert_eq!(
            s.severity_of(rules::find("drop-column").unwrap()),
            Severity::Error
        );
    }

    #[test]
    fn rule_options_are_read_and_checked() {
        let mut s = Settings::default();
        let file =
            parse("[rules.idempotency-key-missing]\ntables = ['ledger']\nkey-columns = ['op_id']")
                .unwrap();
        s.apply_file(file, Path::new("pgrisk.toml")).unwrap();
        assert_eq!(s.rule_settings().idempotency_tables, vec!["ledger"]);
        let bad = parse("[rules.drop-column]\nfoo = 1").unwrap();
        let err = Settings::default()
            .apply_file(bad, Path::new("pgrisk.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("rules.drop-column.foo: unknown option"),
            "{err}"
        );
    }

    #[test]
    fn environment_overrides_file() {
        let mut s = Settings::default();
        s.apply_env(|k| (k == "PGRISK_PG_VERSION").then(|| "13".to_owned()))
            .unwrap();
        assert_eq!(s.pg_version, 13);
        assert!(
            s.apply_env(|k| (k == "PGRISK_PG_VERSION").then(|| "x".to_owned()))
                .is_err()
        );
    }

    #[test]
    fn select_and_ignore_pick_rules() {
        let s = Settings {
            select: vec!["drop-column".into(), "drop-table".into()],
            ignore: vec!["drop-table".into()],
            ..Settings::default()
        };
        let names: Vec<_> = s.enabled_rules().iter().map(|r| r.name).collect();
        assert_eq!(names, vec!["drop-column"]);
    }
}
