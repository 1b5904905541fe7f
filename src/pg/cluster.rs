//! A disposable PostgreSQL cluster: `initdb` + `pg_ctl` in a temporary directory, listening
//! only on a Unix socket inside it. As root the server runs as `postgres` via `runuser`
//! (initdb refuses root). Everything is stopped and removed on drop, also when a panic
//! unwinds through the owner.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where to look for server binaries, in order: `--pg-bin`, `PGRISK_PG_BIN_DIRS` (first entry),
/// `initdb` on `PATH`, then Debian's `/usr/lib/postgresql/<major>/bin` (newest first).
pub fn find_bin_dir(explicit: Option<&Path>) -> Result<PathBuf, ClusterError> {
    if let Some(dir) = explicit {
        return check_bin_dir(dir);
    }
    if let Some(first) = bin_dirs_from_env().into_iter().next() {
        return check_bin_dir(&first);
    }
    if let Some(initdb) = find_on_path("initdb") {
        let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        if let Some(dir) = real.parent() {
            return check_bin_dir(dir);
        }
    }
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| d.join("initdb").is_file())
        .collect();
    debian.sort_by_key(|d| std::cmp::Reverse(major_of_dir(d)));
    debian.into_iter().next().ok_or(ClusterError::NoBinaries)
}

/// Every directory in `PGRISK_PG_BIN_DIRS` (colon-separated).
pub fn bin_dirs_from_env() -> Vec<PathBuf> {
    std::env::var("PGRISK_PG_BIN_DIRS")
        .unwrap_or_default()
        .split(':')
        .filter(|s| !s.trim().is_empty())
        .map(PathBuf::from)
        .collect()
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

fn check_bin_dir(dir: &Path) -> Result<PathBuf, ClusterError> {
    for tool in ["initdb", "pg_ctl", "postgres"] {
        if !dir.join(tool).is_file() {
            return Err(ClusterError::MissingTool {
                dir: dir.to_owned(),
                tool,
            });
        }
    }
    Ok(dir.to_owned())
}

fn major_of_dir(dir: &Path) -> u32 {
    dir.parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "no PostgreSQL server binaries found (initdb, pg_ctl, postgres): install them \
         (Debian/Ubuntu: `apt-get install postgresql`), or pass --pg-bin DIR, or set PGRISK_PG_BIN_DIRS"
    )]
    NoBinaries,
    #[error("{}: no `{tool}` here (pass the `bin` directory of a PostgreSQL installation)", .dir.display())]
    MissingTool { dir: PathBuf, tool: &'static str },
    #[error("cannot create a temporary directory for the cluster: {0}")]
    TempDir(std::io::Error),
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
}

/// Server settings beyond the defaults, passed as `-c name=value` (later ones win).
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    pub settings: Vec<(String, String)>,
    /// The port (default [`PORT`]); it names the socket too, and matters once the cluster
    /// also listens on TCP (`listen_addresses`).
    pub port: Option<u16>,
}

impl ClusterOptions {
    pub fn setting(mut self, name: &str, value: &str) -> ClusterOptions {
        self.settings.push((name.to_owned(), value.to_owned()));
        self
    }

    /// These settings followed by `more`'s (which win, as does its port).
    pub fn with(mut self, more: &ClusterOptions) -> ClusterOptions {
        self.settings.extend(more.settings.iter().cloned());
        self.port = more.port.or(self.port);
        self
    }

    pub fn port(mut self, port: u16) -> ClusterOptions {
        self.port = Some(port);
        self
    }
}

/// A running throwaway server. Connect through [`Cluster::socket_dir`] as user `postgres`.
pub struct Cluster {
    // dropped after the server is stopped (field order: stop in Drop, then remove)
    dir: tempfile::TempDir,
    bin: PathBuf,
    run_as_postgres: bool,
    port: u16,
    pub major: u32,
    pub version: String,
}

pub const PORT: u16 = 5432;
pub const SUPERUSER: &str = "postgres";

impl Cluster {
    /// Initialises and starts a cluster with binaries from `bin`.
    pub fn start(bin: &Path) -> Result<Cluster, ClusterError> {
        Cluster::start_with(bin, &ClusterOptions::default())
    }

    /// As [`Cluster::start`], with extra server settings (`shared_preload_libraries`, ...).
    pub fn start_with(bin: &Path, extra: &ClusterOptions) -> Result<Cluster, ClusterError> {
        let cluster = Cluster::empty(bin, extra.port.unwrap_or(PORT))?;
        let data = cluster.data_dir();
        cluster.server_command("initdb", |c| {
            c.arg("-D").arg(&data).args([
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]);
        })?;
        cluster.launch(extra)?;
        Ok(cluster)
    }

    /// A hot standby streaming from this cluster (`pg_basebackup -R`), on its own socket.
    pub fn start_standby(&self, extra: &ClusterOptions) -> Result<Cluster, ClusterError> {
        let standby = Cluster::empty(&self.bin, extra.port.unwrap_or(PORT))?;
        let data = standby.data_dir();
        let source = self.socket_dir();
        standby.server_command("pg_basebackup", |c| {
            c.arg("-D").arg(&data).arg("-h").arg(&source).args([
                "-p",
                &self.port.to_string(),
                "-U",
                SUPERUSER,
                "-R",
                "-X",
                "stream",
                // an immediate checkpoint: the default spread one waits minutes on an idle server
                "--checkpoint=fast",
                "--no-sync",
            ]);
        })?;
        standby.launch(
            &ClusterOptions::default()
                .setting("hot_standby", "on")
                .with(extra),
        )?;
        Ok(standby)
    }

    /// A temporary directory owned by the server user, and the binaries' version.
    fn empty(bin: &Path, port: u16) -> Result<Cluster, ClusterError> {
        let run_as_postgres = running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("pgrisk-pg-")
            .tempdir()
            .map_err(ClusterError::TempDir)?;
        let version = run(Command::new(bin.join("postgres")).arg("--version"))?;
        let major = version
            .split_whitespace()
            .find_map(|w| w.split('.').next()?.parse::<u32>().ok())
            .unwrap_or(0);
        let cluster = Cluster {
            dir,
            bin: bin.to_owned(),
            run_as_postgres,
            port,
            major,
            version: version.trim().to_owned(),
        };
        if run_as_postgres {
            // initdb and postgres refuse to run as root; the server user must own the directory
            run(Command::new("chown")
                .arg(format!("{SUPERUSER}:"))
                .arg(cluster.dir.path()))?;
        }
        Ok(cluster)
    }

    /// Starts the server on the data directory, listening on the Unix socket only.
    fn launch(&self, extra: &ClusterOptions) -> Result<(), ClusterError> {
        let data = self.data_dir();
        let mut options = format!(
            "-k {} -c listen_addresses='' -p {} -F -c fsync=off -c full_page_writes=off -c max_connections=40",
            self.socket_dir().display(),
            self.port
        );
        for (name, value) in &extra.settings {
            options.push_str(&format!(" -c {name}={value}"));
        }
        let log = self.log_path();
        let started = self.server_command("pg_ctl", |c| {
            c.arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "30", "-o", &options, "start"]);
        });
        if let Err(error) = started {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            return Err(ClusterError::Command {
                command: "pg_ctl start".into(),
                detail: format!(
                    "{error}; server log: {}",
                    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
                ),
            });
        }
        self.wait_for_socket(Duration::from_secs(10))
    }

    pub fn socket_dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// Whether this installation has `tool` (relocatable builds may lack `pg_basebackup`).
    pub fn has_tool(&self, tool: &str) -> bool {
        self.bin.join(tool).is_file()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's log file (`pg_ctl -l`).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A tokio-postgres configuration for `database` on this cluster.
    pub fn config(&self, database: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(self.socket_dir())
            .port(self.port)
            .user(SUPERUSER)
            .dbname(database)
            .application_name("pgrisk")
            .connect_timeout(Duration::from_secs(10));
        config
    }

    fn server_command(
        &self,
        tool: &str,
        args: impl FnOnce(&mut Command),
    ) -> Result<String, ClusterError> {
        let program = self.bin.join(tool);
        let mut command = if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", SUPERUSER, "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        // a user's PG* variables must not redirect the tools to another server
        for var in [
            "PGHOST",
            "PGPORT",
            "PGDATA",
            "PGUSER",
            "PGDATABASE",
            "PGPASSWORD",
        ] {
            command.env_remove(var);
        }
        command.current_dir(self.dir.path());
        args(&mut command);
        run(&mut command)
    }

    fn wait_for_socket(&self, timeout: Duration) -> Result<(), ClusterError> {
        let socket = self.socket_dir().join(format!(".s.PGSQL.{}", self.port));
        let start = Instant::now();
        while !socket.exists() {
            if start.elapsed() > timeout {
                return Err(ClusterError::Command {
                    command: "pg_ctl start".into(),
                    detail: "socket never appeared".into(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data_dir();
        // immediate: nothing in a throwaway cluster is worth a checkpoint
        let _ = self.server_command("pg_ctl", |c| {
            c.arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"]);
        });
    }
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn run(command: &mut Command) -> Result<String, ClusterError> {
    let shown = format!("{command:?}");
    let output = command.output().map_err(|e| ClusterError::Command {
        command: shown.clone(),
        detail: e.to_string(),
    })?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(ClusterError::Command {
        command: shown,
        detail: format!("{} {}", output.status, stderr.trim()),
    })
}
