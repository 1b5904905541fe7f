//! The schema as replayed from the DDL seen so far: tables, columns, constraints and
//! indexes, and whether each relation was created by the migrations being linted.

use std::collections::HashMap;

use super::model::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Created by a statement of the migration set being linted (file index).
    Created { file: usize },
    /// Known from context (`--schema`, earlier migrations replayed with `--diff`).
    Existing,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub ty: Option<TypeName>,
    pub not_null: bool,
    /// Added by the migrations being linted (so no deployed code uses it yet).
    pub added_in_run: bool,
}

#[derive(Debug, Clone)]
pub struct Constraint {
    pub name: Option<String>,
    pub kind: ConstraintKind,
    pub validated: bool,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: Name,
    pub columns: Vec<Column>,
    pub constraints: Vec<Constraint>,
    pub origin: Origin,
    /// Known storage facts (`None`: not known from the migrations).
    pub partitioned: Option<bool>,
    pub unlogged: Option<bool>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }

    /// A validated `CHECK (col IS NOT NULL)`: lets SET NOT NULL skip its scan (PG ≥ 12).
    pub fn has_valid_not_null_check(&self, column: &str) -> bool {
        self.constraints.iter().any(|c| {
            c.validated
                && matches!(&c.kind, ConstraintKind::Check { not_null_column: Some(col), .. } if col == column)
        })
    }

    /// A validated PostgreSQL 18 `NOT NULL` constraint on the column.
    pub fn has_valid_not_null_constraint(&self, column: &str) -> bool {
        self.constraints.iter().any(|c| {
            c.validated
                && matches!(&c.kind, ConstraintKind::NotNull { column: col } if col == column)
        })
    }

    /// A validated CHECK whose expression names every literal of a partition bound: the
    /// sign that it was written to prove the bound, so ATTACH PARTITION can skip its scan.
    /// (PostgreSQL proves implication itself; a CHECK for another range does not help.)
    pub fn has_valid_check_mentioning(&self, literals: &[String]) -> bool {
        self.constraints.iter().any(|c| match &c.kind {
            ConstraintKind::Check { expr, .. } => {
                c.validated
                    && !literals.is_empty()
                    && literals.iter().all(|l| expr.contains(l.as_str()))
            }
            _ => false,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Index {
    pub name: Name,
    pub table: Name,
    pub columns: Vec<String>,
    pub unique: bool,
    /// `WHERE ...`: covers only some rows.
    pub partial: bool,
    pub origin: Origin,
}

#[derive(Debug, Default, Clone)]
pub struct Catalog {
    tables: HashMap<Name, Table>,
    indexes: HashMap<Name, Index>,
    /// Table key → its indexes' keys, so per-table lookups do not scan every index.
    indexes_by_table: HashMap<Name, Vec<Name>>,
    /// Other relations (views, sequences, types…) created in this run.
    created_objects: HashMap<Name, usize>,
    /// Domains with CHECK or NOT NULL constraints, by unqualified name.
    constrained_domains: Vec<String>,
    /// Unqualified name → the schemas holding a relation of that name (one entry each).
    schemas_by_name: HashMap<String, Vec<String>>,
    /// Where unqualified names in queries and `--schema` files are looked up.
    pub search_path: SearchPath,
}

impl Catalog {
    pub fn new(search_path: SearchPath) -> Catalog {
        Catalog {
            search_path,
            ..Catalog::default()
        }
    }

    /// What an unqualified `name` means under `set_path` (the path a file set; `None`: the
    /// configured one). A reference finds the first schema on the path holding a relation
    /// of that name, else the path's creation schema; `CREATE` uses the creation schema.
    /// Under the configured path a reference found nowhere on it goes to the only schema
    /// that holds such a relation, if one does: an application's real search_path is rarely
    /// written in its files. `public` stays unwritten, so messages show names as written.
    pub fn resolve(&self, name: &Name, set_path: Option<&SearchPath>, usage: NameUse) -> Name {
        if name.schema.is_some() {
            return name.clone();
        }
        let path = set_path.unwrap_or(&self.search_path);
        let known = |schema: &str| {
            let key = Name::new(Some(schema), &name.name);
            self.tables.contains_key(&key)
                || self.indexes.contains_key(&key)
                || self.created_objects.contains_key(&key)
        };
        let schema = match usage {
            NameUse::Create => path.creation_schema(),
            NameUse::Refer => path
                .schemas()
                .find(|s| known(s))
                .or_else(|| match self.schemas_by_name.get(&name.name) {
                    Some(only) if only.len() == 1 && set_path.is_none() => Some(only[0].as_str()),
                    _ => None,
                })
                .unwrap_or_else(|| path.creation_schema()),
        };
        Name::new((schema != "public").then_some(schema), &name.name)
    }

    /// A name qualified as the catalog's own search path resolves it (its map key).
    pub fn qualified(&self, name: &Name) -> Name {
        self.resolve(name, None, NameUse::Refer).key()
    }

    fn note_schema(&mut self, key: &Name) {
        if let Some(schema) = &key.schema {
            let schemas = self.schemas_by_name.entry(key.name.clone()).or_default();
            if !schemas.contains(schema) {
                schemas.push(schema.clone());
            }
        }
    }

    /// Forgets `key`'s schema for its name once no relation of that name is left there.
    fn forget_schema(&mut self, key: &Name) {
        let still_there = self.tables.contains_key(key)
            || self.indexes.contains_key(key)
            || self.created_objects.contains_key(key);
        if let (false, Some(schema), Some(schemas)) = (
            still_there,
            &key.schema,
            self.schemas_by_name.get_mut(&key.name),
        ) {
            schemas.retain(|s| s != schema);
        }
    }

    fn insert_table(&mut self, key: Name, table: Table) {
        self.note_schema(&key);
        self.tables.insert(key, table);
    }

    fn remove_table(&mut self, key: &Name) -> Option<Table> {
        let table = self.tables.remove(key);
        self.forget_schema(key);
        table
    }

    pub fn table(&self, name: &Name) -> Option<&Table> {
        self.tables.get(&self.qualified(name))
    }

    pub fn is_constrained_domain(&self, type_name: &str) -> bool {
        self.constrained_domains.iter().any(|d| d == type_name)
    }

    pub fn index(&self, name: &Name) -> Option<&Index> {
        self.indexes.get(&self.qualified(name))
    }

    /// Column lists that can lead an index scan on `table`: its indexes, primary key and
    /// unique constraints (each in declared order).
    pub fn indexed_column_lists(&self, table: &Name) -> Vec<Vec<String>> {
        self.column_lists(table, false)
    }

    /// Column lists with a uniqueness guarantee on `table` (unique indexes, PK, UNIQUE).
    pub fn unique_column_lists(&self, table: &Name) -> Vec<Vec<String>> {
        self.column_lists(table, true)
    }

    /// Unique column lists that an `ON CONFLICT (cols)` can infer: partial unique indexes
    /// count only when the conflict target repeats their predicate, which pgrisk does not read.
    pub fn conflict_arbiter_lists(&self, table: &Name) -> Vec<Vec<String>> {
        let key = self.qualified(table);
        let partial: Vec<&Vec<String>> = self
            .indexes_of(&key)
            .filter(|i| i.unique && i.partial)
            .map(|i| &i.columns)
            .collect();
        self.column_lists(table, true)
            .into_iter()
            .filter(|l| !partial.contains(&l))
            .collect()
    }

    fn indexes_of(&self, table_key: &Name) -> impl Iterator<Item = &Index> {
        self.indexes_by_table
            .get(table_key)
            .into_iter()
            .flatten()
            .filter_map(|k| self.indexes.get(k))
    }

    fn column_lists(&self, table: &Name, unique_only: bool) -> Vec<Vec<String>> {
        let key = self.qualified(table);
        let from_indexes = self
            .indexes_of(&key)
            .filter(|i| i.unique || !unique_only)
            .map(|i| i.columns.clone());
        let from_constraints = self.table(table).into_iter().flat_map(|t| {
            t.constraints.iter().filter_map(|c| match &c.kind {
                ConstraintKind::PrimaryKey { columns, .. }
                | ConstraintKind::Unique { columns, .. } => Some(columns.clone()),
                _ => None,
            })
        });
        from_indexes
            .chain(from_constraints)
            .filter(|cols| !cols.is_empty())
            .collect()
    }

    /// The table's indexes and key constraints as a reader would name them, for evidence:
    /// `orders_pkey PRIMARY KEY (id)`, `users_email_key UNIQUE (email)`,
    /// `orders_status_idx (status) partial`.
    pub fn index_descriptions(&self, table: &Name) -> Vec<String> {
        let key = self.qualified(table);
        let indexes = self.indexes_of(&key).map(|i| {
            let unique = if i.unique { " UNIQUE" } else { "" };
            let partial = if i.partial { " partial" } else { "" };
            format!(
                "{}{unique} ({}){partial}",
                i.name.name,
                i.columns.join(", ")
            )
        });
        let constraints = self.table(table).into_iter().flat_map(|t| {
            t.constraints.iter().filter_map(|c| {
                // unnamed keys get the names PostgreSQL gives them
                let (kind, columns, default_name) = match &c.kind {
                    ConstraintKind::PrimaryKey { columns, .. } => {
                        ("PRIMARY KEY", columns, format!("{}_pkey", table.name))
                    }
                    ConstraintKind::Unique { columns, .. } => (
                        "UNIQUE",
                        columns,
                        format!("{}_{}_key", table.name, columns.join("_")),
                    ),
                    _ => return None,
                };
                let name = c.name.clone().unwrap_or(default_name);
                Some(format!("{name} {kind} ({})", columns.join(", ")))
            })
        });
        constraints.chain(indexes).collect()
    }

    pub fn has_primary_key(&self, table: &Name) -> bool {
        self.table(table).is_some_and(|t| {
            t.constraints
                .iter()
                .any(|c| matches!(c.kind, ConstraintKind::PrimaryKey { .. }))
        })
    }

    /// Whether `name` (a table, index or other relation) was created by the linted migrations.
    pub fn is_new(&self, name: &Name) -> bool {
        let key = self.qualified(name);
        let created = |origin: Origin| matches!(origin, Origin::Created { .. });
        self.tables.get(&key).is_some_and(|t| created(t.origin))
            || self.indexes.get(&key).is_some_and(|i| created(i.origin))
            || self.created_objects.contains_key(&key)
    }

    /// The table an index belongs to, when the index is known.
    pub fn table_of_index(&self, index: &Name) -> Option<&Name> {
        self.index(index).map(|i| &i.table)
    }

    /// Replays one action. `origin` says whether it comes from the linted set.
    pub fn apply(&mut self, kind: &ActionKind, origin: Origin) {
        match kind {
            ActionKind::CreateTable {
                table,
                columns,
                constraints,
                partitioned,
                unlogged,
                like,
                ..
            } => {
                let mut t = Table {
                    name: table.clone(),
                    columns: Vec::new(),
                    constraints: Vec::new(),
                    origin,
                    partitioned: Some(*partitioned),
                    unlogged: Some(*unlogged),
                };
                // LIKE copies column names, types and NOT NULL (the rest only with INCLUDING)
                for source in like.iter().filter_map(|n| self.tables.get(&n.key())) {
                    t.columns.extend(source.columns.iter().map(|c| Column {
                        added_in_run: matches!(origin, Origin::Created { .. }),
                        ..c.clone()
                    }));
                }
                for column in columns {
                    add_column(&mut t, column, origin);
                }
                for c in constraints {
                    add_constraint(&mut t, c);
                }
                self.insert_table(table.key(), t);
            }
            ActionKind::CreateIndex(index) => {
                let name = index
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{}_idx", index.table.name));
                let key = Name::new(index.table.key().schema.as_deref(), &name);
                self.note_schema(&key);
                self.indexes_by_table
                    .entry(index.table.key())
                    .or_default()
                    .push(key.clone());
                self.indexes.insert(
                    key.clone(),
                    Index {
                        name: key,
                        table: index.table.clone(),
                        columns: index.columns.clone(),
                        unique: index.unique,
                        partial: index.partial,
                        origin,
                    },
                );
            }
            ActionKind::AlterTable { table, op } => self.apply_alter(table, op, origin),
            ActionKind::Drop {
                names,
                kind: ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView,
                ..
            } => {
                for n in names {
                    let key = n.key();
                    self.created_objects.remove(&key);
                    self.remove_table(&key);
                }
            }
            ActionKind::DropIndex { names, .. } => {
                for n in names {
                    let key = n.key();
                    if let Some(index) = self.indexes.remove(&key)
                        && let Some(list) = self.indexes_by_table.get_mut(&index.table.key())
                    {
                        list.retain(|k| *k != index.name);
                    }
                    self.forget_schema(&key);
                }
            }
            ActionKind::CreateDomain {
                name,
                constrained: true,
            } => {
                self.constrained_domains.push(name.name.clone());
            }
            ActionKind::CreateObject { name, kind, .. } => {
                if let Origin::Created { file } = origin {
                    self.created_objects.insert(name.key(), file);
                    if kind.lives_in_schema() {
                        self.note_schema(&name.key());
                    }
                }
            }
            _ => {}
        }
    }

    fn apply_alter(&mut self, table: &Name, op: &AlterOp, origin: Origin) {
        let moved_to = match op {
            AlterOp::RenameTable { to } => Some(Name::new(table.key().schema.as_deref(), to)),
            AlterOp::SetSchema { schema } => Some(Name::new(Some(schema), &table.name)),
            _ => None,
        };
        if let Some(renamed) = moved_to {
            if let Some(mut t) = self.remove_table(&table.key()) {
                t.name = renamed.clone();
                self.insert_table(renamed.key(), t);
            }
            // its indexes follow it (into its new schema, if that changed)
            if let Some(indexes) = self.indexes_by_table.remove(&table.key()) {
                let schema = renamed.key().schema;
                let mut moved = Vec::with_capacity(indexes.len());
                for key in indexes {
                    let Some(mut index) = self.indexes.remove(&key) else {
                        continue;
                    };
                    self.forget_schema(&key);
                    let new_key = Name {
                        schema: schema.clone(),
                        name: key.name,
                    };
                    index.table = renamed.clone();
                    index.name = new_key.clone();
                    self.note_schema(&new_key);
                    self.indexes.insert(new_key.clone(), index);
                    moved.push(new_key);
                }
                self.indexes_by_table.insert(renamed.key(), moved);
            }
            return;
        }
        // a table we have not seen created existed before: learn what the migrations tell us
        let key = table.key();
        self.note_schema(&key);
        let t = self.tables.entry(key).or_insert_with(|| Table {
            name: table.clone(),
            columns: Vec::new(),
            constraints: Vec::new(),
            origin: Origin::Existing,
            partitioned: None,
            unlogged: None,
        });
        match op {
            AlterOp::AddColumn(column) => add_column(t, column, origin),
            AlterOp::DropColumn { column } => t.columns.retain(|c| &c.name != column),
            AlterOp::AlterColumnType { column, ty, .. } => {
                known_column(t, column).ty = ty.clone();
            }
            AlterOp::SetNotNull { column } | AlterOp::DropNotNull { column } => {
                known_column(t, column).not_null = matches!(op, AlterOp::SetNotNull { .. });
            }
            AlterOp::AddConstraint(c) => add_constraint(t, c),
            AlterOp::ValidateConstraint { name } => {
                for c in t
                    .constraints
                    .iter_mut()
                    .filter(|c| c.name.as_ref() == Some(name))
                {
                    c.validated = true;
                }
            }
            AlterOp::DropConstraint { name } => {
                t.constraints.retain(|c| c.name.as_ref() != Some(name))
            }
            AlterOp::Rewrite { what: "SET LOGGED" } => t.unlogged = Some(false),
            AlterOp::Rewrite {
                what: "SET UNLOGGED",
            } => t.unlogged = Some(true),
            AlterOp::RenameColumn { from, to } => {
                if let Some(c) = t.column_mut(from) {
                    c.name = to.clone();
                }
            }
            _ => {}
        }
    }
}

/// The column, created (type unknown) when a migration names one we have not seen:
/// an existing table's columns are only known as far as the migrations tell.
fn known_column<'t>(t: &'t mut Table, name: &str) -> &'t mut Column {
    let index = match t.columns.iter().position(|c| c.name == name) {
        Some(i) => i,
        None => {
            t.columns.push(Column {
                name: name.to_owned(),
                ty: None,
                not_null: false,
                added_in_run: false,
            });
            t.columns.len() - 1
        }
    };
    &mut t.columns[index]
}

fn add_column(t: &mut Table, column: &ColumnDef, origin: Origin) {
    let primary = column
        .constraints
        .iter()
        .any(|c| matches!(c.kind, ConstraintKind::PrimaryKey { .. }));
    t.columns.push(Column {
        name: column.name.clone(),
        ty: column.ty.clone(),
        not_null: column.not_null || primary || column.identity || column.is_serial(),
        added_in_run: matches!(origin, Origin::Created { .. }),
    });
    for c in &column.constraints {
        add_constraint(t, c);
    }
}

fn add_constraint(t: &mut Table, c: &ConstraintDef) {
    if let ConstraintKind::PrimaryKey { columns, .. } = &c.kind {
        for name in columns {
            if let Some(col) = t.column_mut(name) {
                col.not_null = true;
            }
        }
    }
    if let ConstraintKind::NotNull { column } = &c.kind
        && !c.not_valid
        && let Some(col) = t.column_mut(column)
    {
        col.not_null = true;
    }
    t.constraints.push(Constraint {
        name: c.name.clone(),
        kind: c.kind.clone(),
        validated: !c.not_valid,
    });
}
