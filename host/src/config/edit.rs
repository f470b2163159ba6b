//! Changing `config.toml` in place: comments, order and layout are kept, so
//! an operator's file stays theirs.

use rand::Rng;
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

/// A new webhook key: 128 random bits as 32 hex characters. Drawn again in
/// the rare case (about once in 30 million) that the draw looks too plain
/// for the check every key gets, so the key printed is one `check` accepts.
pub fn generate_key() -> String {
    loop {
        let bytes: [u8; 16] = rand::rng().random();
        let key: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        if super::secrets::weakness(&key).is_none() {
            return key;
        }
    }
}

pub struct NewSource<'a> {
    pub name: &'a str,
    pub integration: &'a str,
    pub escalation_policy: &'a str,
    pub key: &'a str,
}

/// `text` as a document whose edits keep its comments and layout.
fn editable(text: &str) -> Result<DocumentMut, String> {
    let refused = |error: &dyn std::fmt::Display| {
        format!("the file is not valid TOML, so it was not changed: {error}")
    };
    // The toml crate first: toml_edit 0.23 panics on some malformed documents
    // instead of returning an error (see `config::locate`).
    text.parse::<toml::Table>().map_err(|error| refused(&error))?;
    text.parse().map_err(|error: toml_edit::TomlError| refused(&error))
}

/// `text` with a `[[sources]]` table appended after the existing ones.
pub fn append_source(text: &str, source: &NewSource) -> Result<String, String> {
    let mut document = editable(text)?;
    let sources = document
        .entry("sources")
        .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()))
        .as_array_of_tables_mut()
        .ok_or("`sources` is not a list of [[sources]] tables, so the file was not changed")?;
    let mut table = Table::new();
    table["name"] = value(source.name);
    table["integration"] = value(source.integration);
    table["escalation_policy"] = value(source.escalation_policy);
    table["key"] = value(source.key);
    if !sources.is_empty() || !text.ends_with("\n\n") {
        table.decor_mut().set_prefix("\n");
    }
    sources.push(table);
    Ok(document.to_string())
}

/// What promoting a source's shadow changed.
#[derive(Debug, PartialEq, Eq)]
pub struct Promoted {
    pub integration: String,
    pub plugin: String,
    /// Other sources of the same integration, whose plugin changed too.
    pub also: Vec<String>,
}

/// `text` with source `name`'s `[sources.shadow]` made live: its plugin
/// becomes the integration's, its settings and limits (when given) the
/// source's, and the shadow table is removed. The integration keeps its
/// name, so the webhook URL senders use does not change. When other sources
/// share the integration, their plugin changes too, so that needs `all`.
pub fn promote_shadow(text: &str, name: &str, all: bool) -> Result<(String, Promoted), String> {
    let mut document = editable(text)?;
    let sources = document
        .get_mut("sources")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or("the file has no [[sources]]")?;
    let index = sources
        .iter()
        .position(|source| source.get("name").and_then(Item::as_str) == Some(name))
        .ok_or_else(|| format!("there is no source {name:?}"))?;
    let integration = sources
        .get(index)
        .and_then(|source| source.get("integration"))
        .and_then(Item::as_str)
        .ok_or_else(|| format!("source {name:?} names no integration"))?
        .to_string();
    let also: Vec<String> = sources
        .iter()
        .enumerate()
        .filter(|(i, source)| {
            *i != index && source.get("integration").and_then(Item::as_str) == Some(&integration)
        })
        .filter_map(|(_, source)| source.get("name").and_then(Item::as_str).map(str::to_string))
        .collect();
    if !also.is_empty() && !all {
        return Err(format!(
            "integration {integration:?} is also used by {}: promoting replaces its plugin for them too, so the file was not changed; run again with --all to do so",
            also.join(", ")
        ));
    }
    let source = sources.get_mut(index).expect("found above");
    let shadow = source
        .remove("shadow")
        .and_then(|item| item.into_table().ok())
        .ok_or_else(|| format!("source {name:?} has no [sources.shadow] to promote"))?;
    let plugin = shadow
        .get("plugin")
        .and_then(Item::as_str)
        .ok_or_else(|| format!("source {name:?}'s shadow names no plugin"))?
        .to_string();
    for key in ["settings", "timeout_ms", "memory_limit_mib"] {
        if let Some(item) = shadow.get(key) {
            source[key] = item.clone();
        }
    }
    let integrations = document
        .entry("integrations")
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_mut()
        .ok_or("`integrations` is not a table, so the file was not changed")?;
    integrations.set_implicit(true);
    let table = integrations
        .entry(&integration)
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_mut()
        .ok_or_else(|| format!("[integrations.{integration}] is not a table"))?;
    // The new path takes the old one's place, with its comment.
    let mut path = toml_edit::Value::from(plugin.as_str());
    if let Some(old) = table.get("plugin").and_then(Item::as_value) {
        *path.decor_mut() = old.decor().clone();
    }
    table["plugin"] = Item::Value(path);
    Ok((document.to_string(), Promoted { integration, plugin, also }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEW: NewSource =
        NewSource { name: "billing", integration: "zendesk", escalation_policy: "p", key: "k" };

    #[test]
    fn a_document_toml_edit_would_panic_on_is_refused_unchanged() {
        let source =
            NewSource { name: "x", integration: "zendesk", escalation_policy: "p", key: "k" };
        let error = append_source("==\n.=", &source).unwrap_err();
        assert!(error.contains("not valid TOML"), "{error}");
    }

    #[test]
    fn keys_are_128_bits_of_hex() {
        let (a, b) = (generate_key(), generate_key());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn generated_keys_pass_the_strength_check() {
        for _ in 0..1_000 {
            let key = generate_key();
            assert_eq!(super::super::secrets::weakness(&key), None, "{key}");
        }
    }

    #[test]
    fn appending_keeps_comments_and_existing_text() {
        let text = "# top comment\n[server]\nlisten = \"127.0.0.1:1\" # inline\n\n[[sources]]\nname = \"a\"\n# trailing\n";
        let out = append_source(text, &NEW).unwrap();
        assert!(out.starts_with(text.trim_end_matches("# trailing\n")), "{out}");
        assert!(out.contains("# trailing"), "{out}");
        assert!(out.contains("listen = \"127.0.0.1:1\" # inline"), "{out}");
        assert!(
            out.contains("[[sources]]\nname = \"billing\"\nintegration = \"zendesk\""),
            "{out}"
        );
    }

    #[test]
    fn appending_to_a_file_without_sources_creates_the_list() {
        let out = append_source("[server]\n", &NEW).unwrap();
        assert!(out.contains("[[sources]]\nname = \"billing\""), "{out}");
    }

    const WITH_SHADOW: &str = r#"
[integrations.zendesk]
plugin = "zendesk-0.4.wasm" # the live one

[[sources]]
name = "support"
integration = "zendesk"
key = "k1"

[sources.shadow]
plugin = "zendesk-0.5.wasm"
timeout_ms = 200

[sources.shadow.settings]
on_accept_status = "pending"

[[sources]]
name = "billing"
integration = "zendesk"
key = "k2"
"#;

    #[test]
    fn promoting_makes_the_shadow_the_integrations_plugin_and_keeps_the_rest() {
        let (text, promoted) = promote_shadow(WITH_SHADOW, "support", true).unwrap();
        assert_eq!(promoted.also, ["billing"]);
        let config: toml::Table = text.parse().unwrap();
        assert_eq!(config["integrations"]["zendesk"]["plugin"].as_str(), Some("zendesk-0.5.wasm"));
        let support = &config["sources"][0];
        assert!(support.get("shadow").is_none(), "{text}");
        assert_eq!(support["integration"].as_str(), Some("zendesk"), "the URL stays");
        assert_eq!(support["timeout_ms"].as_integer(), Some(200));
        assert_eq!(support["settings"]["on_accept_status"].as_str(), Some("pending"));
        assert!(text.contains("# the live one"), "comments are kept: {text}");
    }

    #[test]
    fn a_shared_integration_is_not_changed_without_all() {
        let error = promote_shadow(WITH_SHADOW, "support", false).unwrap_err();
        assert!(error.contains("also used by billing") && error.contains("--all"), "{error}");
    }

    #[test]
    fn a_source_without_a_shadow_is_refused() {
        let error = promote_shadow(WITH_SHADOW, "billing", true).unwrap_err();
        assert!(error.contains("no [sources.shadow]"), "{error}");
        let error = promote_shadow(WITH_SHADOW, "nobody", true).unwrap_err();
        assert!(error.contains("no source"), "{error}");
    }
}
