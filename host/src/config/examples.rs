//! The example secrets shipped in `config.toml` and the docs. Anyone can
//! read them: the example key lets anyone post events, the example token use
//! the API, the example link secret forge accept and resolve links. A host
//! that other machines can reach refuses to start with one; on a loopback
//! address (the example config under `make run`) they are only warned about.

use super::errors::{ConfigError, Errors};
use super::schema::Config;

/// Secrets printed in the docs without `change-me` in them.
const PUBLISHED: &[&str] = &["6f1d0c0e9b2a4f3c8d7e6a5b4c3d2e1f"];

/// A value from the examples: config.toml's all say `change-me`.
pub fn is_example(value: &str) -> bool {
    value.to_ascii_lowercase().contains("change-me") || PUBLISHED.contains(&value)
}

/// A secret still set to an example value.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleSecret {
    /// The key that gives it (`sources[0].key` or `..._env`), for the line.
    pub path: String,
    /// How messages name it: `sources[0].key (source "support")`.
    pub shown: String,
    /// What anyone who knows it can do.
    pub grants: &'static str,
    /// How to make a real one.
    pub generate: &'static str,
}

impl Config {
    /// Every key, token and link secret that is still an example value.
    pub fn example_secrets(&self) -> Vec<ExampleSecret> {
        let field = |env: &Option<String>, name: &str| {
            if env.is_some() { format!("{name}_env") } else { name.to_string() }
        };
        let mut found = Vec::new();
        for (index, source) in self.sources.iter().enumerate() {
            if is_example(source.key()) {
                let key = field(&source.key_env, "key");
                found.push(ExampleSecret {
                    path: format!("sources[{index}].{key}"),
                    shown: format!("sources[{index}].{key} (source {:?})", source.name),
                    grants: "post events as this source",
                    generate: "openssl rand -hex 16",
                });
            }
        }
        for (index, token) in self.api.tokens.iter().enumerate() {
            if token.token.as_deref().is_some_and(is_example) {
                let key = field(&token.token_env, "token");
                found.push(ExampleSecret {
                    path: format!("api.tokens[{index}].{key}"),
                    shown: format!("api.tokens[{index}].{key} (token {:?})", token.name),
                    grants: "read and change incidents through the API, read /metrics and reload the host",
                    generate: "openssl rand -hex 16",
                });
            }
        }
        let notifications = &self.notifications;
        if notifications.link_secret.as_deref().is_some_and(is_example) {
            let key =
                format!("notifications.{}", field(&notifications.link_secret_env, "link_secret"));
            found.push(ExampleSecret {
                path: key.clone(),
                shown: key,
                grants: "sign accept and resolve links for any incident",
                generate: "openssl rand -hex 32",
            });
        }
        found
    }

    /// Why machines other than this one can reach the host, or `None` when
    /// it listens on a loopback address and `public_url` (if set) names this
    /// machine too. A proxy in front of a loopback listener is named by
    /// `public_url`, so it counts as reachable.
    pub fn reachable_from_elsewhere(&self) -> Option<String> {
        let server = &self.server;
        let listen = server.listen.parse::<std::net::SocketAddr>().ok()?;
        if !listen.ip().to_canonical().is_loopback() {
            return Some(format!("server.listen is {listen}, not a loopback address"));
        }
        let public = server.public_url.as_deref().and_then(|url| url::Url::parse(url).ok())?;
        let local = match public.host()? {
            url::Host::Domain(name) => {
                let name = name.to_ascii_lowercase();
                name == "localhost" || name.ends_with(".localhost")
            }
            url::Host::Ipv4(address) => address.is_loopback(),
            url::Host::Ipv6(address) => address.to_canonical().is_loopback(),
        };
        if local {
            return None;
        }
        let host = public.host_str().unwrap_or_default();
        Some(format!("server.public_url names {host}, so other machines reach it"))
    }

    /// Refuses example secrets on a host other machines can reach.
    pub(super) fn validate_examples(&self, errors: &Errors) -> Result<(), ConfigError> {
        let Some(reachable) = self.reachable_from_elsewhere() else { return Ok(()) };
        match self.example_secrets().into_iter().next() {
            None => Ok(()),
            Some(example) => Err(errors.at_key(
                example.path,
                example.shown,
                format!(
                    "this is the example value from config.toml and the docs, and the host is reachable from other machines ({reachable}): anyone who read them could {}; generate your own with `{}` (or listen on 127.0.0.1 to try the examples)",
                    example.grants, example.generate
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(server: &str, secrets: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("config.toml"), &format!("[server]\n{server}\n{secrets}"))
    }

    const TOKEN: &str =
        "[[api.tokens]]\nname = \"admin\"\ntoken = \"example-token-change-me-0123456789\"\n";
    const LINK: &str =
        "[notifications]\nlink_secret = \"example-link-secret-change-me-0123456789\"\n";

    #[test]
    fn examples_are_refused_where_other_machines_can_reach_the_host() {
        let error = config("listen = \"0.0.0.0:8080\"", TOKEN).unwrap_err().to_string();
        assert!(
            error.starts_with(
                "config.toml:5: api.tokens[0].token (token \"admin\"): this is the example value"
            ),
            "{error}"
        );
        assert!(error.contains("server.listen is 0.0.0.0:8080, not a loopback address"), "{error}");
        assert!(error.contains("openssl rand -hex 16"), "{error}");
        assert!(!error.contains("example-token-change-me"), "the value is not echoed: {error}");

        let error = config("listen = \"[::]:8080\"", LINK).unwrap_err().to_string();
        assert!(error.contains("notifications.link_secret: this is the example value"), "{error}");
        assert!(error.contains("could sign accept and resolve links"), "{error}");
        assert!(error.contains("openssl rand -hex 32"), "{error}");

        // Behind a proxy: a loopback listener, a public name.
        let error = config(
            "listen = \"127.0.0.1:8080\"\npublic_url = \"https://inbound.example.com\"",
            LINK,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("server.public_url names inbound.example.com"), "{error}");
    }

    #[test]
    fn examples_are_only_warned_about_on_loopback() {
        for server in [
            "listen = \"127.0.0.1:8080\"",
            "listen = \"[::1]:8080\"",
            "listen = \"127.0.0.1:8080\"\npublic_url = \"http://localhost:8080\"",
        ] {
            let config = config(server, &format!("{TOKEN}{LINK}")).expect(server);
            assert_eq!(config.reachable_from_elsewhere(), None);
            let shown: Vec<_> = config.example_secrets().into_iter().map(|e| e.shown).collect();
            assert_eq!(
                shown,
                ["api.tokens[0].token (token \"admin\")", "notifications.link_secret"]
            );
        }
    }

    #[test]
    fn published_examples_are_known() {
        assert!(is_example("example-key-change-me-0123456789"));
        assert!(is_example("example-alertmanager-key-change-me"));
        assert!(is_example("6f1d0c0e9b2a4f3c8d7e6a5b4c3d2e1f"));
        assert!(!is_example("3b9e57c1d0a24f6e8c7b5a4d3e2f1a0b"));
    }
}
