//! What a statement does, as read from its tokens: the vocabulary rules speak.

use crate::source::Span;

/// A possibly schema-qualified name, folded as PostgreSQL folds it (unquoted → lower case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Name {
    pub schema: Option<String>,
    pub name: String,
}

impl Name {
    pub fn new(schema: Option<&str>, name: &str) -> Name {
        Name {
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    /// The catalog key: an unqualified name is looked up in `public` (the default search_path).
    pub fn key(&self) -> Name {
        Name {
            schema: Some(self.schema.clone().unwrap_or_else(|| "public".into())),
            name: self.name.clone(),
        }
    }
}

/// The schemas an unqualified name is looked up in, in order (`SET search_path`).
/// `"$user"` is left out: pgrisk does not know the role the migrations run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPath(Vec<String>);

impl Default for SearchPath {
    fn default() -> Self {
        SearchPath(vec!["public".to_owned()])
    }
}

impl SearchPath {
    /// Reads a `search_path` value: schema names separated by commas; a double-quoted
    /// name keeps its case, others fold to lower case as PostgreSQL folds identifiers.
    pub fn parse(value: &str) -> SearchPath {
        let schemas = value
            .split(',')
            .map(|s| s.trim().trim_matches('\''))
            .map(
                |s| match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    Some(quoted) => quoted.to_owned(),
                    None => s.to_ascii_lowercase(),
                },
            )
            .filter(|s| !s.is_empty() && s != "$user")
            .collect();
        SearchPath(schemas)
    }

    /// The schemas searched, in order (`pg_catalog` included only when named).
    pub fn schemas(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Where `CREATE` puts an unqualified object: the first schema that is not a system one.
    pub fn creation_schema(&self) -> &str {
        self.schemas()
            .find(|s| !matches!(*s, "pg_catalog" | "pg_temp" | "information_schema"))
            .unwrap_or("public")
    }

    /// This path with `schema` searched first (`CREATE SCHEMA` elements run so).
    pub fn with_first(&self, schema: &str) -> SearchPath {
        let mut schemas = vec![schema.to_owned()];
        schemas.extend(self.0.iter().filter(|s| *s != schema).cloned());
        SearchPath(schemas)
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A column type as written, normalized to PostgreSQL's canonical name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeName {
    /// Canonical lower-case name: `integer`, `character varying`, `numeric`, `timestamp with time zone`…
    pub name: String,
    /// Type modifiers, e.g. `[255]` for varchar(255), `[10, 2]` for numeric(10,2).
    pub modifiers: Vec<i64>,
    pub array: bool,
}

/// As PostgreSQL's `format_type` prints it: `character varying(26)`, `numeric(10,2)`,
/// `timestamp(3) with time zone`, `integer[]`; the modifiers are often the whole story.
impl std::fmt::Display for TypeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let modifiers = if self.modifiers.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = self.modifiers.iter().map(i64::to_string).collect();
            format!("({})", list.join(","))
        };
        // the precision of time types goes after their first word
        match self.name.split_once(' ') {
            Some((head @ ("timestamp" | "time"), zone)) => write!(f, "{head}{modifiers} {zone}")?,
            _ => write!(f, "{}{modifiers}", self.name)?,
        }
        if self.array {
            f.write_str("[]")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: String,
    pub ty: Option<TypeName>,
    pub not_null: bool,
    pub default: Option<DefaultExpr>,
    pub identity: bool,
    pub generated: Option<Generated>,
    /// Column-level constraints (`PRIMARY KEY`, `UNIQUE`, `REFERENCES`, `CHECK`).
    pub constraints: Vec<ConstraintDef>,
    /// The column's own span within the file.
    pub span: Span,
}

impl ColumnDef {
    /// `serial`, `bigserial`, `smallserial`: an implicit sequence default.
    pub fn is_serial(&self) -> bool {
        self.ty
            .as_ref()
            .is_some_and(|t| matches!(t.name.as_str(), "serial" | "bigserial" | "smallserial"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generated {
    Stored,
    Virtual,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultExpr {
    pub text: String,
    /// Calls a volatile function (evaluated per row, so the table is rewritten).
    pub volatile_call: Option<String>,
    pub is_null: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstraintKind {
    Check {
        /// Set when the expression is exactly `col IS NOT NULL`.
        not_null_column: Option<String>,
        /// The expression as written.
        expr: String,
    },
    ForeignKey {
        columns: Vec<String>,
        references: Name,
    },
    Unique {
        columns: Vec<String>,
        using_index: Option<String>,
    },
    PrimaryKey {
        columns: Vec<String>,
        using_index: Option<String>,
    },
    Exclude,
    /// PostgreSQL 18 `CONSTRAINT name NOT NULL col`.
    NotNull {
        column: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintDef {
    pub name: Option<String>,
    pub kind: ConstraintKind,
    pub not_valid: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDef {
    pub name: Option<String>,
    pub table: Name,
    pub unique: bool,
    pub concurrently: bool,
    pub if_not_exists: bool,
    /// `ON ONLY parent`: builds nothing on partitions.
    pub only: bool,
    pub columns: Vec<String>,
    pub method: Option<String>,
    pub partial: bool,
}

/// Objects `DROP` knows about, as far as rules distinguish them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Table,
    View,
    MaterializedView,
    Index,
    Sequence,
    Schema,
    Database,
    Type,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterOp {
    AddColumn(ColumnDef),
    DropColumn {
        column: String,
    },
    AlterColumnType {
        column: String,
        ty: Option<TypeName>,
        /// The `USING` expression, if any.
        using: Option<String>,
    },
    SetNotNull {
        column: String,
    },
    DropNotNull {
        column: String,
    },
    SetDefault {
        column: String,
    },
    DropDefault {
        column: String,
    },
    AddConstraint(ConstraintDef),
    ValidateConstraint {
        name: String,
    },
    DropConstraint {
        name: String,
    },
    RenameColumn {
        from: String,
        to: String,
    },
    RenameTable {
        to: String,
    },
    /// `SET SCHEMA`: the table (and its indexes) move to another schema.
    SetSchema {
        schema: String,
    },
    AttachPartition {
        partition: Name,
        /// The literals of `FOR VALUES ...` as written (empty for `DEFAULT`).
        bound: Vec<String>,
    },
    DetachPartition {
        partition: Name,
        concurrently: bool,
        finalize: bool,
    },
    /// SET LOGGED/UNLOGGED, SET TABLESPACE, SET ACCESS METHOD: the whole table is rewritten.
    Rewrite {
        what: &'static str,
    },
    /// Any other action: its head words, as written in upper case (e.g. `SET STATISTICS`).
    Other {
        what: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionKind {
    Begin,
    Commit,
    Rollback,
    /// `SET [LOCAL] name = value`, `set_config(name, value, is_local)`.
    SetVar {
        name: String,
        value: String,
        local: bool,
    },
    /// `RESET name`; `None` is `RESET ALL`.
    Reset {
        name: Option<String>,
    },
    CreateTable {
        table: Name,
        columns: Vec<ColumnDef>,
        constraints: Vec<ConstraintDef>,
        partition_of: Option<Name>,
        /// `TEMPORARY`, or `AS query` (a copy, not a table the application owns).
        scratch: bool,
        /// `PARTITION BY ...`: a parent with no storage of its own.
        partitioned: bool,
        /// `(LIKE other ...)`: tables whose columns (and NOT NULL) are copied.
        like: Vec<Name>,
        unlogged: bool,
        /// `IF NOT EXISTS`: running it twice is harmless.
        guarded: bool,
    },
    CreateIndex(IndexDef),
    DropIndex {
        names: Vec<Name>,
        concurrently: bool,
        /// `IF EXISTS`.
        guarded: bool,
    },
    Reindex {
        target: &'static str,
        name: Name,
        concurrently: bool,
    },
    RefreshMatView {
        name: Name,
        concurrently: bool,
    },
    AlterTable {
        table: Name,
        op: AlterOp,
    },
    /// `ALTER INDEX`, `ALTER SEQUENCE`, … that touch a relation but matter little to rules.
    AlterRelation {
        kind: ObjectKind,
        name: Name,
        what: String,
    },
    Drop {
        kind: ObjectKind,
        names: Vec<Name>,
        cascade: bool,
        /// `IF EXISTS`.
        guarded: bool,
    },
    Truncate {
        tables: Vec<Name>,
        cascade: bool,
    },
    Vacuum {
        full: bool,
        tables: Vec<Name>,
    },
    Cluster {
        table: Option<Name>,
    },
    EnumAddValue {
        type_name: Name,
    },
    LockTable {
        tables: Vec<Name>,
        mode: super::LockMode,
    },
    CreateTrigger {
        table: Name,
    },
    CreateObject {
        kind: ObjectKind,
        name: Name,
        /// `IF NOT EXISTS` or `OR REPLACE`.
        guarded: bool,
    },
    /// `CREATE DOMAIN`; a constrained domain makes ADD COLUMN check (and rewrite) every row.
    CreateDomain {
        name: Name,
        constrained: bool,
    },
    Comment {
        table: Option<Name>,
    },
    /// INSERT/UPDATE/DELETE/MERGE/COPY FROM on a table.
    Dml {
        verb: &'static str,
        table: Name,
        /// A `WHERE` keyword at the top level (from tokens, so known even when unparsed).
        has_where: bool,
        /// What sqlparser's AST says about the change, when it parsed.
        facts: Option<Box<super::dml::DmlFacts>>,
    },
    /// Anything else we recognise but that takes no lock worth a rule (GRANT, SELECT, …).
    Other {
        head: String,
    },
}

impl ObjectKind {
    /// Whether objects of this kind belong to a schema (schemas, databases and the roles,
    /// extensions… lumped in `Other` do not; functions in `Other` do, but no rule looks
    /// them up).
    pub fn lives_in_schema(self) -> bool {
        !matches!(
            self,
            ObjectKind::Schema | ObjectKind::Database | ObjectKind::Other
        )
    }
}

/// How an action uses a name: makes the object, or refers to one that should exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameUse {
    Create,
    Refer,
}

impl ActionKind {
    /// Calls `f` on every schema-qualifiable name the action mentions (relations, types,
    /// sequences; not schemas, databases or roles), so unqualified names can be resolved
    /// against the search path in force.
    pub fn for_each_name_mut(&mut self, f: &mut impl FnMut(&mut Name, NameUse)) {
        use NameUse::*;
        let mut refer_all = |names: &mut Vec<Name>| names.iter_mut().for_each(|n| f(n, Refer));
        match self {
            ActionKind::CreateTable {
                table,
                columns,
                constraints,
                partition_of,
                like,
                ..
            } => {
                refer_all(like);
                partition_of.iter_mut().for_each(|n| f(n, Refer));
                let column_constraints = columns.iter_mut().flat_map(|c| &mut c.constraints);
                for c in constraints.iter_mut().chain(column_constraints) {
                    constraint_names_mut(c, f);
                }
                f(table, Create);
            }
            ActionKind::CreateIndex(index) => f(&mut index.table, Refer),
            ActionKind::Drop { kind, names, .. } if kind.lives_in_schema() => refer_all(names),
            ActionKind::Reindex { target, name, .. } if matches!(*target, "TABLE" | "INDEX") => {
                f(name, Refer)
            }
            ActionKind::DropIndex { names, .. }
            | ActionKind::Truncate { tables: names, .. }
            | ActionKind::Vacuum { tables: names, .. }
            | ActionKind::LockTable { tables: names, .. } => refer_all(names),
            ActionKind::RefreshMatView { name, .. }
            | ActionKind::AlterRelation { name, .. }
            | ActionKind::EnumAddValue { type_name: name }
            | ActionKind::CreateTrigger { table: name }
            | ActionKind::Dml { table: name, .. } => f(name, Refer),
            ActionKind::Cluster { table } | ActionKind::Comment { table } => {
                table.iter_mut().for_each(|n| f(n, Refer))
            }
            ActionKind::AlterTable { table, op } => {
                match op {
                    AlterOp::AddColumn(column) => column
                        .constraints
                        .iter_mut()
                        .for_each(|c| constraint_names_mut(c, f)),
                    AlterOp::AddConstraint(c) => constraint_names_mut(c, f),
                    AlterOp::AttachPartition { partition, .. }
                    | AlterOp::DetachPartition { partition, .. } => f(partition, Refer),
                    _ => {}
                }
                f(table, Refer);
            }
            ActionKind::CreateObject { kind, name, .. } if kind.lives_in_schema() => {
                f(name, Create)
            }
            ActionKind::CreateDomain { name, .. } => f(name, Create),
            ActionKind::Drop { .. }
            | ActionKind::Reindex { .. }
            | ActionKind::CreateObject { .. }
            | ActionKind::Begin
            | ActionKind::Commit
            | ActionKind::Rollback
            | ActionKind::SetVar { .. }
            | ActionKind::Reset { .. }
            | ActionKind::Other { .. } => {}
        }
    }

    /// Statements PostgreSQL refuses inside a transaction block ("cannot run inside a
    /// transaction block"): the CONCURRENTLY forms (not REFRESH MATERIALIZED VIEW
    /// CONCURRENTLY, which may), VACUUM, REINDEX SCHEMA/DATABASE/SYSTEM and a bare CLUSTER.
    /// Observed on PostgreSQL 13-18 by tests/trace.rs.
    pub fn refuses_transaction_block(&self) -> bool {
        match self {
            ActionKind::CreateIndex(index) => index.concurrently,
            ActionKind::DropIndex { concurrently, .. } => *concurrently,
            ActionKind::Reindex {
                target,
                concurrently,
                ..
            } => *concurrently || matches!(*target, "SCHEMA" | "DATABASE" | "SYSTEM"),
            ActionKind::AlterTable {
                op: AlterOp::DetachPartition { concurrently, .. },
                ..
            } => *concurrently,
            ActionKind::Vacuum { .. } | ActionKind::Cluster { table: None } => true,
            _ => false,
        }
    }
}

fn constraint_names_mut(c: &mut ConstraintDef, f: &mut impl FnMut(&mut Name, NameUse)) {
    if let ConstraintKind::ForeignKey { references, .. } = &mut c.kind {
        f(references, NameUse::Refer);
    }
}
