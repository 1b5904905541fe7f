//! Stage 2: statement text → sqlparser AST (PostgreSqlDialect). A rejection is a value
//! carrying the parser's message, never an error: the analysis reads every statement
//! from its tokens anyway, and the summary counts what sqlparser could not parse.

use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// sqlparser's own recursion guard turns deep nesting into an error instead of a stack overflow.
const RECURSION_LIMIT: usize = 200;

pub fn parse(sql: &str) -> Result<Vec<Statement>, String> {
    let sql = crate::source::template::neutralize_psql_variables(sql);
    Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(&sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_postgres_ddl() {
        assert!(parse("CREATE INDEX CONCURRENTLY i ON t (a);").is_ok());
    }

    #[test]
    fn rejection_is_a_message() {
        let err = parse("ALTER TABLE t DETACH PARTITION p CONCURRENTLY;").unwrap_err();
        assert!(!err.is_empty());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let sql = format!("SELECT {}1{};", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&sql).is_err());
    }
}
