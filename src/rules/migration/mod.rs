//! Rules over migration statements (`pgrisk lint`), one file each.

pub mod add_column_required;
pub mod add_column_rewrite;
pub mod alter_column_type_rewrite;
pub mod alter_table_repeated;
pub mod attach_partition_scan;
pub mod backfill_in_ddl_transaction;
pub mod backfill_rewrites_history;
pub mod backfill_unbatched;
pub mod backfill_volatile_value;
pub mod char_column;
pub mod concurrently_in_transaction;
pub mod constraint_validating_scan;
pub mod create_index_blocking;
pub mod detach_partition_blocking;
pub mod dml_without_where;
pub mod drop_cascade;
pub mod drop_column;
pub mod drop_index_blocking;
pub mod drop_table;
pub mod enum_add_value_in_transaction;
pub mod exclusion_constraint_blocking;
pub mod foreign_key_unindexed;
pub mod idempotency_key_missing;
pub mod identifier_too_long;
pub mod int_id_overflow;
pub mod json_column;
pub mod lock_held_across_statements;
pub mod lock_without_timeout;
pub mod migration_not_rerunnable;
pub mod migration_would_wait;
pub mod primary_key_not_null_scan;
pub mod refresh_matview_blocking;
pub mod reindex_blocking;
pub mod rename_column;
pub mod rename_table;
pub mod seed_insert_not_idempotent;
pub mod serial_column;
pub mod set_not_null_scan;
pub mod table_rewrite;
pub mod table_without_primary_key;
pub mod timestamp_without_timezone;
pub mod transaction_nesting;
pub mod transaction_unterminated;
pub mod truncate_table;
pub mod unique_constraint_blocking;
pub mod unparsed_statement;
pub mod unused_ignore;
pub mod validate_in_same_transaction;

use crate::analysis::dml::DmlFacts;
use crate::analysis::{Action, ActionKind, AlterOp, LockTaken};
use crate::rules::{Applicability, Finding, Fix, StatementCx};

/// One finding per action that `build` accepts, given the strongest lock the action takes
/// on a relation that existed before this migration set. New relations are never flagged:
/// nobody else can be using them yet.
pub(crate) fn on_existing(
    cx: &StatementCx,
    mut build: impl FnMut(&Action, &LockTaken) -> Option<Finding>,
) -> Vec<Finding> {
    cx.actions()
        .filter_map(|action| {
            let lock = action.strongest_existing_lock()?;
            build(action, lock).map(|f| f.with_lock(lock).version_facts(action))
        })
        .collect()
}

/// Whether the statement is a `DO` block: its SQL runs inside a function, where the
/// statements that refuse a transaction block fail too.
fn is_do_block(cx: &StatementCx) -> bool {
    let sql = cx.file.source.sql();
    let span = cx.statement.span;
    crate::source::lex::Lexer::new(&sql[..span.end], span.start)
        .find(|t| !t.is_trivia())
        .is_some_and(|t| t.is_word(sql, "do"))
}

/// The fix that inserts ` CONCURRENTLY` at `at`, titled "`what` concurrently". Safe only
/// where the statement is then legal: when `refuses_transaction`, outside a transaction
/// block (what `concurrently-in-transaction` checks) and a `DO` body. Otherwise, or when the
/// rule knows an `obstacle`, a suggestion that says what must change first.
pub(crate) fn concurrently_fix(
    cx: &StatementCx,
    at: usize,
    what: &str,
    refuses_transaction: bool,
    obstacle: Option<String>,
) -> Fix {
    let in_block = refuses_transaction
        .then(|| {
            if is_do_block(cx) {
                Some("inside a `DO` block, which runs as a function".to_owned())
            } else {
                concurrently_in_transaction::transaction_block(cx)
            }
        })
        .flatten();
    let (title, applicability) = match (obstacle, in_block) {
        (Some(obstacle), _) => (
            format!("{what} concurrently ({obstacle})"),
            Applicability::Suggestion,
        ),
        (None, Some(why)) => (
            format!(
                "move this statement to its own migration that runs outside a transaction, then {what} concurrently (it cannot run inside a transaction block {why})"
            ),
            Applicability::Suggestion,
        ),
        (None, None) => (format!("{what} concurrently"), Applicability::Safe),
    };
    Fix::insert(title, applicability, at, " CONCURRENTLY")
}

/// The file's line break, `\r\n` when it uses them: lines a fix adds match the others.
pub(crate) fn line_break(sql: &str) -> &'static str {
    if sql.contains("\r\n") { "\r\n" } else { "\n" }
}

/// The byte offset where the line holding `offset` starts.
pub(crate) fn line_start(sql: &str, offset: usize) -> usize {
    sql[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The byte offset where the line holding `offset` ends, before its line break.
pub(crate) fn line_end(sql: &str, offset: usize) -> usize {
    let end = sql[offset..].find('\n').map_or(sql.len(), |i| offset + i);
    if end > offset && sql[..end].ends_with('\r') {
        end - 1
    } else {
        end
    }
}

/// The spaces and tabs that start the line holding `offset`.
pub(crate) fn indentation(sql: &str, offset: usize) -> &str {
    let line = &sql[line_start(sql, offset)..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// What sqlparser's AST says about an action that is an `UPDATE`, if it is one.
pub(crate) fn update_facts(action: &Action) -> Option<&DmlFacts> {
    match &action.kind {
        ActionKind::Dml {
            verb: "UPDATE",
            facts: Some(facts),
            ..
        } => Some(facts),
        _ => None,
    }
}

/// The ALTER TABLE operation of an action, if it is one.
pub(crate) fn alter_op(action: &Action) -> Option<&AlterOp> {
    match &action.kind {
        ActionKind::AlterTable { op, .. } => Some(op),
        _ => None,
    }
}

/// A column defined by a statement (CREATE TABLE or ADD COLUMN), with its table and whether
/// it is (part of) the primary key.
pub(crate) struct DefinedColumn<'a> {
    pub table: &'a crate::analysis::Name,
    pub column: &'a crate::analysis::ColumnDef,
    pub primary_key: bool,
}

pub(crate) fn defined_columns(action: &Action) -> Vec<DefinedColumn<'_>> {
    use crate::analysis::ConstraintKind;
    let inline_pk = |c: &crate::analysis::ColumnDef| {
        c.constraints
            .iter()
            .any(|k| matches!(k.kind, ConstraintKind::PrimaryKey { .. }))
    };
    match &action.kind {
        ActionKind::CreateTable {
            table,
            columns,
            constraints,
            ..
        } => {
            let table_pk: Vec<&String> = constraints
                .iter()
                .filter_map(|c| match &c.kind {
                    ConstraintKind::PrimaryKey { columns, .. } => Some(columns),
                    _ => None,
                })
                .flatten()
                .collect();
            columns
                .iter()
                .map(|column| DefinedColumn {
                    table,
                    column,
                    primary_key: inline_pk(column) || table_pk.contains(&&column.name),
                })
                .collect()
        }
        ActionKind::AlterTable {
            table,
            op: AlterOp::AddColumn(column),
        } => {
            vec![DefinedColumn {
                table,
                column,
                primary_key: inline_pk(column),
            }]
        }
        _ => Vec::new(),
    }
}

/// One finding per defined column whose canonical type is in `types`.
pub(crate) fn columns_of_type(
    cx: &StatementCx,
    rule: &'static crate::rules::Rule,
    types: &[&str],
    message: impl Fn(&DefinedColumn, &str) -> String,
    help: &str,
) -> Vec<Finding> {
    cx.actions()
        .flat_map(defined_columns)
        .filter_map(|d| {
            let ty = d.column.ty.as_ref()?;
            types.contains(&ty.name.as_str()).then(|| {
                Finding::new(rule, d.column.span, message(&d, &ty.name))
                    .help(help)
                    .object(d.table.key())
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_the_file_line_breaks_and_indentation() {
        let sql = "BEGIN;\r\n\t  ALTER TABLE t ADD CHECK (a > 0); -- x\r\nCOMMIT;\r\n";
        let alter = sql.find("ALTER").unwrap();
        assert_eq!(line_break(sql), "\r\n");
        assert_eq!(line_break("a;\nb;"), "\n");
        assert_eq!(line_start(sql, alter), 8);
        assert_eq!(
            &sql[alter..line_end(sql, alter)],
            "ALTER TABLE t ADD CHECK (a > 0); -- x"
        );
        assert_eq!(indentation(sql, alter), "\t  ");
        assert_eq!(line_end("a;", 0), 2);
    }
}
