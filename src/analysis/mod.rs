//! Stage 3: what each statement does. The reader turns a statement into actions; this
//! module attaches to each action the locks it takes, whether it rewrites or scans the
//! table, and the PostgreSQL version facts behind that, using the catalog replayed so far.
//! The fold over a file records the [`MigrationState`] before every statement.

pub mod catalog;
pub mod cursor;
pub mod lock;
pub mod model;
pub mod plpgsql;
pub mod read;
pub mod state;
pub mod tables;

pub use catalog::{Catalog, Origin};
pub use lock::LockMode;
pub use model::*;
pub use state::{Block, HeldLock, MigrationState};
pub use tables::{Feature, VersionFact};

use crate::parse;
use crate::source::{RawKind, SourceFile, Span};
use tables::{Feature as F, available, version_fact};

/// How well a statement was understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Understanding {
    /// The token reader recognised the form; sqlparser was not needed.
    Read,
    /// sqlparser accepted it.
    Parsed,
    /// sqlparser rejected it; the token reader still recognised the form.
    Recovered,
    /// Neither: no rule could check it.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockTaken {
    pub relation: Name,
    pub mode: LockMode,
    /// The relation existed before the migrations being linted (so others are using it).
    pub existing: bool,
}

#[derive(Debug, Clone)]
pub struct Action {
    pub kind: ActionKind,
    /// Where the action is written (the whole statement, or one ALTER TABLE action).
    pub span: Span,
    pub locks: Vec<LockTaken>,
    /// Why the table is rewritten, when it is.
    pub rewrite: Option<String>,
    /// Why the table is scanned (or an index built) while the lock is held, when it is.
    pub scan: Option<String>,
    /// Version facts that decided the above for the target PostgreSQL version.
    pub version_facts: Vec<&'static VersionFact>,
    /// The column the action drops or renames was added by the linted migrations.
    pub column_is_new: bool,
}

impl Action {
    /// The strongest lock this action takes on a relation that already existed.
    pub fn strongest_existing_lock(&self) -> Option<&LockTaken> {
        self.locks
            .iter()
            .filter(|l| l.existing)
            .max_by_key(|l| l.mode)
    }

    pub fn on_existing(&self) -> bool {
        self.locks.iter().any(|l| l.existing)
    }
}

#[derive(Debug, Clone)]
pub struct AnalyzedStatement {
    pub index: usize,
    pub span: Span,
    pub understanding: Understanding,
    /// sqlparser's message, or why the statement could not be read.
    pub parse_error: Option<String>,
    pub actions: Vec<Action>,
    /// The state before this statement ran.
    pub before: MigrationState,
}

#[derive(Debug)]
pub struct AnalyzedFile {
    pub source: SourceFile,
    pub statements: Vec<AnalyzedStatement>,
    /// The state after the last statement.
    pub end: MigrationState,
}

/// A statement read and parsed, before the catalog and state are applied.
pub struct PreparedStatement {
    pub index: usize,
    pub span: Span,
    pub understanding: Understanding,
    pub parse_error: Option<String>,
    pub actions: Vec<(ActionKind, Span)>,
}

/// A file whose statements are read and parsed: the part of the analysis that needs no
/// other file, so files are prepared in parallel and folded in order afterwards.
pub struct Prepared {
    pub source: SourceFile,
    pub statements: Vec<PreparedStatement>,
}

/// Reads every statement with the token reader. sqlparser runs where its answer is needed:
/// on statements the reader does not recognise (to tell valid SQL pgrisk does not model
/// from text nobody can read) and, with `parse_all`, on every statement (coverage, `-v`).
/// Parsing everything would triple the cost of a lint for no finding.
pub fn prepare(source: SourceFile, parse_all: bool) -> Prepared {
    let statements = source
        .statements
        .iter()
        .enumerate()
        .filter(|(_, statement)| statement.kind != RawKind::Meta)
        .map(|(index, statement)| {
            let reading = read::read_tokens(&source.sql, source.statement_tokens(statement));
            let parsed = (parse_all || !reading.recognised)
                .then(|| parse::parse(source.statement_sql(statement)).map(drop));
            let understanding = match (&parsed, reading.recognised, statement.unterminated) {
                (_, _, true) => Understanding::Unknown,
                (Some(Ok(())), _, _) => Understanding::Parsed,
                (None, true, _) => Understanding::Read,
                (Some(Err(_)), true, _) => Understanding::Recovered,
                (_, false, _) => Understanding::Unknown,
            };
            let parse_error = if statement.unterminated {
                Some("unterminated quote, dollar quote or comment".to_owned())
            } else {
                parsed.and_then(Result::err)
            };
            PreparedStatement {
                index,
                span: statement.span,
                understanding,
                parse_error,
                actions: reading.actions,
            }
        })
        .collect();
    Prepared { source, statements }
}

/// Analyses files in migration order, replaying their DDL into one catalog.
pub struct Analyzer {
    pub catalog: Catalog,
    pub pg_version: u32,
}

impl Analyzer {
    pub fn new(pg_version: u32) -> Analyzer {
        Analyzer {
            catalog: Catalog::default(),
            pg_version,
        }
    }

    /// Folds a prepared file into the catalog and state, in migration order.
    /// `origin` says whether the file's objects count as created by this run.
    pub fn analyze(&mut self, prepared: Prepared, origin: Origin) -> AnalyzedFile {
        let mut state = MigrationState::new(prepared.source.tx);
        let mut statements = Vec::with_capacity(prepared.statements.len());
        for p in prepared.statements {
            // "not dropped in the same command": a CHECK dropped by this statement proves nothing
            for (kind, _) in &p.actions {
                if matches!(
                    kind,
                    ActionKind::AlterTable {
                        op: AlterOp::DropConstraint { .. },
                        ..
                    }
                ) {
                    self.catalog.apply(kind, origin);
                }
            }
            let actions: Vec<Action> = p
                .actions
                .into_iter()
                .map(|(kind, span)| {
                    let action = self.describe(kind, span);
                    self.catalog.apply(&action.kind, origin);
                    action
                })
                .collect();
            let before = state.clone();
            let strong = strong_locks(p.index, &actions);
            let kinds: Vec<_> = actions.iter().map(|a| (&a.kind, a.span)).collect();
            state.apply(&kinds, strong);
            statements.push(AnalyzedStatement {
                index: p.index,
                span: p.span,
                understanding: p.understanding,
                parse_error: p.parse_error,
                actions,
                before,
            });
        }
        AnalyzedFile {
            source: prepared.source,
            statements,
            end: state,
        }
    }

    fn existing(&self, name: &Name) -> bool {
        !self.catalog.is_new(name)
    }

    fn lock(&self, relation: &Name, mode: LockMode) -> LockTaken {
        LockTaken {
            relation: relation.clone(),
            mode,
            existing: self.existing(relation),
        }
    }

    /// Attaches locks, rewrite, scan and version facts to one action (catalog as before it).
    fn describe(&self, kind: ActionKind, span: Span) -> Action {
        use LockMode::*;
        let mut a = Action {
            kind: ActionKind::Other {
                head: String::new(),
            },
            span,
            locks: Vec::new(),
            rewrite: None,
            scan: None,
            version_facts: Vec::new(),
            column_is_new: false,
        };
        match &kind {
            ActionKind::CreateTable {
                columns,
                constraints,
                partition_of,
                ..
            } => {
                let inline = columns.iter().flat_map(|c| &c.constraints);
                for c in inline.chain(constraints) {
                    if let ConstraintKind::ForeignKey { references, .. } = &c.kind {
                        a.locks.push(self.lock(references, ShareRowExclusive));
                    }
                }
                if let Some(parent) = partition_of {
                    a.locks.push(self.lock(parent, AccessExclusive));
                }
            }
            ActionKind::CreateIndex(index) => {
                let mode = if index.concurrently {
                    ShareUpdateExclusive
                } else {
                    Share
                };
                a.locks.push(self.lock(&index.table, mode));
                if !index.only {
                    a.scan = Some(format!(
                        "builds the index by reading all of `{}`",
                        index.table
                    ));
                }
            }
            ActionKind::DropIndex {
                names,
                concurrently,
            } => {
                let mode = if *concurrently {
                    ShareUpdateExclusive
                } else {
                    AccessExclusive
                };
                for index in names {
                    let table = self.catalog.table_of_index(index).cloned();
                    let mut lock = self.lock(table.as_ref().unwrap_or(index), mode);
                    lock.existing = self.existing(index);
                    a.locks.push(lock);
                }
            }
            ActionKind::Reindex {
                target,
                name,
                concurrently,
            } => {
                let mode = if *concurrently {
                    ShareUpdateExclusive
                } else {
                    Share
                };
                let table = match *target {
                    "INDEX" => self.catalog.table_of_index(name).cloned(),
                    _ => Some(name.clone()),
                };
                if let Some(table) = table {
                    a.locks.push(self.lock(&table, mode));
                }
                if *target == "INDEX" && !concurrently {
                    a.locks.push(self.lock(name, AccessExclusive));
                }
                a.scan = Some("rebuilds the index from the table".into());
                a.version_facts.push(version_fact(F::ReindexConcurrently));
            }
            ActionKind::RefreshMatView { name, concurrently } => {
                a.locks.push(self.lock(
                    name,
                    if *concurrently {
                        Exclusive
                    } else {
                        AccessExclusive
                    },
                ));
                a.rewrite = Some("recomputes the whole materialized view".into());
            }
            ActionKind::AlterTable { table, op } => self.describe_alter(&mut a, table, op),
            ActionKind::AlterRelation {
                kind: object,
                name,
                what,
            } => {
                let mode = match (object, what.as_str()) {
                    (ObjectKind::Table, _) => ShareUpdateExclusive,
                    (ObjectKind::Index, "RENAME TO") => ShareUpdateExclusive,
                    (ObjectKind::Index, w) if w.starts_with("SET (") || w == "SET" => {
                        ShareUpdateExclusive
                    }
                    (ObjectKind::Sequence | ObjectKind::Type, _) => return with_kind(a, kind),
                    _ => AccessExclusive,
                };
                a.locks.push(self.lock(name, mode));
                if what == "SET TABLESPACE" {
                    a.rewrite =
                        Some("moves every file of the relation to the new tablespace".into());
                }
            }
            ActionKind::Drop {
                kind: object,
                names,
                ..
            } => {
                // DROP SCHEMA/DATABASE take ACCESS EXCLUSIVE on the object itself
                let locked = [
                    ObjectKind::Table,
                    ObjectKind::View,
                    ObjectKind::MaterializedView,
                    ObjectKind::Schema,
                    ObjectKind::Database,
                ];
                if locked.contains(object) {
                    a.locks
                        .extend(names.iter().map(|n| self.lock(n, AccessExclusive)));
                }
            }
            ActionKind::Truncate { tables, .. } => {
                a.locks
                    .extend(tables.iter().map(|n| self.lock(n, AccessExclusive)));
            }
            ActionKind::Vacuum { full, tables } => {
                let mode = if *full {
                    AccessExclusive
                } else {
                    ShareUpdateExclusive
                };
                let every = [Name::new(None, "(every table in the database)")];
                let targets = if tables.is_empty() {
                    &every[..]
                } else {
                    &tables[..]
                };
                a.locks.extend(targets.iter().map(|n| self.lock(n, mode)));
                if *full {
                    a.rewrite = Some("VACUUM FULL writes a new copy of the table".into());
                }
            }
            ActionKind::Cluster { table } => {
                let all = Name::new(None, "(every previously clustered table)");
                a.locks
                    .push(self.lock(table.as_ref().unwrap_or(&all), AccessExclusive));
                a.rewrite = Some("CLUSTER writes a new copy of the table in index order".into());
            }
            ActionKind::LockTable { tables, mode } => {
                a.locks.extend(tables.iter().map(|n| self.lock(n, *mode)));
            }
            ActionKind::CreateTrigger { table } => {
                a.locks.push(self.lock(table, ShareRowExclusive))
            }
            ActionKind::Comment { table: Some(table) } => {
                a.locks.push(self.lock(table, ShareUpdateExclusive))
            }
            ActionKind::Dml { table, .. } => a.locks.push(self.lock(table, RowExclusive)),
            ActionKind::EnumAddValue { .. } => a
                .version_facts
                .push(version_fact(F::EnumAddValueInTransaction)),
            _ => {}
        }
        with_kind(a, kind)
    }

    fn describe_alter(&self, a: &mut Action, table: &Name, op: &AlterOp) {
        use LockMode::*;
        let pg = self.pg_version;
        let known = self.catalog.table(table);
        let mut mode = AccessExclusive;
        match op {
            AlterOp::AddColumn(column) => {
                let domain = column
                    .ty
                    .as_ref()
                    .map(|t| t.name.as_str())
                    .filter(|t| self.catalog.is_constrained_domain(t));
                a.rewrite = match domain {
                    Some(domain) => Some(format!(
                        "domain `{domain}` has constraints: every existing row is checked and rewritten"
                    )),
                    None => add_column_rewrite(column, pg),
                };
                if column
                    .default
                    .as_ref()
                    .is_some_and(|d| d.volatile_call.is_none() && !d.is_null)
                {
                    a.version_facts.push(version_fact(F::FastColumnDefault));
                }
                if column.generated == Some(Generated::Virtual) {
                    a.version_facts
                        .push(version_fact(F::VirtualGeneratedColumns));
                }
                for c in &column.constraints {
                    self.describe_constraint(a, c, known);
                }
            }
            AlterOp::AlterColumnType { column, ty, using } => {
                let old = known
                    .and_then(|t| t.column(column))
                    .and_then(|c| c.ty.clone());
                a.rewrite = match (old, ty) {
                    _ if *using => Some(format!("`USING` recomputes `{column}` for every row")),
                    (Some(old), Some(new)) if !tables::type_change_needs_rewrite(&old, new, pg) => {
                        None
                    }
                    (Some(old), Some(new)) => Some(format!(
                        "changing `{column}` from `{}` to `{}` rewrites the table and rebuilds its indexes",
                        old.name, new.name
                    )),
                    _ => Some(format!(
                        "the old type of `{column}` is unknown here, so a rewrite of the table and its indexes is assumed"
                    )),
                };
                if ty
                    .as_ref()
                    .is_some_and(|t| t.name == "timestamp with time zone")
                {
                    a.version_facts
                        .push(version_fact(F::TimestamptzWithoutRewrite));
                }
            }
            AlterOp::SetNotNull { column } => {
                let by_check = available(F::NotNullFromCheck, pg)
                    && known.is_some_and(|t| t.has_valid_not_null_check(column));
                let by_constraint = available(F::NotNullConstraintNotValid, pg)
                    && known.is_some_and(|t| t.has_valid_not_null_constraint(column));
                if !(by_check || by_constraint) {
                    a.scan = Some(format!(
                        "scans the whole table to prove `{column}` has no NULLs"
                    ));
                }
                a.version_facts.push(version_fact(F::NotNullFromCheck));
            }
            AlterOp::AddConstraint(c) => mode = self.describe_constraint(a, c, known),
            AlterOp::ValidateConstraint { name } => {
                mode = ShareUpdateExclusive;
                a.scan = Some(format!(
                    "scans the table to validate `{name}` (reads and writes continue)"
                ));
            }
            AlterOp::AttachPartition { partition, bound } => {
                let light = available(F::AttachPartitionLightParentLock, pg);
                mode = if light {
                    ShareUpdateExclusive
                } else {
                    AccessExclusive
                };
                a.locks.push(self.lock(partition, AccessExclusive));
                a.version_facts
                    .push(version_fact(F::AttachPartitionLightParentLock));
                let proven = self
                    .catalog
                    .table(partition)
                    .is_some_and(|t| t.has_valid_check_mentioning(bound));
                if !proven {
                    a.scan = Some(format!(
                        "scans `{partition}` to check every row fits the partition bound"
                    ));
                }
            }
            AlterOp::DetachPartition {
                partition,
                concurrently,
                ..
            } => {
                if *concurrently {
                    mode = ShareUpdateExclusive;
                }
                a.locks.push(self.lock(partition, mode));
                a.version_facts
                    .push(version_fact(F::DetachPartitionConcurrently));
            }
            AlterOp::Rewrite { what } => {
                a.rewrite = Some(format!("`{what}` writes a new copy of the table"));
            }
            AlterOp::Other { what } => mode = tables::alter_table_lock(what),
            AlterOp::DropColumn { column } | AlterOp::RenameColumn { from: column, .. } => {
                a.column_is_new = known
                    .and_then(|t| t.column(column))
                    .is_some_and(|c| c.added_in_run);
            }
            AlterOp::DropNotNull { .. }
            | AlterOp::SetDefault { .. }
            | AlterOp::DropDefault { .. }
            | AlterOp::DropConstraint { .. }
            | AlterOp::RenameTable { .. } => {}
        }
        a.locks.insert(0, self.lock(table, mode));
    }

    /// Adds the referenced table's lock and the scan/index build; returns the lock on the table.
    fn describe_constraint(
        &self,
        a: &mut Action,
        c: &ConstraintDef,
        table: Option<&catalog::Table>,
    ) -> LockMode {
        use LockMode::*;
        match &c.kind {
            ConstraintKind::ForeignKey { references, .. } => {
                a.locks.push(self.lock(references, ShareRowExclusive));
                if !c.not_valid {
                    a.scan = Some(format!(
                        "scans the table to check every row against `{references}`"
                    ));
                }
                return ShareRowExclusive;
            }
            ConstraintKind::Check { .. } | ConstraintKind::NotNull { .. } if !c.not_valid => {
                a.scan = Some("scans the whole table to check the constraint".into());
            }
            ConstraintKind::Unique {
                using_index: None, ..
            }
            | ConstraintKind::PrimaryKey {
                using_index: None, ..
            }
            | ConstraintKind::Exclude => {
                a.scan = Some("builds a unique index by reading the whole table".into());
            }
            ConstraintKind::PrimaryKey {
                using_index: Some(index),
                ..
            } => {
                let columns = self
                    .catalog
                    .index(&Name::new(None, index))
                    .map(|i| i.columns.clone());
                // a validated CHECK (col IS NOT NULL) also spares the scan since PostgreSQL 12
                let by_check = available(F::NotNullFromCheck, self.pg_version);
                let proven = |t: &catalog::Table, c: &str| {
                    t.column(c).is_some_and(|c| c.not_null)
                        || by_check && t.has_valid_not_null_check(c)
                };
                let all_not_null = match (columns, table) {
                    (Some(cols), Some(t)) => cols.iter().all(|c| proven(t, c)),
                    _ => false,
                };
                if !all_not_null {
                    a.scan = Some(format!(
                        "sets NOT NULL on the columns of `{index}`, scanning the table unless they are already NOT NULL"
                    ));
                }
            }
            _ => {}
        }
        AccessExclusive
    }
}

fn with_kind(mut a: Action, kind: ActionKind) -> Action {
    a.kind = kind;
    a
}

/// Why `ADD COLUMN` rewrites the table on this version, if it does.
fn add_column_rewrite(column: &ColumnDef, pg: u32) -> Option<String> {
    let name = &column.name;
    if column.is_serial() {
        return Some(format!(
            "`{name}` is serial: every row gets a nextval() value"
        ));
    }
    if column.identity {
        return Some(format!(
            "identity column `{name}` fills every row from its sequence"
        ));
    }
    match column.generated {
        Some(Generated::Stored) => {
            return Some(format!(
                "stored generated column `{name}` is computed for every row"
            ));
        }
        Some(Generated::Virtual) if !available(F::VirtualGeneratedColumns, pg) => {
            return Some(format!(
                "generated column `{name}` is stored before PostgreSQL 18"
            ));
        }
        _ => {}
    }
    let default = column.default.as_ref().filter(|d| !d.is_null)?;
    if let Some(call) = &default.volatile_call {
        let known = tables::VOLATILE_FUNCTIONS.contains(&call.as_str());
        return Some(if known {
            format!(
                "the default `{}` is volatile: evaluated and written for every row",
                default.text
            )
        } else {
            format!(
                "the default calls `{call}()`, which pgrisk cannot prove non-volatile: a volatile default rewrites every row"
            )
        });
    }
    (!available(F::FastColumnDefault, pg)).then(|| {
        format!(
            "before PostgreSQL 11 any non-null default (`{}`) rewrites the table",
            default.text
        )
    })
}

/// Locks of SHARE or stronger on existing relations: the ones a transaction must not hold long.
fn strong_locks(index: usize, actions: &[Action]) -> Vec<HeldLock> {
    actions
        .iter()
        .flat_map(|a| {
            a.locks
                .iter()
                .filter(|l| l.existing && l.mode >= LockMode::Share)
                .map(move |l| HeldLock {
                    relation: l.relation.key(),
                    mode: l.mode,
                    statement: index,
                    span: a.span,
                })
        })
        .collect()
}
