//! Sessions waiting for a lock, grouped by the session at the head of the blocking chain.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::{DatabaseCx, Outcome, Threshold};
use crate::live::activity::{Activity, Session, round};
use crate::rules::{Category, Check, Finding, Rule, Severity};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "blocked-sessions",
    category: Category::Database,
    severity: Severity::Error,
    lock: None,
    summary: "sessions are waiting for locks held by other sessions",
    doc: crate::rules::rule_doc!("blocked-sessions"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[Threshold {
    key: "min-wait-seconds",
    default: 1.0,
    doc: "seconds a session must have waited (the default deadlock_timeout, after which log_lock_waits logs a wait)",
}];

/// The sessions waiting behind one head blocker, with their waits, and the deepest chain.
type Group<'a> = (Vec<(&'a Session, f64)>, usize);

/// How many waiting sessions one finding lists.
const LISTED: usize = 20;

/// The sessions at the head of `pid`'s blocking chain (blockers that wait for nobody), and
/// the chain's depth.
fn heads(activity: &Activity, pid: i32) -> (Vec<i32>, usize) {
    let mut seen = BTreeSet::from([pid]);
    let mut frontier = vec![pid];
    let mut found = Vec::new();
    let mut depth = 0;
    while !frontier.is_empty() {
        depth += 1;
        let mut next = Vec::new();
        for p in frontier {
            let blockers = activity.session(p).map_or(&[][..], |s| &s.blocked_by[..]);
            for &b in blockers {
                if !seen.insert(b) {
                    continue;
                }
                match activity.session(b) {
                    Some(s) if !s.blocked_by.is_empty() => next.push(b),
                    _ => found.push(b),
                }
            }
        }
        frontier = next;
    }
    (found, depth - 1)
}

fn waiter_evidence(activity: &Activity, s: &Session, wait: f64) -> serde_json::Value {
    let lock = activity.lock_awaited(s.pid);
    json!({
        "pid": s.pid,
        "application": s.application,
        "user": s.user,
        "wait_seconds": round(wait),
        "locktype": lock.map(|l| l.locktype.clone()),
        "relation": lock.and_then(|l| l.relation.clone()),
        "mode": lock.map(|l| l.mode.clone()),
        "blocked_by": s.blocked_by,
        "query": s.query_excerpt(200),
    })
}

pub fn check(cx: &DatabaseCx) -> Outcome {
    let activity = cx.snapshot.activity.as_ref().map_err(Clone::clone)?;
    let min = cx.threshold("min-wait-seconds");
    let mut groups: BTreeMap<i32, Group> = BTreeMap::new();
    for s in activity
        .sessions
        .iter()
        .filter(|s| !s.blocked_by.is_empty())
    {
        let wait = activity
            .lock_awaited(s.pid)
            .and_then(|l| l.wait_seconds)
            .unwrap_or(0.0);
        if wait < min {
            continue;
        }
        let (found, depth) = heads(activity, s.pid);
        // a deadlock cycle has no head: the server resolves it after deadlock_timeout
        let Some(&head) = found.first() else { continue };
        let group = groups.entry(head).or_default();
        group.0.push((s, wait));
        group.1 = group.1.max(depth);
    }
    let hidden = !cx.snapshot.server.sees_all_stats();
    let mut findings = Vec::new();
    for (head, (mut waiters, depth)) in groups {
        waiters.sort_by(|a, b| b.1.total_cmp(&a.1));
        let longest = waiters[0].1;
        let awaited = activity.lock_awaited(waiters[0].0.pid);
        let relation = awaited.and_then(|l| l.relation.clone());
        let blocker = activity.session(head);
        let describe = blocker.map_or_else(
            || "a session pgrisk cannot see".to_owned(),
            |b| {
                let state = b.state.as_deref().unwrap_or("state hidden");
                let age = b
                    .transaction_seconds
                    .map_or(String::new(), |t| format!(", transaction open {t:.0} s"));
                format!("{state}{age}, application {:?}", b.application)
            },
        );
        let what = match (awaited, &relation) {
            (Some(l), Some(r)) => format!(" for {} on {r}", l.mode),
            (Some(l), None) => format!(" for a {} lock ({})", l.locktype, l.mode),
            _ => String::new(),
        };
        let mut finding = Finding::new(
            &RULE,
            Span::new(0, 0),
            format!(
                "pid {head} ({describe}) blocks {} session(s), waiting up to {longest:.0} s{what}",
                waiters.len()
            ),
        )
        .object(relation.unwrap_or_else(|| format!("pid {head}")))
        .evidence("blocking_pid", head)
        .evidence("blocker", blocker.map(Session::evidence))
        .evidence("blocker_locks_held", activity.locks_held(head))
        .evidence("blocked_sessions", waiters.len())
        .evidence("longest_wait_seconds", round(longest))
        .evidence("chain_depth", depth)
        .evidence(
            "blocked",
            waiters
                .iter()
                .take(LISTED)
                .map(|(s, wait)| waiter_evidence(activity, s, *wait))
                .collect::<Vec<_>>(),
        )
        .help(
            "end or finish the blocking transaction (`pg_terminate_backend(pid)` if it is \
             abandoned); for migrations, set `lock_timeout` so that a DDL statement gives up \
             instead of making every query queue behind it",
        );
        if hidden {
            finding = finding.evidence(
                "hidden",
                "other roles' states and queries are hidden without pg_read_all_stats (grant pg_monitor)",
            );
        }
        findings.push(finding);
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::heads;
    use crate::live::Skipped;
    use crate::live::activity::{Activity, Session};

    fn skipped<T>() -> crate::live::Read<T> {
        Err(Skipped::new("not read in this test"))
    }

    fn activity(sessions: &[(i32, &[i32])]) -> Activity {
        Activity {
            sessions: sessions
                .iter()
                .map(|(pid, by)| Session {
                    pid: *pid,
                    blocked_by: by.to_vec(),
                    ..Session::default()
                })
                .collect(),
            locks: Vec::new(),
            connections_by_app_state: Vec::new(),
            databases: skipped(),
            tables: skipped(),
            database_stats: skipped(),
            cache: skipped(),
            replication: skipped(),
            slots: skipped(),
            timeouts: skipped(),
            cron_jobs: skipped(),
        }
    }

    #[test]
    fn the_head_of_a_chain_is_the_blocker_that_waits_for_nobody() {
        // 1 holds the lock; 2 waits for it; 3 waits behind both (as pg_blocking_pids says)
        let chain = activity(&[(1, &[]), (2, &[1]), (3, &[2, 1])]);
        assert_eq!(heads(&chain, 2), (vec![1], 0));
        assert_eq!(heads(&chain, 3), (vec![1], 1));
        // a deadlock cycle has no head
        let cycle = activity(&[(4, &[5]), (5, &[4])]);
        assert_eq!(heads(&cycle, 4).0, Vec::<i32>::new());
    }
}
