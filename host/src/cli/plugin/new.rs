//! `inbound plugin new`: a plugin project that builds and passes its
//! fixture tests (`inbound plugin test`) as generated. The templates live
//! in `template/` and are compiled into the binary, so a release `inbound`
//! is all an author needs besides the SDK.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// The SDK release this host's templates are written for.
const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// (path in the new crate, template text): the fixtures every project gets.
const FIXTURES: &[(&str, &str)] = &[
    ("tests/fixtures/firing.json", include_str!("template/tests/fixtures/firing.json")),
    ("tests/fixtures/resolved.json", include_str!("template/tests/fixtures/resolved.json")),
    (
        "tests/firing-opens-one-incident.toml",
        include_str!("template/tests/firing-opens-one-incident.toml"),
    ),
    (
        "tests/resolved-resolves-the-open-incident.toml",
        include_str!("template/tests/resolved-resolves-the-open-incident.toml"),
    ),
    (
        "tests/a-bad-status-is-refused.toml",
        include_str!("template/tests/a-bad-status-is-refused.toml"),
    ),
];

/// The Rust crate.
const RUST: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("template/rust/Cargo.toml.tmpl")),
    ("src/lib.rs", include_str!("template/rust/lib.rs.tmpl")),
    ("README.md", include_str!("template/rust/README.md.tmpl")),
    // The same small guest stack as the repository's own plugins: the host
    // resets every page an instance touched, so a 1 MiB stack costs each call.
    (".cargo/config.toml", include_str!("template/rust/cargo/config.toml.tmpl")),
    (".gitignore", "/target\n"),
];

/// The Python project: built by componentize-py against the same WIT the
/// Rust SDK carries, with the Python SDK copied in (one file).
const PYTHON: &[(&str, &str)] = &[
    ("app.py", include_str!("template/python/app.py.tmpl")),
    ("Makefile", include_str!("template/python/Makefile.tmpl")),
    ("README.md", include_str!("template/python/README.md.tmpl")),
    ("inbound_sdk.py", include_str!("../../../../plugins/python-sdk/inbound_sdk.py")),
    ("wit/plugin.wit", include_str!("../../../../plugins/sdk/wit/plugin.wit")),
    (".gitignore", "/.venv\n/*.wasm\n__pycache__/\n"),
];

/// The componentize-py release the Python scaffold and `make plugins` use,
/// checked to produce components this host runs.
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// The JavaScript project: built by componentize-js against the same WIT the
/// Rust SDK carries, with the JavaScript SDK copied in (one file). The SDK's
/// imports name the API version (`inbound:plugin/incidents@0.5.0`), so the
/// two change together (checked below).
const JAVASCRIPT: &[(&str, &str)] = &[
    ("app.js", include_str!("template/javascript/app.js.tmpl")),
    ("Makefile", include_str!("template/javascript/Makefile.tmpl")),
    ("package.json", include_str!("template/javascript/package.json.tmpl")),
    ("README.md", include_str!("template/javascript/README.md.tmpl")),
    ("inbound_sdk.js", include_str!("../../../../plugins/js-sdk/inbound_sdk.js")),
    ("wit/plugin.wit", include_str!("../../../../plugins/sdk/wit/plugin.wit")),
    (".gitignore", "/node_modules\n/*.wasm\n"),
];

/// The componentize-js release the JavaScript scaffold and `make js-toolchain`
/// use, checked to produce components this host runs.
pub const COMPONENTIZE_JS_VERSION: &str = "0.23.0";

/// componentize-js imports `@bytecodealliance/preview2-shim` without declaring
/// it, so the project pins it too: the release componentize-js is tested
/// with (0.26, which npm may otherwise hoist from jco, cannot read `wit/`).
pub const PREVIEW2_SHIM_VERSION: &str = "0.17.9";

/// The JavaScript project's `package-lock.json`: the locked toolchain's
/// (every package and integrity hash `make test` installs), renamed for the
/// project, its two packages as devDependencies. `npm ci` then installs
/// exactly what this host was tested with, not whatever a range resolves
/// to on the day.
fn scaffold_lockfile(name: &str) -> anyhow::Result<String> {
    let mut lock: serde_json::Value = serde_json::from_str(include_str!(
        "../../../../plugins/js-sdk/toolchain/package-lock.json"
    ))
    .context("the toolchain's lockfile is not JSON")?;
    let packages = lock["packages"].as_object_mut().context("the lockfile has no packages")?;
    for (path, package) in packages.iter_mut() {
        if !path.is_empty() {
            package["dev"] = true.into();
        }
    }
    packages.insert(
        String::new(),
        serde_json::json!({
            "name": name,
            "version": "0.1.0",
            "devDependencies": {
                "@bytecodealliance/componentize-js": COMPONENTIZE_JS_VERSION,
                "@bytecodealliance/preview2-shim": PREVIEW2_SHIM_VERSION,
            }
        }),
    );
    lock["name"] = name.into();
    lock["version"] = "0.1.0".into();
    Ok(serde_json::to_string_pretty(&lock)? + "\n")
}

/// The language of a new plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Python,
    #[value(alias = "js")]
    Javascript,
}

pub fn new(
    name: &str,
    path: Option<PathBuf>,
    lang: Lang,
    sdk_path: Option<PathBuf>,
) -> anyhow::Result<()> {
    check_name(name)?;
    let dir = path.unwrap_or_else(|| PathBuf::from(name));
    if dir.exists()
        && std::fs::read_dir(&dir).map(|mut entries| entries.next().is_some()).unwrap_or(true)
    {
        bail!("{} already exists and is not empty; pick another --path", dir.display());
    }
    if sdk_path.is_some() && lang != Lang::Rust {
        bail!(
            "--sdk-path is the Rust SDK for a Rust plugin; a {lang:?} project carries its SDK (one file) already"
        );
    }
    let sdk_dependency = match &sdk_path {
        // With the version too: the path is used here, the version if the
        // plugin is ever published.
        Some(sdk) => {
            let sdk = std::path::absolute(sdk)?;
            anyhow::ensure!(
                sdk.join("Cargo.toml").is_file(),
                "{} is not the inbound SDK (no Cargo.toml)",
                sdk.display()
            );
            // Relative, so the project can move with the SDK beside it;
            // both resolved (no `..`, no links) so the path is right.
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let project = std::fs::canonicalize(&dir)?;
            let sdk = std::fs::canonicalize(&sdk)?;
            format!(
                "inbound-sdk = {{ version = \"{SDK_VERSION}\", path = {:?} }}",
                relative(&project, &sdk).display().to_string()
            )
        }
        None => format!("inbound-sdk = \"{SDK_VERSION}\""),
    };
    let crate_name = name.replace('-', "_");
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{crate_name}}", &crate_name)
            .replace("{{sdk_version}}", SDK_VERSION)
            .replace("{{sdk_dependency}}", &sdk_dependency)
            .replace("{{componentize_py_version}}", COMPONENTIZE_PY_VERSION)
            .replace("{{api_version}}", newest_api_version())
            .replace("{{componentize_js_version}}", COMPONENTIZE_JS_VERSION)
            .replace("{{preview2_shim_version}}", PREVIEW2_SHIM_VERSION)
    };
    let files = match lang {
        Lang::Rust => RUST,
        Lang::Python => PYTHON,
        Lang::Javascript => JAVASCRIPT,
    };
    if lang == Lang::Javascript {
        let lock = dir.join("package-lock.json");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::write(&lock, scaffold_lockfile(name)?)
            .with_context(|| format!("cannot write {}", lock.display()))?;
    }
    for (file, template) in files.iter().chain(FIXTURES) {
        let target = dir.join(file);
        std::fs::create_dir_all(target.parent().expect("every file is in the crate folder"))
            .with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::write(&target, fill(template))
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    let language = match lang {
        Lang::Rust => "Rust",
        Lang::Python => "Python",
        Lang::Javascript => "JavaScript",
    };
    println!("created the {language} plugin {name} in {}", dir.display());
    println!("  cd {}", dir.display());
    match lang {
        Lang::Rust => println!("  cargo build --release --target wasm32-wasip2"),
        Lang::Python => println!("  make            # componentize-py, installed into .venv"),
        Lang::Javascript => {
            println!("  make            # componentize-js, installed into node_modules")
        }
    }
    println!("  inbound plugin test");
    if lang == Lang::Rust && sdk_path.is_none() {
        // Cargo's "no matching package named `inbound-sdk`" would give no hint.
        eprintln!(
            "note: Cargo.toml depends on inbound-sdk {SDK_VERSION} by version; where no registry \
             has it, build against a checkout instead: run `inbound plugin new` again with \
             --sdk-path PATH/TO/inbound/plugins/sdk, or use the git line commented in Cargo.toml"
        );
    }
    Ok(())
}

/// The plugin API the SDKs (and so the scaffolds) build against.
fn newest_api_version() -> &'static str {
    inbound::plugin::ApiVersion::ALL.last().expect("the host supports a version").as_str()
}

/// `to` as seen from the folder `from` (both absolute): `../inbound-sdk`.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut path: PathBuf = from[common..].iter().map(|_| "..").collect();
    path.extend(&to[common..]);
    path
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
    fn an_sdk_beside_the_project_is_found_by_a_relative_path() {
        let relative = |from: &str, to: &str| relative(Path::new(from), Path::new(to));
        assert_eq!(relative("/w/my-alerts", "/w/inbound-sdk"), Path::new("../inbound-sdk"));
        assert_eq!(relative("/w/a/b", "/w/sdk"), Path::new("../../sdk"));
        assert_eq!(relative("/w", "/w/vendor/sdk"), Path::new("vendor/sdk"));
    }

    #[test]
    fn every_placeholder_is_filled() {
        for (file, template) in RUST.iter().chain(PYTHON).chain(JAVASCRIPT).chain(FIXTURES) {
            let filled = template
                .replace("{{name}}", "x")
                .replace("{{crate_name}}", "x")
                .replace("{{sdk_version}}", "x")
                .replace("{{sdk_dependency}}", "x")
                .replace("{{componentize_py_version}}", "x")
                .replace("{{api_version}}", "x")
                .replace("{{componentize_js_version}}", "x")
                .replace("{{preview2_shim_version}}", "x");
            assert!(!filled.contains("{{"), "{file} has an unknown placeholder");
        }
    }

    #[test]
    fn the_javascript_sdk_imports_the_api_version_of_the_wit_it_ships() {
        let file = |name: &str| {
            JAVASCRIPT.iter().find(|(file, _)| *file == name).expect("a template file").1
        };
        let (wit, sdk) = (file("wit/plugin.wit"), file("inbound_sdk.js"));
        let version = wit
            .lines()
            .find_map(|line| line.strip_prefix("package inbound:plugin@"))
            .and_then(|rest| rest.strip_suffix(';'))
            .expect("the WIT names its package");
        assert!(sdk.contains(&format!("export const API_VERSION = '{version}';")), "{version}");
        for interface in ["incidents", "state", "log"] {
            let import = format!("from 'inbound:plugin/{interface}@{version}';");
            assert!(sdk.contains(&import), "the SDK lacks {import}");
        }
        // The project pins the release the host was checked with.
        let package = fill_for_test(file("package.json"));
        let manifest: serde_json::Value = serde_json::from_str(&package).expect("valid JSON");
        let pinned = &manifest["devDependencies"];
        assert_eq!(pinned["@bytecodealliance/componentize-js"], COMPONENTIZE_JS_VERSION);
        assert_eq!(pinned["@bytecodealliance/preview2-shim"], PREVIEW2_SHIM_VERSION);
        // So does the locked toolchain `make test` installs.
        let toolchain: serde_json::Value =
            serde_json::from_str(include_str!("../../../../plugins/js-sdk/toolchain/package.json"))
                .expect("valid JSON");
        let locked = &toolchain["dependencies"];
        assert_eq!(locked["@bytecodealliance/componentize-js"], COMPONENTIZE_JS_VERSION);
        assert_eq!(locked["@bytecodealliance/preview2-shim"], PREVIEW2_SHIM_VERSION);
        let makefile = file("Makefile");
        assert!(makefile.contains("--disable http fetch-event"), "{makefile}");
        // And the lockfile npm ci installs from agrees with package.json, or
        // npm ci refuses it.
        let lock: serde_json::Value =
            serde_json::from_str(&scaffold_lockfile("x").unwrap()).expect("valid JSON");
        assert_eq!(lock["name"], "x");
        assert_eq!(lock["packages"][""]["devDependencies"], *pinned);
        let locked = &lock["packages"]["node_modules/@bytecodealliance/componentize-js"];
        assert_eq!(locked["version"], COMPONENTIZE_JS_VERSION);
        assert_eq!(locked["dev"], true);
        assert!(makefile.contains("npm ci"), "{makefile}");
    }

    fn fill_for_test(template: &str) -> String {
        template
            .replace("{{name}}", "x")
            .replace("{{crate_name}}", "x")
            .replace("{{componentize_js_version}}", COMPONENTIZE_JS_VERSION)
            .replace("{{preview2_shim_version}}", PREVIEW2_SHIM_VERSION)
    }
}
