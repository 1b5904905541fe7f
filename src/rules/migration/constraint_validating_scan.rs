//! `ADD CONSTRAINT` CHECK / FOREIGN KEY (or an inline `REFERENCES`/`CHECK` on ADD COLUMN)
//! without `NOT VALID` on an existing table.

use crate::analysis::{Action, ActionKind, AlterOp, ConstraintDef, ConstraintKind, LockMode};
use crate::rules::{
    Applicability, Category, Check, Edit, Finding, Fix, Rule, Severity, StatementCx, rule_doc,
};
use crate::source::Span;
use crate::source::lex::{Lexer, TokenKind};

pub static RULE: Rule = Rule {
    name: "constraint-validating-scan",
    category: Category::Locking,
    severity: Severity::Error,
    lock: Some(LockMode::AccessExclusive),
    summary: "ADD CONSTRAINT CHECK/FOREIGN KEY without NOT VALID scans the table under a write-blocking lock",
    doc: rule_doc!("constraint-validating-scan"),
    check: Check::Statement(check),
};

fn validating(c: &ConstraintDef) -> bool {
    !c.not_valid
        && matches!(
            c.kind,
            ConstraintKind::Check { .. }
                | ConstraintKind::ForeignKey { .. }
                | ConstraintKind::NotNull { .. }
        )
}

fn check(cx: &StatementCx) -> Vec<Finding> {
    cx.actions()
        .filter_map(|action| {
            let (constraint, separate) = match super::alter_op(action)? {
                AlterOp::AddConstraint(c) => Some((c, true)),
                // a column constraint cannot be NOT VALID: no fix
                AlterOp::AddColumn(column) => column.constraints.iter().find(|c| validating(c)).map(|c| (c, false)),
                _ => None,
            }
            .filter(|(c, _)| validating(c))?;
            // the scan reads the altered table: harmless when the migrations just created it
            let table = action.locks.first().filter(|l| l.existing)?;
            let lock = action.strongest_existing_lock().unwrap_or(table);
            let what = match &constraint.kind {
                ConstraintKind::ForeignKey { references, .. } => format!("foreign key to `{references}`"),
                ConstraintKind::NotNull { column } => format!("NOT NULL constraint on `{column}`"),
                _ => "CHECK constraint".to_owned(),
            };
            let name = constraint.name.as_deref().map(|n| format!(" `{n}`")).unwrap_or_default();
            Some(
                Finding::new(&RULE, constraint.span, format!(
                    "adding the {what}{name} validates every existing row of `{}` while holding {}",
                    table.relation, lock.mode
                ))
                .help("add it with `NOT VALID`, then run `VALIDATE CONSTRAINT` in a separate transaction (SHARE UPDATE EXCLUSIVE: reads and writes continue)")
                .with_lock(lock)
                .version_facts(action)
                .fix(separate.then(|| not_valid_fix(cx, action, constraint)).flatten()),
            )
        })
        .collect()
}

/// The words of the statement's `ALTER TABLE [IF EXISTS] [ONLY] name` that spell the name.
fn table_as_written(sql: &str, statement: Span) -> Option<&str> {
    let mut tokens = Lexer::new(&sql[..statement.end], statement.start)
        .filter(|t| !t.is_trivia())
        .peekable();
    let head: Vec<_> = tokens.by_ref().take(2).collect();
    if !(head.len() == 2 && head[0].is_word(sql, "alter") && head[1].is_word(sql, "table")) {
        return None;
    }
    while tokens
        .peek()
        .is_some_and(|t| ["if", "exists", "only"].iter().any(|w| t.is_word(sql, w)))
    {
        tokens.next();
    }
    let mut name: Option<Span> = None;
    for token in tokens {
        let part = matches!(token.kind, TokenKind::Word | TokenKind::QuotedIdent);
        let joins = name.is_some_and(|n| sql[n.start..n.end].ends_with('.'));
        match (name, part, token.kind) {
            (None, true, _) => name = Some(token.span),
            (Some(n), true, _) if joins => name = Some(n.cover(token.span)),
            (Some(n), false, TokenKind::Dot) => name = Some(n.cover(token.span)),
            _ => break,
        }
    }
    name.map(|n| &sql[n.start..n.end])
}

/// PostgreSQL's own name for an unnamed constraint, when it is certain: `<table>_<cols>_fkey`
/// and (18) `<table>_<col>_not_null`, for plain lower-case names within 63 bytes. A CHECK's
/// name depends on the columns its expression reads first, which pgrisk does not follow.
fn default_name(table: &str, kind: &ConstraintKind) -> Option<String> {
    let name = match kind {
        ConstraintKind::ForeignKey { columns, .. } => format!("{table}_{}_fkey", columns.join("_")),
        ConstraintKind::NotNull { column } => format!("{table}_{column}_not_null"),
        _ => return None,
    };
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    (plain && name.len() <= 63).then_some(name)
}

/// `NOT VALID` on the constraint, and `ALTER TABLE ... VALIDATE CONSTRAINT` right after the
/// statement. Safe only in autocommit, where the validation is its own transaction; an
/// unnamed constraint gets the name PostgreSQL would give it, when that is certain.
fn not_valid_fix(cx: &StatementCx, action: &Action, constraint: &ConstraintDef) -> Option<Fix> {
    let sql = cx.file.source.sql();
    let table = table_as_written(sql, cx.statement.span)?;
    let ActionKind::AlterTable {
        table: relation, ..
    } = &action.kind
    else {
        return None;
    };
    let written_name = Lexer::new(&sql[..constraint.span.end], constraint.span.start)
        .filter(|t| !t.is_trivia())
        .skip_while(|t| !t.is_word(sql, "constraint"))
        .nth(1)
        .map(|t| t.text(sql).to_owned());
    // a name already on the table would make the explicit name fail
    let generated = default_name(&relation.name, &constraint.kind).filter(|n| {
        cx.catalog
            .table(relation)
            .is_none_or(|t| t.constraints.iter().all(|c| c.name.as_ref() != Some(n)))
    });
    let name = written_name
        .clone()
        .or_else(|| generated.clone())
        .unwrap_or_else(|| format!("{}_check", relation.name));
    let partitioned = cx
        .catalog
        .table(relation)
        .is_some_and(|t| t.partitioned == Some(true));
    let why_not = if cx.statement.before.in_transaction() {
        Some(
            "validate it in a later migration: in this transaction the validation keeps the lock (validate-in-same-transaction)",
        )
    } else if written_name.is_none() && generated.is_none() {
        Some(
            "pick the constraint's name: PostgreSQL names an unnamed CHECK after the columns it reads",
        )
    } else if partitioned && matches!(constraint.kind, ConstraintKind::ForeignKey { .. }) {
        Some("before PostgreSQL 18 a foreign key on a partitioned table cannot be NOT VALID")
    } else {
        None
    };
    let mut edits = Vec::new();
    if written_name.is_none() {
        edits.push(Edit {
            span: constraint.span.start_point(),
            insert: format!("CONSTRAINT {name} "),
        });
    }
    edits.push(Edit {
        span: constraint.span.end_point(),
        insert: " NOT VALID".into(),
    });
    // after the statement's line (and its trailing comment), at its indentation
    let end = cx.statement.span.end;
    let line_end = super::line_end(sql, end);
    let rest = sql[end..line_end].trim();
    let at = if rest.is_empty() || rest.starts_with("--") {
        line_end
    } else {
        end
    };
    let newline = super::line_break(sql);
    let indent = super::indentation(sql, cx.statement.span.start);
    edits.push(Edit {
        span: Span::new(at, at),
        insert: format!("{newline}{indent}ALTER TABLE {table} VALIDATE CONSTRAINT {name};"),
    });
    let (title, applicability) = match why_not {
        Some(why) => (
            format!("add the constraint NOT VALID and validate it separately ({why})"),
            Applicability::Suggestion,
        ),
        None => (
            "add the constraint NOT VALID, then validate it in its own transaction".to_owned(),
            Applicability::Safe,
        ),
    };
    Some(Fix {
        title,
        applicability,
        edits,
    })
}
