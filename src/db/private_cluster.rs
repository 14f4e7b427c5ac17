//! A PostgreSQL cluster of the service's own, for a machine that has PostgreSQL's programs but
//! no server running: `serve --demo` (and `cargo test`) start one when nothing answers at the
//! default address and no `DATABASE_URL` is set, so that the README's two commands need nothing
//! but cargo and the project.
//!
//! The cluster lives in one folder (`MIP_PRIVATE_PG_DIR`, by default `mip-postgres-<uid>` in the
//! system's temporary folder), readable by its owner only: its data, its log, its Unix socket,
//! the port it listens on (127.0.0.1 only) and the random password of its `postgres` user
//! (scram-sha-256: other local users cannot connect). A cluster already running from that
//! folder is reused; two processes starting it at once take turns (a lock file). PostgreSQL
//! refuses to run as root: as root, its programs run as the `postgres` user, who owns the folder.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Where the cluster lives unless `MIP_PRIVATE_PG_DIR` says otherwise.
pub fn default_dir() -> PathBuf {
    std::env::var_os("MIP_PRIVATE_PG_DIR").map(PathBuf::from).unwrap_or_else(|| user_dir("mip-postgres"))
}

/// `<temp>/<name>-<uid>`: a folder of this user's in the system's temporary folder.
pub fn user_dir(name: &str) -> PathBuf {
    let uid = uid_of(None).map_or_else(|| "user".to_string(), |uid| uid.to_string());
    std::env::temp_dir().join(format!("{name}-{uid}"))
}

/// The numeric id of a user (`None`: this process's), from `id -u`.
fn uid_of(user: Option<&str>) -> Option<u32> {
    let out = Command::new("id").arg("-u").args(user).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// Whether something accepts connections at the host and port of `url`, within a second.
pub fn answers(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else { return false };
    let host = parsed.host_str().unwrap_or("localhost").to_string();
    let port = parsed.port().unwrap_or(5432);
    let addresses: Vec<SocketAddr> = (host.as_str(), port).to_socket_addrs().map(Iterator::collect).unwrap_or_default();
    addresses.iter().any(|address| TcpStream::connect_timeout(address, Duration::from_secs(1)).is_ok())
}

/// The folder of PostgreSQL's server programs (`initdb`, `pg_ctl`): `MIP_POSTGRES_PROGRAMS`
/// when set (and then only it), else from `pg_config`, the `PATH`, or the usual Debian,
/// Homebrew and source-install folders.
pub fn find_programs() -> Option<PathBuf> {
    let has_programs = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("MIP_POSTGRES_PROGRAMS") {
        let dir = PathBuf::from(dir);
        return has_programs(&dir).then_some(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has_programs(&dir) {
            return Some(dir);
        }
    }
    if let Some(path) = std::env::var_os("PATH")
        && let Some(dir) = std::env::split_paths(&path).find(|dir| has_programs(dir))
    {
        return Some(dir);
    }
    // The newest version first, where several are installed side by side.
    let versioned = |parent: &str, prefix: &str| -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(parent)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
                    .map(|e| e.path().join("bin"))
                    .collect()
            })
            .unwrap_or_default();
        found.sort_by_key(|dir| std::cmp::Reverse(version_of(dir)));
        found
    };
    let candidates = versioned("/usr/lib/postgresql", "")
        .into_iter()
        .chain(versioned("/opt/homebrew/opt", "postgresql"))
        .chain(versioned("/usr/local/opt", "postgresql"))
        .chain(["/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin"].map(PathBuf::from));
    candidates.into_iter().find(|dir| has_programs(dir))
}

/// `/usr/lib/postgresql/15/bin` → 15; `/opt/homebrew/opt/postgresql@16/bin` → 16.
fn version_of(dir: &Path) -> u32 {
    let name = dir.parent().and_then(Path::file_name).map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    name.rsplit(['@', '-']).next().and_then(|v| v.parse().ok()).or_else(|| name.parse().ok()).unwrap_or(0)
}

fn running_as_root() -> bool {
    uid_of(None) == Some(0)
}

fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| format!("no free port: {e}"))
}

/// A cluster this process started (and stops when told), or one it found running.
pub struct PrivateCluster {
    programs: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    password: String,
    /// Stopped by [`PrivateCluster::stop`]: started by this process, or adopted.
    started: bool,
}

impl PrivateCluster {
    fn command(&self, program: &str) -> Command {
        let program = self.programs.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Starts the cluster in `dir` (made with `initdb` the first time), or reuses the one
    /// running from it: `adopt` makes a reused one this process's to stop (a demo left running
    /// by a process that was killed), otherwise it is left to whoever started it.
    pub fn start(programs: PathBuf, dir: &Path, adopt: bool) -> Result<PrivateCluster, String> {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let as_postgres = running_as_root();
        let owner = if as_postgres { uid_of(Some("postgres")) } else { uid_of(None) }
            .ok_or("cannot tell who must own the cluster's folder (`id -u`)")?;
        let fail = |what: &str, error: std::io::Error| format!("{what} {}: {error}", dir.display());
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(|e| fail("cannot create", e))?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| fail("cannot protect", e))?;
            if as_postgres {
                // Only the folder just made here, never a tree someone pointed us at.
                let status = Command::new("chown").arg("postgres").arg(dir).status();
                if !status.is_ok_and(|s| s.success()) {
                    return Err(format!("cannot give {} to the postgres user", dir.display()));
                }
            }
        }
        let metadata = std::fs::metadata(dir).map_err(|e| fail("cannot read", e))?;
        if metadata.uid() != owner || metadata.mode() & 0o077 != 0 {
            return Err(format!(
                "{} must be owned by {} and closed to others (chmod 700): it holds a database and its password",
                dir.display(),
                if as_postgres { "the postgres user" } else { "you" }
            ));
        }
        // Two processes starting at once take turns; the lock goes when this function returns.
        let lock = std::fs::File::create(dir.join("lock")).map_err(|e| fail("cannot lock", e))?;
        lock.lock().map_err(|e| fail("cannot lock", e))?;
        let password_file = dir.join("password");
        let password = match std::fs::read_to_string(&password_file) {
            Ok(password) => password.trim().to_string(),
            Err(_) => {
                use rand::RngCore;
                let mut bytes = [0u8; 16];
                rand::rngs::OsRng.fill_bytes(&mut bytes);
                let password = hex::encode(bytes);
                std::fs::write(&password_file, &password).map_err(|e| fail("cannot write the password in", e))?;
                if as_postgres {
                    let _ = Command::new("chown").arg("postgres").arg(&password_file).status();
                }
                password
            }
        };
        let mut cluster =
            PrivateCluster { programs, dir: dir.to_path_buf(), port: 0, as_postgres, password, started: false };
        if !cluster.data().join("PG_VERSION").exists() {
            let out = cluster
                .command("initdb")
                .args(["-A", "scram-sha-256", "-U", "postgres", "-E", "UTF8", "--locale=C"])
                .arg(format!("--pwfile={}", password_file.display()))
                .arg("-D")
                .arg(cluster.data())
                .output()
                .map_err(|e| format!("cannot run initdb: {e}"))?;
            if !out.status.success() {
                return Err(format!("initdb failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
            }
        }
        let port_file = dir.join("port");
        let saved: Option<u16> = std::fs::read_to_string(&port_file).ok().and_then(|p| p.trim().parse().ok());
        let running = cluster.command("pg_ctl").arg("status").arg("-D").arg(cluster.data()).output();
        if let (Some(port), true) = (saved, running.is_ok_and(|out| out.status.success())) {
            cluster.port = port;
            if answers(&cluster.url("postgres")) {
                cluster.started = adopt;
                return Ok(cluster);
            }
        }
        // Not running: its saved port if still free, else a new one.
        cluster.port = match saved.filter(|port| port_is_free(*port)) {
            Some(port) => port,
            None => {
                let port = free_port()?;
                std::fs::write(&port_file, port.to_string()).map_err(|e| fail("cannot write the port in", e))?;
                port
            }
        };
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c unix_socket_permissions=0700 -c max_connections=300",
            cluster.port,
            cluster.dir.display()
        );
        let out = cluster
            .command("pg_ctl")
            .args(["start", "-w", "-t", "60", "-o", &options, "-l"])
            .arg(cluster.dir.join("log"))
            .arg("-D")
            .arg(cluster.data())
            .output()
            .map_err(|e| format!("cannot run pg_ctl: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "pg_ctl start failed: {} (see {})",
                String::from_utf8_lossy(&out.stderr).trim(),
                cluster.dir.join("log").display()
            ));
        }
        cluster.started = true;
        Ok(cluster)
    }

    /// The URL of one of its databases.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres:{}@127.0.0.1:{}/{database}", self.password, self.port)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the cluster if this process started it.
    pub fn stop(&self) {
        if self.started {
            let _ = self.command("pg_ctl").args(["stop", "-w", "-m", "fast", "-D"]).arg(self.data()).output();
        }
    }
}

/// What to say when there is no PostgreSQL at all.
pub const NO_POSTGRESQL: &str = "no PostgreSQL answers at the default address and none is installed: \
     install PostgreSQL (Debian: apt install postgresql; macOS: brew install postgresql), \
     or start one with `docker compose up -d db`, or set DATABASE_URL to a running server";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_the_usual_folders() {
        assert_eq!(version_of(Path::new("/usr/lib/postgresql/15/bin")), 15);
        assert_eq!(version_of(Path::new("/opt/homebrew/opt/postgresql@16/bin")), 16);
        assert_eq!(version_of(Path::new("/usr/local/bin")), 0);
    }

    #[test]
    fn nothing_answers_on_a_closed_port() {
        let port = free_port().unwrap();
        assert!(!answers(&format!("postgres://postgres@127.0.0.1:{port}/mip")));
    }
}
