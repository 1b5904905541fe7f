//! A payments/webhooks/events-like table with no unique idempotency key.

use crate::analysis::{ActionKind, Name};
use crate::rules::{Category, Check, Finding, Rule, RuleSettings, Severity, StatementCx, rule_doc};

pub static RULE: Rule = Rule {
    name: "idempotency-key-missing",
    category: Category::Idempotency,
    severity: Severity::Warning,
    lock: None,
    summary: "a table of payments, webhooks or events with no unique idempotency key",
    doc: rule_doc!("idempotency-key-missing"),
    check: Check::Statement(check),
};

/// Whether `column` matches one of the configured idempotency key patterns.
pub fn is_key_column(settings: &RuleSettings, column: &str) -> bool {
    settings
        .idempotency_key_columns
        .iter()
        .any(|p| crate::rules::matches_pattern(p, column))
}

/// Last words that make a child or lookup table of the stem (`order_items`, `event_types`).
const DETAIL_SUFFIXES: &[&str] = &[
    "item",
    "items",
    "line",
    "lines",
    "type",
    "types",
    "template",
    "templates",
    "preference",
    "preferences",
    "plan",
    "plans",
    "status",
    "statuses",
    "setting",
    "settings",
    // a job's log lines are appended by the job, not inserted per request
    "log",
    "logs",
];

/// Name words that make a table a record of what happened (appended by the application),
/// not a table of requests that a retry could insert twice.
const LOG_WORDS: &[&str] = &[
    "audit",
    "audits",
    "activity",
    "activities",
    "history",
    "histories",
    "log",
    "logs",
    "trail",
    "journal",
];

/// Stems that name a request table only when nothing else says it is a log: `stripe_events`
/// are delivered webhooks, `audit_events` and `user_events` are an activity stream.
const WEAK_STEMS: &[&str] = &["event"];

/// The singular of a name word (`refunds` → `refund`, `batches` → `batch`).
fn singular(word: &str) -> &str {
    word.strip_suffix("es")
        .filter(|w| w.ends_with('s') || w.ends_with("ch"))
        .or_else(|| word.strip_suffix('s'))
        .unwrap_or(word)
}

/// A weak stem is outweighed by a log word, or by the entity it follows when the schema has a
/// table of that entity (`user_events` beside `users`: what users did).
fn outweighed(table: &str, stem: &str, has_table: impl Fn(&str) -> bool) -> bool {
    if !WEAK_STEMS.contains(&stem) {
        return false;
    }
    let words: Vec<&str> = table.split('_').collect();
    if words.iter().any(|w| LOG_WORDS.contains(w)) {
        return true;
    }
    words
        .iter()
        .position(|w| singular(w) == stem)
        .and_then(|i| i.checked_sub(1))
        .map(|i| words[i])
        .is_some_and(|entity| has_table(entity) || has_table(&format!("{entity}s")))
}

/// The stem the table's name words contain (`stripe_webhook_events` → `webhook`).
fn matching_stem<'s>(settings: &'s RuleSettings, table: &str) -> Option<&'s str> {
    if table
        .rsplit('_')
        .next()
        .is_some_and(|last| DETAIL_SUFFIXES.contains(&last))
        && table.contains('_')
    {
        return None;
    }
    table.split('_').find_map(|word| {
        let singular = singular(word);
        settings
            .idempotency_tables
            .iter()
            .map(String::as_str)
            .find(|stem| *stem == singular || *stem == word)
    })
}

fn check(cx: &StatementCx) -> Vec<Finding> {
    cx.actions()
        .filter_map(|action| {
            let ActionKind::CreateTable { table, scratch: false, partition_of: None, .. } = &action.kind else {
                return None;
            };
            let stem = matching_stem(cx.settings, &table.name)?;
            cx.catalog.table(table)?;
            let has_table = |name: &str| cx.catalog.table(&Name::new(table.schema.as_deref(), name)).is_some();
            if outweighed(&table.name, stem, has_table) {
                return None;
            }
            let keyed = cx.catalog.unique_column_lists(table).iter().flatten().any(|c| is_key_column(cx.settings, c));
            if keyed {
                return None;
            }
            Some(
                Finding::new(&RULE, action.span, format!(
                    "`{table}` looks like a table of {stem}s but has no UNIQUE idempotency key: a retried request or redelivered webhook inserts the same {stem} twice"
                ))
                .help("add e.g. `idempotency_key text NOT NULL` (or the provider's event id) with a UNIQUE constraint, and insert with ON CONFLICT DO NOTHING")
                .object(table.key()),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_match_stems_with_plurals_and_affixes() {
        let s = RuleSettings::default();
        assert_eq!(matching_stem(&s, "stripe_webhook_events"), Some("webhook"));
        assert_eq!(matching_stem(&s, "payment_intents"), Some("payment"));
        assert_eq!(matching_stem(&s, "refunds"), Some("refund"));
        assert_eq!(matching_stem(&s, "users"), None);
        assert_eq!(matching_stem(&s, "order_items"), None);
        assert_eq!(matching_stem(&s, "provisioner_job_logs"), None);
        assert_eq!(matching_stem(&s, "provisioner_jobs"), Some("job"));
        assert_eq!(matching_stem(&s, "border_crossings"), None);
        assert!(is_key_column(&s, "provider_charge_id") && is_key_column(&s, "dedupe_key"));
        assert_eq!(singular("batches"), "batch");
        assert!(!is_key_column(&s, "user_id"));
    }

    #[test]
    fn log_words_and_known_entities_outweigh_event() {
        let users = |t: &str| t == "users";
        assert!(outweighed("audit_events", "event", |_| false));
        assert!(outweighed("activity_events", "event", |_| false));
        assert!(outweighed("user_events", "event", users));
        assert!(!outweighed("stripe_events", "event", users));
        assert!(!outweighed("events", "event", users));
        // a strong stem is never outweighed: payments are requests even in an audit schema
        assert!(!outweighed("payment_audit", "payment", users));
    }
}
