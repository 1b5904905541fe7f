//! PostgreSQL knowledge as data: which lock each statement form takes, which version
//! changed what, which functions are volatile, which type changes are binary-coercible.
//! Rules ask these tables; they never restate PostgreSQL behaviour themselves.

use super::LockMode::{self, *};
use super::model::{DefaultExpr, TypeName};
use crate::source::Span;
use crate::source::lex::{TokenKind, tokens};

const ALTER_TABLE_DOC: &str = "https://www.postgresql.org/docs/current/sql-altertable.html";

/// Lock taken on the altered table by each `ALTER TABLE` action that is not decided by
/// its details. "An ACCESS EXCLUSIVE lock is acquired unless explicitly noted" (ALTER TABLE docs).
pub const ALTER_TABLE_LOCKS: &[(&str, LockMode)] = &[
    ("ALTER COLUMN SET STATISTICS", ShareUpdateExclusive),
    ("ALTER COLUMN SET OPTIONS", ShareUpdateExclusive),
    ("SET (light parameters)", ShareUpdateExclusive),
    ("RESET (light parameters)", ShareUpdateExclusive),
    ("CLUSTER ON", ShareUpdateExclusive),
    ("SET WITHOUT CLUSTER", ShareUpdateExclusive),
    ("VALIDATE CONSTRAINT", ShareUpdateExclusive),
    ("ENABLE TRIGGER", ShareRowExclusive),
    ("DISABLE TRIGGER", ShareRowExclusive),
    ("ADD FOREIGN KEY", ShareRowExclusive),
];

/// Storage parameters whose change takes only SHARE UPDATE EXCLUSIVE (ALTER TABLE docs, SET).
pub const SUE_TABLE_PARAMETERS: &[&str] = &[
    "fillfactor",
    "autovacuum_*",
    "toast.autovacuum_*",
    "vacuum_*",
    "toast.vacuum_*",
    "parallel_workers",
    "log_autovacuum_min_duration",
    "toast_tuple_target",
    "user_catalog_table",
];

pub fn alter_table_lock(what: &str) -> LockMode {
    ALTER_TABLE_LOCKS
        .iter()
        .find(|(form, _)| *form == what)
        .map_or(AccessExclusive, |(_, mode)| *mode)
}

/// A PostgreSQL behaviour that begins at a major version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// ADD COLUMN with a non-volatile default stores the default in the catalog, no rewrite.
    FastColumnDefault,
    /// SET NOT NULL skips the scan when a validated `CHECK (col IS NOT NULL)` proves it.
    NotNullFromCheck,
    ReindexConcurrently,
    /// ATTACH PARTITION takes SHARE UPDATE EXCLUSIVE on the parent instead of ACCESS EXCLUSIVE.
    AttachPartitionLightParentLock,
    DetachPartitionConcurrently,
    /// DETACH PARTITION takes ACCESS EXCLUSIVE on the partition too (SHARE UPDATE EXCLUSIVE before).
    DetachPartitionLocksPartition,
    /// ALTER TYPE ... ADD VALUE may run inside a transaction block.
    EnumAddValueInTransaction,
    /// timestamp → timestamptz needs no rewrite when the session time zone is UTC.
    TimestamptzWithoutRewrite,
    /// `CONSTRAINT name NOT NULL col NOT VALID`, validated later.
    NotNullConstraintNotValid,
    /// `GENERATED ... AS IDENTITY` columns, the standard replacement for serial.
    IdentityColumns,
    /// `GENERATED ALWAYS AS (expr) VIRTUAL` columns (and the default kind of generated column).
    VirtualGeneratedColumns,
}

#[derive(Debug)]
pub struct VersionFact {
    pub feature: Feature,
    pub since: u32,
    pub text: &'static str,
    pub doc: &'static str,
}

pub const VERSION_FACTS: &[VersionFact] = &[
    VersionFact {
        feature: Feature::IdentityColumns,
        since: 10,
        text: "identity columns exist since PostgreSQL 10",
        doc: "https://www.postgresql.org/docs/current/sql-createtable.html",
    },
    VersionFact {
        feature: Feature::FastColumnDefault,
        since: 11,
        text: "since PostgreSQL 11, ADD COLUMN with a non-volatile default does not rewrite the table",
        doc: ALTER_TABLE_DOC,
    },
    VersionFact {
        feature: Feature::NotNullFromCheck,
        since: 12,
        text: "since PostgreSQL 12, SET NOT NULL skips the full scan when a valid CHECK (col IS NOT NULL) exists",
        doc: ALTER_TABLE_DOC,
    },
    VersionFact {
        feature: Feature::ReindexConcurrently,
        since: 12,
        text: "REINDEX CONCURRENTLY exists since PostgreSQL 12",
        doc: "https://www.postgresql.org/docs/current/sql-reindex.html",
    },
    VersionFact {
        feature: Feature::AttachPartitionLightParentLock,
        since: 12,
        text: "since PostgreSQL 12, ATTACH PARTITION takes SHARE UPDATE EXCLUSIVE on the parent (ACCESS EXCLUSIVE before)",
        doc: ALTER_TABLE_DOC,
    },
    VersionFact {
        feature: Feature::DetachPartitionConcurrently,
        since: 14,
        text: "DETACH PARTITION ... CONCURRENTLY exists since PostgreSQL 14",
        doc: ALTER_TABLE_DOC,
    },
    VersionFact {
        feature: Feature::DetachPartitionLocksPartition,
        since: 14,
        // observed with pg_locks on PostgreSQL 13 and 14-18 (tests/trace.rs)
        text: "since PostgreSQL 14, DETACH PARTITION takes ACCESS EXCLUSIVE on the partition as well as the parent (SHARE UPDATE EXCLUSIVE on the partition before)",
        doc: ALTER_TABLE_DOC,
    },
    VersionFact {
        feature: Feature::EnumAddValueInTransaction,
        since: 12,
        text: "before PostgreSQL 12, ALTER TYPE ... ADD VALUE cannot run inside a transaction block; since 12 the new value cannot be used until the transaction commits",
        doc: "https://www.postgresql.org/docs/current/sql-altertype.html",
    },
    VersionFact {
        feature: Feature::TimestamptzWithoutRewrite,
        since: 12,
        text: "since PostgreSQL 12, timestamp → timestamptz skips the rewrite when the session TimeZone is UTC",
        doc: ALTER_TABLE_DOC,
    },
    VersionFact {
        feature: Feature::NotNullConstraintNotValid,
        since: 18,
        text: "since PostgreSQL 18, NOT NULL constraints can be added NOT VALID and validated later",
        doc: ALTER_TABLE_DOC,
    },
    VersionFact {
        feature: Feature::VirtualGeneratedColumns,
        since: 18,
        text: "since PostgreSQL 18, VIRTUAL generated columns are computed on read and added without a rewrite",
        doc: "https://www.postgresql.org/docs/current/ddl-generated-columns.html",
    },
];

pub fn version_fact(feature: Feature) -> &'static VersionFact {
    VERSION_FACTS
        .iter()
        .find(|f| f.feature == feature)
        .expect("every Feature has a row in VERSION_FACTS")
}

pub fn available(feature: Feature, pg_version: u32) -> bool {
    pg_version >= version_fact(feature).since
}

/// Volatile built-ins seen in column defaults: each row is evaluated per existing row,
/// so ADD COLUMN must rewrite the table. `now()`/`current_timestamp` are STABLE, not here.
/// Integer types narrower than `bigint` and their largest value (the sequence behind a
/// serial stops there too): https://www.postgresql.org/docs/current/datatype-numeric.html
pub const NARROW_INTEGER_MAX: &[(&str, &str)] = &[
    ("smallint", "32,767"),
    ("smallserial", "32,767"),
    ("integer", "2,147,483,647"),
    ("serial", "2,147,483,647"),
];

/// An object kind whose `CREATE` or `DROP` takes an existence guard right after its words:
/// `CREATE <words> [CONCURRENTLY] IF NOT EXISTS`, `DROP <words> [CONCURRENTLY] IF EXISTS`.
#[derive(Debug)]
pub struct GuardForm {
    /// The object words, upper case, one space apart.
    pub words: &'static str,
    /// First major with the guard (9 stands for 9.x: every 9 release pgrisk targets has it).
    pub since: u32,
}

const fn guard(words: &'static str, since: u32) -> GuardForm {
    GuardForm { words, since }
}

/// `CREATE ... IF NOT EXISTS` (the synopsis of each CREATE page,
/// https://www.postgresql.org/docs/current/sql-commands.html). Forms without it (`VIEW`,
/// `TYPE`, `FUNCTION`, `DOMAIN`, `ROLE`, ...) are absent: they have `OR REPLACE` or nothing.
pub const CREATE_IF_NOT_EXISTS: &[GuardForm] = &[
    guard("TABLE", 9),
    guard("INDEX", 9),
    guard("SEQUENCE", 9),
    guard("SCHEMA", 9),
    guard("EXTENSION", 9),
    guard("MATERIALIZED VIEW", 9),
    guard("FOREIGN TABLE", 9),
    guard("SERVER", 9),
    guard("USER MAPPING", 9),
    guard("STATISTICS", 10),
    guard("COLLATION", 10),
];

/// `DROP ... IF EXISTS` (every DROP page but `DROP OWNED`); longer forms first, so that
/// `FOREIGN TABLE` is not read as `FOREIGN DATA WRAPPER` and `OPERATOR CLASS` wins over
/// `OPERATOR`.
pub const DROP_IF_EXISTS: &[GuardForm] = &[
    guard("MATERIALIZED VIEW", 9),
    guard("FOREIGN DATA WRAPPER", 9),
    guard("FOREIGN TABLE", 9),
    guard("TEXT SEARCH CONFIGURATION", 9),
    guard("TEXT SEARCH DICTIONARY", 9),
    guard("TEXT SEARCH PARSER", 9),
    guard("TEXT SEARCH TEMPLATE", 9),
    guard("OPERATOR CLASS", 9),
    guard("OPERATOR FAMILY", 9),
    guard("EVENT TRIGGER", 9),
    guard("USER MAPPING", 9),
    guard("ACCESS METHOD", 9),
    guard("TABLE", 9),
    guard("VIEW", 9),
    guard("INDEX", 9),
    guard("SEQUENCE", 9),
    guard("SCHEMA", 9),
    guard("TYPE", 9),
    guard("DOMAIN", 9),
    guard("FUNCTION", 9),
    guard("PROCEDURE", 11),
    guard("ROUTINE", 11),
    guard("AGGREGATE", 9),
    guard("OPERATOR", 9),
    guard("EXTENSION", 9),
    guard("TRIGGER", 9),
    guard("RULE", 9),
    guard("POLICY", 9),
    guard("SERVER", 9),
    guard("COLLATION", 9),
    guard("CONVERSION", 9),
    guard("LANGUAGE", 9),
    guard("CAST", 9),
    guard("TRANSFORM", 9),
    guard("PUBLICATION", 10),
    guard("SUBSCRIPTION", 10),
    guard("STATISTICS", 10),
    guard("ROLE", 9),
    guard("USER", 9),
    guard("GROUP", 9),
    guard("DATABASE", 9),
    guard("TABLESPACE", 9),
];

/// Words that may stand between `CREATE` and the object words.
pub const CREATE_MODIFIERS: &[&str] = &[
    "or",
    "replace",
    "global",
    "local",
    "temp",
    "temporary",
    "unlogged",
    "unique",
    "recursive",
    "trusted",
    "procedural",
    "default",
];

/// Tables migration runners keep their own bookkeeping in. Only the runner uses them (a
/// migration clearing a dirty flag is no backfill), so rules treat them as new.
pub const MIGRATION_TOOL_TABLES: &[&str] = &[
    "schema_migrations",          // golang-migrate, dbmate, Rails
    "flyway_schema_history",      // Flyway
    "schema_version",             // Flyway before 5
    "goose_db_version",           // goose
    "__diesel_schema_migrations", // diesel
    "_sqlx_migrations",           // sqlx
    "_prisma_migrations",         // Prisma
    "knex_migrations",            // knex
    "knex_migrations_lock",
    "django_migrations", // Django
    "alembic_version",   // Alembic
    "databasechangelog", // Liquibase
    "databasechangeloglock",
    "gorp_migrations", // sql-migrate
];

pub const VOLATILE_FUNCTIONS: &[&str] = &[
    "random",
    "random_normal",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "nextval",
    "setseed",
    "txid_current",
    "pg_current_xact_id",
];

/// Functions known not to be volatile that appear in defaults (anything else is unknown).
pub const NON_VOLATILE_FUNCTIONS: &[&str] = &[
    "now",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtimestamp",
    "localtime",
    "statement_timestamp",
    "transaction_timestamp",
    "current_user",
    "session_user",
    "lower",
    "upper",
    "array",
    "jsonb_build_object",
    "json_build_object",
    "jsonb_build_array",
    "to_jsonb",
    "coalesce",
    "make_interval",
    "interval",
    "date_trunc",
    "timezone",
];

pub fn default_expr(src: &str, span: Span) -> DefaultExpr {
    let text = src[span.start..span.end].trim().to_owned();
    let toks = tokens(&text);
    let mut volatile_call = None;
    for pair in toks.windows(2) {
        if pair[0].kind == TokenKind::Word && pair[1].kind == TokenKind::LParen {
            let name = pair[0].text(&text).to_ascii_lowercase();
            let known_stable = NON_VOLATILE_FUNCTIONS.contains(&name.as_str());
            let volatile = VOLATILE_FUNCTIONS.contains(&name.as_str());
            if volatile || !known_stable && !is_type_constructor(&name) {
                volatile_call = Some(name);
                break;
            }
        }
    }
    DefaultExpr {
        is_null: text.eq_ignore_ascii_case("null"),
        text,
        volatile_call,
    }
}

/// `numeric(10, 2)` or `varchar(20)` inside a cast are types, not calls.
fn is_type_constructor(name: &str) -> bool {
    canonical_type(name).is_some()
}

/// Aliases → PostgreSQL's canonical type names (`format_type` output).
const TYPE_ALIASES: &[(&str, &str)] = &[
    ("int", "integer"),
    ("int4", "integer"),
    ("integer", "integer"),
    ("int8", "bigint"),
    ("bigint", "bigint"),
    ("int2", "smallint"),
    ("smallint", "smallint"),
    ("serial", "serial"),
    ("serial4", "serial"),
    ("bigserial", "bigserial"),
    ("serial8", "bigserial"),
    ("smallserial", "smallserial"),
    ("serial2", "smallserial"),
    ("varchar", "character varying"),
    ("character varying", "character varying"),
    ("char varying", "character varying"),
    ("char", "character"),
    ("character", "character"),
    ("bpchar", "character"),
    ("text", "text"),
    ("citext", "citext"),
    ("numeric", "numeric"),
    ("decimal", "numeric"),
    ("bool", "boolean"),
    ("boolean", "boolean"),
    ("float8", "double precision"),
    ("double precision", "double precision"),
    ("float4", "real"),
    ("real", "real"),
    ("timestamp", "timestamp without time zone"),
    ("timestamp without time zone", "timestamp without time zone"),
    ("timestamptz", "timestamp with time zone"),
    ("timestamp with time zone", "timestamp with time zone"),
    ("time", "time without time zone"),
    ("time without time zone", "time without time zone"),
    ("timetz", "time with time zone"),
    ("time with time zone", "time with time zone"),
    ("date", "date"),
    ("interval", "interval"),
    ("json", "json"),
    ("jsonb", "jsonb"),
    ("uuid", "uuid"),
    ("bytea", "bytea"),
    ("inet", "inet"),
    ("cidr", "cidr"),
    ("money", "money"),
    ("xml", "xml"),
    ("bit", "bit"),
    ("varbit", "bit varying"),
    ("bit varying", "bit varying"),
];

pub fn canonical_type(name: &str) -> Option<&'static str> {
    TYPE_ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map(|(_, c)| *c)
}

/// Reads a type as written (`varchar(255)`, `timestamp(3) with time zone`, `public.mood[]`).
pub fn type_name(src: &str, span: Span) -> Option<TypeName> {
    let text = &src[span.start..span.end];
    let toks = tokens(text);
    let mut words = Vec::new();
    let mut modifiers = Vec::new();
    let mut array = false;
    let mut depth = 0;
    for t in &toks {
        match t.kind {
            TokenKind::LParen => depth += 1,
            TokenKind::RParen => depth -= 1,
            TokenKind::Number if depth > 0 => modifiers.extend(t.text(text).parse::<i64>().ok()),
            TokenKind::LBracket => array = true,
            TokenKind::Word | TokenKind::QuotedIdent if depth == 0 => {
                words.push(t.text(text).trim_matches('"').to_ascii_lowercase())
            }
            TokenKind::Dot if depth == 0 => words.clear(),
            _ => {}
        }
    }
    if words.last().is_some_and(|w| w == "array") {
        words.pop();
        array = true;
    }
    if words.is_empty() {
        return None;
    }
    let written = words.join(" ");
    let name = canonical_type(&written).map_or(written, str::to_owned);
    Some(TypeName {
        name,
        modifiers,
        array,
    })
}

/// `USING col` or `USING col::type`: PostgreSQL sees no new value to compute, so a
/// binary-coercible change still skips the rewrite.
pub fn is_plain_column_cast(using: &str, column: &str) -> bool {
    let expr = using.trim();
    let head = expr
        .split("::")
        .next()
        .unwrap_or("")
        .trim()
        .trim_matches('"');
    head.eq_ignore_ascii_case(column)
}

/// Whether changing a column from `old` to `new` needs no table rewrite (binary-coercible
/// with no stricter check), per the ALTER TABLE docs' notes on rewrites.
pub fn type_change_needs_rewrite(old: &TypeName, new: &TypeName, pg_version: u32) -> bool {
    if old.array != new.array {
        return true;
    }
    let widened = |old_mods: &[i64], new_mods: &[i64]| match (old_mods, new_mods) {
        (_, []) => true,
        ([], [_, ..]) => false,
        ([o, ..], [n, ..]) => n >= o,
    };
    let (o, n) = (old.name.as_str(), new.name.as_str());
    let coercible = match (o, n) {
        ("character varying", "character varying") => widened(&old.modifiers, &new.modifiers),
        ("character varying", "text") | ("text", "character varying") => {
            o == "character varying" || new.modifiers.is_empty()
        }
        ("character", "text") | ("character", "character varying") => false,
        ("numeric", "numeric") => match (old.modifiers.as_slice(), new.modifiers.as_slice()) {
            (_, []) => true,
            ([op, os], [np, ns]) => ns == os && np >= op,
            ([op], [np]) => np >= op,
            _ => false,
        },
        ("bit varying", "bit varying") => widened(&old.modifiers, &new.modifiers),
        ("timestamp without time zone", "timestamp with time zone") => {
            available(Feature::TimestamptzWithoutRewrite, pg_version)
        }
        ("citext", "text") | ("text", "citext") => false,
        (a, b) => a == b && old.modifiers == new.modifiers,
    };
    !coercible
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(s: &str) -> TypeName {
        type_name(s, Span::new(0, s.len())).unwrap()
    }

    #[test]
    fn types_print_with_their_modifiers_as_postgres_does() {
        let printed = |s: &str| ty(s).to_string();
        assert_eq!(printed("varchar(26)"), "character varying(26)");
        assert_eq!(printed("varchar"), "character varying");
        assert_eq!(printed("NUMERIC(10, 2)"), "numeric(10,2)");
        assert_eq!(printed("timestamptz(3)"), "timestamp(3) with time zone");
        assert_eq!(printed("int[]"), "integer[]");
    }

    #[test]
    fn normalizes_type_aliases_and_modifiers() {
        assert_eq!(ty("VARCHAR(255)").name, "character varying");
        assert_eq!(ty("varchar(255)").modifiers, vec![255]);
        assert_eq!(ty("timestamptz").name, "timestamp with time zone");
        assert_eq!(
            ty("timestamp(3) with time zone").name,
            "timestamp with time zone"
        );
        assert!(ty("text[]").array);
        assert_eq!(ty("public.mood").name, "mood");
    }

    #[test]
    fn binary_coercible_changes_do_not_rewrite() {
        assert!(!type_change_needs_rewrite(
            &ty("varchar(10)"),
            &ty("varchar(20)"),
            16
        ));
        assert!(type_change_needs_rewrite(
            &ty("varchar(20)"),
            &ty("varchar(10)"),
            16
        ));
        assert!(!type_change_needs_rewrite(
            &ty("varchar(10)"),
            &ty("text"),
            16
        ));
        assert!(!type_change_needs_rewrite(
            &ty("numeric(10,2)"),
            &ty("numeric(12,2)"),
            16
        ));
        assert!(type_change_needs_rewrite(
            &ty("numeric(10,2)"),
            &ty("numeric(12,3)"),
            16
        ));
        assert!(type_change_needs_rewrite(&ty("int"), &ty("bigint"), 16));
        assert!(!type_change_needs_rewrite(
            &ty("timestamp"),
            &ty("timestamptz"),
            16
        ));
        assert!(type_change_needs_rewrite(
            &ty("timestamp"),
            &ty("timestamptz"),
            11
        ));
    }

    #[test]
    fn volatile_defaults_are_detected() {
        let d = |s: &str| default_expr(s, Span::new(0, s.len()));
        assert_eq!(
            d("gen_random_uuid()").volatile_call.as_deref(),
            Some("gen_random_uuid")
        );
        assert_eq!(d("now()").volatile_call, None);
        assert_eq!(d("'pending'::text").volatile_call, None);
        assert_eq!(d("0").volatile_call, None);
        assert_eq!(d("my_func()").volatile_call.as_deref(), Some("my_func"));
    }

    #[test]
    fn every_feature_has_a_version_fact() {
        use Feature::*;
        for f in [
            FastColumnDefault,
            IdentityColumns,
            NotNullFromCheck,
            ReindexConcurrently,
            AttachPartitionLightParentLock,
            DetachPartitionConcurrently,
            DetachPartitionLocksPartition,
            EnumAddValueInTransaction,
            TimestamptzWithoutRewrite,
            NotNullConstraintNotValid,
            VirtualGeneratedColumns,
        ] {
            assert!(version_fact(f).since >= 10);
        }
    }
}
