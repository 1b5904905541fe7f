//! Login roles whose sessions run without a statement or idle-in-transaction timeout.

use super::{DatabaseCx, Outcome, Threshold};
use crate::live::Skipped;
use crate::live::activity::TIMEOUTS;
use crate::rules::{Category, Check, Finding, Rule, Severity};
use crate::source::Span;

pub static RULE: Rule = Rule {
    name: "timeouts-disabled",
    category: Category::Database,
    severity: Severity::Warning,
    lock: None,
    summary: "a login role runs with statement_timeout and idle_in_transaction_session_timeout both off",
    doc: crate::rules::rule_doc!("timeouts-disabled"),
    check: Check::Live,
};

pub static THRESHOLDS: &[Threshold] = &[];

pub fn check(cx: &DatabaseCx) -> Outcome {
    let activity = cx.snapshot.activity.as_ref().map_err(Clone::clone)?;
    let audit = activity.timeouts.as_ref().map_err(Clone::clone)?;
    let database = &cx.snapshot.server.database;
    let mut findings = Vec::new();
    let mut unknown = 0;
    // superusers run maintenance that must not be cut short; replication roles stream WAL,
    // which no statement timeout applies to
    for role in audit
        .roles
        .iter()
        .filter(|r| !r.superuser && !r.replication)
    {
        let [Some(statement), Some(idle)] = &role.timeouts else {
            unknown += 1;
            continue;
        };
        if !(statement.disabled() && idle.disabled()) {
            continue;
        }
        let mut finding = Finding::new(
            &RULE,
            Span::new(0, 0),
            format!(
                "role {} has no statement_timeout ({}) and no idle_in_transaction_session_timeout ({}) in database {database}",
                role.name, statement.source, idle.source
            ),
        )
        .object(format!("role {}", role.name))
        .evidence("role", role.name.clone())
        .evidence("database", database.clone());
        for (setting, value) in TIMEOUTS.iter().zip([statement, idle]) {
            finding = finding
                .evidence(setting, value.value.clone())
                .evidence(&format!("{setting}_source"), value.source.to_string());
        }
        findings.push(finding.help(format!(
            "give the role limits that fit its work, e.g. `ALTER ROLE {0} SET statement_timeout = '30s'; \
             ALTER ROLE {0} SET idle_in_transaction_session_timeout = '60s';` (a batch role can \
             raise them per session with SET)",
            role.name
        )));
    }
    if findings.is_empty() && unknown > 0 {
        let reason = audit.config_unreadable.clone().unwrap_or_default();
        return Err(Skipped::new(format!(
            "{unknown} login role(s) take the timeouts from the server configuration, which this role cannot read ({reason})"
        )));
    }
    Ok(findings)
}
