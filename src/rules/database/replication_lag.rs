//! Standbys replaying far behind the primary.

use super::{DatabaseCx, Outcome, Threshold};
use crate::live::activity::{Replication, round};
use crate::rules::{Category, Check, Finding, Rule, Severity};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "replication-lag",
    category: Category::Database,
    severity: Severity::Warning,
    lock: None,
    summary: "a standby replays WAL seconds behind its primary",
    doc: crate::rules::rule_doc!("replication-lag"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[Threshold {
    key: "max-seconds",
    default: 5.0,
    doc: "replay lag in seconds that is flagged (PgHero: healthy below 5 s)",
}];

const HELP: &str = "reads on the standby see data that old: look for a replay conflict \
     (replica-analytics), a saturated disk or network on the standby, or \
     `pg_wal_replay_pause()` left on";

pub fn check(cx: &DatabaseCx) -> Outcome {
    let activity = cx.snapshot.activity.as_ref().map_err(Clone::clone)?;
    let max = cx.threshold("max-seconds");
    let findings = match activity.replication.as_ref().map_err(Clone::clone)? {
        Replication::Primary(replicas) => replicas
            .iter()
            .filter_map(|r| {
                let lag = r.replay_lag_seconds.filter(|l| *l >= max)?;
                Some(
                    Finding::new(
                        &RULE,
                        Span::new(0, 0),
                        format!(
                            "standby {:?} replays {lag:.1} s behind this primary",
                            r.application
                        ),
                    )
                    .object(format!("standby {}", r.application))
                    .evidence("replay_lag_seconds", round(lag))
                    .evidence("replay_lag_bytes", r.replay_lag_bytes)
                    .evidence("client", r.client.clone())
                    .evidence("state", r.state.clone())
                    .help(HELP),
                )
            })
            .collect(),
        Replication::Standby(standby) => {
            let lag = standby.lag_seconds();
            if lag < max {
                return Ok(Vec::new());
            }
            let paused = if standby.replay_paused {
                " (replay is paused)"
            } else {
                ""
            };
            vec![
                Finding::new(
                    &RULE,
                    Span::new(0, 0),
                    format!(
                        "this standby replays {lag:.1} s behind the WAL it has received{paused}"
                    ),
                )
                .object("this standby")
                .evidence("replay_lag_seconds", round(lag))
                .evidence("replay_behind_bytes", standby.replay_behind_bytes)
                .evidence("receive_lsn", standby.receive_lsn.clone())
                .evidence("replay_lsn", standby.replay_lsn.clone())
                .evidence("replay_paused", standby.replay_paused)
                .help(HELP),
            ]
        }
    };
    Ok(findings)
}
