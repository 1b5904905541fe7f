//! Stage 4: rules. Each rule is a `const RULE` plus a check function in its own file,
//! with its user documentation in `rules/<name>.md` (embedded here, shown by `explain`).
//! Rules read analysed facts and state; PostgreSQL knowledge lives in `analysis`.

pub mod database;
pub mod migration;
pub mod query;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::{Action, AnalyzedFile, AnalyzedStatement, Catalog, LockMode, LockTaken};
use crate::source::Span;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        [Severity::Info, Severity::Warning, Severity::Error]
            .into_iter()
            .find(|v| v.name() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Locking,
    Compatibility,
    Transaction,
    Backfill,
    Idempotency,
    Schema,
    Query,
    Database,
    Meta,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Locking => "locking",
            Category::Compatibility => "compatibility",
            Category::Transaction => "transaction",
            Category::Backfill => "backfill",
            Category::Idempotency => "idempotency",
            Category::Schema => "schema",
            Category::Query => "query",
            Category::Database => "database",
            Category::Meta => "meta",
        }
    }
}

/// Options that change what rules conclude (`[rules.<name>]` in pgrisk.toml).
#[derive(Debug, Clone)]
pub struct RuleSettings {
    pub pg_version: u32,
    /// `[rules.idempotency-key-missing] tables`: words that make a table name count.
    pub idempotency_tables: Vec<String>,
    /// `[rules.idempotency-key-missing] key-columns`: key column patterns (`*` = anything).
    pub idempotency_key_columns: Vec<String>,
    /// `[rules.backfill-rewrites-history] money-columns`: money column patterns.
    pub money_columns: Vec<String>,
    /// `[rules.soft-delete-ghosts] columns`: soft-delete flag column patterns.
    pub soft_delete_columns: Vec<String>,
    /// Live checks' numeric options, keyed `rule.key` (`database::Threshold`).
    pub thresholds: BTreeMap<String, f64>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            pg_version: 16,
            idempotency_tables: strings(&[
                "payment",
                "charge",
                "refund",
                "order",
                "invoice",
                "transfer",
                "webhook",
                "event",
                "message",
                "notification",
                "job",
                "request",
                "subscription",
            ]),
            idempotency_key_columns: strings(&[
                "idempotency_key",
                "idempotency_token",
                "request_id",
                "event_id",
                "external_id",
                "*_external_id",
                "provider_*_id",
                "dedup*_key",
                "message_id",
            ]),
            money_columns: strings(&[
                "amount", "total", "price", "cost", "tax", "fee", "balance", "*_cents",
            ]),
            soft_delete_columns: strings(&[
                "deleted",
                "is_deleted",
                "deleted_at",
                "archived*",
                "is_archived",
                "removed*",
                "is_removed",
            ]),
            thresholds: BTreeMap::new(),
        }
    }
}

/// A name pattern where `*` matches any run of characters (`provider_*_id`).
pub fn matches_pattern(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first)
        || !name[first.len()..].ends_with(last)
        || name.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

pub struct StatementCx<'a> {
    pub file: &'a AnalyzedFile,
    pub statement: &'a AnalyzedStatement,
    pub settings: &'a RuleSettings,
    /// The schema at the end of the whole migration set ("by the end of the set" facts).
    pub catalog: &'a Catalog,
}

pub struct FileCx<'a> {
    pub file: &'a AnalyzedFile,
    pub settings: &'a RuleSettings,
    pub catalog: &'a Catalog,
}

pub enum Check {
    /// Looks at one statement (with the state before it).
    Statement(fn(&StatementCx) -> Vec<Finding>),
    /// Looks at a whole file (ordering, scopes, end of file).
    File(fn(&FileCx) -> Vec<Finding>),
    /// Produced by the diagnostic stage itself (suppressions).
    Diagnostic,
    /// Judges a running database: its check is its row in `database::CHECKS`.
    Live,
    /// Judges a migration against the live server's locks (`lint --dsn` only): run by the
    /// lint command with what it read, so it has no static examples.
    Preflight,
}

pub struct Rule {
    /// Stable kebab-case name: what users write in config and suppressions.
    pub name: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// The lock the flagged statement takes, shown in docs and output.
    pub lock: Option<LockMode>,
    /// One line for `pgrisk rules`.
    pub summary: &'static str,
    /// `rules/<name>.md`.
    pub doc: &'static str,
    pub check: Check,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

macro_rules! rule_doc {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/", $name, ".md"))
    };
}
pub(crate) use rule_doc;

/// A text edit: replace `span` by `insert`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub insert: String,
}

/// Whether `lint --fix` may apply a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// The statement means the same and is legal where it stands: `--fix` applies it.
    Safe,
    /// It changes what the migration does, or needs a human (another file, a name to
    /// choose): shown, never applied.
    Suggestion,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

impl Fix {
    /// One insertion of `text` at byte offset `at`.
    pub fn insert(
        title: impl Into<String>,
        applicability: Applicability,
        at: usize,
        text: impl Into<String>,
    ) -> Fix {
        Fix {
            title: title.into(),
            applicability,
            edits: vec![Edit {
                span: Span::new(at, at),
                insert: text.into(),
            }],
        }
    }
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static Rule,
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
    /// The relation concerned, e.g. `public.orders`.
    pub object: Option<String>,
    pub lock: Option<LockMode>,
    pub evidence: BTreeMap<String, serde_json::Value>,
    pub fix: Option<Fix>,
    /// A finding graver or milder than the rule's default (a live check's second level);
    /// a `[severity]` override in the configuration still wins.
    pub severity: Option<Severity>,
}

impl Finding {
    pub fn new(rule: &'static Rule, span: Span, message: impl Into<String>) -> Finding {
        Finding {
            rule,
            span,
            message: message.into(),
            help: None,
            object: None,
            lock: None,
            evidence: BTreeMap::new(),
            fix: None,
            severity: None,
        }
    }

    pub fn severity(mut self, severity: Severity) -> Finding {
        self.severity = Some(severity);
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }

    pub fn evidence(mut self, key: &str, value: impl Into<serde_json::Value>) -> Finding {
        self.evidence.insert(key.to_owned(), value.into());
        self
    }

    /// Records the lock, its relation and what the lock blocks.
    pub fn with_lock(mut self, lock: &LockTaken) -> Finding {
        self.object = Some(lock.relation.key().to_string());
        self.lock = Some(lock.mode);
        self.evidence
            .insert("blocks".into(), lock.mode.blocks_summary().into());
        self
    }

    pub fn locking(mut self, mode: LockMode) -> Finding {
        self.lock = Some(mode);
        self
    }

    pub fn object(mut self, object: impl std::fmt::Display) -> Finding {
        self.object = Some(object.to_string());
        self
    }

    pub fn fix(mut self, fix: Option<Fix>) -> Finding {
        self.fix = fix;
        self
    }

    /// Adds the version facts behind the action as evidence.
    pub fn version_facts(mut self, action: &Action) -> Finding {
        if !action.version_facts.is_empty() {
            let facts: Vec<_> = action.version_facts.iter().map(|f| f.text).collect();
            self.evidence.insert("postgres".into(), facts.into());
        }
        self
    }
}

impl StatementCx<'_> {
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.statement.actions.iter()
    }

    /// The span of the first occurrence of `word` (a keyword) inside `within`.
    pub fn keyword_span(&self, within: Span, word: &str) -> Option<Span> {
        keyword_span(self.file.source.sql(), within, word)
    }
}

pub fn keyword_span(sql: &str, within: Span, word: &str) -> Option<Span> {
    crate::source::lex::Lexer::new(&sql[..within.end], within.start)
        .find(|t| t.is_word(sql, word))
        .map(|t| t.span)
}

/// Every rule, sorted by name. Adding a rule adds one line here.
pub static ALL: &[&Rule] = &[
    &migration::add_column_required::RULE,
    &migration::add_column_rewrite::RULE,
    &migration::alter_column_type_rewrite::RULE,
    &migration::alter_table_repeated::RULE,
    &migration::attach_partition_scan::RULE,
    &migration::backfill_in_ddl_transaction::RULE,
    &migration::backfill_rewrites_history::RULE,
    &migration::backfill_unbatched::RULE,
    &migration::backfill_volatile_value::RULE,
    &database::blocked_sessions::RULE,
    &database::cache_hit_ratio::RULE,
    &migration::char_column::RULE,
    &migration::concurrently_in_transaction::RULE,
    &database::connections_near_limit::RULE,
    &database::constraint_not_validated::RULE,
    &migration::constraint_validating_scan::RULE,
    &migration::create_index_blocking::RULE,
    &database::dead_tuples::RULE,
    &migration::detach_partition_blocking::RULE,
    &migration::dml_without_where::RULE,
    &migration::drop_cascade::RULE,
    &migration::drop_column::RULE,
    &migration::drop_index_blocking::RULE,
    &migration::drop_table::RULE,
    &database::duplicate_index::RULE,
    &migration::enum_add_value_in_transaction::RULE,
    &migration::exclusion_constraint_blocking::RULE,
    &migration::foreign_key_unindexed::RULE,
    &migration::idempotency_key_missing::RULE,
    &migration::identifier_too_long::RULE,
    &database::idle_in_transaction::RULE,
    &query::insert_not_idempotent::RULE,
    &migration::int_id_overflow::RULE,
    &database::invalid_index::RULE,
    &migration::json_column::RULE,
    &query::like_leading_wildcard::RULE,
    &migration::lock_held_across_statements::RULE,
    &migration::lock_without_timeout::RULE,
    &database::long_running_query::RULE,
    &migration::migration_not_rerunnable::RULE,
    &migration::migration_would_wait::RULE,
    &query::non_sargable_predicate::RULE,
    &query::not_in_subquery::RULE,
    &query::offset_pagination::RULE,
    &query::on_conflict_without_unique::RULE,
    &query::order_by_random::RULE,
    &migration::primary_key_not_null_scan::RULE,
    &migration::refresh_matview_blocking::RULE,
    &migration::reindex_blocking::RULE,
    &migration::rename_column::RULE,
    &migration::rename_table::RULE,
    &database::replica_analytics::RULE,
    &database::replication_lag::RULE,
    &database::replication_slot_inactive::RULE,
    &migration::seed_insert_not_idempotent::RULE,
    &query::select_over_wide::RULE,
    &query::select_star::RULE,
    &database::seq_scan_heavy::RULE,
    &database::sequence_exhaustion::RULE,
    &migration::serial_column::RULE,
    &migration::set_not_null_scan::RULE,
    &database::soft_delete_ghosts::RULE,
    &migration::table_rewrite::RULE,
    &migration::table_without_primary_key::RULE,
    &database::temp_files_heavy::RULE,
    &database::timeouts_disabled::RULE,
    &migration::timestamp_without_timezone::RULE,
    &migration::transaction_nesting::RULE,
    &migration::transaction_unterminated::RULE,
    &migration::truncate_table::RULE,
    &query::unindexed_filter::RULE,
    &migration::unique_constraint_blocking::RULE,
    &migration::unparsed_statement::RULE,
    &migration::unused_ignore::RULE,
    &database::unused_index::RULE,
    &database::vacuum_whole_database_scheduled::RULE,
    &migration::validate_in_same_transaction::RULE,
    &database::xid_wraparound::RULE,
];

/// The rules for migrations or for application queries. `dml-without-where` and the meta
/// rules (unparsed statements, unused ignores) are both.
pub fn for_mode(mode: crate::analysis::Mode) -> Vec<&'static Rule> {
    use crate::analysis::Mode;
    ALL.iter()
        .copied()
        .filter(|r| match mode {
            Mode::Migrations => !matches!(r.category, Category::Query | Category::Database),
            Mode::Queries => {
                matches!(r.category, Category::Query | Category::Meta)
                    || r.name == "dml-without-where"
            }
        })
        .collect()
}

pub fn find(name: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.name == name)
}

/// Runs `rules` over one analysed file; `catalog` is the schema at the end of the set.
pub fn check_file(
    file: &AnalyzedFile,
    rules: &[&'static Rule],
    settings: &RuleSettings,
    catalog: &Catalog,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in rules {
        match rule.check {
            Check::Statement(check) => {
                for statement in &file.statements {
                    let cx = StatementCx {
                        file,
                        statement,
                        settings,
                        catalog,
                    };
                    findings.extend(check(&cx));
                }
            }
            Check::File(check) => findings.extend(check(&FileCx {
                file,
                settings,
                catalog,
            })),
            Check::Diagnostic | Check::Live | Check::Preflight => {}
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_with_stars() {
        assert!(matches_pattern("provider_*_id", "provider_charge_id"));
        assert!(matches_pattern("*_cents", "total_cents"));
        assert!(matches_pattern("dedup*_key", "dedupe_key"));
        assert!(!matches_pattern("provider_*_id", "provider_id_x"));
        assert!(
            matches_pattern("request_id", "request_id")
                && !matches_pattern("request_id", "request_ids")
        );
    }
}
