//! Stage 3: what each statement does. The reader turns a statement into actions; this
//! module attaches to each action the locks it takes, whether it rewrites or scans the
//! table, and the PostgreSQL version facts behind that, using the catalog replayed so far.
//! The fold over a file records the [`MigrationState`] before every statement.

pub mod catalog;
pub mod cursor;
pub mod dml;
pub mod lock;
pub mod model;
pub mod plpgsql;
pub mod query;
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

/// What the files are: migrations (DDL run once) or application queries (run per request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Migrations,
    Queries,
}

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
    /// Columns the action drops, renames or writes that the linted migrations added
    /// (no deployed code uses them yet, and they hold no history).
    pub new_columns: Vec<String>,
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
    /// In query mode: what the query reads and filters.
    pub query: Option<Box<query::QueryFacts>>,
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
    pub query: Option<Box<query::QueryFacts>>,
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
pub fn prepare(mut source: SourceFile, parse_all: bool, mode: Mode) -> Prepared {
    // only the reader needs the tokens: free them here, on the thread that made them,
    // instead of shipping them to the thread that folds files in order
    let tokens = std::mem::take(&mut source.tokens);
    let statements = source
        .statements
        .iter()
        .enumerate()
        .filter(|(_, statement)| statement.kind != RawKind::Meta)
        .map(|(index, statement)| {
            let mut reading = read::read_tokens(source.sql(), &tokens[statement.tokens.clone()]);
            let parsed = (parse_all || !reading.recognised)
                .then(|| parse::parse(source.statement_sql(statement)));
            // data changes are read from the AST (their WHERE and SET need an expression tree),
            // each from its own text: a statement, or one inside a DO body
            for (kind, span) in &mut reading.actions {
                if let ActionKind::Dml { facts, verb, .. } = kind {
                    let text = &source.sql()[span.start..span.end];
                    *facts = if *verb == "INSERT" {
                        // seed files hold thousands of INSERTs; their guards are plain keywords
                        Some(Box::new(dml::insert_facts_from_tokens(text)))
                    } else {
                        let ast = parse::parse(text).ok();
                        ast.as_ref()
                            .and_then(|a| a.first())
                            .and_then(dml::facts)
                            .map(Box::new)
                    };
                }
            }
            let parsed = parsed.map(|p| p.map(drop));
            let mut understanding = match (&parsed, reading.recognised, statement.unterminated) {
                (_, _, true) => Understanding::Unknown,
                (Some(Ok(())), _, _) => Understanding::Parsed,
                (None, true, _) => Understanding::Read,
                (Some(Err(_)), true, _) => Understanding::Recovered,
                (_, false, _) => Understanding::Unknown,
            };
            // queries are read from the AST, with application parameters (`?`, `@name`) as `$1`
            let mut query_error = None;
            let query = (mode == Mode::Queries)
                .then(|| {
                    query::read_query(source.statement_sql(statement))
                        .map_err(|e| query_error = Some(e))
                        .ok()
                        .flatten()
                        .map(Box::new)
                })
                .flatten();
            // a query sqlparser rejects cannot be checked by any query rule: say so (DDL among
            // application SQL is read by the reader and concerns no query rule)
            let is_query = reading.actions.iter().any(|(kind, _)| match kind {
                ActionKind::Dml { .. } => true,
                ActionKind::Other { head } => {
                    matches!(head.as_str(), "select" | "with" | "values" | "table")
                }
                _ => false,
            });
            if query_error.is_some() && (is_query || !reading.recognised) {
                understanding = Understanding::Unknown;
            }
            let parse_error = if statement.unterminated {
                Some("unterminated quote, dollar quote or comment".to_owned())
            } else {
                parsed.and_then(Result::err).or(query_error)
            };
            PreparedStatement {
                index,
                span: statement.span,
                understanding,
                parse_error,
                actions: reading.actions,
                query,
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
    /// `search_path`: where unqualified names point until a file sets its own.
    pub fn new(pg_version: u32, search_path: SearchPath) -> Analyzer {
        Analyzer {
            catalog: Catalog::new(search_path),
            pg_version,
        }
    }

    /// Folds a prepared file into the catalog and state, in migration order.
    /// `origin` says whether the file's objects count as created by this run.
    pub fn analyze(&mut self, prepared: Prepared, origin: Origin) -> AnalyzedFile {
        let mut state = MigrationState::new(prepared.source.tx);
        let mut statements = Vec::with_capacity(prepared.statements.len());
        for mut p in prepared.statements {
            for (kind, _) in &mut p.actions {
                self.resolve_names(kind, state.search_path.effective());
            }
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
                query: p.query,
            });
        }
        AnalyzedFile {
            source: prepared.source,
            statements,
            end: state,
        }
    }

    /// Qualifies the action's unqualified names as PostgreSQL would resolve them under the
    /// path the file set (`None`: the configured one), so each object is filed under its
    /// real schema.
    fn resolve_names(&self, kind: &mut ActionKind, set_path: Option<&SearchPath>) {
        kind.for_each_name_mut(&mut |name, usage| {
            if name.schema.is_none() {
                *name = self.catalog.resolve(name, set_path, usage);
            }
        });
    }

    /// The columns among `columns` that the linted migrations added to `table`.
    fn added_in_run<'c>(
        &self,
        table: &Name,
        columns: impl IntoIterator<Item = &'c str>,
    ) -> Vec<String> {
        let Some(t) = self.catalog.table(table) else {
            return Vec::new();
        };
        columns
            .into_iter()
            .filter(|c| t.column(c).is_some_and(|c| c.added_in_run) || t.origin != Origin::Existing)
            .map(str::to_owned)
            .collect()
    }

    fn existing(&self, name: &Name) -> bool {
        !self.catalog.is_new(name) && !tables::MIGRATION_TOOL_TABLES.contains(&name.name.as_str())
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
            new_columns: Vec::new(),
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
                ..
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
                // CONCURRENTLY applies a diff in place; a plain refresh swaps in new storage
                if !*concurrently {
                    a.rewrite =
                        Some("recomputes the whole materialized view into new storage".into());
                }
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
                a.rewrite = Some("TRUNCATE swaps in new, empty storage".into());
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
            ActionKind::Dml { table, facts, .. } => {
                a.locks.push(self.lock(table, RowExclusive));
                if let Some(facts) = facts {
                    a.new_columns =
                        self.added_in_run(table, facts.assigned.iter().map(|c| c.column.as_str()));
                }
            }
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
                let recomputes = using
                    .as_deref()
                    .is_some_and(|u| !tables::is_plain_column_cast(u, column));
                a.rewrite = match (old, ty) {
                    _ if recomputes => Some(format!("`USING` recomputes `{column}` for every row")),
                    (Some(old), Some(new)) if !tables::type_change_needs_rewrite(&old, new, pg) => {
                        None
                    }
                    (Some(old), Some(new)) => Some(format!(
                        "changing `{column}` from `{old}` to `{new}` rewrites the table and rebuilds its indexes"
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
                let partition_mode = if available(F::DetachPartitionLocksPartition, pg) {
                    mode
                } else {
                    ShareUpdateExclusive
                };
                a.locks.push(self.lock(partition, partition_mode));
                a.version_facts
                    .push(version_fact(F::DetachPartitionConcurrently));
            }
            AlterOp::Rewrite { what } => {
                // a partitioned parent has no storage, and SET LOGGED on a logged table (or
                // UNLOGGED on an unlogged one) changes nothing: observed on PostgreSQL 17
                let no_storage = known.and_then(|t| t.partitioned) == Some(true);
                let unchanged = match *what {
                    "SET LOGGED" => known.and_then(|t| t.unlogged) == Some(false),
                    "SET UNLOGGED" => known.and_then(|t| t.unlogged) == Some(true),
                    _ => false,
                };
                if !(no_storage || unchanged) {
                    a.rewrite = Some(format!("`{what}` writes a new copy of the table"));
                }
            }
            AlterOp::Other { what } => mode = tables::alter_table_lock(what),
            AlterOp::DropColumn { column } | AlterOp::RenameColumn { from: column, .. } => {
                a.new_columns = self.added_in_run(table, [column.as_str()]);
            }
            AlterOp::DropNotNull { .. }
            | AlterOp::SetDefault { .. }
            | AlterOp::DropDefault { .. }
            | AlterOp::DropConstraint { .. }
            | AlterOp::RenameTable { .. }
            | AlterOp::SetSchema { .. } => {}
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::discover::{DiscoverOptions, from_text};

    fn analyze_sql(sql: &str, pg_version: u32) -> AnalyzedFile {
        let file = from_text("t.sql".into(), sql.to_owned(), &DiscoverOptions::default());
        let prepared = prepare(SourceFile::load(file), true, Mode::Migrations);
        Analyzer::new(pg_version, SearchPath::default())
            .analyze(prepared, Origin::Created { file: 0 })
    }

    /// (relation, lock) pairs of every action, e.g. `("public.orders", "SHARE")`.
    fn locks(sql: &str) -> Vec<(String, &'static str)> {
        let file = analyze_sql(sql, 16);
        file.statements[0]
            .actions
            .iter()
            .flat_map(|a| {
                a.locks
                    .iter()
                    .map(|l| (l.relation.key().to_string(), l.mode.sql_name()))
            })
            .collect()
    }

    #[test]
    fn reads_lock_relevant_heads_that_sqlparser_rejects() {
        use LockMode::*;
        let cases: &[(&str, &[(&str, LockMode)])] = &[
            (
                "DROP INDEX CONCURRENTLY orders_idx",
                &[("public.orders_idx", ShareUpdateExclusive)],
            ),
            (
                "REINDEX TABLE CONCURRENTLY orders",
                &[("public.orders", ShareUpdateExclusive)],
            ),
            (
                "REINDEX (VERBOSE) TABLE orders",
                &[("public.orders", Share)],
            ),
            (
                "REINDEX (CONCURRENTLY) TABLE orders",
                &[("public.orders", ShareUpdateExclusive)],
            ),
            (
                "ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
                &[
                    ("public.events", ShareUpdateExclusive),
                    ("public.events_2024", AccessExclusive),
                ],
            ),
            (
                "ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY",
                &[
                    ("public.events", ShareUpdateExclusive),
                    ("public.events_2023", ShareUpdateExclusive),
                ],
            ),
            (
                "ALTER TABLE events DETACH PARTITION events_2023",
                &[
                    ("public.events", AccessExclusive),
                    ("public.events_2023", AccessExclusive),
                ],
            ),
            (
                "ALTER TABLE orders ALTER CONSTRAINT orders_fk DEFERRABLE",
                &[("public.orders", AccessExclusive)],
            ),
            (
                "ALTER TABLE orders ALTER COLUMN total SET STATISTICS 500",
                &[("public.orders", ShareUpdateExclusive)],
            ),
            (
                "ALTER TABLE orders ALTER COLUMN note SET STORAGE EXTERNAL",
                &[("public.orders", AccessExclusive)],
            ),
            (
                "ALTER TABLE orders ALTER COLUMN note SET COMPRESSION lz4",
                &[("public.orders", AccessExclusive)],
            ),
            (
                "ALTER TABLE orders ALTER COLUMN id DROP IDENTITY IF EXISTS",
                &[("public.orders", AccessExclusive)],
            ),
            (
                "ALTER TABLE orders ALTER COLUMN total DROP EXPRESSION",
                &[("public.orders", AccessExclusive)],
            ),
            (
                "ALTER TABLE orders SET SCHEMA archive",
                &[("public.orders", AccessExclusive)],
            ),
            (
                "ALTER TABLE orders SET TABLESPACE fast",
                &[("public.orders", AccessExclusive)],
            ),
            (
                "ALTER TABLE orders SET (fillfactor = 70, autovacuum_enabled = false)",
                &[("public.orders", ShareUpdateExclusive)],
            ),
            (
                "ALTER TABLE orders SET (parallel_workers = 4, oids = false)",
                &[("public.orders", AccessExclusive)],
            ),
            (
                "ALTER TABLE orders SET (security_barrier = true)",
                &[("public.orders", AccessExclusive)],
            ),
            (
                "ALTER TABLE orders DISABLE TRIGGER orders_audit",
                &[("public.orders", ShareRowExclusive)],
            ),
            (
                "ALTER TABLE orders FROBNICATE",
                &[("public.orders", AccessExclusive)],
            ),
            (
                "ALTER INDEX orders_idx SET TABLESPACE fast",
                &[("public.orders_idx", AccessExclusive)],
            ),
            (
                "ALTER INDEX orders_idx ATTACH PARTITION orders_2024_idx",
                &[("public.orders_idx", AccessExclusive)],
            ),
            (
                "CREATE INDEX orders_idx ON ONLY orders (created_at)",
                &[("public.orders", Share)],
            ),
            (
                "CLUSTER orders USING orders_pkey",
                &[("public.orders", AccessExclusive)],
            ),
            (
                "VACUUM (FULL, ANALYZE) orders",
                &[("public.orders", AccessExclusive)],
            ),
            (
                "VACUUM (ANALYZE) orders",
                &[("public.orders", ShareUpdateExclusive)],
            ),
            (
                "REFRESH MATERIALIZED VIEW CONCURRENTLY daily_totals",
                &[("public.daily_totals", Exclusive)],
            ),
            (
                "CREATE STATISTICS orders_stats (dependencies) ON a, b FROM orders",
                &[("public.orders", ShareUpdateExclusive)],
            ),
            (
                "LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE",
                &[("public.orders", ShareRowExclusive)],
            ),
            (
                "CREATE TRIGGER t AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION f()",
                &[("public.orders", ShareRowExclusive)],
            ),
            (
                "DO $$ BEGIN IF true THEN ALTER TABLE orders ADD COLUMN x int; END IF; END $$",
                &[("public.orders", AccessExclusive)],
            ),
            ("ALTER SEQUENCE orders_id_seq RESTART WITH 100", &[]),
            (
                "CREATE SEQUENCE public.orders_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1",
                &[],
            ),
            ("COMMENT ON FUNCTION f(integer, text) IS 'x'", &[]),
        ];
        let mut failures = Vec::new();
        for (sql, want) in cases {
            let got = locks(sql);
            let want: Vec<_> = want
                .iter()
                .map(|(r, m)| (r.to_string(), m.sql_name()))
                .collect();
            if got != want {
                failures.push(format!("{sql}\n  want {want:?}\n  got  {got:?}"));
            }
            let understood = analyze_sql(sql, 16).statements[0].understanding;
            if understood == Understanding::Unknown {
                failures.push(format!("{sql}: not understood"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn sqlparser_rejections_are_tagged_as_recovered() {
        let file = analyze_sql(
            "ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY;",
            16,
        );
        assert_eq!(file.statements[0].understanding, Understanding::Recovered);
        assert!(file.statements[0].parse_error.is_some());
        let file = analyze_sql("CREATE INDEX i ON t (a);", 16);
        assert_eq!(file.statements[0].understanding, Understanding::Parsed);
    }

    #[test]
    fn add_column_default_rewrites_only_before_11_or_when_volatile() {
        let rewrite = |sql: &str, pg| {
            analyze_sql(sql, pg).statements[0].actions[0]
                .rewrite
                .is_some()
        };
        assert!(!rewrite("ALTER TABLE t ADD COLUMN s text DEFAULT 'x'", 16));
        assert!(rewrite("ALTER TABLE t ADD COLUMN s text DEFAULT 'x'", 10));
        assert!(rewrite(
            "ALTER TABLE t ADD COLUMN s uuid DEFAULT gen_random_uuid()",
            16
        ));
        assert!(!rewrite(
            "ALTER TABLE t ADD COLUMN s timestamptz DEFAULT now()",
            16
        ));
        assert!(rewrite("ALTER TABLE t ADD COLUMN s bigserial", 16));
        assert!(rewrite(
            "ALTER TABLE t ADD COLUMN s int GENERATED ALWAYS AS (a + 1) STORED",
            18
        ));
        assert!(!rewrite(
            "ALTER TABLE t ADD COLUMN s int GENERATED ALWAYS AS (a + 1) VIRTUAL",
            18
        ));
        assert!(rewrite(
            "ALTER TABLE t ADD COLUMN s int GENERATED ALWAYS AS (a + 1)",
            17
        ));
    }

    #[test]
    fn known_old_type_decides_the_type_change_rewrite() {
        let sql = "CREATE TABLE t (a varchar(10), b int);\n\
                   ALTER TABLE t ALTER COLUMN a TYPE varchar(20);\n\
                   ALTER TABLE t ALTER COLUMN a TYPE text;\n\
                   ALTER TABLE t ALTER COLUMN b TYPE bigint;";
        let file = analyze_sql(sql, 16);
        let rewrites: Vec<bool> = file.statements[1..]
            .iter()
            .map(|s| s.actions[0].rewrite.is_some())
            .collect();
        assert_eq!(rewrites, vec![false, false, true]);
    }

    #[test]
    fn create_table_like_copies_columns_and_their_types() {
        let sql = "CREATE TABLE orders (id bigint PRIMARY KEY, total int NOT NULL);\n\
                   CREATE TABLE orders_archive (LIKE orders INCLUDING ALL, archived_at timestamptz);\n\
                   ALTER TABLE orders_archive ALTER COLUMN total TYPE bigint;";
        let file = analyze_sql(sql, 16);
        let alter = &file.statements[2].actions[0];
        // the old type came from the LIKE: int -> bigint rewrites
        assert!(
            alter
                .rewrite
                .as_deref()
                .is_some_and(|r| r.contains("from `integer` to `bigint`")),
            "{:?}",
            alter.rewrite
        );
    }

    #[test]
    fn a_narrowing_type_change_names_both_lengths() {
        let sql = "CREATE TABLE users (id bigint PRIMARY KEY, code varchar(40));\n\
                   ALTER TABLE users ALTER COLUMN code TYPE varchar(26);";
        let file = analyze_sql(sql, 16);
        let rewrite = file.statements[1].actions[0].rewrite.as_deref();
        assert_eq!(
            rewrite,
            Some(
                "changing `code` from `character varying(40)` to `character varying(26)` rewrites the table and rebuilds its indexes"
            )
        );
    }

    #[test]
    fn a_renamed_table_keeps_its_indexes() {
        let sql = "CREATE TABLE a (id bigint, x int);\nCREATE INDEX a_x_idx ON a (x);\nALTER TABLE a RENAME TO b;";
        let mut analyzer = Analyzer::new(16, SearchPath::default());
        let file = from_text("t.sql".into(), sql.to_owned(), &DiscoverOptions::default());
        analyzer.analyze(
            prepare(SourceFile::load(file), false, Mode::Migrations),
            Origin::Existing,
        );
        let b = Name::new(None, "b");
        assert_eq!(
            analyzer.catalog.indexed_column_lists(&b),
            vec![vec!["x".to_owned()]]
        );
        assert!(
            analyzer
                .catalog
                .indexed_column_lists(&Name::new(None, "a"))
                .is_empty()
        );
        // and into another schema
        let replay = |analyzer: &mut Analyzer, sql: &str| {
            let file = from_text("u.sql".into(), sql.to_owned(), &DiscoverOptions::default());
            let prepared = prepare(SourceFile::load(file), false, Mode::Migrations);
            analyzer.analyze(prepared, Origin::Existing);
        };
        replay(&mut analyzer, "ALTER TABLE b SET SCHEMA archive;");
        let moved = Name::new(Some("archive"), "b");
        assert!(
            analyzer
                .catalog
                .table(&Name::new(Some("public"), "b"))
                .is_none()
        );
        assert_eq!(
            analyzer.catalog.indexed_column_lists(&moved),
            vec![vec!["x".to_owned()]]
        );
        replay(&mut analyzer, "DROP INDEX archive.a_x_idx;");
        assert!(analyzer.catalog.indexed_column_lists(&moved).is_empty());
    }

    /// The relation each statement's first lock is on, and whether it existed before the run.
    fn first_locks(file: &AnalyzedFile) -> Vec<Option<(String, bool)>> {
        file.statements
            .iter()
            .map(|s| {
                let lock = s.actions.iter().flat_map(|a| &a.locks).next()?;
                Some((lock.relation.key().to_string(), lock.existing))
            })
            .collect()
    }

    #[test]
    fn search_path_decides_where_unqualified_names_live() {
        let sql = "SET search_path TO App, public;\nCREATE TABLE orders (id bigint);\n\
                   ALTER TABLE orders ADD COLUMN note text;\nALTER TABLE users ADD COLUMN x int;\n\
                   BEGIN;\nSET LOCAL search_path = 'audit';\nALTER TABLE events ADD COLUMN y int;\n\
                   COMMIT;\nALTER TABLE events ADD COLUMN z int;\nRESET search_path;\n\
                   ALTER TABLE orders ADD COLUMN w int;\nCREATE TABLE orders (id bigint);\n\
                   ALTER TABLE orders ADD COLUMN v int;";
        let locks = first_locks(&analyze_sql(sql, 16));
        let at = |i: usize| locks[i].clone().unwrap();
        // created in the first schema of the path, found there again
        assert_eq!(at(2), ("app.orders".to_owned(), false));
        // an unknown table: looked for on the path, assumed in its first schema, existing
        assert_eq!(at(3), ("app.users".to_owned(), true));
        // SET LOCAL holds until COMMIT
        assert_eq!(at(6).0, "audit.events");
        assert_eq!(at(8).0, "app.events");
        // after RESET: public first; `orders` is only known in `app`, so that is the one
        assert_eq!(at(10), ("app.orders".to_owned(), false));
        // once public has its own `orders`, public wins
        assert_eq!(at(12), ("public.orders".to_owned(), false));
    }

    #[test]
    fn create_schema_elements_are_read_into_the_new_schema() {
        let sql = "CREATE SCHEMA billing\n  CREATE TABLE invoices (id bigint PRIMARY KEY, total bigint)\n  \
                   CREATE INDEX ON invoices (total)\n  GRANT SELECT ON invoices TO reporting;\n\
                   UPDATE billing.invoices SET total = 0;";
        let mut analyzer = Analyzer::new(16, SearchPath::default());
        let file = from_text("t.sql".into(), sql.to_owned(), &DiscoverOptions::default());
        let prepared = prepare(SourceFile::load(file), false, Mode::Migrations);
        let file = analyzer.analyze(prepared, Origin::Created { file: 0 });
        assert_eq!(file.statements[0].understanding, Understanding::Read);
        let kinds: Vec<_> = file.statements[0].actions.iter().map(|a| &a.kind).collect();
        assert!(
            matches!(
                kinds.as_slice(),
                [
                    ActionKind::CreateObject {
                        kind: ObjectKind::Schema,
                        ..
                    },
                    ActionKind::CreateTable { .. },
                    ActionKind::CreateIndex(_),
                    ActionKind::Other { .. },
                ]
            ),
            "{kinds:?}"
        );
        // the element's span is its own text, not the whole statement
        let table_span = file.statements[0].actions[1].span;
        assert!(
            file.source.sql()[table_span.start..table_span.end]
                .starts_with("CREATE TABLE invoices")
        );
        let invoices = Name::new(Some("billing"), "invoices");
        assert!(analyzer.catalog.table(&invoices).is_some());
        assert_eq!(analyzer.catalog.indexed_column_lists(&invoices).len(), 2);
        assert_eq!(
            first_locks(&file)[1],
            Some(("billing.invoices".to_owned(), false))
        );
    }

    #[test]
    fn in_query_mode_only_rejected_queries_are_not_understood() {
        let sql = "DROP INDEX CONCURRENTLY orders_status_idx;\nSELECT id FROM orders WHERE id = = 1;\nSELECT id FROM orders;";
        let file = from_text("q.sql".into(), sql.to_owned(), &DiscoverOptions::default());
        let prepared = prepare(SourceFile::load(file), false, Mode::Queries);
        let understood: Vec<_> = prepared
            .statements
            .iter()
            .map(|s| s.understanding)
            .collect();
        assert_eq!(
            understood,
            [
                Understanding::Read,
                Understanding::Unknown,
                Understanding::Read
            ]
        );
        assert!(prepared.statements[2].query.is_some());
    }

    #[test]
    fn state_records_timeouts_and_held_locks_before_each_statement() {
        let sql = "BEGIN;\nSET LOCAL lock_timeout = '1s';\nALTER TABLE t ADD COLUMN a int;\nSELECT 1;\nCOMMIT;\nSELECT 2;";
        let file = analyze_sql(sql, 16);
        let s = &file.statements;
        assert!(!s[1].before.lock_timeout.is_active());
        assert!(s[2].before.lock_timeout.is_active());
        assert_eq!(s[3].before.held.len(), 1);
        assert_eq!(s[3].before.held[0].mode, LockMode::AccessExclusive);
        assert!(s[5].before.held.is_empty() && !s[5].before.lock_timeout.is_active());
        assert!(s[5].before.block.is_none());
    }
}
