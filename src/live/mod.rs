//! Front stage of `pgrisk live`: read a running server through its catalogs and `pg_stat_*`
//! views into a [`Snapshot`]. Readers only read; the database rules (`rules::database`) judge.
//!
//! Every reader runs its queries in a short `READ ONLY` transaction of its own, so the audit
//! never holds `AccessShareLock`s across readers (a migration queued behind it would make the
//! application queue too), under the session's `statement_timeout` plus a client deadline.
//! A reader that fails is [`Skipped`] with the reason; the others still run.

pub mod activity;
pub mod catalog;
pub mod charts;
pub mod locks;
pub mod preflight;
pub mod sizes;
pub mod statements;
pub mod stats_file;

use std::time::Duration;

use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

pub use preflight::Server;

/// The comment in every audit query: pg_stat_statements keeps it in the text, so the statements
/// reader leaves pgrisk's own queries out of the report. After the first word, since
/// PostgreSQL 18 stores a statement's text from its first token on.
pub const QUERY_TAG: &str = "/* pgrisk */";

/// `sql` with [`QUERY_TAG`] after its first word.
pub fn tagged(sql: &str) -> String {
    match sql.trim_start().split_once(char::is_whitespace) {
        Some((first, rest)) => format!("{first} {QUERY_TAG} {rest}"),
        None => sql.to_owned(),
    }
}

/// Why a reader (and so the checks that need it) did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub reason: String,
}

impl Skipped {
    pub fn new(reason: impl Into<String>) -> Skipped {
        Skipped {
            reason: reason.into(),
        }
    }
}

/// A reader's result: what it read, or why it could not.
pub type Read<T> = Result<T, Skipped>;

/// Everything one audit read.
#[derive(Debug)]
pub struct Snapshot {
    pub server: Server,
    pub sizes: Read<sizes::Sizes>,
    pub activity: Read<activity::Activity>,
    pub catalog: Read<catalog::CatalogFacts>,
    pub statements: Read<statements::Statements>,
}

impl Snapshot {
    /// What a reader of the report must know first: what the role or the node limits, and the
    /// readers that could not read (the checks that need them are skipped). pg_stat_statements
    /// gives its own notes with its findings.
    pub fn notes(&self) -> Vec<String> {
        let server = &self.server;
        let mut notes = Vec::new();
        if !server.sees_all_stats() {
            notes.push(format!(
                "role `{}` has neither pg_monitor nor pg_read_all_stats: other roles' sessions \
                 and statements are hidden from the checks",
                server.user
            ));
        }
        if server.in_recovery {
            notes.push(
                "a standby: usage counters (index and sequential scans, pg_stat_statements) \
                 count this node's queries only"
                    .into(),
            );
        }
        let failed = [
            self.sizes.as_ref().err(),
            self.activity.as_ref().err(),
            self.catalog.as_ref().err(),
        ];
        notes.extend(failed.into_iter().flatten().map(|s| s.reason.clone()));
        notes
    }
}

/// The audit cannot go on: the preflight failed or the connection was lost.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AuditError(pub String);

/// Runs queries for the readers with the deadline and error classification they share.
pub struct Reader<'a> {
    client: &'a Client,
    pub server: &'a Server,
    /// Client-side bound on one query: a half-open connection never answers the server's
    /// `statement_timeout`.
    deadline: Duration,
}

impl<'a> Reader<'a> {
    pub fn new(client: &'a Client, server: &'a Server, statement_timeout: Duration) -> Self {
        Reader {
            client,
            server,
            deadline: statement_timeout + Duration::from_secs(2),
        }
    }

    /// One query in its own read-only transaction. `what` names the data in notes.
    pub async fn rows(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Skipped> {
        match tokio::time::timeout(self.deadline, self.read_only(sql, params)).await {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(error)) => Err(classify(what, &error)),
            Err(_) => Err(Skipped::new(format!(
                "{what}: no answer within {} s (client deadline)",
                self.deadline.as_secs()
            ))),
        }
    }

    async fn read_only(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        self.client.batch_execute("BEGIN READ ONLY").await?;
        let result = self.client.query(&tagged(sql), params).await;
        // COMMIT of a failed transaction rolls it back; either way the locks are released
        let end = self.client.batch_execute("COMMIT").await;
        let rows = result?;
        end?;
        Ok(rows)
    }

    /// Whether the connection is gone (every further query would fail the same way).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

/// A one-line reason: a timeout, a missing privilege, or the server's message.
fn classify(what: &str, error: &tokio_postgres::Error) -> Skipped {
    let Some(db) = error.as_db_error() else {
        return Skipped::new(format!("{what}: {error}"));
    };
    let code = db.code();
    let reason = if *code == SqlState::QUERY_CANCELED {
        "cancelled by statement_timeout (raise --statement-timeout to include it)".to_owned()
    } else if *code == SqlState::LOCK_NOT_AVAILABLE {
        "a catalog it reads is locked (lock_timeout); a DDL statement is probably running".into()
    } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
        format!(
            "{} (grant pg_monitor to the role pgrisk connects as)",
            db.message()
        )
    } else {
        db.message().to_owned()
    };
    Skipped::new(format!("{what}: {reason}"))
}

/// Reads the whole snapshot. With `beside`, a second session to the same server, the sizes
/// reader (the slowest on large catalogs: `pg_get_indexdef` for every index) runs on it while
/// the others run on `client`. Fails only when the preflight does or a connection is lost.
pub async fn audit(
    client: &Client,
    beside: Option<&Client>,
    statement_timeout: Duration,
) -> Result<Snapshot, AuditError> {
    let server = preflight::read(client, statement_timeout).await?;
    let reader = Reader::new(client, &server, statement_timeout);
    let beside = beside.map(|c| Reader::new(c, &server, statement_timeout));
    let the_rest = async {
        let activity = activity::read(&reader).await;
        let catalog = catalog::read(&reader).await;
        let statements = statements::read(&reader).await;
        (activity, catalog, statements)
    };
    let (sizes, (activity, catalog, statements)) = match &beside {
        Some(other) => tokio::join!(sizes::read(other), the_rest),
        None => (sizes::read(&reader).await, the_rest.await),
    };
    if reader.is_closed() || beside.as_ref().is_some_and(|r| r.is_closed()) {
        return Err(AuditError(
            "the connection to the server was lost during the audit".into(),
        ));
    }
    Ok(Snapshot {
        server,
        sizes,
        activity,
        catalog,
        statements,
    })
}
