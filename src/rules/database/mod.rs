//! Database rules (category `database`, `pgrisk live`): each judges a [`Snapshot`] read from a
//! running server. A check whose data could not be read is skipped with the reader's reason.
//!
//! [`CHECKS`] is the one table of live checks: the database-only rules (whose `check` is
//! [`Check::Live`](super::Check::Live)) and the schema rules that also run on the live catalog.

pub mod blocked_sessions;
pub mod cache_hit_ratio;
pub mod connections_near_limit;
pub mod constraint_not_validated;
pub mod dead_tuples;
pub mod duplicate_index;
pub mod foreign_key_unindexed;
pub mod idle_in_transaction;
pub mod invalid_index;
pub mod long_running_query;
pub mod replica_analytics;
pub mod replication_lag;
pub mod replication_slot_inactive;
pub mod seq_scan_heavy;
pub mod sequence_exhaustion;
pub mod soft_delete_ghosts;
pub mod table_without_primary_key;
pub mod temp_files_heavy;
pub mod timeouts_disabled;
pub mod unused_index;
pub mod vacuum_whole_database_scheduled;
pub mod xid_wraparound;

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

/// A finding about one session: its pid as the object, who it is and what it runs as evidence.
pub fn session_finding(
    rule: &'static Rule,
    session: &crate::live::activity::Session,
    message: String,
) -> Finding {
    Finding::new(rule, crate::source::Span::new(0, 0), message)
        .object(format!("pid {}", session.pid))
        .evidence("session", session.evidence())
        .evidence("pid", session.pid)
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
        rule: &blocked_sessions::RULE,
        thresholds: blocked_sessions::THRESHOLDS,
        check: blocked_sessions::check,
    },
    LiveCheck {
        rule: &cache_hit_ratio::RULE,
        thresholds: cache_hit_ratio::THRESHOLDS,
        check: cache_hit_ratio::check,
    },
    LiveCheck {
        rule: &connections_near_limit::RULE,
        thresholds: connections_near_limit::THRESHOLDS,
        check: connections_near_limit::check,
    },
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
        rule: &idle_in_transaction::RULE,
        thresholds: idle_in_transaction::THRESHOLDS,
        check: idle_in_transaction::check,
    },
    LiveCheck {
        rule: &invalid_index::RULE,
        thresholds: &[],
        check: invalid_index::check,
    },
    LiveCheck {
        rule: &long_running_query::RULE,
        thresholds: long_running_query::THRESHOLDS,
        check: long_running_query::check,
    },
    LiveCheck {
        rule: &replica_analytics::RULE,
        thresholds: replica_analytics::THRESHOLDS,
        check: replica_analytics::check,
    },
    LiveCheck {
        rule: &replication_lag::RULE,
        thresholds: replication_lag::THRESHOLDS,
        check: replication_lag::check,
    },
    LiveCheck {
        rule: &replication_slot_inactive::RULE,
        thresholds: replication_slot_inactive::THRESHOLDS,
        check: replication_slot_inactive::check,
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
        rule: &temp_files_heavy::RULE,
        thresholds: temp_files_heavy::THRESHOLDS,
        check: temp_files_heavy::check,
    },
    LiveCheck {
        rule: &timeouts_disabled::RULE,
        thresholds: timeouts_disabled::THRESHOLDS,
        check: timeouts_disabled::check,
    },
    LiveCheck {
        rule: &unused_index::RULE,
        thresholds: unused_index::THRESHOLDS,
        check: unused_index::check,
    },
    LiveCheck {
        rule: &vacuum_whole_database_scheduled::RULE,
        thresholds: vacuum_whole_database_scheduled::THRESHOLDS,
        check: vacuum_whole_database_scheduled::check,
    },
    LiveCheck {
        rule: &xid_wraparound::RULE,
        thresholds: xid_wraparound::THRESHOLDS,
        check: xid_wraparound::check,
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
