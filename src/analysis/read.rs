//! The statement reader: tokens → [`ActionKind`]s. It reads every statement, whether or
//! not sqlparser accepted it, so locking facts never depend on sqlparser's coverage
//! (it rejects `DROP INDEX CONCURRENTLY`, `REINDEX`, `ATTACH PARTITION`, `DO` blocks…).
//! Where a form is not recognised the statement is reported as such, never guessed.

use super::LockMode;
use super::cursor::{Cursor, literal_value};
use super::model::*;
use super::tables::{self, SUE_TABLE_PARAMETERS};
use crate::source::Span;
use crate::source::lex::TokenKind;

/// What the reader made of one statement.
pub struct Reading {
    pub actions: Vec<(ActionKind, Span)>,
    /// false when the statement's form is not one the reader knows.
    pub recognised: bool,
}

/// Reads a statement from the splitter's tokens.
pub fn read_tokens(src: &str, tokens: &[crate::source::lex::Token]) -> Reading {
    read_cursor(Cursor::from_tokens(src, tokens))
}

/// Reads the statement at `span`, lexing it (for SQL nested in `DO` bodies).
pub fn read(src: &str, span: Span) -> Reading {
    read_cursor(Cursor::new(src, span))
}

fn read_cursor(mut c: Cursor) -> Reading {
    let full = c.full_span();
    let mut actions = Vec::new();
    let recognised = read_statement(&mut c, &mut actions, full);
    Reading {
        actions,
        recognised,
    }
}

type Out = Vec<(ActionKind, Span)>;

fn read_statement(c: &mut Cursor, out: &mut Out, full: Span) -> bool {
    let Some(head) = c.word() else {
        return false;
    };
    let mut push = |kind| out.push((kind, full));
    match head.as_str() {
        "begin" | "start" => {
            // `BEGIN` alone is a transaction; PL/pgSQL `BEGIN ... END` never reaches here
            push(ActionKind::Begin);
        }
        "commit" | "end" | "abort" => {
            push(if head == "abort" {
                ActionKind::Rollback
            } else {
                ActionKind::Commit
            });
            push_chain(c, out, full);
        }
        "rollback" => {
            let to_savepoint = c.rest().iter().any(|t| t.is_word(c.src, "to"));
            let prepared = c.is_nth(1, "prepared");
            push(if to_savepoint || prepared {
                ActionKind::Other { head }
            } else {
                ActionKind::Rollback
            });
            push_chain(c, out, full);
        }
        "prepare" if c.is_nth(1, "transaction") => push(ActionKind::Commit),
        "set" => read_set(c, out, full),
        "reset" => {
            c.advance();
            let name = c.ident().filter(|n| n != "all");
            push(ActionKind::Reset { name });
        }
        "select" => read_select(c, out, full),
        "create" => return read_create(c, out, full),
        "alter" => return read_alter(c, out, full),
        "drop" => return read_drop(c, out, full),
        "reindex" => return read_reindex(c, out, full),
        "refresh" => {
            c.advance();
            if !c.eat_all(&["materialized", "view"]) {
                return false;
            }
            let concurrently = c.eat("concurrently");
            let Some(name) = c.name() else { return false };
            out.push((ActionKind::RefreshMatView { name, concurrently }, full));
        }
        "truncate" => {
            c.advance();
            c.eat("table");
            c.eat("only");
            let tables = c.name_list();
            let cascade = c.rest().iter().any(|t| t.is_word(c.src, "cascade"));
            out.push((ActionKind::Truncate { tables, cascade }, full));
        }
        "vacuum" => read_vacuum(c, out, full),
        "analyze" | "analyse" => push(ActionKind::Other { head }),
        "cluster" => {
            c.advance();
            c.eat("verbose");
            if c.is_kind(TokenKind::LParen) {
                c.skip_group();
            }
            let table = c.name();
            out.push((ActionKind::Cluster { table }, full));
        }
        "lock" => return read_lock(c, out, full),
        "comment" => {
            c.advance();
            c.eat("on");
            let table = match (c.word().as_deref(), c.peek_nth(1)) {
                (Some("table"), _) => {
                    c.advance();
                    c.name()
                }
                (Some("column"), _) => {
                    c.advance();
                    // table.column: drop the column part
                    c.name()
                        .map(|n| Name::new(None, n.schema.as_deref().unwrap_or(&n.name)))
                }
                _ => None,
            };
            out.push((ActionKind::Comment { table }, full));
        }
        "do" => read_do(c, out),
        "insert" | "update" | "delete" | "merge" | "copy" => return read_dml(c, out, full, head),
        "with" => return read_with(c, out, full),
        "grant" | "revoke" | "savepoint" | "release" | "notify" | "listen" | "unlisten"
        | "show" | "explain" | "values" | "table" | "security" | "import" | "call" | "discard"
        | "checkpoint" | "load" | "prepare" | "execute" | "deallocate" | "declare" | "fetch"
        | "close" | "move" | "reassign" => push(ActionKind::Other { head }),
        _ => return false,
    }
    true
}

/// `COMMIT AND CHAIN` starts a new transaction right away (`AND NO CHAIN` does not).
fn push_chain(c: &Cursor, out: &mut Out, full: Span) {
    let words: Vec<String> = c
        .rest()
        .iter()
        .map(|t| c.text(*t).to_ascii_lowercase())
        .collect();
    if words.windows(2).any(|w| w[0] == "and" && w[1] == "chain") {
        out.push((ActionKind::Begin, full));
    }
}

/// `WITH ... UPDATE/DELETE/INSERT`: the data change after the CTEs, at parenthesis depth 0.
fn read_with(c: &mut Cursor, out: &mut Out, full: Span) -> bool {
    c.advance();
    c.eat("recursive");
    while c.ident().is_some() {
        if c.is_kind(TokenKind::LParen) {
            c.skip_group();
        }
        c.eat("as");
        c.eat_all(&["not", "materialized"]);
        c.eat("materialized");
        c.skip_group();
        if c.eat_kind(TokenKind::Comma).is_none() {
            break;
        }
    }
    match c.word() {
        Some(verb) if matches!(verb.as_str(), "insert" | "update" | "delete" | "merge") => {
            read_dml(c, out, full, verb)
        }
        _ => {
            out.push((
                ActionKind::Other {
                    head: "with".into(),
                },
                full,
            ));
            true
        }
    }
}

fn read_set(c: &mut Cursor, out: &mut Out, full: Span) {
    c.advance();
    let local = c.eat("local");
    c.eat("session");
    if c.eat_all(&["time", "zone"]) {
        out.push((ActionKind::Other { head: "set".into() }, full));
        return;
    }
    let Some(name) = c.name().map(|n| n.to_string()) else {
        out.push((ActionKind::Other { head: "set".into() }, full));
        return;
    };
    if !c.eat("to") {
        c.eat_kind(TokenKind::Op);
    }
    // a list (`search_path TO app, public`) keeps every item, comma-separated
    let mut items = Vec::new();
    while let Some(t) = c.peek() {
        if t.kind != TokenKind::Comma {
            items.push(literal_value(c.src, t));
        }
        c.advance();
    }
    let value = items.join(",");
    out.push((ActionKind::SetVar { name, value, local }, full));
}

/// `SELECT set_config('lock_timeout', '2s', false)` sets a variable like `SET` does.
fn read_select(c: &mut Cursor, out: &mut Out, full: Span) {
    let toks = c.rest();
    for (i, t) in toks.iter().enumerate() {
        if !t.is_word(c.src, "set_config") {
            continue;
        }
        let args: Vec<_> = toks[i + 1..]
            .iter()
            .filter(|t| !matches!(t.kind, TokenKind::LParen | TokenKind::Comma))
            .take(3)
            .map(|t| literal_value(c.src, *t))
            .collect();
        if let [name, value, local] = args.as_slice() {
            out.push((
                ActionKind::SetVar {
                    name: name.to_ascii_lowercase(),
                    value: value.clone(),
                    local: local.eq_ignore_ascii_case("true"),
                },
                full,
            ));
        }
    }
    if out.is_empty() {
        out.push((
            ActionKind::Other {
                head: "select".into(),
            },
            full,
        ));
    }
}

fn read_create(c: &mut Cursor, out: &mut Out, full: Span) -> bool {
    c.advance();
    let or_replace = c.eat_all(&["or", "replace"]);
    let unique = c.eat("unique");
    c.eat("global");
    c.eat("local");
    let temporary = c.eat("temporary") || c.eat("temp");
    let unlogged = c.eat("unlogged");
    let Some(what) = c.word() else { return false };
    match what.as_str() {
        "index" => {
            c.advance();
            read_create_index(c, out, full, unique)
        }
        "table" => {
            c.advance();
            read_create_table(c, out, full, temporary, unlogged)
        }
        "trigger" | "constraint" => {
            // CREATE [CONSTRAINT] TRIGGER name ... ON table
            let on = c.rest().iter().position(|t| t.is_word(c.src, "on"));
            let Some(on) = on else { return false };
            for _ in 0..=on {
                c.advance();
            }
            let Some(table) = c.name() else { return false };
            out.push((ActionKind::CreateTrigger { table }, full));
            true
        }
        "schema" => {
            c.advance();
            read_create_schema(c, out, full)
        }
        "materialized" | "view" | "recursive" | "sequence" | "type" | "domain" | "extension"
        | "function" | "procedure" | "aggregate" | "role" | "user" | "policy" | "statistics"
        | "database" | "collation" | "operator" | "cast" | "publication" | "subscription"
        | "server" | "foreign" | "text" | "language" | "rule" | "event" | "trusted" | "access"
        | "conversion" | "default" | "tablespace" | "transform" | "group" => {
            read_create_object(c, out, full, &what, or_replace);
            true
        }
        _ => false,
    }
}

fn read_create_object(c: &mut Cursor, out: &mut Out, full: Span, what: &str, or_replace: bool) {
    c.advance();
    if what == "materialized" {
        c.eat("view");
    }
    let foreign_table = what == "foreign" && c.eat("table");
    let guarded = c.eat_all(&["if", "not", "exists"]) || or_replace;
    let kind = match what {
        "sequence" => ObjectKind::Sequence,
        "type" | "domain" => ObjectKind::Type,
        "view" | "recursive" => ObjectKind::View,
        "materialized" => ObjectKind::MaterializedView,
        "foreign" if foreign_table => ObjectKind::Table,
        "database" => ObjectKind::Database,
        _ => ObjectKind::Other,
    };
    // CREATE STATISTICS ... ON cols FROM table takes SHARE UPDATE EXCLUSIVE on the table
    if what == "statistics" {
        let from = c.rest().iter().rposition(|t| t.is_word(c.src, "from"));
        if let Some(from) = from {
            for _ in 0..=from {
                c.advance();
            }
            if let Some(table) = c.name() {
                let what = "CREATE STATISTICS".to_owned();
                out.push((
                    ActionKind::AlterRelation {
                        kind: ObjectKind::Table,
                        name: table,
                        what,
                    },
                    full,
                ));
                return;
            }
        }
    }
    let name = c.name().unwrap_or_else(|| Name::new(None, what));
    if what == "domain" {
        let rest = c.rest();
        let constrained = rest.iter().any(|t| t.is_word(c.src, "check"))
            || rest
                .windows(2)
                .any(|w| w[0].is_word(c.src, "not") && w[1].is_word(c.src, "null"));
        out.push((ActionKind::CreateDomain { name, constrained }, full));
        return;
    }
    out.push((
        ActionKind::CreateObject {
            kind,
            name,
            guarded,
        },
        full,
    ));
}

/// `CREATE SCHEMA [IF NOT EXISTS] name [AUTHORIZATION role] [element ...]`, or
/// `CREATE SCHEMA AUTHORIZATION role` (the schema is named after the role). Elements
/// (`CREATE TABLE`, `CREATE INDEX`, `GRANT`…) are read as statements of their own; their
/// unqualified names go to the new schema, as PostgreSQL puts it first on the search path
/// while they run.
fn read_create_schema(c: &mut Cursor, out: &mut Out, full: Span) -> bool {
    let guarded = c.eat_all(&["if", "not", "exists"]);
    let name = if c.eat("authorization") {
        c.ident()
    } else {
        let name = c.ident();
        if c.eat("authorization") {
            c.ident();
        }
        name
    };
    let Some(schema) = name else { return false };
    out.push((
        ActionKind::CreateObject {
            kind: ObjectKind::Schema,
            name: Name::new(None, &schema),
            guarded,
        },
        full,
    ));
    let mut starts = Vec::new();
    let mut depth = 0usize;
    for t in c.rest() {
        match t.kind {
            TokenKind::LParen => depth += 1,
            TokenKind::RParen => depth = depth.saturating_sub(1),
            _ if depth == 0 && (t.is_word(c.src, "create") || t.is_word(c.src, "grant")) => {
                starts.push(t.span.start)
            }
            _ => {}
        }
    }
    let Some(&first) = starts.first() else {
        return c.rest().is_empty();
    };
    if c.rest()[0].span.start != first {
        return false;
    }
    let mut elements = Vec::new();
    let mut recognised = true;
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(full.end, |&next| {
            c.rest()
                .iter()
                .take_while(|t| t.span.start < next)
                .last()
                .map_or(next, |t| t.span.end)
        });
        let element = read(c.src, Span { start, end });
        recognised &= element.recognised;
        elements.extend(element.actions);
    }
    // PostgreSQL runs the elements sequences, tables, views, indexes, triggers, grants
    // first, whatever order they are written in
    elements.sort_by_key(|(kind, _)| match kind {
        ActionKind::CreateObject {
            kind: ObjectKind::Sequence,
            ..
        } => 0,
        ActionKind::CreateTable { .. } => 1,
        ActionKind::CreateObject { .. } => 2,
        ActionKind::CreateIndex(_) => 3,
        ActionKind::CreateTrigger { .. } => 4,
        _ => 5,
    });
    let mut created = Vec::new();
    for (kind, _) in &mut elements {
        kind.for_each_name_mut(&mut |name, usage| {
            if usage == NameUse::Create && name.schema.is_none() {
                created.push(name.name.clone());
            }
        });
    }
    for (mut kind, span) in elements {
        kind.for_each_name_mut(&mut |name, _| {
            if name.schema.is_none() && created.contains(&name.name) {
                name.schema = Some(schema.clone());
            }
        });
        out.push((kind, span));
    }
    recognised
}

fn read_create_index(c: &mut Cursor, out: &mut Out, full: Span, unique: bool) -> bool {
    let concurrently = c.eat("concurrently");
    let if_not_exists = c.eat_all(&["if", "not", "exists"]);
    let name = if c.is("on") { None } else { c.ident() };
    if !c.eat("on") {
        return false;
    }
    let only = c.eat("only");
    let Some(table) = c.name() else { return false };
    let method = c.eat("using").then(|| c.ident()).flatten();
    let columns = c.column_list();
    let partial = c.rest().iter().any(|t| t.is_word(c.src, "where"));
    out.push((
        ActionKind::CreateIndex(IndexDef {
            name,
            table,
            unique,
            concurrently,
            if_not_exists,
            only,
            columns,
            method,
            partial,
        }),
        full,
    ));
    true
}

fn read_create_table(
    c: &mut Cursor,
    out: &mut Out,
    full: Span,
    temporary: bool,
    unlogged: bool,
) -> bool {
    let guarded = c.eat_all(&["if", "not", "exists"]);
    let Some(table) = c.name() else { return false };
    let mut columns = Vec::new();
    let mut constraints = Vec::new();
    let mut partition_of = None;
    if c.eat_all(&["partition", "of"]) {
        partition_of = c.name();
    } else if c.eat("of") {
        c.name();
    }
    let mut like = Vec::new();
    let mut as_query = c.is("as");
    if let Some(inner) = c.skip_group() {
        let mut body = Cursor::new(c.src, inner);
        while !body.at_end() {
            if body.eat("like") {
                like.extend(body.name());
                body.skip_until_comma();
            } else if is_table_constraint_start(&body) {
                constraints.extend(read_constraint(&mut body));
            } else if let Some(column) = read_column_def(&mut body) {
                columns.push(column);
            }
            body.skip_until_comma();
            body.eat_kind(TokenKind::Comma);
        }
    }
    as_query |= c.is("as");
    let partitioned = c
        .rest()
        .windows(2)
        .any(|w| w[0].is_word(c.src, "partition") && w[1].is_word(c.src, "by"));
    out.push((
        ActionKind::CreateTable {
            table,
            columns,
            constraints,
            partition_of,
            scratch: temporary || as_query,
            partitioned,
            like,
            unlogged,
            guarded,
        },
        full,
    ));
    true
}

const COLUMN_OPTION_WORDS: &[&str] = &[
    "constraint",
    "not",
    "null",
    "default",
    "primary",
    "unique",
    "references",
    "check",
    "generated",
    "collate",
    "compression",
    "storage",
];

fn is_table_constraint_start(c: &Cursor) -> bool {
    [
        "constraint",
        "check",
        "unique",
        "primary",
        "foreign",
        "exclude",
    ]
    .iter()
    .any(|w| c.is(w))
        && !(c.is("check") && c.peek_nth(1).is_some_and(|t| t.kind != TokenKind::LParen))
}

/// `name type [options…]` up to the next comma at depth 0.
fn read_column_def(c: &mut Cursor) -> Option<ColumnDef> {
    let start = c.mark();
    let name = c.ident()?;
    let ty_span = c.skip_until_word(COLUMN_OPTION_WORDS);
    let ty = tables::type_name(c.src, ty_span);
    let mut column = ColumnDef {
        name,
        ty,
        not_null: false,
        default: None,
        identity: false,
        generated: None,
        constraints: Vec::new(),
        span: Span::default(),
    };
    loop {
        let option_start = c.mark();
        let constraint_name = c.eat("constraint").then(|| c.ident()).flatten();
        if c.eat_all(&["not", "null"]) {
            column.not_null = true;
        } else if c.eat("null") {
        } else if c.eat("default") {
            // the first token is the expression even when it is a keyword (`DEFAULT NULL`)
            let start = c.mark();
            if c.is_kind(TokenKind::LParen) {
                c.skip_group();
            } else {
                c.advance();
            }
            c.skip_until_word(COLUMN_OPTION_WORDS);
            column.default = Some(tables::default_expr(c.src, c.span_since(start)));
        } else if c.eat("generated") {
            let always = c.eat("always");
            let by_default = !always && c.eat_all(&["by", "default"]);
            c.eat("as");
            if c.eat("identity") {
                column.identity = true;
                if c.is_kind(TokenKind::LParen) {
                    c.skip_group();
                }
            } else if always || by_default {
                c.skip_group();
                column.generated = Some(if c.eat("stored") {
                    Generated::Stored
                } else {
                    // VIRTUAL, written or (PostgreSQL 18) the default kind
                    c.eat("virtual");
                    Generated::Virtual
                });
            }
        } else if c.is("primary") || c.is("unique") || c.is("references") || c.is("check") {
            let kind = read_column_constraint(c, &column.name);
            let not_valid = c.eat_all(&["not", "valid"]);
            column.constraints.push(ConstraintDef {
                name: constraint_name,
                kind,
                not_valid,
                span: c.span_since(option_start),
            });
        } else if c.eat("collate") || c.eat("compression") || c.eat("storage") {
            c.advance();
        } else if c.eat("deferrable") || c.eat_all(&["not", "deferrable"]) || c.eat("initially") {
            c.eat("deferred");
            c.eat("immediate");
        } else {
            break;
        }
    }
    column.span = c.span_since(start);
    Some(column)
}

fn read_column_constraint(c: &mut Cursor, column: &str) -> ConstraintKind {
    let columns = vec![column.to_owned()];
    if c.eat_all(&["primary", "key"]) {
        skip_index_parameters(c);
        ConstraintKind::PrimaryKey {
            columns,
            using_index: None,
        }
    } else if c.eat("unique") {
        c.eat_all(&["nulls", "not", "distinct"]);
        c.eat_all(&["nulls", "distinct"]);
        skip_index_parameters(c);
        ConstraintKind::Unique {
            columns,
            using_index: None,
        }
    } else if c.eat("references") {
        let references = c.name().unwrap_or_else(|| Name::new(None, "?"));
        skip_references_tail(c);
        ConstraintKind::ForeignKey {
            columns,
            references,
        }
    } else {
        c.eat("check");
        check_kind(c)
    }
}

fn check_kind(c: &mut Cursor) -> ConstraintKind {
    let inner = c.skip_group().unwrap_or_default();
    c.eat_all(&["no", "inherit"]);
    let mut e = Cursor::new(c.src, inner);
    let column = e.ident();
    let not_null_column = column.filter(|_| e.eat_all(&["is", "not", "null"]) && e.at_end());
    let expr = c.src[inner.start..inner.end].trim().to_owned();
    ConstraintKind::Check {
        not_null_column,
        expr,
    }
}

fn skip_index_parameters(c: &mut Cursor) {
    loop {
        if c.eat("include") || c.eat("with") {
            c.skip_group();
        } else if c.eat_all(&["using", "index", "tablespace"]) {
            c.ident();
        } else {
            break;
        }
    }
}

fn skip_references_tail(c: &mut Cursor) {
    if c.is_kind(TokenKind::LParen) {
        c.skip_group();
    }
    loop {
        if c.eat("match") {
            c.advance();
        } else if c.eat("on") {
            c.advance();
            if !(c.eat_all(&["no", "action"])
                || c.eat_all(&["set", "null"])
                || c.eat_all(&["set", "default"]))
            {
                c.advance();
            }
            if c.is_kind(TokenKind::LParen) {
                c.skip_group();
            }
        } else if c.eat("deferrable") || c.eat_all(&["not", "deferrable"]) {
        } else if c.eat("initially") {
            c.advance();
        } else {
            break;
        }
    }
}

/// A table constraint (in CREATE TABLE or ALTER TABLE ADD).
fn read_constraint(c: &mut Cursor) -> Option<ConstraintDef> {
    let start = c.mark();
    let name = c.eat("constraint").then(|| c.ident()).flatten();
    let kind = if c.eat("check") {
        check_kind(c)
    } else if c.is("unique") || c.is("primary") {
        let primary = c.eat_all(&["primary", "key"]);
        c.eat("unique");
        c.eat_all(&["nulls", "not", "distinct"]);
        c.eat_all(&["nulls", "distinct"]);
        let using_index = c.eat_all(&["using", "index"]).then(|| c.ident()).flatten();
        let columns = if using_index.is_none() {
            c.column_list()
        } else {
            Vec::new()
        };
        skip_index_parameters(c);
        if primary {
            ConstraintKind::PrimaryKey {
                columns,
                using_index,
            }
        } else {
            ConstraintKind::Unique {
                columns,
                using_index,
            }
        }
    } else if c.eat_all(&["foreign", "key"]) {
        let columns = c.column_list();
        c.eat("references");
        let references = c.name()?;
        skip_references_tail(c);
        ConstraintKind::ForeignKey {
            columns,
            references,
        }
    } else if c.eat("exclude") {
        c.skip_until_comma();
        ConstraintKind::Exclude
    } else if c.eat_all(&["not", "null"]) {
        ConstraintKind::NotNull { column: c.ident()? }
    } else {
        return None;
    };
    let mut not_valid = false;
    loop {
        if c.eat_all(&["not", "valid"]) {
            not_valid = true;
        } else if c.eat("deferrable")
            || c.eat_all(&["not", "deferrable"])
            || c.eat_all(&["no", "inherit"])
            || c.eat("enforced")
            || c.eat_all(&["not", "enforced"])
        {
        } else if c.eat("initially") {
            c.advance();
        } else {
            break;
        }
    }
    Some(ConstraintDef {
        name,
        kind,
        not_valid,
        span: c.span_since(start),
    })
}

fn read_alter(c: &mut Cursor, out: &mut Out, full: Span) -> bool {
    c.advance();
    let Some(what) = c.word() else { return false };
    c.advance();
    match what.as_str() {
        "table" => read_alter_table(c, out),
        "type" => {
            let Some(type_name) = c.name() else {
                return false;
            };
            if c.eat_all(&["add", "value"]) {
                out.push((ActionKind::EnumAddValue { type_name }, full));
            } else {
                out.push((
                    ActionKind::AlterRelation {
                        kind: ObjectKind::Type,
                        name: type_name,
                        what: "ALTER TYPE".into(),
                    },
                    full,
                ));
            }
            true
        }
        "index" | "sequence" | "view" | "materialized" | "foreign" => {
            if what == "materialized" || what == "foreign" {
                c.advance();
            }
            c.eat_all(&["if", "exists"]);
            let kind = match what.as_str() {
                "index" => ObjectKind::Index,
                "sequence" => ObjectKind::Sequence,
                "view" => ObjectKind::View,
                "materialized" => ObjectKind::MaterializedView,
                _ => ObjectKind::Table,
            };
            if c.eat_all(&["all", "in", "tablespace"]) {
                return true;
            }
            let Some(name) = c.name() else { return false };
            let words: Vec<String> = c
                .rest()
                .iter()
                .take_while(|t| t.kind == TokenKind::Word)
                .take(2)
                .map(|t| c.text(*t).to_ascii_uppercase())
                .collect();
            out.push((
                ActionKind::AlterRelation {
                    kind,
                    name,
                    what: words.join(" "),
                },
                full,
            ));
            true
        }
        _ => {
            out.push((
                ActionKind::Other {
                    head: format!("alter {what}"),
                },
                full,
            ));
            true
        }
    }
}

fn read_alter_table(c: &mut Cursor, out: &mut Out) -> bool {
    c.eat_all(&["if", "exists"]);
    if c.eat_all(&["all", "in", "tablespace"]) {
        return true;
    }
    c.eat("only");
    let Some(table) = c.name() else { return false };
    c.eat_op("*");
    let mut any = false;
    while !c.at_end() {
        let start = c.mark();
        let op = read_alter_op(c);
        // anything left in this action (options we do not model) belongs to it
        c.skip_until_comma();
        let span = c.span_since(start);
        c.eat_kind(TokenKind::Comma);
        // an action we do not model is assumed to take the strongest lock, never less
        let op = op.unwrap_or_else(|| AlterOp::Other {
            what: format!("unrecognised action `{}`", &c.src[span.start..span.end]),
        });
        out.push((
            ActionKind::AlterTable {
                table: table.clone(),
                op,
            },
            span,
        ));
        any = true;
    }
    any
}

fn read_alter_op(c: &mut Cursor) -> Option<AlterOp> {
    let head = c.word()?;
    let other = |what: &str| {
        Some(AlterOp::Other {
            what: what.to_owned(),
        })
    };
    match head.as_str() {
        "add" => {
            c.advance();
            if c.eat("column") || !is_table_constraint_start(c) && !c.is("foreign") {
                c.eat_all(&["if", "not", "exists"]);
                return read_column_def(c).map(AlterOp::AddColumn);
            }
            read_constraint(c).map(AlterOp::AddConstraint)
        }
        "drop" => {
            c.advance();
            if c.eat("constraint") {
                c.eat_all(&["if", "exists"]);
                return Some(AlterOp::DropConstraint { name: c.ident()? });
            }
            c.eat("column");
            c.eat_all(&["if", "exists"]);
            Some(AlterOp::DropColumn { column: c.ident()? })
        }
        "alter" => {
            c.advance();
            if c.eat("constraint") {
                return other("ALTER CONSTRAINT");
            }
            c.eat("column");
            let column = c.ident()?;
            read_alter_column(c, column)
        }
        "validate" => {
            c.advance();
            c.eat("constraint");
            Some(AlterOp::ValidateConstraint { name: c.ident()? })
        }
        "rename" => {
            c.advance();
            if c.eat("to") {
                return Some(AlterOp::RenameTable { to: c.ident()? });
            }
            if c.eat("constraint") {
                return other("RENAME CONSTRAINT");
            }
            c.eat("column");
            let from = c.ident()?;
            c.eat("to");
            Some(AlterOp::RenameColumn {
                from,
                to: c.ident()?,
            })
        }
        "attach" => {
            c.advance();
            c.eat("partition");
            let partition = c.name()?;
            let bound = c
                .rest()
                .iter()
                .filter(|t| matches!(t.kind, TokenKind::String | TokenKind::Number))
                .map(|t| c.text(*t).to_owned())
                .collect();
            Some(AlterOp::AttachPartition { partition, bound })
        }
        "detach" => {
            c.advance();
            c.eat("partition");
            let partition = c.name()?;
            let concurrently = c.eat("concurrently");
            let finalize = c.eat("finalize");
            Some(AlterOp::DetachPartition {
                partition,
                concurrently,
                finalize,
            })
        }
        "set" => {
            c.advance();
            if c.eat("logged") {
                Some(AlterOp::Rewrite { what: "SET LOGGED" })
            } else if c.eat("unlogged") {
                Some(AlterOp::Rewrite {
                    what: "SET UNLOGGED",
                })
            } else if c.eat("tablespace") {
                Some(AlterOp::Rewrite {
                    what: "SET TABLESPACE",
                })
            } else if c.eat_all(&["access", "method"]) {
                Some(AlterOp::Rewrite {
                    what: "SET ACCESS METHOD",
                })
            } else if c.eat("schema") {
                Some(AlterOp::SetSchema { schema: c.ident()? })
            } else if c.eat_all(&["without", "cluster"]) {
                other("SET WITHOUT CLUSTER")
            } else if c.is_kind(TokenKind::LParen) {
                other(storage_parameters_form(c, "SET"))
            } else {
                other("SET")
            }
        }
        "reset" => {
            c.advance();
            other(storage_parameters_form(c, "RESET"))
        }
        "enable" | "disable" => {
            c.advance();
            c.eat("replica");
            c.eat("always");
            let target = c.word().unwrap_or_default().to_ascii_uppercase();
            other(&format!("{} {target}", head.to_ascii_uppercase()))
        }
        "cluster" => other("CLUSTER ON"),
        "force" | "no" | "inherit" | "of" | "not" | "owner" | "replica" => {
            c.advance();
            let next = c.word().unwrap_or_default().to_ascii_uppercase();
            other(&format!("{} {next}", head.to_ascii_uppercase()))
        }
        _ => None,
    }
}

/// `SET (fillfactor = 70)` takes SHARE UPDATE EXCLUSIVE only when every parameter allows it.
fn storage_parameters_form(c: &mut Cursor, verb: &str) -> &'static str {
    let inner = c.skip_group().unwrap_or_default();
    let text = c.src[inner.start..inner.end].to_ascii_lowercase();
    let all_light = text.split(',').all(|item| {
        let name = item.split('=').next().unwrap_or("").trim();
        SUE_TABLE_PARAMETERS
            .iter()
            .any(|p| name == *p || (p.ends_with('*') && name.starts_with(&p[..p.len() - 1])))
    });
    match (verb, all_light) {
        ("SET", true) => "SET (light parameters)",
        ("SET", false) => "SET (parameters)",
        (_, true) => "RESET (light parameters)",
        _ => "RESET (parameters)",
    }
}

fn read_alter_column(c: &mut Cursor, column: String) -> Option<AlterOp> {
    let other = |what: &str| {
        Some(AlterOp::Other {
            what: what.to_owned(),
        })
    };
    if c.eat_all(&["set", "data", "type"]) || c.eat("type") {
        let ty_span = c.skip_until_word(&["collate", "using"]);
        let ty = tables::type_name(c.src, ty_span);
        c.eat("collate").then(|| c.advance());
        let using = c.eat("using").then(|| {
            let start = c.mark();
            c.skip_until_comma();
            let span = c.span_since(start);
            c.src[span.start..span.end].to_owned()
        });
        return Some(AlterOp::AlterColumnType { column, ty, using });
    }
    if c.eat_all(&["set", "not", "null"]) {
        return Some(AlterOp::SetNotNull { column });
    }
    if c.eat_all(&["drop", "not", "null"]) {
        return Some(AlterOp::DropNotNull { column });
    }
    if c.eat_all(&["set", "default"]) {
        return Some(AlterOp::SetDefault { column });
    }
    if c.eat_all(&["drop", "default"]) {
        return Some(AlterOp::DropDefault { column });
    }
    let forms: &[(&[&str], &str)] = &[
        (&["set", "statistics"], "ALTER COLUMN SET STATISTICS"),
        (&["set", "storage"], "ALTER COLUMN SET STORAGE"),
        (&["set", "compression"], "ALTER COLUMN SET COMPRESSION"),
        (&["set", "expression"], "ALTER COLUMN SET EXPRESSION"),
        (&["drop", "expression"], "ALTER COLUMN DROP EXPRESSION"),
        (&["drop", "identity"], "ALTER COLUMN DROP IDENTITY"),
        (&["add", "generated"], "ALTER COLUMN ADD IDENTITY"),
        (&["set", "generated"], "ALTER COLUMN SET IDENTITY"),
        (&["restart"], "ALTER COLUMN SET IDENTITY"),
        (&["set"], "ALTER COLUMN SET OPTIONS"),
        (&["reset"], "ALTER COLUMN SET OPTIONS"),
    ];
    forms
        .iter()
        .find(|(words, _)| c.eat_all(words))
        .and_then(|(_, what)| other(what))
}

fn read_drop(c: &mut Cursor, out: &mut Out, full: Span) -> bool {
    c.advance();
    let Some(what) = c.word() else { return false };
    c.advance();
    let kind = match what.as_str() {
        "table" => ObjectKind::Table,
        "index" => ObjectKind::Index,
        "view" => ObjectKind::View,
        "materialized" => {
            c.eat("view");
            ObjectKind::MaterializedView
        }
        "sequence" => ObjectKind::Sequence,
        "schema" => ObjectKind::Schema,
        "database" => ObjectKind::Database,
        "type" | "domain" => ObjectKind::Type,
        // DROP FOREIGN TABLE drops a relation; DROP FOREIGN DATA WRAPPER does not
        "foreign" if c.is("table") => {
            c.advance();
            ObjectKind::Table
        }
        _ => {
            // multi-word kinds (`OPERATOR FAMILY`, `FOREIGN DATA WRAPPER`, ...): the guard
            // follows all their words
            for form in super::tables::DROP_IF_EXISTS {
                let words: Vec<String> =
                    form.words.split(' ').map(str::to_ascii_lowercase).collect();
                let rest: Vec<&str> = words[1..].iter().map(String::as_str).collect();
                if words[0] == what && !rest.is_empty() && c.eat_all(&rest) {
                    break;
                }
            }
            ObjectKind::Other
        }
    };
    let concurrently = c.eat("concurrently");
    let guarded = c.eat_all(&["if", "exists"]);
    let names = if kind == ObjectKind::Other {
        // DROP FUNCTION f(int), DROP TRIGGER t ON tbl, …: the name is enough
        c.name().into_iter().collect()
    } else {
        c.name_list()
    };
    let cascade = c.rest().iter().any(|t| t.is_word(c.src, "cascade"));
    out.push((
        if kind == ObjectKind::Index {
            ActionKind::DropIndex {
                names,
                concurrently,
                guarded,
            }
        } else {
            ActionKind::Drop {
                kind,
                names,
                cascade,
                guarded,
            }
        },
        full,
    ));
    // DROP INDEX ... CASCADE is also a drop-cascade finding
    if kind == ObjectKind::Index && cascade {
        out.push((
            ActionKind::Drop {
                kind,
                names: Vec::new(),
                cascade,
                guarded,
            },
            full,
        ));
    }
    true
}

fn read_reindex(c: &mut Cursor, out: &mut Out, full: Span) -> bool {
    c.advance();
    let mut concurrently = false;
    if let Some(options) = c.skip_group() {
        let text = c.src[options.start..options.end].to_ascii_lowercase();
        concurrently = text.split(',').any(|o| {
            let mut words = o.split_whitespace();
            words.next() == Some("concurrently")
                && !matches!(words.next(), Some("false" | "off" | "0"))
        });
    }
    let target = match c.word().as_deref() {
        Some("index") => "INDEX",
        Some("table") => "TABLE",
        Some("schema") => "SCHEMA",
        Some("database") => "DATABASE",
        Some("system") => "SYSTEM",
        _ => return false,
    };
    c.advance();
    concurrently |= c.eat("concurrently");
    let name = c.name().unwrap_or_else(|| Name::new(None, ""));
    out.push((
        ActionKind::Reindex {
            target,
            name,
            concurrently,
        },
        full,
    ));
    true
}

fn read_vacuum(c: &mut Cursor, out: &mut Out, full: Span) {
    c.advance();
    let mut full_vacuum = false;
    if let Some(options) = c.skip_group() {
        let text = c.src[options.start..options.end].to_ascii_lowercase();
        full_vacuum = text.split(',').any(|o| {
            let mut words = o.split_whitespace();
            words.next() == Some("full") && !matches!(words.next(), Some("false" | "off" | "0"))
        });
    }
    while let Some(w) = c.word() {
        match w.as_str() {
            "full" => full_vacuum = true,
            "freeze" | "verbose" | "analyze" | "analyse" => {}
            _ => break,
        }
        c.advance();
    }
    let mut tables = Vec::new();
    while let Some(name) = c.name() {
        tables.push(name);
        if c.is_kind(TokenKind::LParen) {
            c.skip_group();
        }
        if c.eat_kind(TokenKind::Comma).is_none() {
            break;
        }
    }
    out.push((
        ActionKind::Vacuum {
            full: full_vacuum,
            tables,
        },
        full,
    ));
}

fn read_lock(c: &mut Cursor, out: &mut Out, full: Span) -> bool {
    c.advance();
    c.eat("table");
    c.eat("only");
    let tables = c.name_list();
    let mut mode = LockMode::AccessExclusive;
    if c.eat("in") {
        let words: Vec<String> = c
            .rest()
            .iter()
            .map(|t| c.text(*t).to_owned())
            .take_while(|w| !w.eq_ignore_ascii_case("mode"))
            .collect();
        match LockMode::parse(&words.join(" ")) {
            Some(m) => mode = m,
            None => return false,
        }
    }
    out.push((ActionKind::LockTable { tables, mode }, full));
    true
}

fn read_dml(c: &mut Cursor, out: &mut Out, full: Span, verb: String) -> bool {
    c.advance();
    let verb: &'static str = match verb.as_str() {
        "insert" => {
            c.eat("into");
            "INSERT"
        }
        "update" => "UPDATE",
        "delete" => {
            c.eat("from");
            "DELETE"
        }
        "merge" => {
            c.eat("into");
            "MERGE"
        }
        _ => {
            // COPY t FROM … writes; COPY t TO / COPY (query) TO only reads
            let from = c.rest().iter().any(|t| t.is_word(c.src, "from"));
            if !from || c.is_kind(TokenKind::LParen) {
                out.push((
                    ActionKind::Other {
                        head: "copy".into(),
                    },
                    full,
                ));
                return true;
            }
            "COPY"
        }
    };
    c.eat("only");
    let Some(table) = c.name() else { return false };
    let has_where = c.rest().iter().any(|t| t.is_word(c.src, "where"));
    out.push((
        ActionKind::Dml {
            verb,
            table,
            has_where,
            facts: None,
        },
        full,
    ));
    true
}

/// `DO $$ ... $$`: the body runs at migration time, so its SQL statements are read too.
fn read_do(c: &mut Cursor, out: &mut Out) {
    let body = c
        .rest()
        .iter()
        .find(|t| t.kind == TokenKind::DollarString || t.kind == TokenKind::String)
        .copied();
    let Some(body) = body else { return };
    let text = c.text(body);
    let tag_len = if body.kind == TokenKind::DollarString {
        text[1..].find('$').map_or(1, |i| i + 2)
    } else {
        1
    };
    let inner = Span::new(
        body.span.start + tag_len,
        body.span
            .end
            .saturating_sub(tag_len)
            .max(body.span.start + tag_len),
    );
    for statement in super::plpgsql::statements(c.src, inner) {
        let reading = read(c.src, statement);
        out.extend(
            reading
                .actions
                .into_iter()
                .filter(|(k, _)| !matches!(k, ActionKind::Other { .. })),
        );
    }
}
