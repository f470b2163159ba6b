//! The binary's commands other than a long-running `serve`.

use std::process::Command;

/// Runs `inbound ARGS` to completion: (exit code, stdout, stderr).
pub fn inbound(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_inbound"))
        .args(args)
        .env_remove("INBOUND_API_TOKEN")
        .env_remove("INBOUND_CONFIG")
        .envs(envs.iter().copied())
        .output()
        .expect("run the inbound binary");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `inbound serve` on `config` expecting it to refuse to start; returns
/// its exit code and everything it wrote to stderr.
pub fn serve_expecting_failure(config: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    let path = dir.path().join("config.toml");
    let (code, _, stderr) = inbound(&["serve", "--config", path.to_str().unwrap()], &[]);
    (code, stderr)
}
