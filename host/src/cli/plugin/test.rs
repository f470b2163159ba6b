//! `inbound plugin test [DIR]`: runs a plugin project's fixture files
//! (`DIR/tests/*.toml`, format in `inbound::harness::fixture`) on the
//! host's runtime, each against a fresh temporary database, and reports
//! like `cargo test`: one line per test, the differences of each failure, a
//! summary, and a non-zero exit when anything failed.

use anyhow::{Context, bail};
use inbound::harness::{Fixture, Harness, newest_source};
use inbound::plugin::CallLimits;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub fn test(dir: &Path, plugin: Option<PathBuf>, limits: &CallLimits) -> anyhow::Result<()> {
    let fixtures = fixture_files(dir)?;
    let plugin = match plugin {
        Some(plugin) => plugin,
        None => find_plugin(dir)?,
    };
    let started = Instant::now();
    // One compile for every test; each test gets its own empty database.
    let loaded = Harness::new(&plugin)?;
    println!("plugin: {} (inbound:plugin@{})", plugin.display(), loaded.api_version());
    println!("\nrunning {} test{}", fixtures.len(), plural(fixtures.len()));
    let mut failed: Vec<(String, String)> = Vec::new();
    for path in &fixtures {
        let name = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        let failures = run_one(&loaded, path, limits);
        if failures.is_empty() {
            println!("test {name} ... ok");
        } else {
            println!("test {name} ... FAILED");
            failed.push((name, format!("{}\n{}", path.display(), failures.join("\n"))));
        }
    }
    if !failed.is_empty() {
        println!("\nfailures:");
        for (name, report) in &failed {
            println!("\n---- {name} ----\n{report}");
        }
        println!("\nfailures:");
        for (name, _) in &failed {
            println!("    {name}");
        }
    }
    let passed = fixtures.len() - failed.len();
    println!(
        "\ntest result: {}. {passed} passed; {} failed; finished in {:.2}s",
        if failed.is_empty() { "ok" } else { "FAILED" },
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        bail!("{} of {} plugin tests failed", failed.len(), fixtures.len());
    }
    Ok(())
}

/// The failures of one fixture; a fixture that cannot be read or run is one.
fn run_one(loaded: &Harness, path: &Path, limits: &CallLimits) -> Vec<String> {
    let outcome = Fixture::load(path).and_then(|fixture| {
        let mut failures = Vec::new();
        if let Some(description) = &fixture.description {
            failures.push(description.clone());
        }
        let harness = loaded.with_empty_database()?.with_limits(limits.clone())?;
        let outcome = fixture.run(harness, path.parent().unwrap_or(Path::new(".")))?;
        if outcome.failures.is_empty() {
            return Ok(Vec::new());
        }
        failures.extend(outcome.failures);
        Ok(failures)
    });
    outcome.unwrap_or_else(|error| vec![format!("{error:#}")])
}

/// `DIR/tests/*.toml` (or `DIR/*.toml` when DIR is the tests folder, or DIR
/// itself when it is one file), in name order.
fn fixture_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if dir.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let tests = dir.join("tests");
    let folder = if tests.is_dir() { tests } else { dir.to_path_buf() };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .with_context(|| format!("cannot read the fixture folder {}", folder.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "no fixture files (*.toml) in {}; see the format in the plugin guide",
            folder.display()
        );
    }
    Ok(files)
}

/// The component the project in `dir` builds: for a Rust crate, cargo's
/// `wasm32-wasip2/release/<crate>.wasm` (under `CARGO_TARGET_DIR`, or the
/// nearest `target/` folder above that has it); otherwise the one `.wasm`
/// file in `dir` (what the Python scaffold's build writes). A component
/// older than the sources is refused: testing a stale build misleads.
fn find_plugin(dir: &Path) -> anyhow::Result<PathBuf> {
    // One fixture file: its folder; the tests folder: the project above it.
    let dir = std::path::absolute(dir)?;
    let mut project = if dir.is_file() { dir.parent().unwrap_or(&dir) } else { &dir };
    if project.ends_with("tests") {
        project = project.parent().unwrap_or(project);
    }
    let project = project.to_path_buf();
    let (wasm, build) = match crate_name(&project)? {
        Some(name) => {
            (cargo_wasm(&project, &name)?, "cargo build --release --target wasm32-wasip2")
        }
        None => (single_wasm(&project)?, "your build (e.g. `make`)"),
    };
    let built = std::fs::metadata(&wasm).and_then(|m| m.modified())?;
    if let Some((changed, source)) = newest_source(&project)
        && changed > built
    {
        bail!(
            "{} is older than {}: rebuild it with {build}, or pass --plugin",
            wasm.display(),
            source.display()
        );
    }
    Ok(wasm)
}

/// The package name of `dir/Cargo.toml`, with `-` as `_` (the .wasm's name).
fn crate_name(dir: &Path) -> anyhow::Result<Option<String>> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&manifest)?;
    let table: toml::Table = toml::from_str(&text)
        .with_context(|| format!("{} is not valid TOML", manifest.display()))?;
    let name = table
        .get("package")
        .and_then(|package| package.get("name"))
        .and_then(|name| name.as_str())
        .with_context(|| format!("{} has no package.name", manifest.display()))?;
    Ok(Some(name.replace('-', "_")))
}

fn cargo_wasm(project: &Path, crate_name: &str) -> anyhow::Result<PathBuf> {
    let file = Path::new("wasm32-wasip2/release").join(format!("{crate_name}.wasm"));
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return existing(PathBuf::from(target).join(&file));
    }
    let absolute = std::path::absolute(project)?;
    absolute
        .ancestors()
        .map(|folder| folder.join("target").join(&file))
        .find(|candidate| candidate.is_file())
        .with_context(|| {
            format!(
                "cannot find target/{} above {}: build the plugin first with `cargo build --release --target wasm32-wasip2`, or pass --plugin",
                file.display(),
                project.display()
            )
        })
}

fn existing(path: PathBuf) -> anyhow::Result<PathBuf> {
    anyhow::ensure!(
        path.is_file(),
        "{} is missing: build the plugin first, or pass --plugin",
        path.display()
    );
    Ok(path)
}

fn single_wasm(project: &Path) -> anyhow::Result<PathBuf> {
    let found: Vec<PathBuf> = std::fs::read_dir(project)
        .with_context(|| format!("cannot read {}", project.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "wasm"))
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!(
            "no plugin component (.wasm) in {}: build it first, or pass --plugin",
            project.display()
        ),
        _ => bail!("several .wasm files in {}: choose one with --plugin", project.display()),
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}
