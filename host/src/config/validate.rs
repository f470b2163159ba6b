//! Checks across the whole file, after parsing: paths exist, names are
//! unique and referenced things are declared, secrets are resolved.

use super::checks::{UniqueNames, all_positive, known};
use super::errors::{ConfigError, Errors};
use super::schema::*;
use super::secrets::{NO_SPACES, Secret, URL_SAFE};
use std::collections::HashSet;

impl Config {
    pub(super) fn validate(&mut self, errors: &Errors) -> Result<(), ConfigError> {
        self.validate_server(errors)?;
        for (name, integration) in &self.integrations {
            let limits = [
                ("timeout_ms", integration.timeout_ms),
                ("memory_limit_mib", integration.memory_limit_mib.map(|mib| mib as u64)),
            ];
            for (key, value) in limits {
                if value == Some(0) {
                    return Err(errors.at(
                        format!("integrations.{name}.{key}"),
                        "must be greater than 0; remove the key to use [plugins]' value",
                    ));
                }
            }
            let path = self.resolve(&integration.plugin);
            if !path.is_file() {
                return Err(errors.at(
                    format!("integrations.{name}.plugin"),
                    format!(
                        "the plugin file {} does not exist; build it (make plugins) or fix the path, which is relative to the config file",
                        path.display()
                    ),
                ));
            }
        }
        let mut policies = UniqueNames::new(errors, "escalation_policies", "escalation policy")
            .missing("an escalation policy needs a name; set name = \"...\"")
            .declared_twice();
        for (index, policy) in self.escalation_policies.iter().enumerate() {
            policies.check(index, &policy.name)?;
            policy_repeats(errors, index, policy)?;
            for (level, step) in policy.levels.iter().enumerate() {
                if step.notify.is_empty() {
                    return Err(errors.at(
                        format!("escalation_policies[{index}].levels[{level}].notify"),
                        "a level must notify someone, e.g. notify = [\"person:alice\"]; remove the level or add a recipient",
                    ));
                }
            }
        }
        self.validate_storage(errors)?;
        self.validate_sources(errors, &policies.into_seen())?;
        self.validate_tokens(errors)?;
        self.validate_oidc(errors)?;
        self.validate_notify(errors)?;
        self.validate_noise(errors)?;
        self.validate_examples(errors)
    }

    /// `storage.url` is resolved (from `url_env`) and required exactly when
    /// the backend is PostgreSQL.
    fn validate_storage(&mut self, errors: &Errors) -> Result<(), ConfigError> {
        let secret = Secret {
            errors,
            table: "storage",
            label: "",
            hint: "e.g. \"postgres://inbound@db.example.com/inbound\"",
        };
        let storage = &self.storage;
        match storage.backend {
            StorageBackend::Redb => {
                if storage.url.is_some() || storage.url_env.is_some() || storage.ca_file.is_some() {
                    let key = if storage.url.is_some() {
                        "storage.url"
                    } else if storage.url_env.is_some() {
                        "storage.url_env"
                    } else {
                        "storage.ca_file"
                    };
                    return Err(errors.at(
                        key,
                        "is for backend = \"postgres\"; the default backend (redb) stores in storage.path: set backend = \"postgres\" or remove the key",
                    ));
                }
            }
            // Its syntax is PostgreSQL's client's to judge: `inbound check`
            // and `serve` parse it (this module depends on nothing else).
            StorageBackend::Postgres => {
                let url =
                    secret.required("url", storage.url.as_deref(), storage.url_env.as_deref())?;
                self.storage.url = Some(url);
            }
        }
        Ok(())
    }

    fn validate_server(&self, errors: &Errors) -> Result<(), ConfigError> {
        let server = &self.server;
        if server.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(errors.at(
                "server.listen",
                format!(
                    "{:?} is not an address and port; write e.g. \"127.0.0.1:8080\"",
                    server.listen
                ),
            ));
        }
        if let Some(url) = &server.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(errors.at(
                    "server.public_url",
                    format!("{url:?} is not an http:// or https:// URL; write e.g. \"https://inbound.example.com\""),
                ));
        }
        all_positive(
            errors,
            &[
                ("server.body_limit_bytes", server.body_limit_bytes as u64),
                ("server.request_timeout_ms", server.request_timeout_ms),
                ("server.header_read_timeout_ms", server.header_read_timeout_ms),
                ("server.body_read_timeout_ms", server.body_read_timeout_ms),
                ("server.max_concurrent_webhooks", server.max_concurrent_webhooks as u64),
                ("storage.event_body_cap_bytes", self.storage.event_body_cap_bytes as u64),
                ("storage.cache_mib", self.storage.cache_mib as u64),
                ("plugins.timeout_ms", self.plugins.timeout_ms),
                ("plugins.memory_limit_mib", self.plugins.memory_limit_mib as u64),
                ("ui.session_minutes", self.ui.session_minutes),
            ],
        )?;
        for (index, proxy) in server.trusted_proxies.iter().enumerate() {
            if parse_network(proxy).is_none() {
                return Err(errors.at(
                    format!("server.trusted_proxies[{index}]"),
                    format!("{proxy:?} is not an IP address or network; write e.g. \"127.0.0.1\" or \"10.0.0.0/8\""),
                ));
            }
        }
        if server.client_rate_limit_per_second > 0 && server.client_rate_limit_burst == 0 {
            return Err(errors.at(
                "server.client_rate_limit_burst",
                "must be greater than 0 while client_rate_limit_per_second is set; remove the key to use its default (200)",
            ));
        }
        if let Some(tls) = &server.tls {
            for (key, path) in [("server.tls.cert", &tls.cert), ("server.tls.key", &tls.key)] {
                let resolved = self.resolve(path);
                if !resolved.is_file() {
                    return Err(errors.at(
                        key,
                        format!("{} is not a readable file; give the PEM file's path (relative paths start at the config file's folder)", resolved.display()),
                    ));
                }
            }
        }
        if server.header_limit_bytes < MIN_HEADER_LIMIT_BYTES {
            return Err(errors.at(
                "server.header_limit_bytes",
                format!("must be at least {MIN_HEADER_LIMIT_BYTES}; remove the key to use its default (16384)"),
            ));
        }
        Ok(())
    }

    fn validate_sources(
        &mut self,
        errors: &Errors,
        policies: &HashSet<String>,
    ) -> Result<(), ConfigError> {
        let mut names = UniqueNames::new(errors, "sources", "source");
        let mut keys = HashSet::new();
        for (index, source) in self.sources.iter_mut().enumerate() {
            let at = |field: &str| format!("sources[{index}].{field}");
            let named =
                |field: &str| format!("sources[{index}].{field} (source {:?})", source.name);
            names.check(index, &source.name)?;
            if !self.integrations.contains_key(&source.integration) {
                return Err(errors.at_key(
                    at("integration"),
                    named("integration"),
                    format!(
                        "unknown integration {:?}; declare it under [integrations.{}] or use one of: {}",
                        source.integration,
                        source.integration,
                        known(self.integrations.keys().map(String::as_str))
                    ),
                ));
            }
            if !policies.contains(&source.escalation_policy) {
                let mut declared: Vec<_> = policies.iter().map(String::as_str).collect();
                declared.sort();
                return Err(errors.at_key(
                    at("escalation_policy"),
                    named("escalation_policy"),
                    format!(
                        "unknown escalation policy {:?}; declare it in [[escalation_policies]] or use one of: {}",
                        source.escalation_policy,
                        known(declared.into_iter())
                    ),
                ));
            }
            if source.signature_window_seconds == 0 {
                return Err(errors.at_key(
                    at("signature_window_seconds"),
                    named("signature_window_seconds"),
                    "must be greater than 0; remove the key to use its default (300)",
                ));
            }
            if source.rate_limit_per_second > 0 && source.rate_limit_burst == 0 {
                return Err(errors.at_key(
                    at("rate_limit_burst"),
                    named("rate_limit_burst"),
                    "must be greater than 0 while rate_limit_per_second is set; remove the key to use its default (1000)",
                ));
            }
            let secret = Secret {
                errors,
                table: &format!("sources[{index}]"),
                label: &format!(" (source {:?})", source.name),
                hint: "generate one with `openssl rand -hex 16`",
            };
            let key = secret.strong(
                "key",
                source.key.as_deref(),
                source.key_env.as_deref(),
                "source",
                &mut keys,
                URL_SAFE,
            )?;
            source.key = Some(key);
            let signing =
                Secret { hint: "copy it from Zendesk's webhook page (Reveal secret)", ..secret };
            source.signing_secret = signing.optional(
                "signing_secret",
                source.signing_secret.as_deref(),
                source.signing_secret_env.as_deref(),
            )?;
            if let Some(outbound) = source.outbound.as_mut() {
                let table = format!("sources[{index}].outbound");
                let credentials = Secret {
                    table: &table,
                    hint: "the sender's API credentials, e.g. a Zendesk API token",
                    ..secret
                };
                validate_outbound(outbound, errors, &table, credentials)?;
            }
        }
        Ok(())
    }

    fn validate_oidc(&mut self, errors: &Errors) -> Result<(), ConfigError> {
        let Some(oidc) = self.ui.oidc.as_mut() else {
            return Ok(());
        };
        let issuer = url::Url::parse(&oidc.issuer).ok();
        let issuer_ok = issuer
            .as_ref()
            .is_some_and(|url| matches!(url.scheme(), "https" | "http") && url.host().is_some());
        if !issuer_ok {
            return Err(errors.at(
                "ui.oidc.issuer",
                format!("{:?} is not an http(s) URL; write the provider's issuer, e.g. \"https://accounts.example.com\"", oidc.issuer),
            ));
        }
        let loopback = |host: &str| {
            host == "localhost"
                || host
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        };
        if let Some(url) = issuer.filter(|url| url.scheme() == "http")
            && !url.host_str().is_some_and(loopback)
        {
            return Err(errors.at(
                "ui.oidc.issuer",
                "plain http would carry the client secret and sign-in codes unencrypted; use the provider's https issuer (http is accepted for a provider on this machine only)",
            ));
        }
        if oidc.client_id.trim().is_empty() {
            return Err(errors
                .at("ui.oidc.client_id", "the client id the provider gave this host is missing"));
        }
        if !super::ui::MATCH_CLAIMS.contains(&oidc.match_claim.as_str()) {
            return Err(errors.at(
                "ui.oidc.match_claim",
                format!(
                    "{:?} cannot name a person; use one of: {}",
                    oidc.match_claim,
                    super::ui::MATCH_CLAIMS.join(", ")
                ),
            ));
        }
        let secret = Secret {
            errors,
            table: "ui.oidc",
            label: "",
            hint: "the client secret the provider gave this host; keep it in the environment",
        };
        let value = secret.required(
            "client_secret",
            oidc.client_secret.as_deref(),
            oidc.client_secret_env.as_deref(),
        )?;
        oidc.client_secret = Some(value);
        Ok(())
    }

    fn validate_tokens(&mut self, errors: &Errors) -> Result<(), ConfigError> {
        let mut names = UniqueNames::new(errors, "api.tokens", "token")
            .missing("a token needs a name (it is recorded as who acted); set name = \"...\"")
            .unnamed();
        let mut values = HashSet::new();
        for (index, token) in self.api.tokens.iter_mut().enumerate() {
            names.check(index, &token.name)?;
            let secret = Secret {
                errors,
                table: &format!("api.tokens[{index}]"),
                label: &format!(" (token {:?})", token.name),
                hint: "generate one with `openssl rand -hex 16`",
            };
            let value = secret.strong(
                "token",
                token.token.as_deref(),
                token.token_env.as_deref(),
                "token",
                &mut values,
                NO_SPACES,
            )?;
            token.token = Some(value);
        }
        Ok(())
    }
}

/// A policy pages nobody only when written so (`levels = []`), and its
/// repeats are bounded and spaced: `repeat_after_minutes = 0` with a large
/// `repeat` would page everyone again and again at once.
fn policy_repeats(
    errors: &Errors,
    index: usize,
    policy: &EscalationPolicy,
) -> Result<(), ConfigError> {
    let at = |field: &str| format!("escalation_policies[{index}].{field}");
    let named =
        |field: &str| format!("escalation_policies[{index}].{field} (policy {:?})", policy.name);
    if policy.levels.is_empty() && !policy.levels_written {
        return Err(errors.at_key(
            at("name"),
            named("levels"),
            "this policy has no levels, so its incidents would notify nobody; add [[escalation_policies.levels]] with notify = [\"person:...\"], or write levels = [] to page nobody on purpose",
        ));
    }
    if policy.repeat > MAX_REPEAT {
        return Err(errors.at_key(
            at("repeat"),
            named("repeat"),
            format!("must be at most {MAX_REPEAT}: each repeat pages everyone in the policy again"),
        ));
    }
    if policy.repeat > 0 && policy.repeat_after_minutes == 0 {
        return Err(errors.at_key(
            at("repeat_after_minutes"),
            named("repeat_after_minutes"),
            "must be at least 1 while repeat is set: 0 would page everyone again at once, round after round; remove the key to use its default (30)",
        ));
    }
    Ok(())
}

/// `[sources.outbound]`: an http(s) origin, nothing else; credentials as
/// `auth` needs them, and never in clear text beyond this machine.
fn validate_outbound(
    outbound: &mut super::SourceOutbound,
    errors: &Errors,
    table: &str,
    secret: Secret,
) -> Result<(), ConfigError> {
    use super::OutboundAuth;
    let at = |field: &str| format!("{table}.{field}");
    let parsed = url::Url::parse(&outbound.url).ok().filter(|url| {
        matches!(url.scheme(), "https" | "http")
            && url.host().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && matches!(url.path(), "" | "/")
            && url.query().is_none()
            && url.fragment().is_none()
    });
    let Some(url) = parsed else {
        return Err(errors.at(
            at("url"),
            format!(
                "{:?} is not an origin; write the sender's scheme, host and port only, e.g. \"https://acme.zendesk.com\" (the plugin names the paths; credentials go in auth, user and token)",
                outbound.url
            ),
        ));
    };
    outbound.url = url.origin().ascii_serialization();
    let loopback = match url.host() {
        Some(url::Host::Domain(host)) => host == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if outbound.auth != OutboundAuth::None && url.scheme() == "http" && !loopback {
        return Err(errors.at(
            at("url"),
            format!("{} is plain http: credentials would cross the network in clear text; use https, or auth = \"none\"", outbound.url),
        ));
    }
    if outbound.timeout_ms == 0 {
        return Err(errors.at(
            at("timeout_ms"),
            "must be greater than 0; remove the key to use its default (10000)",
        ));
    }
    let user = secret.optional("user", outbound.user.as_deref(), outbound.user_env.as_deref())?;
    let token =
        secret.optional("token", outbound.token.as_deref(), outbound.token_env.as_deref())?;
    match outbound.auth {
        OutboundAuth::None if user.is_some() || token.is_some() => {
            return Err(errors.at(
                at("auth"),
                "user or token is set but auth is \"none\": say auth = \"basic\" or \"bearer\", or remove them",
            ));
        }
        OutboundAuth::Basic if user.is_none() => {
            secret.required("user", None, None)?;
        }
        OutboundAuth::Basic | OutboundAuth::Bearer if token.is_none() => {
            secret.required("token", None, None)?;
        }
        OutboundAuth::Bearer if user.is_some() => {
            return Err(
                errors.at(at("user"), "auth = \"bearer\" sends only the token; remove user")
            );
        }
        _ => {}
    }
    outbound.user = user;
    outbound.token = token;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(Path::new("config.toml"), text).map_err(|error| error.to_string())
    }

    const POLICY: &str = "[[escalation_policies]]\nname = \"p\"\n";

    #[test]
    fn a_policy_without_levels_must_say_so() {
        let error = parse(POLICY).unwrap_err();
        assert!(
            error.starts_with("config.toml:2: escalation_policies[0].levels (policy \"p\"): this policy has no levels"),
            "{error}"
        );
        assert!(error.contains("write levels = [] to page nobody on purpose"), "{error}");
        let config = parse(&format!("{POLICY}levels = []\n")).unwrap();
        assert_eq!(
            config.warnings(),
            ["escalation policy \"p\" has levels = []: its incidents notify nobody"]
        );
    }

    #[test]
    fn repeats_are_bounded_and_spaced() {
        let policy = |keys: &str| parse(&format!("{POLICY}levels = []\n{keys}\n"));
        let error = policy("repeat = 101").unwrap_err();
        assert!(
            error.starts_with(
                "config.toml:4: escalation_policies[0].repeat (policy \"p\"): must be at most 100"
            ),
            "{error}"
        );
        let error = policy("repeat = 1\nrepeat_after_minutes = 0").unwrap_err();
        assert!(
            error.starts_with("config.toml:5: escalation_policies[0].repeat_after_minutes (policy \"p\"): must be at least 1 while repeat is set"),
            "{error}"
        );
        // Without a repeat, repeat_after_minutes is never used.
        assert!(policy("repeat_after_minutes = 0").is_ok());
    }

    fn token(value: &str) -> Result<Config, String> {
        parse(&format!("[[api.tokens]]\nname = \"ops\"\ntoken = \"{value}\"\n"))
    }

    #[test]
    fn plainly_chosen_tokens_are_refused_with_why_and_how() {
        let error = token("aaaaaaaaaaaaaaaaaaaaaa").unwrap_err();
        assert_eq!(
            error,
            "config.toml:3: api.tokens[0].token (token \"ops\"): the token is one character repeated, so it is easy to guess; generate a random one with `openssl rand -hex 16`"
        );
        let error = token("abababababababababababab").unwrap_err();
        assert!(error.contains("repeats the same 2 characters"), "{error}");
        let error = token("aaaaaaaaaaaaabbbbbbbbbbbccccc").unwrap_err();
        assert!(error.contains("has only 3 different characters"), "{error}");
        assert!(token("6f1d0c0e9b2a4f3c8d7e6a5b4c3d2e1f").is_ok());
    }

    /// A source with `outbound` (a table under it) on a scratch plugin file.
    fn outbound(table: &str) -> Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.wasm"), b"").unwrap();
        let text = format!(
            "[integrations.z]\nplugin = \"p.wasm\"\n\n[[escalation_policies]]\nname = \"p\"\nlevels = []\n\n[[sources]]\nname = \"s\"\nintegration = \"z\"\nescalation_policy = \"p\"\nkey = \"6f1d0c0e9b2a4f3c8d7e6a5b4c3d2e1f\"\n\n[sources.outbound]\n{table}\n"
        );
        Config::parse(&dir.path().join("config.toml"), &text).map_err(|error| error.to_string())
    }

    #[test]
    fn outbound_is_an_origin_with_the_credentials_its_auth_needs() {
        let config = outbound(
            "url = \"https://acme.zendesk.com/\"\nauth = \"basic\"\nuser = \"a@b.c/token\"\ntoken = \"t0k3n\"",
        )
        .unwrap();
        let table = config.outbound("s").unwrap();
        assert_eq!(table.url, "https://acme.zendesk.com", "kept as an origin");
        assert_eq!(
            (table.user.as_deref(), table.token.as_deref()),
            (Some("a@b.c/token"), Some("t0k3n"))
        );
        assert!(config.outbound("other").is_none());

        let error = outbound("url = \"https://acme.zendesk.com/api/v2\"").unwrap_err();
        assert!(
            error.contains("sources[0].outbound.url") && error.contains("is not an origin"),
            "{error}"
        );
        let error = outbound("url = \"ftp://acme.example\"").unwrap_err();
        assert!(error.contains("is not an origin"), "{error}");
        let error = outbound("url = \"https://acme.zendesk.com\"\nauth = \"basic\"\ntoken = \"t\"")
            .unwrap_err();
        assert!(error.contains("sources[0].outbound.user") && error.contains("missing"), "{error}");
        let error = outbound("url = \"https://acme.zendesk.com\"\nauth = \"bearer\"").unwrap_err();
        assert!(error.contains("sources[0].outbound.token"), "{error}");
        let error = outbound(
            "url = \"http://alertmanager.example:9093\"\nauth = \"bearer\"\ntoken = \"t\"",
        )
        .unwrap_err();
        assert!(error.contains("clear text"), "{error}");
        let error = outbound("url = \"https://acme.zendesk.com\"\ntoken = \"t\"").unwrap_err();
        assert!(error.contains("auth is \"none\""), "{error}");
        // Plain http without credentials (an Alertmanager on the same network) is fine.
        assert!(outbound("url = \"http://alertmanager.example:9093\"").is_ok());
        let error = outbound("url = \"https://acme.zendesk.com\"\nauth = \"bearer\"\ntoken_env = \"INBOUND_TEST_SURELY_UNSET_TOKEN\"")
            .unwrap_err();
        assert!(error.contains("INBOUND_TEST_SURELY_UNSET_TOKEN"), "{error}");
    }

    #[test]
    fn plainly_chosen_source_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.wasm"), b"").unwrap();
        let text = "[integrations.z]\nplugin = \"p.wasm\"\n\n[[escalation_policies]]\nname = \"p\"\nlevels = []\n\n[[sources]]\nname = \"s\"\nintegration = \"z\"\nescalation_policy = \"p\"\nkey = \"0000000000000000000000\"\n";
        let error = Config::parse(&dir.path().join("config.toml"), text).unwrap_err().to_string();
        assert!(
            error.ends_with("config.toml:12: sources[0].key (source \"s\"): the key is one character repeated, so it is easy to guess; generate a random one with `openssl rand -hex 16`"),
            "{error}"
        );
    }
}
