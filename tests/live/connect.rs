//! Connecting as libpq users expect, against real servers on 127.0.0.1: TLS with a CA and a
//! server certificate made by `openssl`, password authentication (scram-sha-256), the
//! password file, the PG* variables, refused, silent and late servers.

use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use pgrisk::pg::cluster::{Cluster, ClusterOptions};

use super::psql;
use crate::support;

const PASSWORD: &str = "hunter2-very-secret";

/// A port nothing listens on now, a different one each call, below Linux's ephemeral range
/// (32768 and up) so that no outgoing connection or `bind(0)` elsewhere takes it before the
/// cluster does.
fn free_port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20_000 + (std::process::id() % 1_000) as u16 * 10;
    loop {
        let port = base + NEXT.fetch_add(1, Ordering::Relaxed);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A cluster listening on 127.0.0.1 with scram-sha-256 for TCP, role `app` (password
/// [`PASSWORD`]) owning database `shop`; `tls` gives it a server certificate and key.
fn tcp_cluster(tls: Option<&Certificates>) -> Cluster {
    let bin = support::pg_bin_dirs().remove(0);
    let options = ClusterOptions::default()
        .port(free_port())
        .setting("listen_addresses", "127.0.0.1");
    let cluster =
        Cluster::start_with(&bin, &options).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    let data = cluster.data_dir();
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
    )
    .unwrap();
    psql(
        &cluster,
        "postgres",
        "SET password_encryption = 'scram-sha-256';
         CREATE ROLE app LOGIN PASSWORD 'hunter2-very-secret'",
    );
    // one statement per call: CREATE DATABASE and ALTER SYSTEM refuse a transaction block
    psql(&cluster, "postgres", "CREATE DATABASE shop OWNER app");
    if let Some(certificates) = tls {
        // the server runs as the data directory's owner and wants its key private
        let owner = std::fs::metadata(&data).unwrap();
        for (from, to) in [
            (&certificates.server_cert, "server.crt"),
            (&certificates.server_key, "server.key"),
        ] {
            let target = data.join(to);
            std::fs::copy(from, &target).unwrap();
            std::os::unix::fs::chown(&target, Some(owner.uid()), Some(owner.gid())).unwrap();
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        psql(&cluster, "postgres", "ALTER SYSTEM SET ssl = on");
    }
    psql(&cluster, "postgres", "SELECT pg_reload_conf()");
    let wanted = if tls.is_some() { "on" } else { "off" };
    wait_for_setting(&cluster, "ssl", wanted);
    cluster
}

/// Waits until new sessions see the reloaded configuration (the reload is asynchronous).
fn wait_for_setting(cluster: &Cluster, name: &str, wanted: &str) {
    let start = Instant::now();
    support::runtime().block_on(async {
        loop {
            let client = super::setup_client(cluster, "postgres").await;
            let row = client
                .query_one(&format!("SHOW {name}"), &[])
                .await
                .unwrap();
            if row.get::<_, String>(0) == wanted {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{name} never became {wanted}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
}

/// A CA, a server certificate it signs for `localhost` only, and a second, unrelated CA.
struct Certificates {
    _dir: tempfile::TempDir,
    ca: PathBuf,
    other_ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (Debian package openssl; scripts/test.sh installs it)");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn certificates() -> Certificates {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    for (name, subject) in [("ca", "/CN=pgrisk test CA"), ("other-ca", "/CN=another CA")] {
        openssl(
            path,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                subject,
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }
    std::fs::write(
        path.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        path,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    openssl(
        path,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "2",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
    );
    Certificates {
        ca: path.join("ca.pem"),
        other_ca: path.join("other-ca.pem"),
        server_cert: path.join("server.crt"),
        server_key: path.join("server.key"),
        _dir: dir,
    }
}

/// `pgrisk live --format json` with only the given PG* variables and a HOME of its own (so
/// the tester's ~/.pgpass and ~/.postgresql stay out of it).
fn live(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pgrisk"));
    command
        .args(["live", "--no-config", "--format", "json"])
        .args(args)
        .env("HOME", home)
        .stdin(Stdio::null());
    for (name, _) in std::env::vars() {
        if name.starts_with("PG") && name != "PGRISK_PG_BIN_DIRS" {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied());
    command.output().expect("run pgrisk")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The audit ran: exit 0 or 1 and a JSON report.
fn assert_audited(output: &Output, case: &str) {
    let code = output.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "{case}: exit {code:?}, stderr {}",
        stderr(output)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{case}: not JSON ({e}): {}", stderr(output)));
    assert_eq!(report["version"], 1, "{case}");
    assert_no_password(output, case);
}

/// Exit 2 with one line on stderr that contains `expected`, and the password nowhere.
fn assert_refused(output: &Output, expected: &str, case: &str) {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{case}: {text}");
    let lines: Vec<&str> = text.lines().filter(|l| !l.contains("warning:")).collect();
    assert_eq!(lines.len(), 1, "{case}: one line: {text}");
    assert!(lines[0].contains(expected), "{case}: {text}");
    assert_no_password(output, case);
}

fn assert_no_password(output: &Output, case: &str) {
    for stream in [&output.stdout, &output.stderr] {
        assert!(
            !String::from_utf8_lossy(stream).contains(PASSWORD),
            "{case}: the password leaked"
        );
    }
}

#[test]
fn sslmodes_verify_what_libpq_verifies() {
    let certs = certificates();
    let cluster = tcp_cluster(Some(&certs));
    let home = tempfile::tempdir().unwrap();
    let port = cluster.port().to_string();
    let dsn = |host: &str, mode: &str, root: &Path| {
        format!(
            "host={host} port={port} user=app dbname=shop password={PASSWORD} sslmode={mode} sslrootcert={}",
            root.display()
        )
    };
    let missing = home.path().join("none.pem");
    // host, sslmode, sslrootcert, the error expected (None: the audit runs), what it shows
    let cases: &[(&str, &str, &Path, Option<&str>, &str)] = &[
        (
            "localhost",
            "verify-full",
            &certs.ca,
            None,
            "verify-full, right CA",
        ),
        (
            "localhost",
            "verify-full",
            &certs.other_ca,
            Some("certificate verify failed: unknown issuer"),
            "verify-full, wrong CA",
        ),
        (
            "127.0.0.1",
            "verify-full",
            &certs.ca,
            Some("certificate verify failed: hostname mismatch"),
            "verify-full, a host name the certificate does not name",
        ),
        (
            "127.0.0.1",
            "verify-ca",
            &certs.ca,
            None,
            "verify-ca ignores the name",
        ),
        (
            "localhost",
            "require",
            &certs.other_ca,
            Some("unknown issuer"),
            "require with a root file verifies like verify-ca (libpq)",
        ),
        (
            "localhost",
            "require",
            &missing,
            None,
            "require, no root file: encrypts only",
        ),
        (
            "localhost",
            "prefer",
            &certs.other_ca,
            None,
            "prefer verifies nothing",
        ),
        (
            "localhost",
            "verify-ca",
            &missing,
            Some("does not exist"),
            "verify-ca without a root file",
        ),
    ];
    for (host, mode, root, expected, case) in cases {
        let output = live(home.path(), &["--dsn", &dsn(host, mode, root)], &[]);
        match expected {
            None => assert_audited(&output, case),
            Some(expected) => assert_refused(&output, expected, case),
        }
    }

    // the same through the environment, as a URL would give it
    let output = live(
        home.path(),
        &[],
        &[
            ("PGHOST", "localhost"),
            ("PGPORT", &port),
            ("PGUSER", "app"),
            ("PGDATABASE", "shop"),
            ("PGPASSWORD", PASSWORD),
            ("PGSSLMODE", "verify-full"),
            ("PGSSLROOTCERT", certs.ca.to_str().unwrap()),
        ],
    );
    assert_audited(&output, "PG* variables");
}

#[test]
fn passwords_databases_and_tls_refusals_are_one_line() {
    let cluster = tcp_cluster(None);
    let home = tempfile::tempdir().unwrap();
    let port = cluster.port().to_string();
    let url = |password: &str, db: &str, mode: &str| {
        format!("postgresql://app:{password}@127.0.0.1:{port}/{db}?sslmode={mode}")
    };
    let run = |dsn: String| live(home.path(), &["--dsn", &dsn], &[]);

    assert_audited(
        &run(url(PASSWORD, "shop", "prefer")),
        "prefer without TLS on the server",
    );
    // libpq ignores sslmode on a Unix socket (local trust, no password needed)
    let socket = format!(
        "host={} port={port} user=app dbname=shop sslmode=require",
        cluster.socket_dir().display()
    );
    assert_audited(&run(socket), "require on a Unix socket");
    assert_refused(
        &run(url(PASSWORD, "shop", "require")),
        "the server does not support TLS but sslmode=require",
        "require",
    );
    let wrong = run(format!(
        "host=127.0.0.1 port={port} user=app dbname=shop password=not-{PASSWORD}"
    ));
    assert_refused(
        &wrong,
        &format!(
            "cannot connect to app@127.0.0.1:{port}/shop: password authentication failed for user \"app\""
        ),
        "wrong password",
    );
    assert!(
        !stderr(&wrong).contains("not-hunter2"),
        "the wrong password leaked"
    );
    assert_refused(
        &run(url(PASSWORD, "nope", "disable")),
        "database \"nope\" does not exist",
        "unknown database",
    );

    // the password file supplies the password, and is ignored when others may read it
    let pgpass = home.path().join(".pgpass");
    std::fs::write(&pgpass, format!("127.0.0.1:{port}:shop:app:{PASSWORD}\n")).unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let env = [
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", port.as_str()),
        ("PGUSER", "app"),
        ("PGDATABASE", "shop"),
    ];
    let output = live(home.path(), &[], &env);
    assert_audited(&output, "~/.pgpass at 0600");
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));

    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = live(home.path(), &[], &env);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("has group or world access"),
        "a warning names the file: {}",
        stderr(&output)
    );
}

/// `live --connect-timeout 1` on `dsn`: refused in one line containing `expected`, well
/// within a few seconds.
fn assert_refused_quickly(dsn: &str, expected: &str, case: &str) {
    let home = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = live(home.path(), &["--dsn", dsn, "--connect-timeout", "1"], &[]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "{case}: took {took:?}");
    assert_refused(&output, expected, case);
}

#[test]
fn refused_and_silent_servers_end_within_the_timeout() {
    let port = free_port();
    assert_refused_quickly(
        &format!("host=127.0.0.1 port={port} user=app password={PASSWORD}"),
        "connection refused",
        "nothing listening",
    );
    // a listener that never answers: the TCP handshake completes, the startup never does
    // (a half-open server; the network test rules keep this on loopback)
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    assert_refused_quickly(
        &format!("postgres://app:{PASSWORD}@127.0.0.1:{port}/shop"),
        "no answer within",
        "a silent server",
    );
    drop(silent);
}

#[test]
fn a_server_that_comes_up_late_is_waited_for() {
    let home = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_pgrisk"))
        .args([
            "live",
            "--no-config",
            "--format",
            "json",
            "--connect-timeout",
            "60",
        ])
        .arg("--dsn")
        .arg(format!(
            "host=127.0.0.1 port={port} user=postgres dbname=postgres sslmode=disable"
        ))
        .env("HOME", home.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pgrisk");
    std::thread::sleep(Duration::from_secs(1));
    // initdb's trust rules cover 127.0.0.1; the cluster takes a few seconds to come up
    let bin = support::pg_bin_dirs().remove(0);
    let options = ClusterOptions::default()
        .port(port)
        .setting("listen_addresses", "127.0.0.1");
    let cluster = Cluster::start_with(&bin, &options);
    let output = child.wait_with_output().expect("wait for pgrisk");
    let _cluster = cluster.expect("start the late cluster");
    assert_audited(&output, "late server");
}

/// `57P03` is "not now": a standby with `hot_standby = off` answers every connection with it,
/// so pgrisk keeps trying until --connect-timeout and then says what the server said.
#[test]
fn a_server_that_is_not_accepting_connections_yet_is_retried() {
    let cluster = super::start_cluster();
    psql(&cluster, "postgres", "ALTER SYSTEM SET hot_standby = off");
    let data = cluster.data_dir();
    std::fs::write(data.join("standby.signal"), "").unwrap();
    // pg_ctl restart reuses the options of the last start (postmaster.opts)
    let pg_ctl = support::pg_bin_dirs().remove(0).join("pg_ctl");
    let mut restart = if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(pg_ctl);
        c
    } else {
        Command::new(pg_ctl)
    };
    // the server inherits pg_ctl's output: a log file, or reading a pipe would never end
    let restarted = restart
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(cluster.log_path())
        .args(["-w", "-t", "30", "-m", "fast", "restart"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("pg_ctl restart");
    assert!(restarted.success(), "pg_ctl restart: {restarted}");
    let home = tempfile::tempdir().unwrap();
    let dsn = support::dsn(&cluster, "postgres");
    let output = live(home.path(), &["--dsn", &dsn, "--connect-timeout", "2"], &[]);
    // the server's words for 57P03 here: PostgreSQL 14 and later, then 12 and 13
    let refusal = [
        "not accepting connections",
        "the database system is starting up",
    ]
    .into_iter()
    .find(|words| stderr(&output).contains(words))
    .unwrap_or_else(|| panic!("the server's refusal: {}", stderr(&output)));
    assert_refused(&output, refusal, "a standby without hot_standby");
    let refusals = super::server_log(&cluster).matches(refusal).count();
    assert!(
        refusals >= 3,
        "retried, not given up at once: {refusals} refusals logged"
    );
}
