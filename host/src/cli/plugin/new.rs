//! `inbound plugin new`: a plugin crate that builds and passes its tests as
//! generated. The templates live in `template/`; they depend on the SDK and
//! the harness by path, since neither is published to a registry yet.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// (path in the new crate, template text)
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("template/Cargo.toml.tmpl")),
    ("src/lib.rs", include_str!("template/lib.rs.tmpl")),
    ("tests/fixtures.rs", include_str!("template/tests/fixtures.rs.tmpl")),
    ("tests/fixtures/firing.json", include_str!("template/tests/fixtures/firing.json")),
    ("tests/fixtures/resolved.json", include_str!("template/tests/fixtures/resolved.json")),
    ("README.md", include_str!("template/README.md.tmpl")),
    // The same small guest stack as the repository's own plugins: the host
    // resets every page an instance touched, so a 1 MiB stack costs each call.
    (".cargo/config.toml", include_str!("template/cargo/config.toml.tmpl")),
    (".gitignore", "/target\n"),
];

pub fn new(name: &str, path: Option<PathBuf>, inbound_repo: Option<PathBuf>) -> anyhow::Result<()> {
    check_name(name)?;
    let dir = path.unwrap_or_else(|| PathBuf::from(name));
    if dir.exists()
        && std::fs::read_dir(&dir).map(|mut entries| entries.next().is_some()).unwrap_or(true)
    {
        bail!("{} already exists and is not empty; pick another --path", dir.display());
    }
    let repo = match inbound_repo {
        Some(repo) => repo,
        None => find_repo(&absolute(&dir)?).context(
            "cannot find an inbound checkout above the new crate; pass --inbound-repo <checkout> (or set INBOUND_REPO): the SDK and the harness are taken from it",
        )?,
    };
    let repo = repo
        .canonicalize()
        .with_context(|| format!("the inbound checkout {} does not exist", repo.display()))?;
    anyhow::ensure!(
        is_repo(&repo),
        "{} is not an inbound checkout (no plugins/sdk and host/)",
        repo.display()
    );

    let crate_name = name.replace('-', "_");
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{crate_name}}", &crate_name)
            .replace("{{sdk_path}}", &repo.join("plugins/sdk").display().to_string())
            .replace("{{host_path}}", &repo.join("host").display().to_string())
    };
    for (file, template) in FILES {
        let target = dir.join(file);
        std::fs::create_dir_all(target.parent().expect("every file is in the crate folder"))
            .with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::write(&target, fill(template))
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    // The checkout's lock file pins the versions inbound is tested with, and
    // lets a shared target folder reuse its compiled dependencies.
    let lock = repo.join("Cargo.lock");
    if lock.is_file() {
        std::fs::copy(&lock, dir.join("Cargo.lock")).context("cannot copy Cargo.lock")?;
    }
    println!("created the plugin crate {name} in {}", dir.display());
    println!("  cd {}", dir.display());
    println!("  cargo build --release --target wasm32-wasip2");
    println!("  cargo test --release");
    Ok(())
}

/// A Cargo package name that is also a usable integration name in URLs.
fn check_name(name: &str) -> anyhow::Result<()> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        bail!(
            "{name:?} is not a valid plugin name: use lower-case letters, digits, '-' and '_', starting with a letter"
        );
    }
    Ok(())
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    Ok(if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir()?.join(path) })
}

fn is_repo(dir: &Path) -> bool {
    dir.join("plugins/sdk/Cargo.toml").is_file() && dir.join("host/Cargo.toml").is_file()
}

/// The inbound checkout `dir` is inside of, if any.
fn find_repo(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|candidate| is_repo(candidate)).map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_fit_cargo_and_urls() {
        assert!(check_name("my-alerts").is_ok());
        assert!(check_name("grafana_2").is_ok());
        for bad in ["", "My", "1st", "a b", "a/b", "ø"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_placeholder_is_filled() {
        for (file, template) in FILES {
            let filled = template
                .replace("{{name}}", "x")
                .replace("{{crate_name}}", "x")
                .replace("{{sdk_path}}", "x")
                .replace("{{host_path}}", "x");
            assert!(!filled.contains("{{"), "{file} has an unknown placeholder");
        }
    }
}
