//! The processes under load: the real `inbound` binary, and this binary's own
//! baselines (`bench serve-bare`, `bench serve-native`) run as separate
//! processes so all three are measured the same way.

use anyhow::{Context, bail};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub base: String,
    pub started_in: Duration,
}

impl Server {
    /// Starts `program args...` and waits for its "listening on http://ADDR" line.
    pub fn start(program: &Path, args: &[&str]) -> anyhow::Result<Server> {
        let started = Instant::now();
        let mut child = Command::new(program)
            .args(args)
            .env("INBOUND_LOG", "warn,inbound::server=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", program.display()))?;
        let stderr = child.stderr.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    let address = line[at + "listening on ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_string();
                    let _ = tx.send(address);
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(base) => Ok(Server { child, base, started_in: started.elapsed() }),
            Err(_) => {
                let _ = child.kill();
                bail!("{} did not start", program.display())
            }
        }
    }

    /// Peak resident memory of the process so far (VmHWM), in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    }

    /// CPU time the process has used so far, user and system, in seconds
    /// (`/proc/<pid>/stat`): read before and after a load, it gives the
    /// server's CPU per acknowledged event, which does not depend on how many
    /// cores the machine has.
    pub fn cpu_seconds(&self) -> (f64, f64) {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        stat_cpu(&stat)
    }

    /// CPU seconds (user + system) each thread name has used so far,
    /// summed over the threads of that name (`/proc/<pid>/task/*/stat`).
    pub fn thread_cpu_seconds(&self) -> BTreeMap<String, f64> {
        let mut by_name = BTreeMap::new();
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.child.id()));
        for task in tasks.into_iter().flatten().flatten() {
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            if let Some((name, cpu)) = thread_cpu(&stat) {
                *by_name.entry(name).or_default() += cpu;
            }
        }
        by_name
    }

    /// SIGTERM and wait: a clean shutdown, so the database is closed.
    pub fn stop(mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

/// The `inbound` binary built next to this one (`cargo build --release`).
pub fn inbound_binary() -> anyhow::Result<PathBuf> {
    let path = std::env::current_exe()?.with_file_name("inbound");
    if !path.is_file() {
        bail!("{} is missing: run `make bench` (it builds the host first)", path.display());
    }
    Ok(path)
}

pub fn zendesk_wasm() -> anyhow::Result<PathBuf> {
    let path = std::env::current_exe()?
        .parent()
        .and_then(|release| release.parent())
        .map(|target| target.join("wasm32-wasip2/release/inbound_zendesk.wasm"))
        .context("cannot locate the target directory")?;
    if !path.is_file() {
        bail!("{} is missing: run `make bench` (it builds the plugins first)", path.display());
    }
    Ok(path)
}

pub const KEY: &str = "bench-key-0123456789abcdefghijkl";
pub const TOKEN: &str = "bench-token-0123456789abcdefghij";

/// A config for the real host with one Zendesk source named `bench`.
pub fn write_inbound_config(dir: &Path, wasm: &Path) -> anyhow::Result<PathBuf> {
    write_config_with_storage(dir, wasm, "[storage]\npath = \"data/inbound.redb\"")
}

/// [`write_inbound_config`] with the `[storage]` table `storage`.
pub fn write_config_with_storage(
    dir: &Path,
    wasm: &Path,
    storage: &str,
) -> anyhow::Result<PathBuf> {
    let config = format!(
        r#"[server]
listen = "127.0.0.1:0"

{storage}

[integrations.zendesk]
plugin = "{wasm}"

[[escalation_policies]]
name = "oncall"
levels = []

[[api.tokens]]
name = "bench"
token = "{TOKEN}"
role = "admin"

[[sources]]
name = "bench"
integration = "zendesk"
escalation_policy = "oncall"
key = "{KEY}"
# The benchmark measures throughput; the default rate limit would cap it.
rate_limit_per_second = 0
"#,
        wasm = wasm.display()
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, config)?;
    Ok(path)
}

/// User and system CPU seconds of one `/proc/.../stat` line.
fn stat_cpu(stat: &str) -> (f64, f64) {
    // The command name (field 2) may hold spaces; count from its ')'.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = |index: usize| {
        fields.get(index).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / clock_ticks()
    };
    // utime and stime are fields 14 and 15; `rest` starts at field 3.
    (ticks(11), ticks(12))
}

/// A thread's name (field 2, in parentheses) and CPU seconds, user + system.
fn thread_cpu(stat: &str) -> Option<(String, f64)> {
    let name = stat.split_once('(')?.1.rsplit_once(')')?.0.to_string();
    let (user, system) = stat_cpu(stat);
    Some((name, user + system))
}

/// Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`).
fn clock_ticks() -> f64 {
    // SAFETY: sysconf reads a constant of the running system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_stat_line_gives_its_name_and_cpu() {
        // Fields 14 and 15 (utime, stime) are 300 and 100 ticks; the name
        // may hold spaces and parentheses.
        let stat = "42 (tokio (rt) w) S 1 1 1 0 -1 4194560 10 0 0 0 300 100 0 0 20 0 3 0";
        let (name, cpu) = thread_cpu(stat).expect("parsed");
        assert_eq!(name, "tokio (rt) w");
        assert!((cpu - 400.0 / clock_ticks()).abs() < 1e-9, "{cpu}");
    }
}
