//! Rule names of the linters teams arrive from, mapped to pgrisk's, so their suppression
//! comments (`-- squawk-ignore ban-drop-column`, `-- eugene: ignore E6`) keep silencing the
//! findings the team already accepted. An empty list: that rule has no pgrisk counterpart.
//! Sources: squawk's rules overview (squawkhq.com/docs/rules) and eugene's hint ids.

/// squawk rule → pgrisk rules.
pub static SQUAWK: &[(&str, &[&str])] = &[
    ("adding-field-with-default", &["add-column-rewrite"]),
    (
        "adding-foreign-key-constraint",
        &["constraint-validating-scan"],
    ),
    (
        "adding-not-nullable-field",
        &["set-not-null-scan", "add-column-required"],
    ),
    ("adding-required-field", &["add-column-required"]),
    (
        "adding-serial-primary-key-field",
        &["add-column-rewrite", "unique-constraint-blocking"],
    ),
    ("ban-alter-domain-with-add-constraint", &[]),
    ("ban-char-field", &["char-column"]),
    (
        "ban-concurrent-index-creation-in-transaction",
        &["concurrently-in-transaction"],
    ),
    ("ban-create-domain-with-constraint", &[]),
    ("ban-drop-column", &["drop-column"]),
    ("ban-drop-database", &[]),
    ("ban-drop-not-null", &[]),
    ("ban-drop-table", &["drop-table"]),
    ("ban-truncate-cascade", &["truncate-table"]),
    ("ban-uncommitted-transaction", &["transaction-unterminated"]),
    ("changing-column-type", &["alter-column-type-rewrite"]),
    (
        "constraint-missing-not-valid",
        &["constraint-validating-scan", "validate-in-same-transaction"],
    ),
    (
        "disallowed-unique-constraint",
        &["unique-constraint-blocking"],
    ),
    ("identifier-too-long", &["identifier-too-long"]),
    ("prefer-big-int", &["int-id-overflow"]),
    ("prefer-bigint-over-int", &["int-id-overflow"]),
    ("prefer-bigint-over-smallint", &["int-id-overflow"]),
    ("prefer-identity", &["serial-column"]),
    ("prefer-repack", &["table-rewrite"]),
    ("prefer-robust-stmts", &["migration-not-rerunnable"]),
    ("prefer-text-field", &[]),
    ("prefer-timestamptz", &["timestamp-without-timezone"]),
    ("renaming-column", &["rename-column"]),
    ("renaming-table", &["rename-table"]),
    (
        "require-concurrent-index-creation",
        &["create-index-blocking"],
    ),
    (
        "require-concurrent-index-deletion",
        &["drop-index-blocking"],
    ),
    (
        "require-concurrent-partition-detach",
        &["detach-partition-blocking"],
    ),
    ("require-concurrent-reindex", &["reindex-blocking"]),
    ("require-enum-value-ordering", &[]),
    ("require-table-schema", &[]),
    ("require-timeout-settings", &["lock-without-timeout"]),
    ("syntax-error", &["unparsed-statement"]),
    ("transaction-nesting", &["transaction-nesting"]),
];

/// eugene hint id → pgrisk rules.
pub static EUGENE: &[(&str, &[&str])] = &[
    ("E1", &["constraint-validating-scan"]),
    ("E2", &["set-not-null-scan"]),
    ("E3", &["json-column"]),
    ("E4", &["lock-held-across-statements"]),
    ("E5", &["alter-column-type-rewrite"]),
    ("E6", &["create-index-blocking"]),
    ("E7", &["unique-constraint-blocking"]),
    ("E8", &["exclusion-constraint-blocking"]),
    ("E9", &["lock-without-timeout"]),
    (
        "E10",
        &[
            "table-rewrite",
            "add-column-rewrite",
            "alter-column-type-rewrite",
        ],
    ),
    ("E11", &["add-column-rewrite"]),
    ("W12", &["alter-table-repeated"]),
    ("W13", &[]),
    ("W14", &["primary-key-not-null-scan"]),
];
