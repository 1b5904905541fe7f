//! What an application query does, read from sqlparser's AST: the tables it reads (with
//! aliases), its select list, the columns its WHERE and JOINs filter on (and whether a
//! function wraps them), LIKE patterns, ORDER BY random(), OFFSET, NOT IN subqueries and
//! the conflict target of an INSERT. Query rules read these facts with the schema.

use std::borrow::Cow;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, ConflictTarget, Expr, JoinConstraint, JoinOperator, LimitClause, ObjectName,
    OnInsert, OrderByKind, Query, Select, SelectItem, SetExpr, Statement, TableFactor, TableObject,
    Value, visit_expressions,
};

use super::dml::{conjuncts, disjuncts};
use super::model::Name;
use crate::parse;
use crate::source::lex::{Lexer, TokenKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    pub name: Name,
    pub alias: Option<String>,
}

/// A column as written (`o.customer_id` → qualifier `o`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRef {
    pub qualifier: Option<String>,
    pub column: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapped {
    pub column: ColumnRef,
    /// The wrapping expression as written (`lower(email)`), lower-cased.
    pub expr: String,
}

/// What an index could serve: a bare column compared with a value (or another column), or
/// an expression over one column (`lower(email) = $1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Column(ColumnRef),
    Wrapped(Wrapped),
}

impl Probe {
    pub fn column(&self) -> &ColumnRef {
        match self {
            Probe::Column(c) | Probe::Wrapped(Wrapped { column: c, .. }) => c,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offset {
    Literal(i64),
    Parameter,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// No ON CONFLICT clause.
    None,
    Columns {
        columns: Vec<String>,
        /// `ON CONFLICT (cols) WHERE predicate`: partial unique indexes may be inferred.
        predicate: bool,
    },
    /// `ON CONSTRAINT name` or a bare `ON CONFLICT DO ...`.
    Other,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryFacts {
    pub tables: Vec<TableRef>,
    /// `*` or `t.*` in the outermost select list: the qualifier (`None` for a bare `*`).
    pub stars: Vec<Option<String>>,
    pub select_columns: usize,
    /// Columns compared by `LIKE`/`ILIKE` with a pattern that starts with a wildcard.
    pub leading_wildcard_likes: Vec<ColumnRef>,
    /// The top-level conditions of WHERE and JOIN ... ON an index could serve: one probe
    /// (`status = $1`; each side of a join key on its own), or an OR whose every branch is a
    /// probe, which an index serves only if it serves every branch (a BitmapOr).
    pub conditions: Vec<Vec<Probe>>,
    pub order_by_random: bool,
    pub offset: Option<Offset>,
    pub not_in_subquery: bool,
    /// The table an INSERT writes and its ON CONFLICT target.
    pub insert: Option<(Name, Conflict)>,
}

impl QueryFacts {
    /// Every probe of every condition.
    pub fn probes(&self) -> impl Iterator<Item = &Probe> {
        self.conditions.iter().flatten()
    }

    /// The table a column belongs to: by alias or name, or the only table read.
    pub fn table_of(&self, column: &ColumnRef) -> Option<&Name> {
        match &column.qualifier {
            Some(q) => self
                .tables
                .iter()
                .find(|t| t.alias.as_deref() == Some(q.as_str()) || t.name.name == *q)
                .map(|t| &t.name),
            None if self.tables.len() == 1 => Some(&self.tables[0].name),
            None => None,
        }
    }
}

/// Application queries use `?`, `$1`, `:name` and `@name`; sqlparser's PostgreSQL dialect
/// takes `$n` only, so the others become `$1` (positions do not matter: findings use the
/// statement's span).
pub fn normalize_parameters(sql: &str) -> Cow<'_, str> {
    let tokens: Vec<_> = Lexer::new(sql, 0).collect();
    let mut out = String::with_capacity(sql.len());
    let mut last = 0;
    let mut changed = false;
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        let text = t.text(sql);
        let next_is_word = tokens
            .get(i + 1)
            .is_some_and(|n| n.kind == TokenKind::Word && n.span.start == t.span.end);
        let replace_to = match t.kind {
            TokenKind::Op if text == "?" => Some(t.span.end),
            TokenKind::Op if text == "@" && next_is_word => Some(tokens[i + 1].span.end),
            TokenKind::PsqlVar => Some(t.span.end),
            _ => None,
        };
        if let Some(end) = replace_to {
            out.push_str(&sql[last..t.span.start]);
            out.push_str("$1");
            last = end;
            changed = true;
            if end != t.span.end {
                i += 1;
            }
        }
        i += 1;
    }
    if !changed {
        return Cow::Borrowed(sql);
    }
    out.push_str(&sql[last..]);
    Cow::Owned(out)
}

/// What [`simplify_conflict_target`] cut out of an `ON CONFLICT` clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictCut {
    /// `WHERE predicate` after a column list: partial unique indexes may be the arbiter.
    Predicate,
    /// A target with expressions (`ON CONFLICT (lower(email))`): the arbiter is an
    /// expression index pgrisk does not match, so the target is unknown.
    Target,
}

/// sqlparser reads an `ON CONFLICT` target only as a plain column list: it rejects the
/// arbiter predicate (`ON CONFLICT (cols) WHERE predicate DO ...`) and expressions in the
/// target. Returns the text with what it rejects blanked out (positions kept), and what
/// was cut, so the rest of the statement can still be read.
pub fn simplify_conflict_target(sql: &str) -> Option<(String, ConflictCut)> {
    let tokens: Vec<_> = Lexer::new(sql, 0).filter(|t| !t.is_trivia()).collect();
    let on = tokens.windows(3).position(|w| {
        w[0].is_word(sql, "on") && w[1].is_word(sql, "conflict") && w[2].kind == TokenKind::LParen
    })?;
    let open = on + 2;
    let mut depth = 0usize;
    let close = (open..tokens.len()).find(|&i| {
        match tokens[i].kind {
            TokenKind::LParen => depth += 1,
            TokenKind::RParen => depth -= 1,
            _ => {}
        }
        depth == 0
    })?;
    let plain_columns = tokens[open + 1..close].iter().all(|t| {
        matches!(
            t.kind,
            TokenKind::Word | TokenKind::QuotedIdent | TokenKind::Comma
        )
    });
    let mut depth = 0usize;
    let do_at = tokens[close + 1..].iter().find(|t| {
        match t.kind {
            TokenKind::LParen => depth += 1,
            TokenKind::RParen => depth = depth.saturating_sub(1),
            _ => {}
        }
        depth == 0 && t.is_word(sql, "do")
    })?;
    let (from, cut) = match tokens.get(close + 1) {
        _ if !plain_columns => (tokens[open].span.start, ConflictCut::Target),
        Some(t) if t.is_word(sql, "where") => (t.span.start, ConflictCut::Predicate),
        _ => return None,
    };
    let mut out = sql.to_owned();
    out.replace_range(from..do_at.span.start, &" ".repeat(do_at.span.start - from));
    Some((out, cut))
}

/// A relation name from the AST, lower-cased (a quoted mixed-case name is folded too, which
/// PostgreSQL would not do).
fn table_name(name: &ObjectName) -> Option<Name> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| p.to_string().trim_matches('"').to_ascii_lowercase())
        .collect();
    match parts.as_slice() {
        [.., schema, table] => Some(Name::new(Some(schema), table)),
        [table] => Some(Name::new(None, table)),
        [] => None,
    }
}

fn column_ref(expr: &Expr) -> Option<ColumnRef> {
    match expr {
        Expr::Identifier(ident) => Some(ColumnRef {
            qualifier: None,
            column: ident.value.to_ascii_lowercase(),
        }),
        Expr::CompoundIdentifier(parts) if parts.len() >= 2 => Some(ColumnRef {
            qualifier: Some(parts[parts.len() - 2].value.to_ascii_lowercase()),
            column: parts[parts.len() - 1].value.to_ascii_lowercase(),
        }),
        Expr::Nested(inner) => column_ref(inner),
        _ => None,
    }
}

/// The column inside a function call, cast or arithmetic (`lower(email)`, `d::date`, `id + 1`).
fn wrapped_column(expr: &Expr) -> Option<ColumnRef> {
    if column_ref(expr).is_some() {
        return None;
    }
    let mut found = None;
    let _ = visit_expressions(expr, |e| {
        if let Some(c) = column_ref(e) {
            found = Some(c);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    found
}

fn is_value(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(_)) || column_ref(expr).is_none() && wrapped_column(expr).is_none()
}

fn starts_with_wildcard(pattern: &Expr) -> bool {
    match pattern {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => {
                s.starts_with('%') || s.starts_with('_')
            }
            _ => false,
        },
        Expr::BinaryOp {
            left,
            op: BinaryOperator::StringConcat,
            ..
        } => starts_with_wildcard(left),
        Expr::Nested(inner) => starts_with_wildcard(inner),
        _ => false,
    }
}

/// The probes of one comparison, `IN (...)` or `BETWEEN`: each side that is a column (or an
/// expression over one) compared with a value or a column.
fn probes(expr: &Expr) -> Vec<Probe> {
    match expr {
        Expr::BinaryOp { left, op, right } if comparison(op) => [(left, right), (right, left)]
            .into_iter()
            .filter(|(_, other)| is_value(other) || column_ref(other).is_some())
            .filter_map(|(side, other)| match column_ref(side) {
                Some(c) => Some(Probe::Column(c)),
                None => wrapped_column(side).filter(|_| is_value(other)).map(|c| {
                    Probe::Wrapped(Wrapped {
                        column: c,
                        expr: side.to_string().to_ascii_lowercase(),
                    })
                }),
            })
            .collect(),
        Expr::InList {
            expr,
            negated: false,
            ..
        }
        | Expr::Between {
            expr,
            negated: false,
            ..
        } => column_ref(expr).map(Probe::Column).into_iter().collect(),
        Expr::Nested(inner) => probes(inner),
        _ => Vec::new(),
    }
}

fn comparison(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Eq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
    )
}

impl QueryFacts {
    fn filter(&mut self, expr: &Expr) {
        for part in conjuncts(expr) {
            let branches = disjuncts(part);
            if let [single] = branches.as_slice() {
                // a join key is a way into either table: one condition per side
                self.conditions
                    .extend(probes(single).into_iter().map(|p| vec![p]));
                continue;
            }
            let probes: Vec<Vec<Probe>> = branches.iter().map(|b| probes(b)).collect();
            if probes.iter().all(|p| p.len() == 1) {
                self.conditions.push(probes.into_iter().flatten().collect());
            }
        }
        let _ = visit_expressions(expr, |e| {
            match e {
                Expr::Like { expr, pattern, .. } | Expr::ILike { expr, pattern, .. }
                    if starts_with_wildcard(pattern) =>
                {
                    self.leading_wildcard_likes.extend(column_ref(expr));
                }
                Expr::BinaryOp {
                    left,
                    op: BinaryOperator::PGLikeMatch | BinaryOperator::PGILikeMatch,
                    right,
                } if starts_with_wildcard(right) => {
                    self.leading_wildcard_likes.extend(column_ref(left));
                }
                Expr::InSubquery { negated: true, .. } => self.not_in_subquery = true,
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
    }

    fn select(&mut self, select: &Select, outermost: bool) {
        for from in &select.from {
            self.table(&from.relation);
            for join in &from.joins {
                self.table(&join.relation);
                let constraint = match &join.join_operator {
                    JoinOperator::Join(c)
                    | JoinOperator::Inner(c)
                    | JoinOperator::Left(c)
                    | JoinOperator::LeftOuter(c)
                    | JoinOperator::Right(c)
                    | JoinOperator::RightOuter(c)
                    | JoinOperator::FullOuter(c) => Some(c),
                    _ => None,
                };
                if let Some(JoinConstraint::On(on)) = constraint {
                    self.filter(on);
                }
            }
        }
        if outermost {
            self.select_columns = select.projection.len();
            for item in &select.projection {
                match item {
                    SelectItem::Wildcard(_) => self.stars.push(None),
                    SelectItem::QualifiedWildcard(kind, _) => {
                        let name = kind.to_string();
                        let qualifier = name
                            .trim_end_matches(".*")
                            .rsplit('.')
                            .next()
                            .unwrap_or("")
                            .to_ascii_lowercase();
                        self.stars.push(Some(qualifier));
                    }
                    _ => {}
                }
            }
        }
        if let Some(selection) = &select.selection {
            self.filter(selection);
        }
    }

    fn table(&mut self, factor: &TableFactor) {
        if let TableFactor::Table { name, alias, .. } = factor {
            let Some(table) = table_name(name) else {
                return;
            };
            self.tables.push(TableRef {
                name: table,
                alias: alias.as_ref().map(|a| a.name.value.to_ascii_lowercase()),
            });
        }
    }

    fn query(&mut self, query: &Query, outermost: bool) {
        // a CTE's filters run like any other
        for cte in query.with.iter().flat_map(|w| &w.cte_tables) {
            self.query(&cte.query, false);
        }
        if let SetExpr::Select(select) = query.body.as_ref() {
            self.select(select, outermost);
        }
        if outermost {
            if let Some(order_by) = &query.order_by
                && let OrderByKind::Expressions(items) = &order_by.kind
            {
                self.order_by_random = items.iter().any(|o| {
                    matches!(&o.expr, Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("random"))
                });
            }
            if let Some(LimitClause::LimitOffset {
                offset: Some(offset),
                ..
            }) = &query.limit_clause
            {
                self.offset = Some(match &offset.value {
                    Expr::Value(v) => match &v.value {
                        Value::Number(n, _) => Offset::Literal(n.parse().unwrap_or(0)),
                        Value::Placeholder(_) => Offset::Parameter,
                        _ => Offset::Literal(0),
                    },
                    _ => Offset::Parameter,
                });
            }
        }
    }
}

/// Reads one application query: parameters normalized, parsed, facts taken. `Ok(None)` for
/// statements that are not queries; `Err` with sqlparser's message when it cannot parse.
pub fn read_query(sql: &str) -> Result<Option<QueryFacts>, String> {
    let text = normalize_parameters(sql);
    let (ast, cut) = match parse::parse(&text) {
        Ok(ast) => (ast, None),
        Err(error) => {
            let (simpler, cut) = simplify_conflict_target(&text).ok_or(error.clone())?;
            (parse::parse(&simpler).map_err(|_| error)?, Some(cut))
        }
    };
    let mut facts = ast.first().and_then(facts);
    if let Some(QueryFacts {
        insert: Some((_, conflict)),
        ..
    }) = &mut facts
    {
        match (cut, conflict) {
            (Some(ConflictCut::Target), conflict) => *conflict = Conflict::Other,
            (Some(ConflictCut::Predicate), Conflict::Columns { predicate, .. }) => {
                *predicate = true
            }
            _ => {}
        }
    }
    Ok(facts)
}

/// Facts of one application query; `None` for statements that are not queries.
pub fn facts(statement: &Statement) -> Option<QueryFacts> {
    let mut f = QueryFacts::default();
    match statement {
        Statement::Query(query) => f.query(query, true),
        Statement::Insert(insert) => {
            let TableObject::TableName(name) = &insert.table else {
                return None;
            };
            let table = table_name(name)?;
            let conflict = match &insert.on {
                Some(OnInsert::OnConflict(c)) => match &c.conflict_target {
                    Some(ConflictTarget::Columns(cols)) => Conflict::Columns {
                        columns: cols.iter().map(|c| c.value.to_ascii_lowercase()).collect(),
                        predicate: false,
                    },
                    _ => Conflict::Other,
                },
                _ => Conflict::None,
            };
            if let Some(source) = &insert.source {
                f.query(source, false);
            }
            f.insert = Some((table, conflict));
        }
        Statement::Update(update) => {
            f.table(&update.table.relation);
            if let Some(selection) = &update.selection {
                f.filter(selection);
            }
        }
        Statement::Delete(delete) => {
            let from = match &delete.from {
                sqlparser::ast::FromTable::WithFromKeyword(t)
                | sqlparser::ast::FromTable::WithoutKeyword(t) => t,
            };
            for t in from {
                f.table(&t.relation);
            }
            if let Some(selection) = &delete.selection {
                f.filter(selection);
            }
        }
        _ => return None,
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(sql: &str) -> QueryFacts {
        let sql = normalize_parameters(sql);
        let statements = crate::parse::parse(&sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
        facts(&statements[0]).expect("a query")
    }

    #[test]
    fn reads_tables_aliases_stars_and_filters() {
        let f = of(
            "SELECT o.*, c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status = ? AND lower(c.email) = @email",
        );
        assert_eq!(f.tables.len(), 2);
        assert_eq!(f.stars, vec![Some("o".to_owned())]);
        let columns: Vec<&str> = f.probes().map(|p| p.column().column.as_str()).collect();
        assert_eq!(columns, ["id", "customer_id", "status", "email"]);
        assert!(f.conditions.iter().all(|c| c.len() == 1));
        assert!(matches!(&f.conditions[3][0], Probe::Wrapped(w) if w.expr == "lower(c.email)"));
        let status = f.conditions[2][0].column();
        assert_eq!(f.table_of(status).unwrap().name, "orders");
    }

    #[test]
    fn an_or_of_probes_is_one_condition_and_other_ors_are_none() {
        let f = of(
            "SELECT id FROM users WHERE (lower(username) = $1 OR email = $2) AND deleted = false AND ($3::bool OR expires_at > now())",
        );
        assert_eq!(f.conditions.len(), 2, "{:?}", f.conditions);
        assert_eq!(f.conditions[0].len(), 2);
        assert_eq!(f.conditions[1][0].column().column, "deleted");
    }

    #[test]
    fn reads_like_order_offset_and_not_in() {
        let f = of(
            "SELECT id FROM products WHERE name ILIKE '%' || $1 || '%' AND id NOT IN (SELECT product_id FROM bans) ORDER BY random() OFFSET 5000",
        );
        assert_eq!(f.leading_wildcard_likes[0].column, "name");
        assert!(f.not_in_subquery && f.order_by_random);
        assert_eq!(f.offset, Some(Offset::Literal(5000)));
        assert!(
            of("SELECT * FROM t WHERE name LIKE $1")
                .leading_wildcard_likes
                .is_empty()
        );
    }

    #[test]
    fn reads_insert_conflict_targets() {
        let f = of(
            "INSERT INTO payments (idempotency_key, amount) VALUES (:key, 1) ON CONFLICT (idempotency_key) DO NOTHING",
        );
        assert_eq!(
            f.insert.unwrap().1,
            Conflict::Columns {
                columns: vec!["idempotency_key".into()],
                predicate: false
            }
        );
        // sqlparser rejects the arbiter predicate: it is cut out, and remembered
        let sql = "INSERT INTO subs (user_id) VALUES ($1)\n  ON CONFLICT (user_id) WHERE (status = 'active') -- partial\n  DO UPDATE SET plan = EXCLUDED.plan WHERE subs.plan <> EXCLUDED.plan";
        assert!(
            crate::parse::parse(sql).is_err(),
            "sqlparser learned it: drop the workaround"
        );
        let (stripped, cut) = simplify_conflict_target(sql).unwrap();
        assert_eq!(cut, ConflictCut::Predicate);
        assert_eq!(stripped.len(), sql.len());
        assert!(stripped.contains("DO UPDATE SET plan = EXCLUDED.plan WHERE subs.plan"));
        let f = read_query(sql).unwrap().unwrap();
        assert_eq!(
            f.insert.unwrap().1,
            Conflict::Columns {
                columns: vec!["user_id".into()],
                predicate: true
            }
        );
        assert!(
            simplify_conflict_target("INSERT INTO t VALUES (1) ON CONFLICT (a) DO NOTHING")
                .is_none()
        );
        // an expression target (an expression index as arbiter): the target is unknown
        let sql = "INSERT INTO daemons (name, tags) VALUES ($1, $2)\n  ON CONFLICT (\"name\", lower(coalesce(tags ->> 'owner', ''))) DO UPDATE SET tags = $2";
        let (_, cut) = simplify_conflict_target(sql).unwrap();
        assert_eq!(cut, ConflictCut::Target);
        let f = read_query(sql).unwrap().unwrap();
        assert_eq!(f.insert.unwrap().1, Conflict::Other);
        assert!(
            read_query("INSERT INTO t VALUES (1) ON CONFLICT (a) WHERE DO NOTHING ((").is_err()
        );
    }
}
