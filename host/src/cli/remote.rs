//! The HTTP client of the commands that talk to a running host, and
//! `inbound reload`.

use anyhow::{Context, bail};
use clap::Args;
use inbound::config::Config;
use inbound::http::answers::{ErrorAnswer, Reloaded};
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// Where the host is and how to prove who you are.
#[derive(Args)]
pub struct Remote {
    /// The host's base URL [default: server.public_url of --config].
    #[arg(long, env = "INBOUND_URL")]
    url: Option<String>,
    /// An API token from [[api.tokens]].
    #[arg(long, env = "INBOUND_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A PEM file of certificate authorities to trust besides the system's
    /// (a host serving HTTPS with a private or self-signed certificate).
    #[arg(long, env = "INBOUND_CA_CERT", value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// The configuration file the default URL is read from.
    #[arg(long, short, default_value = "config.toml", env = "INBOUND_CONFIG")]
    config: PathBuf,
}

impl Remote {
    /// Sends the request `build` makes and returns the JSON of a 2xx answer;
    /// any other answer is an error with the host's code and message.
    pub fn send(
        &self,
        build: impl FnOnce(&Client, &str) -> RequestBuilder,
    ) -> anyhow::Result<Value> {
        let (base, response) = self.request(Duration::from_secs(30), build)?;
        let status = response.status();
        let body: Value =
            response.json().with_context(|| format!("{base} answered {status} without JSON"))?;
        if !status.is_success() {
            bail!("{status}: {}", refusal(body));
        }
        Ok(body)
    }

    /// Sends the request and returns the 2xx answer as it is (e.g. a
    /// download); waits up to `timeout` for all of it.
    pub fn fetch(
        &self,
        timeout: Duration,
        build: impl FnOnce(&Client, &str) -> RequestBuilder,
    ) -> anyhow::Result<Response> {
        let (_, response) = self.request(timeout, build)?;
        let status = response.status();
        if !status.is_success() {
            bail!("{status}: {}", refusal(response.json().unwrap_or_default()));
        }
        Ok(response)
    }

    fn request(
        &self,
        timeout: Duration,
        build: impl FnOnce(&Client, &str) -> RequestBuilder,
    ) -> anyhow::Result<(String, Response)> {
        let base = match &self.url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => Config::public_url_of(&self.config).with_context(|| {
                format!(
                    "no --url given and {} cannot be read for server.public_url",
                    self.config.display()
                )
            })?,
        };
        let Some(token) = &self.token else {
            bail!(
                "no API token: pass --token or set INBOUND_API_TOKEN (a token from [[api.tokens]])"
            );
        };
        let mut client = Client::builder().timeout(timeout);
        if let Some(file) = &self.ca_cert {
            let pem = std::fs::read(file)
                .with_context(|| format!("cannot read --ca-cert {}", file.display()))?;
            for certificate in reqwest::Certificate::from_pem_bundle(&pem)
                .with_context(|| format!("--ca-cert {} is not PEM certificates", file.display()))?
            {
                client = client.add_root_certificate(certificate);
            }
        }
        let client = client.build()?;
        let response = build(&client, &base)
            .bearer_auth(token)
            .send()
            .with_context(|| format!("cannot reach inbound at {base}; is it running? (--url)"))?;
        Ok((base, response))
    }
}

/// `inbound reload`: `POST /api/v1/admin/reload`.
pub fn reload(remote: &Remote) -> anyhow::Result<()> {
    let answer = remote.send(|client, base| client.post(format!("{base}/api/v1/admin/reload")))?;
    let answer: Reloaded = read(answer)?;
    println!("reloaded: {} sources", answer.sources);
    for warning in &answer.warnings {
        println!("warning: {warning}");
    }
    Ok(())
}

/// A 2xx answer as the type the API documents for it.
pub fn read<T: DeserializeOwned>(answer: Value) -> anyhow::Result<T> {
    serde_json::from_value(answer)
        .context("the host's answer is not what this version of inbound expects (versions differ?)")
}

/// The host's error as `message (code)`; the body as it is when it is not one.
fn refusal(body: Value) -> String {
    match serde_json::from_value::<ErrorAnswer>(body.clone()) {
        Ok(ErrorAnswer { error }) => format!("{} ({})", error.message, error.code),
        Err(_) => text(&body),
    }
}

pub fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "-".to_string(),
        other => other.to_string(),
    }
}
