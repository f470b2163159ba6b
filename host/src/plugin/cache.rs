//! Compiled plugins cached on disk, so a restart skips Cranelift.
//!
//! The cache key is the SHA-256 of the component's bytes plus wasmtime's
//! compatibility hash of the engine (version and every setting that affects
//! code generation): a new plugin build or a different engine never loads a
//! stale artifact.

use anyhow::Context;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::Path;
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
            Ok(component) => return Ok((component, CacheOutcome::Hit)),
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

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    crate::files::create_private_dir(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
