//! A throwaway PostgreSQL/PostGIS cluster for one test, and tessera servers on it.
//!
//! `initdb` in a new directory under `/tmp`, `postgres` on a free
//! loopback port, stopped and removed when the [`Cluster`] is dropped (so a failing test stops
//! it too). As root (CI), the cluster runs as the `postgres` user, since `initdb` refuses root.
//! Without PostgreSQL and PostGIS installed, the tests skip with a printed reason, except on CI
//! (`CI` set), where they fail: `.ci/run` installs them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::cli::tessera;
use crate::cli_serve::Running;
use crate::common::get_url;

/// The write token of the servers started here.
pub const TOKEN: &str = "postgres-tests-token-0123456789";

/// A running PostgreSQL cluster.
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    /// The loopback port it listens on.
    pub port: u16,
    running: bool,
}

/// The directory of the newest installed PostgreSQL's programs, if it has PostGIS.
fn installed() -> Result<PathBuf, String> {
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "PostgreSQL is not installed (/usr/lib/postgresql is missing)".to_owned())?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|v| Path::new(&format!("/usr/lib/postgresql/{v}/bin/initdb")).exists())
        .collect();
    versions.sort_unstable();
    let v = versions.pop().ok_or("no PostgreSQL server with initdb under /usr/lib/postgresql")?;
    if !Path::new(&format!("/usr/share/postgresql/{v}/extension/postgis.control")).exists() {
        return Err(format!("PostGIS is not installed for PostgreSQL {v} (apt-get install postgresql-{v}-postgis-3)"));
    }
    Ok(PathBuf::from(format!("/usr/lib/postgresql/{v}/bin")))
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A free loopback port (taken by the OS, then released for PostgreSQL to bind).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("address").port()
}

impl Cluster {
    /// A new cluster with an empty database `tessera`; `None`, with the reason printed, when
    /// PostgreSQL or PostGIS is not installed outside CI.
    pub fn start(test: &str) -> Option<Self> {
        let bin = match installed() {
            Ok(bin) => bin,
            Err(reason) if std::env::var_os("CI").is_none() => {
                eprintln!("skipping {test}: {reason}");
                return None;
            }
            Err(reason) => panic!("{test}: {reason}; CI is set, so the PostgreSQL tests must run (see .ci/run)"),
        };
        static N: AtomicUsize = AtomicUsize::new(0);
        // /tmp rather than $TMPDIR: the postgres user must reach it, and its socket path must
        // stay short.
        let dir =
            Path::new("/tmp").join(format!("tessera-pg-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cluster directory");
        let mut cluster = Self { dir, bin, port: 0, running: false };
        if is_root() {
            cluster.run_ok(Command::new("chown").arg("postgres:").arg(&cluster.dir), "chown");
        }
        let data = cluster.dir.join("data");
        let mut initdb = cluster.as_owner("initdb");
        initdb.arg("--no-sync").arg("-D").arg(&data).args(["-A", "trust", "-U", "postgres"]);
        cluster.run_ok(&mut initdb, "initdb");
        // A port taken by someone else between our look and PostgreSQL's bind: try another.
        for attempt in 0..3 {
            cluster.port = free_port();
            if cluster.pg_ctl_start() {
                break;
            }
            assert!(attempt < 2, "PostgreSQL did not start: {}", cluster.server_log());
        }
        cluster.createdb("tessera");
        Some(cluster)
    }

    /// One of the cluster's programs, run as the cluster's owner.
    fn as_owner(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if is_root() {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        }
    }

    fn run_ok(&self, cmd: &mut Command, what: &str) -> String {
        let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            out.status.success(),
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn pg_ctl_start(&mut self) -> bool {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.display());
        let mut cmd = self.as_owner("pg_ctl");
        cmd.arg("-D").arg(self.dir.join("data")).args(["-o", &options, "-l"]).arg(self.dir.join("log"));
        cmd.args(["-w", "-t", "60", "start"]);
        self.running = cmd.output().is_ok_and(|o| o.status.success());
        self.running
    }

    /// Starts the stopped cluster again, on the same port.
    pub fn start_again(&mut self) {
        assert!(self.pg_ctl_start(), "PostgreSQL did not start again: {}", self.server_log());
    }

    /// Stops the cluster (fast: running transactions are rolled back, clients disconnected).
    pub fn stop(&mut self) {
        let mut cmd = self.as_owner("pg_ctl");
        cmd.arg("-D").arg(self.dir.join("data")).args(["-m", "fast", "-w", "-t", "60", "stop"]);
        self.run_ok(&mut cmd, "pg_ctl stop");
        self.running = false;
    }

    /// PostgreSQL's own log, for failure messages.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// A new empty database.
    pub fn createdb(&self, name: &str) {
        let mut cmd = self.as_owner("createdb");
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", name]);
        self.run_ok(&mut cmd, "createdb");
    }

    /// The URL of a database of the cluster, as the superuser.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Runs SQL with `psql` as the superuser; returns the rows, unaligned (`|` between
    /// columns), one a line.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let mut cmd = Command::new(self.bin.join("psql"));
        cmd.args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", &self.port.to_string()]);
        cmd.args(["-U", "postgres", "-d", db, "-c", sql]);
        self.run_ok(&mut cmd, &format!("psql {sql}")).trim().to_owned()
    }

    /// A directory for the servers' logs, removed with the cluster.
    pub fn logs(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.running {
            let mut cmd = self.as_owner("pg_ctl");
            cmd.arg("-D").arg(self.dir.join("data")).args(["-m", "immediate", "-w", "-t", "60", "stop"]);
            let _ = cmd.output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A tessera server on the database at `url`, its log in the cluster's directory under `name`;
/// returns it and its base URL.
pub fn serve(cluster: &Cluster, url: &str, name: &str) -> (Running, String) {
    let mut cmd = tessera();
    cmd.args(["serve", "--listen", "127.0.0.1:0"]).env("TESSERA_EVENTS_DB", url).env("TESSERA_WRITE_TOKEN", TOKEN);
    cmd.env("RUST_LOG", "warn,tessera=info");
    let log = cluster.logs().join(format!("{name}.log"));
    let mut server = Running::start_logged(&mut cmd, &log);
    let base = server
        .url()
        .unwrap_or_else(|| panic!("{name} did not start: {}", std::fs::read_to_string(&log).unwrap_or_default()));
    (server, base)
}

/// Polls `check` every 20 ms until it holds or `secs` pass; returns whether it held. For
/// changes that travel between servers: the tests wait for them, they do not time them.
pub fn eventually(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An event's ETag on a server, or `None` when it has none.
pub fn etag(base: &str, id: &str) -> Option<String> {
    let reply = get_url(&format!("{base}/collections/events/items/{id}"));
    (reply.status == 200).then(|| reply.header("etag").to_owned())
}
