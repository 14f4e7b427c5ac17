//! A PostgreSQL cluster of the service's own, for a machine that has PostgreSQL's programs but
//! no server running: `serve --demo` (and `cargo test`) start one when nothing answers at the
//! default address and no `DATABASE_URL` is set, so that the README's two commands need nothing
//! but cargo and the project.
//!
//! The cluster lives in one folder (`MIP_PRIVATE_PG_DIR`, by default `mip-postgres` in the
//! system's temporary folder): its data, its log, its Unix socket and the port it listens on
//! (127.0.0.1 only, trust authentication: it is a demo). A cluster already running from that
//! folder is reused. PostgreSQL refuses to run as root: as root, its programs run as the
//! `postgres` user.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Where the cluster lives unless `MIP_PRIVATE_PG_DIR` says otherwise.
pub fn default_dir() -> PathBuf {
    std::env::var_os("MIP_PRIVATE_PG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("mip-postgres"))
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
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.trim_ascii() == b"0")
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
    /// Started by this process (a reused one is left running for whoever started it).
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
    /// running from it.
    pub fn start(programs: PathBuf, dir: &Path) -> Result<PrivateCluster, String> {
        let as_postgres = running_as_root();
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let port_file = dir.join("port");
        let port = match std::fs::read_to_string(&port_file).ok().and_then(|p| p.trim().parse().ok()) {
            Some(port) => port,
            None => {
                let port = free_port()?;
                std::fs::write(&port_file, port.to_string())
                    .map_err(|e| format!("cannot write {}: {e}", port_file.display()))?;
                port
            }
        };
        let mut cluster = PrivateCluster { programs, dir: dir.to_path_buf(), port, as_postgres, started: false };
        if as_postgres {
            let status = Command::new("chown").args(["-R", "postgres"]).arg(dir).status();
            if !status.is_ok_and(|s| s.success()) {
                return Err(format!(
                    "cannot give {} to the postgres user (PostgreSQL does not run as root)",
                    dir.display()
                ));
            }
        }
        if !cluster.data().join("PG_VERSION").exists() {
            let out = cluster
                .command("initdb")
                .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "-D"])
                .arg(cluster.data())
                .output()
                .map_err(|e| format!("cannot run initdb: {e}"))?;
            if !out.status.success() {
                return Err(format!("initdb failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
            }
        }
        let running = cluster.command("pg_ctl").arg("status").arg("-D").arg(cluster.data()).output();
        if running.is_ok_and(|out| out.status.success()) && answers(&cluster.url("postgres")) {
            return Ok(cluster);
        }
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", cluster.port, cluster.dir.display());
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
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
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
