//! The configs and payloads tests start from.

use super::{KEY, TOKEN, plugin_wasm};
use serde_json::{Value, json};

/// The `[storage]` table of the suite's configs: a redb file in the host's
/// folder, or with `INBOUND_TEST_STORAGE=postgres` a fresh database on this
/// test process's PostgreSQL cluster.
pub fn storage_section() -> String {
    match std::env::var("INBOUND_TEST_STORAGE").as_deref() {
        Ok("postgres") => postgres_storage(&super::postgres::shared().new_database()),
        _ => "[storage]\npath = \"data/inbound.redb\"".to_string(),
    }
}

/// A `[storage]` table for the PostgreSQL database at `url`.
pub fn postgres_storage(url: &str) -> String {
    format!("[storage]\nbackend = \"postgres\"\nurl = \"{url}\"")
}

/// A config with one Zendesk source named `support`, plus `extra` TOML.
pub fn zendesk_config(extra: &str) -> String {
    zendesk_config_on(&storage_section(), extra)
}

/// [`zendesk_config`] with the `[storage]` table `storage`.
pub fn zendesk_config_on(storage: &str, extra: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"

{storage}

[[api.tokens]]
name = "ops"
token = "{TOKEN}"
role = "admin"

[integrations.zendesk]
plugin = "{wasm}"

[[escalation_policies]]
name = "support-oncall"
levels = []

[[sources]]
name = "support"
integration = "zendesk"
escalation_policy = "support-oncall"
key = "{KEY}"
{extra}
"#,
        wasm = plugin_wasm("zendesk").display(),
    )
}

/// A config with one source per `(integration, plugin, key)`: the
/// integration `integration` runs `inbound_<plugin>.wasm`, and a source of
/// the same name receives webhooks at `/api/v1/events/<integration>/<key>`.
pub fn plugins_config(sources: &[(&str, &str, &str)]) -> String {
    let mut config = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n{}\n\n[[api.tokens]]\nname = \"ops\"\ntoken = \"{TOKEN}\"\nrole = \"admin\"\n\n[[escalation_policies]]\nname = \"oncall\"\nlevels = []\n",
        storage_section(),
    );
    for (integration, plugin, key) in sources {
        config.push_str(&format!(
            "\n[integrations.{integration}]\nplugin = \"{}\"\n\n[[sources]]\nname = \"{integration}\"\nintegration = \"{integration}\"\nescalation_policy = \"oncall\"\nkey = \"{key}\"\n",
            plugin_wasm(plugin).display()
        ));
    }
    config
}

/// The JSON body of the public Zendesk setup guide, with its placeholders
/// filled the way Zendesk renders them.
pub fn ticket(id: u64, status: &str) -> Value {
    json!({
        "id": id.to_string(),
        "title": format!("Printer on fire #{id}"),
        "description": "The printer on floor 3 is on fire.",
        "via": "Web form",
        "status": status,
        "priority": "Urgent",
        "requester_name": "Ada Lovelace",
        "group_name": "Facilities",
        "assignee_name": "Grace Hopper",
        "account": "Example Corp",
        "link": format!("https://example.zendesk.com/agent/tickets/{id}"),
        "latest_comment": "The printer on floor 3 is on fire."
    })
}
