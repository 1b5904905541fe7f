//! fixtures/layouts: one small project per migration runner. Discovery must find the "up"
//! files in the runner's own order, name the runner, and know which files it runs without a
//! transaction (fixtures/layouts/README.md says what each project shows).

use std::path::PathBuf;

use pgrisk::source::SourceFile;
use pgrisk::source::discover::{DiscoverOptions, Framework, TxMode, discover};

use TxMode::{Autocommit as A, ImplicitMulti as M, Wrapped as W};

/// A project directory, its runner, and its "up" files in run order with their mode.
type Layout = (&'static str, Framework, &'static [(&'static str, TxMode)]);

#[test]
fn each_runner_layout_is_found_in_order_with_its_transaction_mode() {
    let cases: &[Layout] = &[
        // numeric order: 002 before 010
        (
            "plain",
            Framework::Plain,
            &[
                ("001_create_users.sql", A),
                ("002_create_orders.sql", A),
                ("010_add_orders_user_index.sql", A),
            ],
        ),
        // `-- +goose NO TRANSACTION`
        (
            "goose",
            Framework::Goose,
            &[
                ("00001_create_users.sql", W),
                ("00002_create_orders.sql", W),
                ("00003_add_orders_user_index.sql", A),
            ],
        ),
        // `-- +migrate Up/Down` sections (two of each in one file), `StatementBegin/End`, and
        // `-- +migrate Up notransaction`; numeric order (2 before 10)
        (
            "sql-migrate",
            Framework::SqlMigrate,
            &[
                ("1_create_users.sql", W),
                ("2_orders.sql", W),
                ("10_index_orders_user_id.sql", A),
            ],
        ),
        // `-- migrate:up transaction:false`: the file goes as one multi-statement query
        (
            "dbmate/db/migrations",
            Framework::Dbmate,
            &[
                ("20240101000000_create_users.sql", W),
                ("20240102000000_add_users_email.sql", W),
                ("20240103000000_index_users_email.sql", M),
            ],
        ),
        // down files are skipped
        (
            "golang-migrate",
            Framework::GolangMigrate,
            &[
                ("000001_init.up.sql", M),
                ("000002_create_orders.up.sql", M),
                ("000003_add_orders_user_index.up.sql", M),
            ],
        ),
        // `-- no-transaction`
        (
            "sqlx/migrations",
            Framework::Sqlx,
            &[
                ("20240101000000_create_users.sql", W),
                ("20240102000000_create_orders.sql", W),
                ("20240103000000_index_orders_user_id.sql", M),
            ],
        ),
        // `metadata.toml` with `run_in_transaction = false`
        (
            "diesel/migrations",
            Framework::Diesel,
            &[
                ("2024-01-01-000000_create_users/up.sql", W),
                ("2024-01-02-000000_create_orders/up.sql", W),
                ("2024-01-03-000000_index_orders_user_id/up.sql", M),
            ],
        ),
        // dotted versions (1.2 before 1.10), repeatable last, `.sql.conf` and CONCURRENTLY
        (
            "flyway",
            Framework::Flyway,
            &[
                ("V1__init.sql", W),
                ("V1.1__add_email.sql", W),
                ("V1.2__create_orders.sql", W),
                ("V1.10__create_payments.sql", W),
                ("V1.11__index_payments_order_id.sql", A),
                ("V1.12__index_orders_user_id.sql", A),
                ("R__order_totals_view.sql", W),
            ],
        ),
        (
            "prisma/migrations",
            Framework::Prisma,
            &[
                ("20240101000000_init/migration.sql", M),
                ("20240102000000_add_payments/migration.sql", M),
            ],
        ),
    ];
    let root = crate::support::root().join("fixtures/layouts");
    for (dir, framework, expected) in cases {
        let dir = root.join(dir);
        let found = discover(std::slice::from_ref(&dir), &DiscoverOptions::default());
        assert!(
            found.errors.is_empty() && found.warnings.is_empty(),
            "{dir:?}"
        );
        let seen: Vec<(PathBuf, Framework, TxMode)> = found
            .files
            .iter()
            .map(|f| {
                (
                    f.path.strip_prefix(&dir).unwrap().to_owned(),
                    f.framework,
                    f.tx,
                )
            })
            .collect();
        let wanted: Vec<(PathBuf, Framework, TxMode)> = expected
            .iter()
            .map(|(name, tx)| (PathBuf::from(name), *framework, *tx))
            .collect();
        assert_eq!(seen, wanted, "{dir:?}");
    }
}

/// Every project's "down" part (down sections, `*.down.sql`, diesel `down.sql`, Flyway undo
/// `U` files) is a `DROP` or a narrowing type change; no statement of it may be linted, or a
/// rollback is reported as if it ran forward.
#[test]
fn no_runner_lints_its_down_part() {
    let root = crate::support::root().join("fixtures/layouts");
    for dir in [
        "goose",
        "sql-migrate",
        "dbmate/db/migrations",
        "golang-migrate",
        "diesel/migrations",
        "flyway",
    ] {
        let dir = root.join(dir);
        let on_disk = std::fs::read_dir(&dir).is_ok_and(|entries| entries.count() > 0);
        assert!(on_disk, "{dir:?}");
        let found = discover(std::slice::from_ref(&dir), &DiscoverOptions::default());
        let mut linted = Vec::new();
        for file in found.files {
            let source = SourceFile::load(file);
            for statement in &source.statements {
                linted.push(source.statement_sql(statement).trim().to_owned());
            }
        }
        let from_down: Vec<&String> = linted
            .iter()
            .filter(|s| {
                s.starts_with("DROP") || s.contains("DROP COLUMN") || s.contains("TYPE varchar(50)")
            })
            .collect();
        assert!(
            from_down.is_empty(),
            "{dir:?} lints its down part: {from_down:?}"
        );
        assert!(!linted.is_empty(), "{dir:?}");
    }
}
