//! Connections to a user's server, as libpq users expect them.
//!
//! **Entry point** for every command that talks to a user's server (live, trace `--dsn`,
//! lint `--dsn`): [`open`]`(dsn, &session)` resolves the target, connects and returns the
//! client with a description (`user@host:port/db`, never the password) for messages.
//!
//! - Resolution ([`env::resolve`]): a `key=value` string or a `postgres://` URL; what it leaves
//!   out comes from `PGHOST` (several hosts comma-separated; `/…` is a socket directory),
//!   `PGPORT`, `PGUSER` (default: the OS user), `PGPASSWORD`, `PGDATABASE` (default: the user),
//!   `PGSSLMODE`, `PGSSLROOTCERT`, `PGAPPNAME`, `PGCONNECT_TIMEOUT`, `PGOPTIONS`, then the
//!   password file (`PGPASSFILE`, `~/.pgpass`; ignored with a warning unless 0600 or less).
//!   Without a host: the socket in `/var/run/postgresql`, then `localhost`.
//! - TLS ([`tls`]): rustls with libpq's sslmode semantics. Unix sockets never use TLS, whatever
//!   the sslmode, as in libpq.
//! - `application_name` is always `pgrisk`, so that a DBA (and the read-only proof) can pick
//!   pgrisk's sessions out of `pg_stat_activity` and the log; a name the user gives
//!   (`PGAPPNAME`, `application_name=`) is appended: `pgrisk/nightly-audit`.
//! - Hosts are tried in order. A server that answers with an error (authentication, unknown
//!   database, too many connections) ends the attempt at once, as in libpq; a host that cannot
//!   be reached (refused, no socket, no answer, starting up `57P03`) is tried again with
//!   backoff until `--connect-timeout`; a host that will not do (TLS refused or unverifiable, a
//!   name that does not resolve) is skipped. Each attempt is bounded by the remaining time (or
//!   the shorter `connect_timeout` of the string) on the client side, and TCP keepalives
//!   detect a half-open connection afterwards.
//!
//! [`connect`] is the plain connection to a prepared [`Config`] (the disposable cluster).

pub mod env;
mod pgpass;
pub mod tls;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio_postgres::{Client, Config, NoTls};

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("invalid connection settings: {0}")]
    Dsn(String),
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error("cannot connect to {target}: {reason}")]
    Connect { target: String, reason: String },
}

/// What every session pgrisk opens on a user's server is set up with, sent as startup
/// options so that they hold from the first statement (and on a hot standby).
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// `default_transaction_read_only = on` (live, lint --dsn); trace needs writes it rolls back.
    pub read_only: bool,
    /// Zero turns it off.
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    pub idle_in_transaction_timeout: Duration,
    /// The whole connection attempt, retries included.
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

    /// `trace --dsn`: writes (always rolled back), statements as long as the migration needs,
    /// but never queued behind the server's traffic for longer than the lock timeout.
    pub fn rolled_back_writes() -> SessionOptions {
        SessionOptions {
            read_only: false,
            statement_timeout: Duration::ZERO,
            ..SessionOptions::read_only()
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
}

/// A password; its `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKind {
    Tcp(String),
    /// A socket directory.
    Unix(PathBuf),
}

/// One host to try, with its port, optional address, and password (the password file may
/// hold a different one per host).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub kind: HostKind,
    pub hostaddr: Option<std::net::IpAddr>,
    pub port: u16,
    password: Option<Secret>,
}

impl Endpoint {
    /// `host:port` (a socket as its directory).
    pub fn describe(&self) -> String {
        match &self.kind {
            HostKind::Tcp(host) => format!("{host}:{}", self.port),
            HostKind::Unix(dir) => format!("{}:{}", dir.display(), self.port),
        }
    }

    /// The names this host has in a password file: `localhost` also stands for the default
    /// socket directory, as in libpq.
    fn pgpass_hosts(&self) -> Vec<&str> {
        match &self.kind {
            HostKind::Tcp(host) => vec![host.as_str()],
            HostKind::Unix(dir) => {
                let dir = dir.to_str().unwrap_or_default();
                if dir == env::DEFAULT_SOCKET_DIR {
                    vec![dir, "localhost"]
                } else {
                    vec![dir]
                }
            }
        }
    }
}

/// A resolved connection target.
#[derive(Debug, Clone)]
pub struct Target {
    pub endpoints: Vec<Endpoint>,
    pub user: String,
    pub dbname: String,
    pub tls: tls::TlsSettings,
    /// libpq's `connect_timeout`: the bound of one attempt on one host.
    pub attempt_timeout: Option<Duration>,
    pub application_name: String,
    /// The user's own startup options (`PGOPTIONS`); pgrisk's come after them and win.
    pub options: Option<String>,
    /// Ignored options, an unsafe password file: for the caller to print.
    pub warnings: Vec<String>,
}

/// How an attempt on one host failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// Not reachable yet: try again until the deadline.
    Retry,
    /// This host will not do: try the others, not this one again.
    Skip,
    /// The server answered no: stop.
    Stop,
}

/// Server errors that mean "not now" rather than "no": `cannot_connect_now` (starting up,
/// shutting down, in recovery). A full server (`53300`) is a "no": retrying would keep
/// taking the slot a real client waits for.
const TRANSIENT_SQLSTATES: &[&str] = &["57P03"];

const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(1);
/// Idle time before the first keepalive probe, then probes every interval, up to retries.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEPALIVE_RETRIES: u32 = 3;
/// How long sent data may stay unacknowledged before the kernel gives up the connection.
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(60);

impl Target {
    /// The target from `dsn` and this process's environment.
    pub fn from_env(dsn: Option<&str>) -> Result<Target, ConnectError> {
        env::resolve(dsn, &|name| std::env::var(name).ok(), &os_user())
    }

    /// `user@host:port[,host:port]/db`, for messages.
    pub fn describe(&self) -> String {
        let hosts: Vec<String> = self.endpoints.iter().map(Endpoint::describe).collect();
        format!("{}@{}/{}", self.user, hosts.join(","), self.dbname)
    }

    fn describe_one(&self, endpoint: &Endpoint) -> String {
        format!("{}@{}/{}", self.user, endpoint.describe(), self.dbname)
    }

    /// Tries the hosts in order (see the module doc) and returns the client with the
    /// description of the host that answered.
    pub async fn connect(
        &self,
        session: &SessionOptions,
    ) -> Result<(Client, String), ConnectError> {
        let deadline = Instant::now() + session.connect_timeout;
        let uses_tls = self.tls.mode != tls::SslMode::Disable
            && self
                .endpoints
                .iter()
                .any(|e| matches!(e.kind, HostKind::Tcp(_)));
        let connector = if uses_tls {
            self.tls.connector()?
        } else {
            // never used to negotiate: a socket or sslmode=disable
            tls::TlsSettings {
                mode: tls::SslMode::Disable,
                root: tls::RootCert::None,
            }
            .connector()?
        };
        let mut pending: Vec<&Endpoint> = self.endpoints.iter().collect();
        let mut last: Vec<(String, String)> = Vec::new();
        let mut delay = FIRST_RETRY_DELAY;
        loop {
            let mut again = Vec::new();
            for endpoint in pending {
                let remaining = deadline.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    break;
                }
                let budget = self.attempt_timeout.map_or(remaining, |t| t.min(remaining));
                match self.attempt(endpoint, session, budget, &connector).await {
                    Ok(client) => return Ok((client, self.describe_one(endpoint))),
                    Err((Failure::Stop, reason)) => {
                        return Err(ConnectError::Connect {
                            target: self.describe_one(endpoint),
                            reason,
                        });
                    }
                    Err((failure, reason)) => {
                        last.retain(|(host, _)| *host != endpoint.describe());
                        last.push((endpoint.describe(), reason));
                        if failure == Failure::Retry {
                            again.push(endpoint);
                        }
                    }
                }
            }
            let now = Instant::now();
            if again.is_empty() || now + delay >= deadline {
                return Err(self.exhausted(last, session.connect_timeout));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(MAX_RETRY_DELAY);
            pending = again;
        }
    }

    /// The error once no host is left to try, or the time is up: each host's last failure.
    fn exhausted(&self, mut last: Vec<(String, String)>, timeout: Duration) -> ConnectError {
        let reason = match last.len() {
            0 => format!(
                "no attempt fitted in --connect-timeout {} s",
                timeout.as_secs()
            ),
            1 => last.remove(0).1,
            _ => last
                .into_iter()
                .map(|(host, reason)| format!("{host}: {reason}"))
                .collect::<Vec<_>>()
                .join("; "),
        };
        ConnectError::Connect {
            target: self.describe(),
            reason,
        }
    }

    async fn attempt(
        &self,
        endpoint: &Endpoint,
        session: &SessionOptions,
        budget: Duration,
        connector: &tokio_postgres_rustls::MakeRustlsConnect,
    ) -> Result<Client, (Failure, String)> {
        let mut config = Config::new();
        match &endpoint.kind {
            HostKind::Tcp(host) => {
                config.host(host).ssl_mode(self.tls.negotiation());
            }
            HostKind::Unix(dir) => {
                config
                    .host_path(dir)
                    .ssl_mode(tokio_postgres::config::SslMode::Disable);
            }
        }
        if let Some(address) = endpoint.hostaddr {
            config.hostaddr(address);
        }
        if let Some(password) = &endpoint.password {
            config.password(password.0.as_bytes());
        }
        let options = match &self.options {
            Some(own) => format!("{own} {}", session.startup_options()),
            None => session.startup_options(),
        };
        config
            .port(endpoint.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name(&self.application_name)
            .options(options)
            .connect_timeout(budget)
            .keepalives(true)
            .keepalives_idle(KEEPALIVE_IDLE)
            .keepalives_interval(KEEPALIVE_INTERVAL)
            .keepalives_retries(KEEPALIVE_RETRIES)
            .tcp_user_timeout(TCP_USER_TIMEOUT);
        // the client-side deadline covers TCP, TLS, startup and authentication together
        let (client, connection) =
            match tokio::time::timeout(budget, config.connect(connector.clone())).await {
                Ok(Ok(pair)) => pair,
                Ok(Err(error)) => return Err(self.classify(endpoint, &error)),
                Err(_) => {
                    return Err((
                        Failure::Retry,
                        format!("no answer within {:.1} s", budget.as_secs_f64()),
                    ));
                }
            };
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }

    /// The failure class and one line of text, never with the password (tokio-postgres'
    /// errors do not carry it; neither does anything added here).
    fn classify(&self, endpoint: &Endpoint, error: &tokio_postgres::Error) -> (Failure, String) {
        if let Some(db) = error.as_db_error() {
            let failure = if TRANSIENT_SQLSTATES.contains(&db.code().code()) {
                Failure::Retry
            } else {
                Failure::Stop
            };
            return (failure, db.message().to_owned());
        }
        let mut chain = Vec::new();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(current) = source {
            chain.push(current.to_string());
            if let Some(tls_error) = current.downcast_ref::<rustls::Error>() {
                return (Failure::Skip, tls::explain(tls_error));
            }
            if let Some(io) = current.downcast_ref::<std::io::Error>() {
                if let Some(tls_error) =
                    io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>())
                {
                    return (Failure::Skip, tls::explain(tls_error));
                }
                use std::io::ErrorKind::*;
                let failure = match io.kind() {
                    ConnectionRefused | NotFound | TimedOut | ConnectionReset
                    | ConnectionAborted | UnexpectedEof => Failure::Retry,
                    _ => Failure::Skip,
                };
                let text = match (io.kind(), &endpoint.kind) {
                    (NotFound, HostKind::Unix(dir)) => format!(
                        "no server socket {}",
                        dir.join(format!(".s.PGSQL.{}", endpoint.port)).display()
                    ),
                    (ConnectionRefused, _) => "connection refused".to_owned(),
                    _ => io.to_string(),
                };
                return (failure, text);
            }
            source = current.source();
        }
        // tokio-postgres' words when the server answers the TLS request with "no"
        if chain.iter().any(|t| t == "server does not support TLS") {
            return (
                Failure::Skip,
                format!(
                    "the server does not support TLS but sslmode={}",
                    self.tls.mode.name()
                ),
            );
        }
        (Failure::Skip, chain.join(": "))
    }
}

/// The user the process runs as (libpq's default user), from the password database, else
/// `USER`/`LOGNAME`.
fn os_user() -> String {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    let from_passwd = uid.and_then(|uid| {
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        passwd.lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_owned())
        })
    });
    from_passwd
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .unwrap_or_else(|| "postgres".to_owned())
}

/// Resolves `dsn` against the environment, prints the warnings, connects with `session`:
/// the one entry point for commands. Returns the client and `user@host:port/db`.
pub async fn open(
    dsn: Option<&str>,
    session: &SessionOptions,
) -> Result<(Client, String), ConnectError> {
    resolve(dsn)?.connect(session).await
}

/// The target from `dsn` and the environment, its warnings printed once.
fn resolve(dsn: Option<&str>) -> Result<Target, ConnectError> {
    let target = Target::from_env(dsn)?;
    for warning in &target.warnings {
        eprintln!("pgrisk: warning: {warning}");
    }
    Ok(target)
}

/// As [`open`], plus a second session to the same server for work that runs beside the
/// first (the audit's slowest reader). `None` when the second connection fails or lands on
/// another host of a multi-host target: the caller then does everything on the first.
pub async fn open_two(
    dsn: Option<&str>,
    session: &SessionOptions,
) -> Result<(Client, Option<Client>, String), ConnectError> {
    let target = resolve(dsn)?;
    let (first, described) = target.connect(session).await?;
    let second = match target.connect(session).await {
        Ok((client, second_described)) if second_described == described => Some(client),
        _ => None,
    };
    Ok((first, second, described))
}

/// Connects to a prepared configuration without TLS (the disposable cluster's socket) and
/// drives the connection on the current runtime.
pub async fn connect(config: &Config) -> Result<Client, ConnectError> {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| ConnectError::Connect {
            target: describe_config(config),
            reason: e
                .as_db_error()
                .map_or_else(|| e.to_string(), |db| db.message().to_owned()),
        })?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

fn describe_config(config: &Config) -> String {
    use tokio_postgres::config::Host;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(env::DEFAULT_PORT);
    let user = config.get_user().unwrap_or("(default user)");
    let db = config.get_dbname().unwrap_or("(default database)");
    format!("{user}@{host}:{port}/{db}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_and_debug_never_contain_the_password() {
        let target = env::resolve(
            Some("postgres://app:s3cret@db.internal:6432/shop"),
            &|_| None,
            "me",
        )
        .unwrap();
        assert_eq!(target.describe(), "app@db.internal:6432/shop");
        let debug = format!("{target:?}");
        assert!(
            debug.contains("db.internal") && !debug.contains("s3cret"),
            "{debug}"
        );
    }

    /// A refused port is retried until the deadline, then reported in one line naming the
    /// target and not the password.
    #[test]
    fn a_refused_connection_is_one_line_without_the_password() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let dsn = format!("postgresql://app:s3cret@127.0.0.1:{port}/shop?sslmode=disable");
        let session = SessionOptions {
            connect_timeout: Duration::from_millis(500),
            ..SessionOptions::read_only()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let started = Instant::now();
        let target = env::resolve(Some(&dsn), &|_| None, "me").unwrap();
        let error = runtime.block_on(target.connect(&session)).err().unwrap();
        let text = error.to_string();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(
            text.starts_with(&format!("cannot connect to app@127.0.0.1:{port}/shop: ")),
            "{text}"
        );
        assert!(text.to_lowercase().contains("refused"), "{text}");
        assert!(!text.contains("s3cret") && !text.contains('\n'), "{text}");
        assert!(!format!("{error:?}").contains("s3cret"));
    }
}
