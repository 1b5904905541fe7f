//! PostgreSQL table-level lock modes and their conflict matrix, as one table.
//! Source: https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
//! (Table 13.2, "Conflicting Lock Modes").

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum LockMode {
    AccessShare,
    RowShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    AccessExclusive,
}

use LockMode::*;

/// Row: a mode; columns: whether it conflicts with the mode in `ALL` at that index.
const CONFLICTS: [[bool; 8]; 8] = {
    const X: bool = true;
    const O: bool = false;
    [
        // AS RS RE SUE S SRE E AE
        [O, O, O, O, O, O, O, X], // ACCESS SHARE
        [O, O, O, O, O, O, X, X], // ROW SHARE
        [O, O, O, O, X, X, X, X], // ROW EXCLUSIVE
        [O, O, O, X, X, X, X, X], // SHARE UPDATE EXCLUSIVE
        [O, O, X, X, O, X, X, X], // SHARE
        [O, O, X, X, X, X, X, X], // SHARE ROW EXCLUSIVE
        [O, X, X, X, X, X, X, X], // EXCLUSIVE
        [X, X, X, X, X, X, X, X], // ACCESS EXCLUSIVE
    ]
};

impl LockMode {
    pub const ALL: [LockMode; 8] = [
        AccessShare,
        RowShare,
        RowExclusive,
        ShareUpdateExclusive,
        Share,
        ShareRowExclusive,
        Exclusive,
        AccessExclusive,
    ];

    pub fn conflicts_with(self, other: LockMode) -> bool {
        CONFLICTS[self as usize][other as usize]
    }

    /// The name the documentation and `LOCK TABLE ... IN <mode> MODE` use.
    pub fn sql_name(self) -> &'static str {
        match self {
            AccessShare => "ACCESS SHARE",
            RowShare => "ROW SHARE",
            RowExclusive => "ROW EXCLUSIVE",
            ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            Share => "SHARE",
            ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            Exclusive => "EXCLUSIVE",
            AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// The name `pg_locks.mode` reports.
    pub fn pg_locks_name(self) -> &'static str {
        match self {
            AccessShare => "AccessShareLock",
            RowShare => "RowShareLock",
            RowExclusive => "RowExclusiveLock",
            ShareUpdateExclusive => "ShareUpdateExclusiveLock",
            Share => "ShareLock",
            ShareRowExclusive => "ShareRowExclusiveLock",
            Exclusive => "ExclusiveLock",
            AccessExclusive => "AccessExclusiveLock",
        }
    }

    /// Parses either spelling (`SHARE ROW EXCLUSIVE` or `ShareRowExclusiveLock`).
    pub fn parse(name: &str) -> Option<LockMode> {
        let folded: String = name.split_whitespace().collect::<Vec<_>>().join(" ");
        LockMode::ALL
            .into_iter()
            .find(|m| m.sql_name().eq_ignore_ascii_case(&folded) || m.pg_locks_name() == folded)
    }

    /// SELECT takes ACCESS SHARE, so anything conflicting with it blocks reads.
    pub fn blocks_reads(self) -> bool {
        self.conflicts_with(AccessShare)
    }

    /// INSERT/UPDATE/DELETE take ROW EXCLUSIVE.
    pub fn blocks_writes(self) -> bool {
        self.conflicts_with(RowExclusive)
    }

    /// What a waiting or held lock of this mode stops, in words for messages.
    pub fn blocks_summary(self) -> &'static str {
        match (self.blocks_reads(), self.blocks_writes()) {
            (true, _) => "blocks all reads and writes",
            (false, true) => "blocks writes (INSERT, UPDATE, DELETE), not reads",
            (false, false) => "blocks schema changes and VACUUM, not reads or writes",
        }
    }
}

impl std::fmt::Display for LockMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.sql_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_matrix_is_symmetric() {
        for a in LockMode::ALL {
            for b in LockMode::ALL {
                assert_eq!(a.conflicts_with(b), b.conflicts_with(a), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn documented_examples_hold() {
        assert!(!Share.conflicts_with(Share));
        assert!(ShareRowExclusive.conflicts_with(ShareRowExclusive));
        assert!(!ShareUpdateExclusive.blocks_writes());
        assert!(Share.blocks_writes() && !Share.blocks_reads());
        assert!(AccessExclusive.blocks_reads());
        assert!(Exclusive.conflicts_with(RowShare) && !Exclusive.blocks_reads());
    }

    #[test]
    fn parses_both_spellings() {
        assert_eq!(
            LockMode::parse("share  row exclusive"),
            Some(ShareRowExclusive)
        );
        assert_eq!(
            LockMode::parse("AccessExclusiveLock"),
            Some(AccessExclusive)
        );
        assert_eq!(LockMode::parse("nonsense"), None);
    }
}
