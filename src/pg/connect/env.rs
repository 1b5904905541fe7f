//! From a connection string and the environment to a [`Target`], with libpq's rules: a key the
//! string leaves out comes from its `PG*` variable, then from libpq's default; the password,
//! when neither gives one, from the password file. Pure apart from reading the password file
//! and looking for the root certificate, so that it is tested with a made-up environment.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use percent_encoding::percent_decode_str;

use super::tls::{RootCert, SslMode, TlsSettings};
use super::{ConnectError, Endpoint, HostKind, Secret, Target, pgpass};

/// The libpq keys pgrisk acts on, each with the environment variable that fills it in.
const KEYS: &[(&str, &str)] = &[
    ("host", "PGHOST"),
    ("hostaddr", "PGHOSTADDR"),
    ("port", "PGPORT"),
    ("dbname", "PGDATABASE"),
    ("user", "PGUSER"),
    ("password", "PGPASSWORD"),
    ("passfile", "PGPASSFILE"),
    ("connect_timeout", "PGCONNECT_TIMEOUT"),
    ("application_name", "PGAPPNAME"),
    ("options", "PGOPTIONS"),
    ("sslmode", "PGSSLMODE"),
    ("sslrootcert", "PGSSLROOTCERT"),
];

/// libpq keys that a connection string copied from elsewhere may carry and that pgrisk does not
/// act on: accepted with a warning, so the user knows they had no effect.
const IGNORED_KEYS: &[&str] = &[
    "channel_binding",
    "client_encoding",
    "fallback_application_name",
    "gssencmode",
    "gsslib",
    "keepalives",
    "keepalives_count",
    "keepalives_idle",
    "keepalives_interval",
    "krbsrvname",
    "load_balance_hosts",
    "require_auth",
    "requirepeer",
    "service",
    "ssl_max_protocol_version",
    "ssl_min_protocol_version",
    "sslcert",
    "sslcompression",
    "sslcrl",
    "sslcrldir",
    "sslkey",
    "sslnegotiation",
    "sslpassword",
    "sslsni",
    "target_session_attrs",
    "tcp_user_timeout",
];

/// Where libpq on Debian and Ubuntu looks for the local server's socket.
pub const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";
pub const DEFAULT_PORT: u16 = 5432;
/// The name every session of pgrisk carries; a user-given name is appended (`pgrisk/nightly`).
pub const APPLICATION_NAME: &str = "pgrisk";

/// Resolves `dsn` (a `key=value` string, a `postgres://` URL, or nothing) against the
/// environment `var` (`PGHOST`, `HOME`, ...) for the operating-system user `os_user`.
pub fn resolve(
    dsn: Option<&str>,
    var: &dyn Fn(&str) -> Option<String>,
    os_user: &str,
) -> Result<Target, ConnectError> {
    let pairs = match dsn.map(str::trim).unwrap_or("") {
        "" => Vec::new(),
        text if text.starts_with("postgres://") || text.starts_with("postgresql://") => {
            parse_url(text)?
        }
        text => parse_key_values(text)?,
    };
    let mut warnings = Vec::new();
    let mut given: Vec<(&'static str, String)> = Vec::new();
    for (key, value) in pairs {
        if let Some((known, _)) = KEYS.iter().find(|(k, _)| *k == key) {
            given.retain(|(k, _)| k != known);
            given.push((known, value));
        } else if IGNORED_KEYS.contains(&key.as_str()) {
            warnings.push(format!(
                "connection option {key} is not supported and was ignored"
            ));
        } else {
            return Err(ConnectError::Dsn(format!(
                "invalid connection option \"{key}\""
            )));
        }
    }
    // the string first, then the environment; an empty value counts as absent, as in libpq
    let setting = |key: &str| -> Option<String> {
        let from_dsn = given
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone());
        let env_name = KEYS.iter().find(|(k, _)| *k == key).map(|(_, e)| *e)?;
        from_dsn
            .filter(|v| !v.is_empty())
            .or_else(|| var(env_name).filter(|v| !v.is_empty()))
    };

    let user = setting("user").unwrap_or_else(|| os_user.to_owned());
    let dbname = setting("dbname").unwrap_or_else(|| user.clone());
    let mut endpoints = endpoints(
        setting("host").as_deref(),
        setting("hostaddr").as_deref(),
        setting("port").as_deref(),
    )?;

    let home = var("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    match setting("password") {
        Some(password) => {
            for endpoint in &mut endpoints {
                endpoint.password = Some(Secret(password.clone()));
            }
        }
        None => {
            let file = setting("passfile")
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".pgpass")));
            if let Some(file) = file {
                match pgpass::read(&file) {
                    Ok(Some(entries)) => {
                        for endpoint in &mut endpoints {
                            endpoint.password = entries
                                .lookup(&endpoint.pgpass_hosts(), endpoint.port, &dbname, &user)
                                .map(Secret);
                        }
                    }
                    Ok(None) => {}
                    Err(warning) => warnings.push(warning),
                }
            }
        }
    }

    let tls = tls_settings(
        setting("sslmode").as_deref(),
        setting("sslrootcert").as_deref(),
        home.as_deref(),
    )?;
    let attempt_timeout = match setting("connect_timeout") {
        None => None,
        Some(text) => {
            let seconds: i64 = text.trim().parse().map_err(|_| {
                ConnectError::Dsn(format!(
                    "invalid integer value \"{text}\" for connect_timeout"
                ))
            })?;
            // libpq: zero or less waits forever, and anything under 2 s counts as 2 s
            (seconds > 0).then(|| Duration::from_secs(seconds.max(2) as u64))
        }
    };
    let application_name = match setting("application_name") {
        Some(name) => format!("{APPLICATION_NAME}/{name}"),
        None => APPLICATION_NAME.to_owned(),
    };
    Ok(Target {
        endpoints,
        user,
        dbname,
        tls,
        attempt_timeout,
        application_name,
        options: setting("options"),
        warnings,
    })
}

/// The hosts in order, each with its port (one port for all, or one each) and address.
fn endpoints(
    host: Option<&str>,
    hostaddr: Option<&str>,
    port: Option<&str>,
) -> Result<Vec<Endpoint>, ConnectError> {
    let (host, hostaddr) = match (host, hostaddr) {
        // addresses alone are the hosts
        (None, Some(addresses)) => (Some(addresses), None),
        pair => pair,
    };
    let hosts: Vec<String> = match host {
        Some(list) => list.split(',').map(|h| h.trim().to_owned()).collect(),
        // libpq on Unix tries only the socket; `localhost` after it reaches a server that
        // listens on TCP alone (a container's published port)
        None => vec![DEFAULT_SOCKET_DIR.to_owned(), "localhost".to_owned()],
    };
    let addresses: Vec<Option<IpAddr>> = match hostaddr {
        None => vec![None; hosts.len()],
        Some(list) => {
            let parsed = list
                .split(',')
                .map(|a| match a.trim() {
                    "" => Ok(None),
                    a => a.parse().map(Some).map_err(|_| {
                        ConnectError::Dsn(format!("could not parse network address \"{a}\""))
                    }),
                })
                .collect::<Result<Vec<_>, _>>()?;
            if parsed.len() != hosts.len() {
                return Err(ConnectError::Dsn(format!(
                    "could not match {} host names to {} hostaddr values",
                    hosts.len(),
                    parsed.len()
                )));
            }
            parsed
        }
    };
    let ports: Vec<u16> = match port {
        None => vec![DEFAULT_PORT],
        Some(list) => list
            .split(',')
            .map(|p| match p.trim() {
                "" => Ok(DEFAULT_PORT),
                p => p
                    .parse()
                    .map_err(|_| ConnectError::Dsn(format!("invalid port number: \"{p}\""))),
            })
            .collect::<Result<_, _>>()?,
    };
    if ports.len() != 1 && ports.len() != hosts.len() {
        return Err(ConnectError::Dsn(format!(
            "could not match {} port numbers to {} hosts",
            ports.len(),
            hosts.len()
        )));
    }
    Ok(hosts
        .into_iter()
        .zip(addresses)
        .enumerate()
        .map(|(i, (host, hostaddr))| Endpoint {
            kind: if host.starts_with('/') {
                HostKind::Unix(PathBuf::from(&host))
            } else if host.is_empty() {
                HostKind::Unix(PathBuf::from(DEFAULT_SOCKET_DIR))
            } else {
                HostKind::Tcp(host)
            },
            hostaddr,
            port: ports[if ports.len() == 1 { 0 } else { i }],
            password: None,
        })
        .collect())
}

/// sslmode and sslrootcert with libpq's defaults and its rules for `system` and for a root
/// certificate that exists under `require`.
fn tls_settings(
    mode: Option<&str>,
    rootcert: Option<&str>,
    home: Option<&Path>,
) -> Result<TlsSettings, ConnectError> {
    let explicit_mode = mode.map(SslMode::parse).transpose()?;
    let root = match rootcert {
        Some("system") => {
            // libpq 16: the system's roots vouch for anyone's certificate, so only the name
            // check makes them mean something
            if let Some(weak) = explicit_mode.filter(|m| *m != SslMode::VerifyFull) {
                return Err(ConnectError::Dsn(format!(
                    "weak sslmode \"{}\" may not be used with sslrootcert=system (use \"verify-full\")",
                    weak.name()
                )));
            }
            RootCert::System
        }
        Some(path) => RootCert::File {
            path: PathBuf::from(path),
            exists: Path::new(path).is_file(),
        },
        None => match home {
            Some(home) => {
                let path = home.join(".postgresql").join("root.crt");
                let exists = path.is_file();
                RootCert::File { path, exists }
            }
            None => RootCert::None,
        },
    };
    let mode = explicit_mode.unwrap_or(if root == RootCert::System {
        SslMode::VerifyFull
    } else {
        SslMode::Prefer
    });
    Ok(TlsSettings { mode, root })
}

/// `key=value` pairs separated by whitespace; a value may be single-quoted, `\` escapes.
fn parse_key_values(text: &str) -> Result<Vec<(String, String)>, ConnectError> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(ConnectError::Dsn(format!(
                "missing \"=\" after \"{key}\" in connection info string"
            )));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\'') => break,
                    Some('\\') => value.extend(chars.next()),
                    Some(c) => value.push(c),
                    None => {
                        return Err(ConnectError::Dsn(
                            "unterminated quoted string in connection info string".into(),
                        ));
                    }
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
}

/// `postgresql://[user[:password]@][host[:port][,...]][/dbname][?key=value&...]`.
fn parse_url(text: &str) -> Result<Vec<(String, String)>, ConnectError> {
    let rest = text
        .strip_prefix("postgresql://")
        .or_else(|| text.strip_prefix("postgres://"))
        .unwrap_or(text);
    let decode = |part: &str| -> Result<String, ConnectError> {
        percent_decode_str(part)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| ConnectError::Dsn("invalid percent-encoded token in URI".into()))
    };
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut pairs = Vec::new();
    let hosts = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (userinfo, None),
            };
            if !user.is_empty() {
                pairs.push(("user".to_owned(), decode(user)?));
            }
            if let Some(password) = password {
                pairs.push(("password".to_owned(), decode(password)?));
            }
            hosts
        }
        None => authority,
    };
    if !hosts.is_empty() {
        let mut names = Vec::new();
        let mut ports = Vec::new();
        for spec in hosts.split(',') {
            let (name, port) = match spec.strip_prefix('[') {
                Some(v6) => {
                    let (address, after) = v6.split_once(']').ok_or_else(|| {
                        ConnectError::Dsn("missing \"]\" in IPv6 host address in URI".into())
                    })?;
                    (address, after.strip_prefix(':').unwrap_or(""))
                }
                None => spec.split_once(':').unwrap_or((spec, "")),
            };
            names.push(decode(name)?);
            ports.push(port.to_owned());
        }
        pairs.push(("host".to_owned(), names.join(",")));
        if ports.iter().any(|p| !p.is_empty()) {
            pairs.push(("port".to_owned(), ports.join(",")));
        }
    }
    if !path.is_empty() {
        pairs.push(("dbname".to_owned(), decode(path)?));
    }
    for param in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = param.split_once('=').ok_or_else(|| {
            ConnectError::Dsn(format!(
                "missing key/value separator \"=\" in URI query parameter \"{}\"",
                decode(param).unwrap_or_default()
            ))
        })?;
        pairs.push((decode(key)?, decode(value)?));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn resolve_with(dsn: Option<&str>, env: &[(&str, &str)]) -> Result<Target, ConnectError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        resolve(dsn, &|name| env.get(name).cloned(), "osuser")
    }

    fn hosts(target: &Target) -> Vec<String> {
        target.endpoints.iter().map(Endpoint::describe).collect()
    }

    #[test]
    fn defaults_are_libpqs_with_a_tcp_fallback() {
        let target = resolve_with(None, &[]).unwrap();
        assert_eq!(
            hosts(&target),
            ["/var/run/postgresql:5432", "localhost:5432"]
        );
        assert_eq!(target.user, "osuser");
        assert_eq!(target.dbname, "osuser");
        assert_eq!(target.tls.mode, SslMode::Prefer);
        assert_eq!(target.application_name, "pgrisk");
        assert_eq!(target.attempt_timeout, None);
    }

    #[test]
    fn the_environment_fills_what_the_string_leaves_out() {
        let env = [
            ("PGHOST", "db1,/tmp/sock,db3"),
            ("PGPORT", "6001,6002,6003"),
            ("PGUSER", "envuser"),
            ("PGDATABASE", "envdb"),
            ("PGSSLMODE", "require"),
            ("PGAPPNAME", "nightly"),
            ("PGCONNECT_TIMEOUT", "1"),
        ];
        let target = resolve_with(None, &env).unwrap();
        assert_eq!(hosts(&target), ["db1:6001", "/tmp/sock:6002", "db3:6003"]);
        assert_eq!(
            target.describe(),
            "envuser@db1:6001,/tmp/sock:6002,db3:6003/envdb"
        );
        assert_eq!(target.tls.mode, SslMode::Require);
        assert_eq!(target.application_name, "pgrisk/nightly");
        assert_eq!(target.attempt_timeout, Some(Duration::from_secs(2)));

        let target = resolve_with(Some("user=app dbname=shop port=7000"), &env).unwrap();
        assert_eq!(
            target.describe(),
            "app@db1:7000,/tmp/sock:7000,db3:7000/shop"
        );
        let target = resolve_with(Some("hostaddr=10.0.0.7"), &[]).unwrap();
        assert_eq!(
            hosts(&target),
            ["10.0.0.7:5432"],
            "addresses alone are the hosts"
        );
        let target = resolve_with(Some("host=db hostaddr=10.0.0.7"), &[]).unwrap();
        assert_eq!(target.endpoints[0].hostaddr, "10.0.0.7".parse().ok());
        let target = resolve_with(Some("host='' user=app"), &[("PGHOST", "envhost")]).unwrap();
        assert_eq!(
            hosts(&target),
            ["envhost:5432"],
            "an empty value counts as absent"
        );
    }

    #[test]
    fn urls_and_key_value_strings_say_the_same() {
        let url = resolve_with(
            Some("postgresql://app:p%40ss@db.internal:6432,[::1]/shop%20db?sslmode=verify-full&application_name=ci"),
            &[],
        )
        .unwrap();
        // a host without a port in the list gets the default, not its neighbour's
        assert_eq!(url.describe(), "app@db.internal:6432,::1:5432/shop db");
        assert_eq!(
            url.endpoints[0].password.as_ref().map(|s| s.0.as_str()),
            Some("p@ss")
        );
        assert_eq!(url.tls.mode, SslMode::VerifyFull);
        assert_eq!(url.application_name, "pgrisk/ci");
        let socket = resolve_with(Some("postgres://%2Frun%2Fpg/x"), &[]).unwrap();
        assert_eq!(hosts(&socket), ["/run/pg:5432"]);

        let kv = resolve_with(
            Some(r"host=db.internal port = 6432 user=app password='it\'s' dbname='shop db'"),
            &[],
        )
        .unwrap();
        assert_eq!(kv.describe(), "app@db.internal:6432/shop db");
        assert_eq!(
            kv.endpoints[0].password.as_ref().map(|s| s.0.as_str()),
            Some("it's")
        );
    }

    #[test]
    fn bad_strings_are_one_line_without_the_password() {
        let cases = [
            (
                "host=a,b port=1,2,3",
                "could not match 3 port numbers to 2 hosts",
            ),
            ("port=99999", "invalid port number"),
            ("sslmode=sometimes", "invalid sslmode value"),
            ("password='s3cret", "unterminated quoted string"),
            (
                "password=s3cret frobnicate=1",
                "invalid connection option \"frobnicate\"",
            ),
            ("password=s3cret user", "missing \"=\" after \"user\""),
            (
                "postgres://u:s3cret@h/db?bogus",
                "missing key/value separator",
            ),
            (
                "sslrootcert=system sslmode=require password=s3cret",
                "weak sslmode \"require\"",
            ),
            ("connect_timeout=soon", "invalid integer value"),
        ];
        for (dsn, expected) in cases {
            let error = resolve_with(Some(dsn), &[]).err().map(|e| e.to_string());
            let text = error.unwrap_or_else(|| panic!("{dsn} should be refused"));
            assert!(text.contains(expected), "{dsn}: {text}");
            assert!(
                !text.contains("s3cret") && !text.contains('\n'),
                "{dsn}: {text}"
            );
        }
        let target = resolve_with(Some("gssencmode=disable host=h"), &[]).unwrap();
        assert_eq!(
            target.warnings,
            ["connection option gssencmode is not supported and was ignored"]
        );
    }

    #[test]
    fn sslmode_follows_libpq_for_root_certificates() {
        let home = tempfile::tempdir().unwrap();
        let home_str = home.path().to_str().unwrap();
        let target = resolve_with(Some("sslmode=require"), &[("HOME", home_str)]).unwrap();
        assert!(
            !target.tls.verifies_chain(),
            "require without a root.crt only encrypts"
        );

        std::fs::create_dir(home.path().join(".postgresql")).unwrap();
        std::fs::write(home.path().join(".postgresql/root.crt"), "").unwrap();
        let target = resolve_with(Some("sslmode=require"), &[("HOME", home_str)]).unwrap();
        assert!(
            target.tls.verifies_chain(),
            "require with a root.crt verifies like verify-ca"
        );
        assert!(!target.tls.verifies_name());

        let target = resolve_with(Some("sslrootcert=system"), &[]).unwrap();
        assert_eq!(
            target.tls.mode,
            SslMode::VerifyFull,
            "system roots imply verify-full"
        );
        assert!(target.tls.verifies_name());
    }

    #[test]
    fn the_password_file_supplies_passwords_per_host() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# comment\n\
             db1:*:shop:app:one\n\
             localhost:5432:*:app:sock\\:et\n\
             *:*:*:app:fallback\n",
        )
        .unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let env = [("PGPASSFILE", file.to_str().unwrap())];
        let target = resolve_with(
            Some("host=db1,/var/run/postgresql,/tmp,db2 user=app dbname=shop"),
            &env,
        )
        .unwrap();
        let passwords: Vec<Option<&str>> = target
            .endpoints
            .iter()
            .map(|e| e.password.as_ref().map(|s| s.0.as_str()))
            .collect();
        // localhost matches the default socket directory, not any socket
        assert_eq!(
            passwords,
            [
                Some("one"),
                Some("sock:et"),
                Some("fallback"),
                Some("fallback")
            ]
        );
        assert!(target.warnings.is_empty(), "{:?}", target.warnings);

        let given =
            resolve_with(Some("host=db1 user=app dbname=shop password=given"), &env).unwrap();
        assert_eq!(
            given.endpoints[0].password.as_ref().map(|s| s.0.as_str()),
            Some("given")
        );

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let open = resolve_with(Some("host=db1 user=app dbname=shop"), &env).unwrap();
        assert_eq!(open.endpoints[0].password, None);
        assert_eq!(open.warnings.len(), 1);
        assert!(
            open.warnings[0].contains("has group or world access"),
            "{:?}",
            open.warnings
        );
    }
}
