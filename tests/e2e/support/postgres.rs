//! Throwaway PostgreSQL clusters from Debian's `postgresql` package, for the
//! tests of `storage.backend = "postgres"`.
//!
//! A cluster is `initdb` into a temporary folder and `postgres` on a free
//! loopback port, trusting local connections. PostgreSQL refuses to run as
//! root, so under root both run as `nobody` (through `setpriv`). The server
//! is told to quit when the test process ends (`--pdeathsig`, or
//! `PR_SET_PDEATHSIG` when not root), so no test leaves one running.
//!
//! `INBOUND_TEST_STORAGE=postgres` makes the suite's configs
//! ([`super::storage_section`]) use one cluster per test process, with a
//! fresh database per host; it is stopped and its folder removed when the
//! process exits.

use super::free_port;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::Duration;

/// The unprivileged user a root test process runs PostgreSQL as.
const NOBODY: u32 = 65534;

pub struct Cluster {
    dir: tempfile::TempDir,
    pub port: u16,
    bin: PathBuf,
    /// The running server's pid, none while stopped.
    pid: Mutex<Option<u32>>,
}

impl Cluster {
    /// A new cluster, started.
    pub fn start() -> Cluster {
        let bin = bin_dir();
        let dir = tempfile::tempdir().expect("temporary directory");
        let data = dir.path().join("data");
        if is_root() {
            std::os::unix::fs::chown(dir.path(), Some(NOBODY), Some(NOBODY)).unwrap();
        }
        let status = as_postgres_user(Command::new(bin.join("initdb")))
            .args([
                "--auth=trust",
                "--username=inbound",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .arg("-D")
            .arg(&data)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .status()
            .expect("run initdb (Debian's postgresql package; make test-deps installs it)");
        assert!(status.success(), "initdb failed");
        let cluster = Cluster { dir, port: free_port(), bin, pid: Mutex::new(None) };
        cluster.resume();
        cluster
    }

    /// Starts the server again after [`Cluster::stop`], on the same port.
    pub fn resume(&self) {
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("postgres.log");
        let (bin, port, folder) = (self.bin.clone(), self.port, self.dir.path().to_path_buf());
        let (pid_tx, pid_rx) = mpsc::channel();
        // The server must outlive no one: it gets SIGQUIT when the thread
        // that started it ends, and this thread lives until the server does.
        std::thread::spawn(move || {
            let mut command = as_postgres_user(Command::new(bin.join("postgres")));
            command
                .arg("-D")
                .arg(&data)
                .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
                .arg("-c")
                .arg(format!("unix_socket_directories={}", folder.display()))
                .args(["-c", "max_connections=200", "-c", "synchronous_commit=on"])
                .current_dir(&folder)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("postgres log file"));
            if !is_root() {
                // SAFETY: prctl is async-signal-safe; nothing else runs here.
                unsafe {
                    command.pre_exec(|| {
                        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT);
                        Ok(())
                    });
                }
            }
            let mut child = command.spawn().expect("start postgres");
            let _ = pid_tx.send(child.id());
            let _ = child.wait();
        });
        let pid = pid_rx.recv().expect("postgres started");
        *self.pid.lock().unwrap() = Some(pid);
        let ready =
            super::poll(Duration::from_secs(30), || self.psql("postgres", "SELECT 1").is_ok());
        assert!(ready, "postgres did not start; its log:\n{}", self.log());
    }

    /// Stops the server: `fast` (a clean shutdown) or `immediate` (a crash:
    /// recovery replays the WAL at the next start).
    pub fn stop(&self, mode: &str) {
        let signal = match mode {
            "immediate" => "-QUIT",
            _ => "-INT",
        };
        let Some(pid) = self.pid.lock().unwrap().take() else { return };
        let _ = Command::new("kill").arg(signal).arg(pid.to_string()).status();
        super::poll(Duration::from_secs(30), || !Path::new(&format!("/proc/{pid}")).exists());
    }

    /// A new empty database, and the URL a host connects to it with.
    pub fn new_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let name =
            format!("inbound_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        self.psql("postgres", &format!("CREATE DATABASE {name}")).expect("create a database");
        self.url(&name)
    }

    /// Turns TLS on (`ssl = on`, applied by a reload) with `certificate`:
    /// (certificate PEM, key PEM). Clients may still connect in plain text.
    pub fn enable_tls(&self, (certificate, key): &(String, String)) {
        let data = self.dir.path().join("data");
        for (name, text) in [("server.crt", certificate), ("server.key", key)] {
            let path = data.join(name);
            std::fs::write(&path, text).unwrap();
            // The server refuses a key that others may read.
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
            if is_root() {
                std::os::unix::fs::chown(&path, Some(NOBODY), Some(NOBODY)).unwrap();
            }
        }
        self.psql("postgres", "ALTER SYSTEM SET ssl = on").expect("ssl = on");
        self.psql("postgres", "SELECT pg_reload_conf()").expect("reload");
        let on = super::poll(Duration::from_secs(10), || {
            self.psql("postgres", "SHOW ssl").is_ok_and(|shown| shown.trim() == "on")
        });
        assert!(on, "TLS did not come on; the server's log:\n{}", self.log());
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://inbound@127.0.0.1:{}/{database}", self.port)
    }

    /// Runs one SQL statement in `database`; its output, unaligned.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String, String> {
        let output = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "inbound"])
            .args(["-d", database, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .map_err(|error| error.to_string())?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).to_string())
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop("immediate");
    }
}

/// The cluster this test process shares between its hosts (for the suite
/// run with `INBOUND_TEST_STORAGE=postgres`).
pub fn shared() -> &'static Cluster {
    static SHARED: OnceLock<Cluster> = OnceLock::new();
    // A static is never dropped: without this, every test process would
    // leave its cluster's folder behind (tens to hundreds of MiB each).
    extern "C" fn remove_shared() {
        if let Some(cluster) = SHARED.get() {
            cluster.stop("immediate");
            let _ = std::fs::remove_dir_all(cluster.dir.path());
        }
    }
    SHARED.get_or_init(|| {
        // SAFETY: registers a function that takes nothing and returns
        // nothing; it runs once, when the test process exits.
        unsafe { libc::atexit(remove_shared) };
        Cluster::start()
    })
}

/// Debian puts the server's programs in /usr/lib/postgresql/<version>/bin;
/// the newest there, else whatever `initdb` is on PATH.
fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    found.sort_by_key(|bin| {
        let version = bin.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str());
        version.and_then(|v| v.parse::<u32>().ok()).unwrap_or(0)
    });
    found.pop().unwrap_or_default()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `command` run as the unprivileged user when the tests run as root.
fn as_postgres_user(command: Command) -> Command {
    if !is_root() {
        return command;
    }
    let mut wrapped = Command::new("setpriv");
    wrapped
        .args(["--reuid", &NOBODY.to_string(), "--regid", &NOBODY.to_string(), "--clear-groups"])
        .args(["--pdeathsig", "SIGQUIT", "--"])
        .arg(command.get_program())
        .args(command.get_args());
    wrapped
}
