//! What a data change does, read from sqlparser's AST: which columns an UPDATE sets and
//! with what, how its WHERE bounds the rows (NULL checks, ranges, batches), and whether an
//! INSERT is guarded against replays. Backfill and idempotency rules read these facts.

use std::ops::ControlFlow;

use sqlparser::ast::{
    AssignmentTarget, BinaryOperator, Expr, FromTable, Ident, LimitClause, ObjectName, OnInsert,
    Query, SetExpr, Statement, TableFactor, TableWithJoins, visit_expressions,
};

/// Calls that stamp every row with the migration's own time or a fresh random value.
pub const MIGRATION_TIME_VALUES: &[&str] = &[
    "now",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtime",
    "timeofday",
    "uuid_generate_v1",
    "localtimestamp",
    "statement_timestamp",
    "transaction_timestamp",
    "clock_timestamp",
    "random",
    "gen_random_uuid",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignedColumn {
    pub column: String,
    /// A call from [`MIGRATION_TIME_VALUES`] in the new value.
    pub migration_time_value: Option<String>,
}

/// How a WHERE clause bounds the rows it touches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowBounds {
    /// Columns tested with `IS NULL`.
    pub null_checked: Vec<String>,
    /// Columns compared with `>`/`>=` or `BETWEEN` (a lower bound).
    pub lower_bounded: Vec<String>,
    /// Columns compared with `<`/`<=` or `BETWEEN` (an upper bound).
    pub upper_bounded: Vec<String>,
    /// `IN (SELECT ... LIMIT n)`: one batch of keys.
    pub limited_subquery: bool,
    /// `col = value` or `col IN (list)` on a key: a handful of rows named by key.
    pub pinned: bool,
}

impl RowBounds {
    /// A key range (both bounds on one column) or a LIMITed key subquery: one batch.
    pub fn is_batch(&self) -> bool {
        self.limited_subquery
            || self.pinned
            || self
                .lower_bounded
                .iter()
                .any(|c| self.upper_bounded.contains(c))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DmlFacts {
    pub assigned: Vec<AssignedColumn>,
    /// `None` when there is no WHERE at all.
    pub bounds: Option<RowBounds>,
    /// `LIMIT` on the statement itself.
    pub limited: bool,
    pub on_conflict: bool,
    /// INSERT whose source only inserts missing rows (`WHERE NOT EXISTS (...)`).
    pub guarded_by_not_exists: bool,
    /// INSERT ... SELECT (not VALUES).
    pub from_select: bool,
}

/// A column name as PostgreSQL folds it and the catalog keeps it: unquoted names in lower
/// case, quoted ones as written (`"brandColor"` is not `brandcolor`).
fn folded(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_ascii_lowercase(),
    }
}

fn column_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(ident) => Some(folded(ident)),
        Expr::CompoundIdentifier(parts) => parts.last().map(folded),
        Expr::Nested(inner) => column_name(inner),
        _ => None,
    }
}

fn first_call(expr: &Expr, names: &[&str]) -> Option<String> {
    let mut found = None;
    let _ = visit_expressions(expr, |e| {
        if let Expr::Function(f) = e {
            let name = f.name.to_string().to_ascii_lowercase();
            let name = name.rsplit('.').next().unwrap_or(&name).to_owned();
            if names.contains(&name.as_str()) {
                found = Some(name);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    found
}

fn has_limit(query: &Query) -> bool {
    matches!(
        query.limit_clause,
        Some(LimitClause::LimitOffset { limit: Some(_), .. })
            | Some(LimitClause::OffsetCommaLimit { .. })
    )
}

/// The AND-ed parts of a WHERE: only these restrict every row (a part under OR does not).
pub(crate) fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    operands(expr, &BinaryOperator::And)
}

/// The branches of an OR (nested ORs and parentheses flattened).
pub(crate) fn disjuncts(expr: &Expr) -> Vec<&Expr> {
    operands(expr, &BinaryOperator::Or)
}

fn operands<'e>(expr: &'e Expr, joined_by: &BinaryOperator) -> Vec<&'e Expr> {
    match expr {
        Expr::BinaryOp { left, op, right } if op == joined_by => {
            let mut parts = operands(left, joined_by);
            parts.extend(operands(right, joined_by));
            parts
        }
        Expr::Nested(inner) => operands(inner, joined_by),
        other => vec![other],
    }
}

fn is_key(expr: &Expr) -> bool {
    column_name(expr).is_some_and(|c| c == "id" || c.ends_with("_id"))
}

/// The one table a FROM list reads (no joins), lower-cased, without its schema.
fn single_table(from: &[TableWithJoins]) -> Option<String> {
    match from {
        [
            TableWithJoins {
                relation: TableFactor::Table { name, .. },
                joins,
            },
        ] if joins.is_empty() => name
            .0
            .last()
            .map(|p| p.to_string().trim_matches('"').to_ascii_lowercase()),
        _ => None,
    }
}

/// The bounds of `key IN (SELECT key FROM target WHERE ...)`: the subquery picks the rows of
/// the same table, so its conditions bound the outer statement as if written there.
fn subquery_bounds(subquery: &Query, target: Option<&str>) -> Option<RowBounds> {
    let SetExpr::Select(select) = subquery.body.as_ref() else {
        return None;
    };
    let same_table = target.is_some() && single_table(&select.from).as_deref() == target;
    select
        .selection
        .as_ref()
        .filter(|_| same_table)
        .map(|selection| bounds(selection, target))
}

/// How `selection` bounds the rows of `target` (the table updated or deleted from).
fn bounds(selection: &Expr, target: Option<&str>) -> RowBounds {
    let mut b = RowBounds::default();
    for part in conjuncts(selection) {
        match part {
            Expr::IsNull(inner) => b.null_checked.extend(column_name(inner)),
            Expr::Between {
                expr,
                negated: false,
                ..
            } => {
                if let Some(c) = column_name(expr) {
                    b.lower_bounded.push(c.clone());
                    b.upper_bounded.push(c);
                }
            }
            Expr::BinaryOp { left, op, right } => {
                let (lower, upper) = match op {
                    BinaryOperator::Gt | BinaryOperator::GtEq => {
                        (column_name(left), column_name(right))
                    }
                    BinaryOperator::Lt | BinaryOperator::LtEq => {
                        (column_name(right), column_name(left))
                    }
                    _ => (None, None),
                };
                b.lower_bounded.extend(lower);
                b.upper_bounded.extend(upper);
            }
            Expr::InSubquery {
                subquery,
                negated: false,
                ..
            } => {
                b.limited_subquery |= has_limit(subquery);
                if let Some(inner) = subquery_bounds(subquery, target) {
                    b.null_checked.extend(inner.null_checked);
                    b.lower_bounded.extend(inner.lower_bounded);
                }
            }
            Expr::InList {
                expr,
                negated: false,
                ..
            } => b.pinned |= is_key(expr),
            _ => {}
        }
        // `id = 42`: equality on a key-like column names its rows
        if let Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } = part
        {
            let value = |e: &Expr| !matches!(e, Expr::Subquery(_)) && column_name(e).is_none();
            b.pinned |= is_key(left) && value(right) || is_key(right) && value(left);
        }
    }
    b
}

fn not_exists_guard(query: &Query) -> bool {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return false;
    };
    let Some(selection) = &select.selection else {
        return false;
    };
    let mut guarded = false;
    let _ = visit_expressions(selection, |e| {
        if let Expr::Exists { negated: true, .. } = e {
            guarded = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    guarded
}

/// The facts of an INSERT that rules use, from its keywords at any depth: `ON CONFLICT`,
/// a `NOT EXISTS` guard, and a `SELECT` source. As exact as the AST for these three, and
/// without parsing every row of a seed file.
pub fn insert_facts_from_tokens(sql: &str) -> DmlFacts {
    let words: Vec<String> = crate::source::lex::tokens(sql)
        .into_iter()
        .filter(|t| t.kind == crate::source::lex::TokenKind::Word)
        .map(|t| t.text(sql).to_ascii_lowercase())
        .collect();
    let pair = |a: &str, b: &str| words.windows(2).any(|w| w[0] == a && w[1] == b);
    DmlFacts {
        on_conflict: pair("on", "conflict"),
        guarded_by_not_exists: pair("not", "exists"),
        from_select: words.iter().any(|w| w == "select") && !words.iter().any(|w| w == "values"),
        ..DmlFacts::default()
    }
}

/// Facts of an UPDATE, DELETE or INSERT (also under `WITH`); `None` for anything else.
pub fn facts(statement: &Statement) -> Option<DmlFacts> {
    match statement {
        Statement::Query(query) => {
            let (SetExpr::Update(inner) | SetExpr::Delete(inner) | SetExpr::Insert(inner)) =
                query.body.as_ref()
            else {
                return None;
            };
            // `WITH batch AS (SELECT ... LIMIT n) UPDATE ... FROM batch`: one batch of keys
            let limited_cte = query
                .with
                .as_ref()
                .is_some_and(|w| w.cte_tables.iter().any(|c| has_limit(&c.query)));
            facts(inner).map(|f| DmlFacts {
                limited: f.limited || limited_cte,
                ..f
            })
        }
        Statement::Update(update) => Some(DmlFacts {
            assigned: update
                .assignments
                .iter()
                .flat_map(|a| {
                    // the last part of `col` or `t.col`, folded as the catalog folds it
                    let last =
                        |name: &ObjectName| name.0.last().and_then(|p| p.as_ident()).map(folded);
                    let columns: Vec<String> = match &a.target {
                        AssignmentTarget::ColumnName(name) => last(name).into_iter().collect(),
                        AssignmentTarget::Tuple(names) => names.iter().filter_map(last).collect(),
                    };
                    let stamp = first_call(&a.value, MIGRATION_TIME_VALUES);
                    columns.into_iter().map(move |column| AssignedColumn {
                        column,
                        migration_time_value: stamp.clone(),
                    })
                })
                .collect(),
            bounds: update.selection.as_ref().map(|selection| {
                bounds(
                    selection,
                    single_table(std::slice::from_ref(&update.table)).as_deref(),
                )
            }),
            limited: update.limit.is_some(),
            ..DmlFacts::default()
        }),
        Statement::Delete(delete) => Some(DmlFacts {
            bounds: delete.selection.as_ref().map(|selection| {
                let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) =
                    &delete.from;
                bounds(selection, single_table(from).as_deref())
            }),
            limited: delete.limit.is_some(),
            ..DmlFacts::default()
        }),
        Statement::Insert(insert) => {
            let source = insert.source.as_deref();
            Some(DmlFacts {
                on_conflict: matches!(insert.on, Some(OnInsert::OnConflict(_))),
                guarded_by_not_exists: source.is_some_and(not_exists_guard),
                from_select: source.is_some_and(|q| {
                    matches!(q.body.as_ref(), SetExpr::Select(_) | SetExpr::Query(_))
                }),
                ..DmlFacts::default()
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(sql: &str) -> DmlFacts {
        let statements = crate::parse::parse(sql).expect("parses");
        facts(&statements[0]).expect("a DML statement")
    }

    #[test]
    fn update_facts_name_columns_values_and_bounds() {
        let f = of(
            "UPDATE orders SET total_cents = total_cents * 2, synced_at = now() WHERE id >= 1000 AND id < 2000",
        );
        assert_eq!(f.assigned.len(), 2);
        assert_eq!(f.assigned[0].column, "total_cents");
        assert_eq!(f.assigned[1].migration_time_value.as_deref(), Some("now"));
        let b = f.bounds.unwrap();
        assert!(b.is_batch());
        assert_eq!(b.lower_bounded, vec!["id"]);
    }

    #[test]
    fn null_checks_and_limited_subqueries_are_seen() {
        let f = of(
            "UPDATE users SET locale = 'en' WHERE locale IS NULL AND id IN (SELECT id FROM users LIMIT 500)",
        );
        let b = f.bounds.unwrap();
        assert_eq!(b.null_checked, vec!["locale"]);
        assert!(b.limited_subquery && b.is_batch());
        assert!(of("DELETE FROM events").bounds.is_none());
    }

    #[test]
    fn conditions_of_a_key_subquery_on_the_same_table_bound_the_rows() {
        let b = of("UPDATE users SET locale = 'en' WHERE id IN (SELECT id FROM users WHERE locale IS NULL ORDER BY id LIMIT 1000)")
            .bounds
            .unwrap();
        assert_eq!(b.null_checked, vec!["locale"]);
        assert!(b.is_batch());
        // another table's columns say nothing about the rows updated
        let b = of("UPDATE orders SET locale = 'en' WHERE customer_id IN (SELECT id FROM customers WHERE locale IS NULL)")
            .bounds
            .unwrap();
        assert!(b.null_checked.is_empty());
        let b = of("DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE created_at > now() - interval '1 day')")
            .bounds
            .unwrap();
        assert_eq!(b.lower_bounded, vec!["created_at"]);
    }

    #[test]
    fn a_null_check_under_or_does_not_bound_the_rows() {
        let b = of("UPDATE p SET fee = 1 WHERE fee IS NULL OR fee = 0")
            .bounds
            .unwrap();
        assert!(b.null_checked.is_empty());
        let b = of("UPDATE p SET fee = 1 WHERE (fee IS NULL) AND id > 5")
            .bounds
            .unwrap();
        assert_eq!((b.null_checked.len(), b.lower_bounded.len()), (1, 1));
    }

    #[test]
    fn point_updates_by_key_are_bounded() {
        assert!(
            of("UPDATE orders SET total = 1 WHERE id = 42")
                .bounds
                .unwrap()
                .is_batch()
        );
        assert!(
            of("DELETE FROM orders WHERE id IN (1, 2, 3)")
                .bounds
                .unwrap()
                .is_batch()
        );
        assert!(
            !of("UPDATE orders SET total = 1 WHERE status = 'x'")
                .bounds
                .unwrap()
                .is_batch()
        );
    }

    #[test]
    fn data_changing_ctes_are_read() {
        let f = of("WITH stale AS (SELECT id FROM carts) DELETE FROM carts");
        assert!(f.bounds.is_none());
    }

    #[test]
    fn insert_facts_from_tokens_agree_with_the_ast() {
        for sql in [
            "INSERT INTO plans (code) VALUES ('pro') ON CONFLICT (code) DO NOTHING",
            "INSERT INTO plans (code) SELECT 'pro' WHERE NOT EXISTS (SELECT 1 FROM plans WHERE code = 'pro')",
            "INSERT INTO plans (code) VALUES ('pro')",
            "INSERT INTO archive SELECT * FROM orders",
        ] {
            let from_ast = of(sql);
            let from_tokens = insert_facts_from_tokens(sql);
            assert_eq!(
                (
                    from_ast.on_conflict,
                    from_ast.guarded_by_not_exists,
                    from_ast.from_select
                ),
                (
                    from_tokens.on_conflict,
                    from_tokens.guarded_by_not_exists,
                    from_tokens.from_select
                ),
                "{sql}"
            );
        }
    }

    #[test]
    fn insert_guards_are_recognised() {
        assert!(
            of("INSERT INTO plans (code) VALUES ('pro') ON CONFLICT (code) DO NOTHING").on_conflict
        );
        let f = of(
            "INSERT INTO plans (code) SELECT 'pro' WHERE NOT EXISTS (SELECT 1 FROM plans WHERE code = 'pro')",
        );
        assert!(f.guarded_by_not_exists && f.from_select);
        assert!(!of("INSERT INTO plans (code) VALUES ('pro')").guarded_by_not_exists);
    }
}
