//! Database rules (category `database`, `pgrisk live`): each judges a [`Snapshot`] read from a
//! running server. A check whose data could not be read is skipped with the reader's reason.
//!
//! [`CHECKS`] is the one table of live checks: the database-only rules (whose `check` is
//! [`Check::Live`](super::Check::Live)) and the schema rules that also run on the live catalog.

pub mod constraint_not_validated;
pub mod dead_tuples;
pub mod duplicate_index;
pub mod foreign_key_unindexed;
pub mod invalid_index;
pub mod seq_scan_heavy;
pub mod sequence_exhaustion;
pub mod soft_delete_ghosts;
pub mod table_without_primary_key;
pub mod unused_index;

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
pub static CHECKS: &[LiveCheck] = &[
    LiveCheck {
        rule: &constraint_not_validated::RULE,
        thresholds: &[],
        check: constraint_not_validated::check,
    },
    LiveCheck {
        rule: &dead_tuples::RULE,
        thresholds: dead_tuples::THRESHOLDS,
        check: dead_tuples::check,
    },
    LiveCheck {
        rule: &duplicate_index::RULE,
        thresholds: &[],
        check: duplicate_index::check,
    },
    LiveCheck {
        rule: &super::migration::foreign_key_unindexed::RULE,
        thresholds: &[],
        check: foreign_key_unindexed::check,
    },
    LiveCheck {
        rule: &invalid_index::RULE,
        thresholds: &[],
        check: invalid_index::check,
    },
    LiveCheck {
        rule: &seq_scan_heavy::RULE,
        thresholds: seq_scan_heavy::THRESHOLDS,
        check: seq_scan_heavy::check,
    },
    LiveCheck {
        rule: &sequence_exhaustion::RULE,
        thresholds: sequence_exhaustion::THRESHOLDS,
        check: sequence_exhaustion::check,
    },
    LiveCheck {
        rule: &soft_delete_ghosts::RULE,
        thresholds: soft_delete_ghosts::THRESHOLDS,
        check: soft_delete_ghosts::check,
    },
    LiveCheck {
        rule: &super::migration::table_without_primary_key::RULE,
        thresholds: &[],
        check: table_without_primary_key::check,
    },
    LiveCheck {
        rule: &unused_index::RULE,
        thresholds: unused_index::THRESHOLDS,
        check: unused_index::check,
    },
];

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
