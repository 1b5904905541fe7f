//! Connections to a user's server. The DSN may hold a password: it never reaches a message;
//! errors name the host, port, user and database only.

use std::time::Duration;

use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("invalid --dsn: {0}")]
    Dsn(String),
    #[error("cannot connect to {target}: {reason}")]
    Connect { target: String, reason: String },
}

/// What every session pgrisk opens on a user's server is set up with, sent as startup
/// options so that they hold from the first statement (and on a hot standby).
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// `default_transaction_read_only = on` (live, lint --dsn); trace needs writes it rolls back.
    pub read_only: bool,
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    pub idle_in_transaction_timeout: Duration,
    pub connect_timeout: Duration,
}

impl SessionOptions {
    /// The audit defaults: read-only, 5 s statements, 1 s lock waits.
    pub fn read_only() -> SessionOptions {
        SessionOptions {
            read_only: true,
            statement_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(1),
            idle_in_transaction_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// The `options` startup parameter (`-c name=value ...`).
    pub fn startup_options(&self) -> String {
        let ms = |d: Duration| d.as_millis();
        let mut options = format!(
            "-c statement_timeout={} -c lock_timeout={} -c idle_in_transaction_session_timeout={}",
            ms(self.statement_timeout),
            ms(self.lock_timeout),
            ms(self.idle_in_transaction_timeout)
        );
        if self.read_only {
            options.push_str(" -c default_transaction_read_only=on");
        }
        options
    }

    /// Sets these options and `application_name = 'pgrisk'` on `config`.
    pub fn apply(&self, config: &mut Config) {
        config
            .options(self.startup_options())
            .application_name("pgrisk")
            .connect_timeout(self.connect_timeout);
    }
}

/// `user@host:port/db`, without the password, for messages.
pub fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("(default user)");
    let db = config.get_dbname().unwrap_or("(default database)");
    format!("{user}@{host}:{port}/{db}")
}

pub fn parse_dsn(dsn: &str) -> Result<Config, ConnectError> {
    let mut config: Config = dsn.parse().map_err(|e: tokio_postgres::Error| {
        // tokio-postgres does not echo the DSN, but strip anything after "password" to be sure
        let text = e.to_string();
        ConnectError::Dsn(
            text.split("password")
                .next()
                .unwrap_or("")
                .trim()
                .to_owned(),
        )
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("pgrisk");
    Ok(config)
}

/// Connects without TLS and drives the connection on the current runtime.
pub async fn connect(config: &Config) -> Result<Client, ConnectError> {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| ConnectError::Connect {
            target: describe(config),
            reason: e
                .as_db_error()
                .map_or_else(|| e.to_string(), |db| db.message().to_owned()),
        })?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_never_contain_the_password() {
        let config = parse_dsn("postgres://app:s3cret@db.internal:6432/shop").unwrap();
        let shown = describe(&config);
        assert_eq!(shown, "app@db.internal:6432/shop");
        assert!(!shown.contains("s3cret"));
    }
}
