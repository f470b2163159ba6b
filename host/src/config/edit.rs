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

/// `text` with a `[[sources]]` table appended after the existing ones.
pub fn append_source(text: &str, source: &NewSource) -> Result<String, String> {
    // The toml crate first: toml_edit 0.23 panics on some malformed documents
    // instead of returning an error (see `config::locate`).
    text.parse::<toml::Table>()
        .map_err(|error| format!("the file is not valid TOML, so it was not changed: {error}"))?;
    let mut document: DocumentMut = text
        .parse()
        .map_err(|error| format!("the file is not valid TOML, so it was not changed: {error}"))?;
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
}
