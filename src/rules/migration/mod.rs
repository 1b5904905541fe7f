//! Rules over migration statements (`pgrisk lint`), one file each.

pub mod add_column_required;
pub mod add_column_rewrite;
pub mod alter_column_type_rewrite;
pub mod alter_table_repeated;
pub mod attach_partition_scan;
pub mod concurrently_in_transaction;
pub mod constraint_validating_scan;
pub mod create_index_blocking;
pub mod detach_partition_blocking;
pub mod drop_cascade;
pub mod drop_column;
pub mod drop_index_blocking;
pub mod drop_table;
pub mod enum_add_value_in_transaction;
pub mod exclusion_constraint_blocking;
pub mod lock_held_across_statements;
pub mod lock_without_timeout;
pub mod primary_key_not_null_scan;
pub mod refresh_matview_blocking;
pub mod reindex_blocking;
pub mod rename_column;
pub mod rename_table;
pub mod set_not_null_scan;
pub mod table_rewrite;
pub mod transaction_nesting;
pub mod transaction_unterminated;
pub mod truncate_table;
pub mod unique_constraint_blocking;
pub mod unparsed_statement;
pub mod unused_ignore;
pub mod validate_in_same_transaction;

use crate::analysis::{Action, ActionKind, AlterOp, LockTaken};
use crate::rules::{Finding, StatementCx};

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

/// The ALTER TABLE operation of an action, if it is one.
pub(crate) fn alter_op(action: &Action) -> Option<&AlterOp> {
    match &action.kind {
        ActionKind::AlterTable { op, .. } => Some(op),
        _ => None,
    }
}
