//! `inbound plugin run`: the harness from the command line.

use anyhow::Context;
use inbound::harness::{Harness, RunResult, TestRequest};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

pub struct RunArgs {
    pub plugin: PathBuf,
    pub settings: Option<String>,
    pub headers: Vec<String>,
    pub source: String,
    pub json: bool,
    pub limits: inbound::plugin::CallLimits,
    pub requests: Vec<PathBuf>,
}

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let mut harness = Harness::new(&args.plugin)?
        .with_source_name(&args.source)
        .with_limits(args.limits.clone())?;
    // Judged even when none are given, as `inbound serve` judges a source
    // without a settings table: a plugin may require some.
    let settings = args.settings.as_deref().map(settings_value).transpose()?;
    harness =
        harness.with_settings(settings.unwrap_or_else(|| Value::Object(Default::default())))?;
    let headers = args
        .headers
        .iter()
        .map(|header| parse_header(header))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut runs: Vec<(&Path, RunResult)> = Vec::new();
    for path in &args.requests {
        let mut request = TestRequest::fixture(path)?;
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        runs.push((path, harness.send(request)));
    }
    if args.json {
        let runs: Vec<Value> = runs
            .iter()
            .map(|(path, run)| {
                let mut value = run.to_json();
                value["request"] = json!(path.display().to_string());
                value
            })
            .collect();
        let report = json!({"plugin": args.plugin.display().to_string(), "api_version": harness.api_version().as_str(), "runs": runs});
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("plugin: {} (inbound:plugin@{})", args.plugin.display(), harness.api_version());
        for (path, run) in &runs {
            println!("\n== {}\n{run}", path.display());
        }
    }
    let failed: Vec<String> = runs
        .iter()
        .filter(|(_, run)| !(200..300).contains(&run.status))
        .map(|(path, run)| format!("{} ({})", path.display(), run.status))
        .collect();
    anyhow::ensure!(failed.is_empty(), "not every request was answered 2xx: {}", failed.join(", "));
    Ok(())
}

/// `--settings`: inline JSON, or a .json / .toml file.
pub fn settings_value(text: &str) -> anyhow::Result<Value> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).context("--settings is not a valid JSON object");
    }
    let path = Path::new(text);
    let content = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the settings file {text}"))?;
    if path.extension().is_some_and(|extension| extension == "toml") {
        let table: toml::Table =
            toml::from_str(&content).with_context(|| format!("{text} is not valid TOML"))?;
        return serde_json::to_value(table).context("the TOML settings cannot be turned into JSON");
    }
    serde_json::from_str(&content).with_context(|| format!("{text} is not valid JSON"))
}

fn parse_header(header: &str) -> anyhow::Result<(String, String)> {
    let (name, value) = header
        .split_once(':')
        .with_context(|| format!("the header {header:?} is not `name: value`"))?;
    Ok((name.trim().to_ascii_lowercase(), value.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_name_colon_value() {
        assert_eq!(parse_header("X-Token:  abc ").unwrap(), ("x-token".into(), "abc".into()));
        assert!(parse_header("no colon").is_err());
    }

    #[test]
    fn inline_settings_are_json() {
        assert_eq!(settings_value(r#"{"a": 1}"#).unwrap(), json!({"a": 1}));
        assert!(settings_value("{nope").is_err());
    }

    #[test]
    fn settings_files_may_be_toml() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("settings.toml");
        std::fs::write(&file, "on_hold = \"pending\"\n[status_aliases]\n\"løst\" = \"solved\"\n")
            .unwrap();
        let value = settings_value(file.to_str().unwrap()).unwrap();
        assert_eq!(value, json!({"on_hold": "pending", "status_aliases": {"løst": "solved"}}));
    }
}
