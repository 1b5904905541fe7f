//! `MigrationState`: what is true *before* each statement, folded across a file —
//! the transaction block, effective timeouts, strong locks still held, and constraints
//! added `NOT VALID` in the open transaction.

use super::LockMode;
use super::model::{ActionKind, AlterOp, Name, SearchPath};
use crate::source::{Span, TxMode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// The file said `BEGIN` (at `span`).
    Explicit { begin: Span },
    /// The framework runs the whole file in one transaction.
    Wrapped,
    /// A multi-statement simple query: one implicit transaction.
    Implicit,
}

/// A setting: the session value and a `SET LOCAL` override for the open transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting<T> {
    session: Option<T>,
    local: Option<T>,
}

impl<T> Default for Setting<T> {
    fn default() -> Self {
        Setting {
            session: None,
            local: None,
        }
    }
}

impl<T> Setting<T> {
    /// The value in force, `None` when never set (or set to `DEFAULT`).
    pub fn effective(&self) -> Option<&T> {
        self.local.as_ref().or(self.session.as_ref())
    }

    fn set(&mut self, value: Option<T>, local: bool, in_block: bool) {
        // SET LOCAL outside a transaction block has no effect (PostgreSQL warns)
        if local && in_block {
            self.local = value;
        } else if !local {
            self.session = value;
            self.local = None;
        }
    }
}

/// `lock_timeout`, `statement_timeout`, in milliseconds.
pub type Timeout = Setting<u64>;

impl Timeout {
    /// The value in force, `None` when never set; `Some(0)` means disabled.
    pub fn effective_ms(&self) -> Option<u64> {
        self.effective().copied()
    }

    pub fn is_active(&self) -> bool {
        self.effective_ms().is_some_and(|ms| ms > 0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldLock {
    pub relation: Name,
    pub mode: LockMode,
    /// Index of the statement that took it.
    pub statement: usize,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct MigrationState {
    pub tx_mode: TxMode,
    pub block: Option<Block>,
    pub lock_timeout: Timeout,
    pub statement_timeout: Timeout,
    /// Locks of SHARE or stronger on existing relations held by the open transaction.
    pub held: Vec<HeldLock>,
    /// (table, constraint) added NOT VALID in the open transaction.
    pub not_valid_in_block: Vec<(Name, String)>,
    /// Table altered by the previous statement, when it was an ALTER TABLE.
    pub previous_alter: Option<Name>,
    /// `SET search_path` in force (`None`: the configured one).
    pub search_path: Setting<SearchPath>,
}

impl MigrationState {
    pub fn new(tx_mode: TxMode) -> MigrationState {
        MigrationState {
            tx_mode,
            block: match tx_mode {
                TxMode::Wrapped => Some(Block::Wrapped),
                TxMode::ImplicitMulti => Some(Block::Implicit),
                TxMode::Autocommit => None,
            },
            lock_timeout: Timeout::default(),
            statement_timeout: Timeout::default(),
            held: Vec::new(),
            not_valid_in_block: Vec::new(),
            previous_alter: None,
            search_path: Setting::default(),
        }
    }

    pub fn in_transaction(&self) -> bool {
        self.block.is_some()
    }

    /// Folds one statement's actions in. `strong_locks` are the locks it took (SHARE or
    /// stronger, on existing relations).
    pub fn apply(&mut self, actions: &[(&ActionKind, Span)], strong_locks: Vec<HeldLock>) {
        let mut ended = false;
        for (kind, span) in actions {
            match kind {
                ActionKind::Begin
                    if !matches!(self.block, Some(Block::Explicit { .. } | Block::Wrapped)) =>
                {
                    self.block = Some(Block::Explicit { begin: *span });
                }
                ActionKind::Commit | ActionKind::Rollback => {
                    self.end_block();
                    ended = true;
                }
                ActionKind::SetVar { name, value, local } => {
                    let in_block = self.block.is_some();
                    match name.as_str() {
                        "lock_timeout" => {
                            self.lock_timeout
                                .set(parse_duration_ms(value), *local, in_block)
                        }
                        "statement_timeout" => {
                            self.statement_timeout
                                .set(parse_duration_ms(value), *local, in_block)
                        }
                        "search_path" => {
                            let path = (!value.eq_ignore_ascii_case("default"))
                                .then(|| SearchPath::parse(value));
                            self.search_path.set(path, *local, in_block)
                        }
                        _ => {}
                    }
                }
                ActionKind::Reset { name } => {
                    let resets = |var: &str| name.as_deref().is_none_or(|n| n == var);
                    if resets("lock_timeout") {
                        self.lock_timeout = Setting::default();
                    }
                    if resets("statement_timeout") {
                        self.statement_timeout = Setting::default();
                    }
                    if resets("search_path") {
                        self.search_path = Setting::default();
                    }
                }
                ActionKind::AlterTable {
                    table,
                    op: AlterOp::AddConstraint(c),
                } if c.not_valid => {
                    if let (Some(_), Some(name)) = (self.block, &c.name) {
                        self.not_valid_in_block.push((table.key(), name.clone()));
                    }
                }
                _ => {}
            }
        }
        if self.block.is_some() && !ended {
            self.held.extend(strong_locks);
        }
        if self.block.is_none() && !ended {
            // autocommit: a statement's locks end with it
            self.held.clear();
        }
        self.previous_alter = match actions.first() {
            Some((ActionKind::AlterTable { table, .. }, _)) => Some(table.key()),
            _ => None,
        };
    }

    fn end_block(&mut self) {
        // a multi-statement query goes on in a new implicit transaction after COMMIT
        self.block = (self.tx_mode == TxMode::ImplicitMulti).then_some(Block::Implicit);
        self.held.clear();
        self.not_valid_in_block.clear();
        self.lock_timeout.local = None;
        self.statement_timeout.local = None;
        self.search_path.local = None;
    }
}

/// PostgreSQL time units for settings: bare numbers are milliseconds for these GUCs.
pub fn parse_duration_ms(value: &str) -> Option<u64> {
    let v = value.trim().trim_matches('\'').trim();
    if v.eq_ignore_ascii_case("default") {
        return None;
    }
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (number, unit) = v.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "ms" => 1.0,
        "s" => 1000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        "us" => 0.001,
        _ => return None,
    };
    Some((number * factor).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_postgres_durations() {
        assert_eq!(parse_duration_ms("'2s'"), Some(2000));
        assert_eq!(parse_duration_ms("1500"), Some(1500));
        assert_eq!(parse_duration_ms("1min"), Some(60_000));
        assert_eq!(parse_duration_ms("0"), Some(0));
        assert_eq!(parse_duration_ms("DEFAULT"), None);
    }

    fn set(name: &str, value: &str, local: bool) -> ActionKind {
        ActionKind::SetVar {
            name: name.into(),
            value: value.into(),
            local,
        }
    }

    #[test]
    fn set_local_ends_at_commit() {
        let mut s = MigrationState::new(TxMode::Autocommit);
        let span = Span::default();
        s.apply(&[(&ActionKind::Begin, span)], vec![]);
        s.apply(&[(&set("lock_timeout", "2s", true), span)], vec![]);
        assert!(s.lock_timeout.is_active());
        s.apply(&[(&ActionKind::Commit, span)], vec![]);
        assert!(!s.lock_timeout.is_active());
    }

    #[test]
    fn zero_disables_and_reset_clears() {
        let mut s = MigrationState::new(TxMode::Autocommit);
        let span = Span::default();
        s.apply(&[(&set("lock_timeout", "0", false), span)], vec![]);
        assert_eq!(s.lock_timeout.effective_ms(), Some(0));
        assert!(!s.lock_timeout.is_active());
        s.apply(&[(&set("lock_timeout", "5s", false), span)], vec![]);
        s.apply(&[(&ActionKind::Reset { name: None }, span)], vec![]);
        assert!(!s.lock_timeout.is_active());
    }

    #[test]
    fn wrapped_files_start_inside_a_transaction() {
        assert!(MigrationState::new(TxMode::Wrapped).in_transaction());
        assert!(!MigrationState::new(TxMode::Autocommit).in_transaction());
    }
}
