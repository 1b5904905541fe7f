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

impl ActionKind {
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
