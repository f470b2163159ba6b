//! Compiled plugins cached on disk, so a restart skips Cranelift.
//!
//! The cache key is the SHA-256 of the component's bytes plus wasmtime's
//! compatibility hash of the engine (version and every setting that affects
//! code generation): a new plugin build or a different engine never loads a
//! stale artifact.

use anyhow::Context;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded precompiled code from the cache.
    Hit,
    /// Compiled, and stored for next time.
    Compiled,
    /// Compiled; no cache configured.
    Uncached,
}

/// Loads the component at `path`, from `cache_dir` when it holds a matching
/// artifact.
pub fn load(
    engine: &Engine,
    path: &Path,
    cache_dir: Option<&Path>,
) -> anyhow::Result<(Component, CacheOutcome)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    check_component_header(&bytes)?;
    let Some(cache_dir) = cache_dir else {
        return Ok((compile(engine, &bytes)?, CacheOutcome::Uncached));
    };
    let cached = cache_dir.join(cache_file_name(engine, &bytes));
    if cached.is_file() {
        // SAFETY: deserializing trusts the file to be wasmtime output for this
        // engine. The cache directory is created by inbound, private to its
        // user, and the file name carries the engine's compatibility hash.
        match unsafe { Component::deserialize_file(engine, &cached) } {
            Ok(component) => {
                mark_used(&cached);
                return Ok((component, CacheOutcome::Hit));
            }
            Err(error) => {
                tracing::warn!(file = %cached.display(), error = %error, "ignoring unusable cached plugin")
            }
        }
    }
    let component = compile(engine, &bytes)?;
    if let Err(error) = store(&component, cache_dir, &cached) {
        tracing::warn!(dir = %cache_dir.display(), error = %error, "cannot cache the compiled plugin");
    }
    Ok((component, CacheOutcome::Compiled))
}

/// Says what the file is when it is not a component, before the compiler
/// would answer with a hex dump of its first bytes.
fn check_component_header(bytes: &[u8]) -> anyhow::Result<()> {
    const MAGIC: &[u8] = b"\0asm";
    const CORE_MODULE: [u8; 4] = [1, 0, 0, 0];
    if !bytes.starts_with(MAGIC) {
        anyhow::bail!(
            "the file is not WebAssembly (a .wasm file starts with \\0asm); point the integration's plugin at the .wasm that `cargo build --release --target wasm32-wasip2` writes"
        );
    }
    if bytes.get(4..8) == Some(&CORE_MODULE) {
        anyhow::bail!(
            "the file is a core WebAssembly module, not a component: build with `--target wasm32-wasip2` (wasm32-wasip1 and wasm32-unknown-unknown make core modules)"
        );
    }
    Ok(())
}

fn compile(engine: &Engine, bytes: &[u8]) -> anyhow::Result<Component> {
    Component::new(engine, bytes).map_err(anyhow::Error::from)
}

fn cache_file_name(engine: &Engine, bytes: &[u8]) -> String {
    let content = Sha256::digest(bytes);
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let hex: String = content.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}-{:016x}.cwasm", hasher.finish())
}

/// Writes atomically (temporary file, then rename) so a crash never leaves a
/// half-written artifact under the final name; owner-only, like the folder.
fn store(component: &Component, dir: &Path, target: &Path) -> anyhow::Result<()> {
    create_private_dir(dir)?;
    let serialized = component.serialize().map_err(anyhow::Error::from)?;
    crate::files::write_private(target, &serialized)?;
    Ok(())
}

/// The cache of the tools an author runs in a loop (`inbound plugin test`,
/// `check`, `run`, the harness): `INBOUND_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/inbound/plugins`, else `~/.cache/inbound/plugins`. An
/// empty `INBOUND_CACHE_DIR` turns it off. A JavaScript or Python component
/// is 12 MiB of interpreter that Cranelift needs seconds for; loaded from
/// here it takes milliseconds.
pub fn user_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("INBOUND_CACHE_DIR") {
        return (!dir.is_empty()).then(|| PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::home_dir().map(|home| home.join(".cache")))?;
    Some(base.join("inbound").join("plugins"))
}

/// Deletes all but the `keep` most recently used artifacts in `dir`: every
/// build of a plugin under test leaves one, tens of MiB for a JavaScript one.
pub fn prune(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut artifacts: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "cwasm"))
        .filter_map(|path| Some((std::fs::metadata(&path).ok()?.modified().ok()?, path)))
        .collect();
    artifacts.sort_by_key(|(used, _)| std::cmp::Reverse(*used));
    for (_, path) in artifacts.into_iter().skip(keep) {
        let _ = std::fs::remove_file(path);
    }
}

/// Moves a hit's modification time to now, so [`prune`] keeps what is used.
fn mark_used(artifact: &Path) {
    if let Ok(file) = std::fs::File::options().append(true).open(artifact) {
        let _ = file.set_modified(std::time::SystemTime::now());
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    crate::files::create_private_dir(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_keeps_the_most_recently_used_artifacts() {
        let dir = tempfile::tempdir().unwrap();
        let now = std::time::SystemTime::now();
        for (age, name) in [(30, "old.cwasm"), (20, "used.cwasm"), (10, "new.cwasm")] {
            let path = dir.path().join(name);
            std::fs::write(&path, b"x").unwrap();
            let file = std::fs::File::options().append(true).open(&path).unwrap();
            file.set_modified(now - std::time::Duration::from_secs(age)).unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), b"not an artifact").unwrap();
        mark_used(&dir.path().join("old.cwasm"));
        prune(dir.path(), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["new.cwasm", "notes.txt", "old.cwasm"]);
    }
}
