//! Database rules (category `database`, `pgrisk live`): each judges a [`Snapshot`] read from a
//! running server. A check whose data could not be read is skipped with the reader's reason.
//!
//! [`CHECKS`] is the one table of live checks: the database-only rules (whose `check` is
//! [`Check::Live`](super::Check::Live)) and the schema rules that also run on the live catalog.

use crate::live::{Skipped, Snapshot};
use crate::rules::{Finding, Rule, RuleSettings};

/// A numeric option of a live check: `[rules.<name>] <key> = <value>` in pgrisk.toml.
#[derive(Debug)]
pub struct Threshold {
    pub key: &'static str,
    pub default: f64,
    /// One line for the rule doc and `explain`.
    pub doc: &'static str,
}

pub struct DatabaseCx<'a> {
    pub snapshot: &'a Snapshot,
    pub settings: &'a RuleSettings,
    pub rule: &'static Rule,
    pub thresholds: &'static [Threshold],
}

impl DatabaseCx<'_> {
    /// The configured value of one of this check's thresholds, or its default.
    pub fn threshold(&self, key: &str) -> f64 {
        let default = self
            .thresholds
            .iter()
            .find(|t| t.key == key)
            .unwrap_or_else(|| panic!("{}: no threshold `{key}` declared", self.rule.name))
            .default;
        self.settings
            .thresholds
            .get(&format!("{}.{key}", self.rule.name))
            .copied()
            .unwrap_or(default)
    }
}

/// What a live check concludes: findings, or why it could not look.
pub type Outcome = Result<Vec<Finding>, Skipped>;

pub struct LiveCheck {
    pub rule: &'static Rule,
    pub thresholds: &'static [Threshold],
    pub check: fn(&DatabaseCx) -> Outcome,
}

/// Every live check, sorted by rule name. Adding one adds one line here.
pub static CHECKS: &[LiveCheck] = &[];

/// The declared threshold `key` of `rule`, for the configuration loader.
pub fn threshold(rule: &str, key: &str) -> Option<&'static Threshold> {
    CHECKS
        .iter()
        .filter(|c| c.rule.name == rule)
        .flat_map(|c| c.thresholds)
        .find(|t| t.key == key)
}

/// Runs the enabled live checks; returns their findings and one note per skipped check.
pub fn check(
    snapshot: &Snapshot,
    enabled: &[&'static Rule],
    settings: &RuleSettings,
) -> (Vec<Finding>, Vec<String>) {
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    for live in CHECKS {
        if !enabled.iter().any(|r| r.name == live.rule.name) {
            continue;
        }
        let cx = DatabaseCx {
            snapshot,
            settings,
            rule: live.rule,
            thresholds: live.thresholds,
        };
        match (live.check)(&cx) {
            Ok(found) => findings.extend(found),
            Err(skipped) => notes.push(format!("{} skipped: {}", live.rule.name, skipped.reason)),
        }
    }
    (findings, notes)
}
