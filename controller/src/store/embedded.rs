//! The embedded Postgres: with no database URL configured, `quasm serve`
//! creates and runs its own cluster under the data directory, using the
//! system's `initdb` and `pg_ctl` (Debian package `postgresql`).
//!
//! The cluster listens only on a unix socket inside its directory, so it
//! never collides with another server's TCP port. `initdb` refuses to run as
//! root, so as root the cluster belongs to the `postgres` system user and the
//! tools run through `runuser`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::StoreError;

/// Database and role the embedded cluster is created with.
pub const DATABASE: &str = "quasm";

/// A running embedded cluster. Stopped by [`EmbeddedPostgres::stop`]; it is
/// deliberately left running on drop so a crashed quasm restarts quickly
/// (pg_ctl start on a running cluster is a no-op).
#[derive(Debug)]
pub struct EmbeddedPostgres {
    dir: PathBuf,
    bin: PathBuf,
    run_as: Option<String>,
}

fn err(msg: impl Into<String>) -> StoreError {
    StoreError::Embedded(msg.into())
}

/// The newest `/usr/lib/postgresql/N/bin`, or the directory of `pg_ctl` on PATH.
pub fn find_bin_dir() -> Result<PathBuf, StoreError> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, p): &(u32, PathBuf)| p.join("initdb").exists())
        .collect();
    versions.sort();
    if let Some((_, p)) = versions.pop() {
        return Ok(p);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths).find(|p| p.join("pg_ctl").exists() && p.join("initdb").exists())
        })
        .ok_or_else(|| {
            err("no PostgreSQL server binaries found (initdb, pg_ctl); install the `postgresql` package \
                 or set a database URL")
        })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

impl EmbeddedPostgres {
    /// Creates the cluster in `dir` if needed, starts it, and makes sure the
    /// `quasm` database exists.
    pub fn start(dir: &Path) -> Result<Self, StoreError> {
        let bin = find_bin_dir()?;
        std::fs::create_dir_all(dir).map_err(|e| err(format!("creating {}: {e}", dir.display())))?;
        let dir = dir.canonicalize().map_err(|e| err(format!("{}: {e}", dir.display())))?;
        let run_as = is_root().then(|| "postgres".to_owned());
        let pg = Self { dir, bin, run_as };
        if let Some(user) = &pg.run_as {
            pg.chown_to(user)?;
            // The cluster's owner must be able to reach its directory.
            if pg.run("pg_ctl", &["--version"]).is_err()
                || Command::new("runuser")
                    .args(["-u", user, "--", "test", "-w"])
                    .arg(&pg.dir)
                    .status()
                    .map_or(true, |s| !s.success())
            {
                return Err(err(format!(
                    "the `{user}` user cannot reach {}: as root the embedded Postgres runs as `{user}`, so every \
                     parent directory must be traversable (chmod o+x), or choose another --data-dir \
                     (the default for root is /var/lib/quasm)",
                    pg.dir.display()
                )));
            }
        }
        if !pg.data_dir().join("PG_VERSION").exists() {
            pg.run(
                "initdb",
                &[
                    "-D",
                    pg.data_dir().to_str().ok_or_else(|| err("data dir is not UTF-8"))?,
                    "-U",
                    DATABASE,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-instructions",
                ],
            )?;
        }
        std::fs::create_dir_all(pg.socket_dir()).map_err(|e| err(format!("creating the socket dir: {e}")))?;
        if let Some(user) = &pg.run_as {
            pg.chown_to(user)?;
        }
        if pg.socket_dir().as_os_str().len() > 100 {
            return Err(err(format!(
                "the socket path {} is too long for a unix socket; use a shorter data directory",
                pg.socket_dir().display()
            )));
        }
        let opts = format!("-c listen_addresses='' -k {} -c max_connections=200", pg.socket_dir().display());
        let data = pg.data_dir();
        let log = pg.dir.join("postgres.log");
        pg.run("pg_ctl", &["-D", path_str(&data)?, "-l", path_str(&log)?, "-o", &opts, "-w", "-t", "60", "start"])
            .or_else(|e| if pg.is_running() { Ok(String::new()) } else { Err(e) })?;
        pg.ensure_database()?;
        Ok(pg)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("pgdata")
    }

    fn socket_dir(&self) -> PathBuf {
        self.dir.join("run")
    }

    /// A connection string for the `quasm` database over the unix socket.
    pub fn url(&self) -> String {
        format!("host={} user={DATABASE} dbname={DATABASE}", self.socket_dir().display())
    }

    fn is_running(&self) -> bool {
        self.data_dir().join("postmaster.pid").exists()
            && self.run("pg_ctl", &["-D", &self.data_dir().to_string_lossy(), "status"]).is_ok()
    }

    fn ensure_database(&self) -> Result<(), StoreError> {
        let sock = self.socket_dir();
        let out = self.run(
            "psql",
            &[
                "-h",
                path_str(&sock)?,
                "-U",
                DATABASE,
                "-d",
                "postgres",
                "-tAc",
                "SELECT 1 FROM pg_database WHERE datname = 'quasm'",
            ],
        )?;
        if out.trim() != "1" {
            self.run("createdb", &["-h", path_str(&sock)?, "-U", DATABASE, DATABASE])?;
        }
        Ok(())
    }

    /// Stops the cluster (fast shutdown: open sessions are disconnected).
    pub fn stop(&self) -> Result<(), StoreError> {
        self.run("pg_ctl", &["-D", path_str(&self.data_dir())?, "-m", "fast", "-w", "stop"]).map(|_| ())
    }

    fn chown_to(&self, user: &str) -> Result<(), StoreError> {
        let status = Command::new("chown")
            .args(["-R", &format!("{user}:"), path_str(&self.dir)?])
            .status()
            .map_err(|e| err(format!("chown: {e}")))?;
        if !status.success() {
            return Err(err(format!("chown -R {user} {} failed", self.dir.display())));
        }
        Ok(())
    }

    /// Runs a Postgres tool (as the cluster's owner when we are root);
    /// returns its stdout.
    fn run(&self, tool: &str, args: &[&str]) -> Result<String, StoreError> {
        let exe = self.bin.join(tool);
        let exe = if exe.exists() { exe } else { PathBuf::from(tool) };
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = cmd.args(args).output().map_err(|e| err(format!("running {tool}: {e}")))?;
        if !out.status.success() {
            return Err(err(format!(
                "{tool} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

fn path_str(p: &Path) -> Result<&str, StoreError> {
    p.to_str().ok_or_else(|| err(format!("{} is not UTF-8", p.display())))
}
