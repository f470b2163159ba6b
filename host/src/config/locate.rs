//! Where each key of a TOML document is: the line an error points at.
//!
//! serde gives typed values but forgets positions; `toml_edit` keeps them. An
//! index of every key path (`sources[1].key`) with its position lets
//! validation name the line of a key it only knows by path, and lets a parse
//! error at a byte offset name the key it sits in.

use std::ops::Range;
use toml_edit::{Document, Item, Table, Value};

/// Every key path of a document with the byte ranges of its key and value.
pub struct KeyIndex {
    text: String,
    entries: Vec<Entry>,
}

struct Entry {
    path: String,
    key: Option<Range<usize>>,
    value: Option<Range<usize>>,
}

impl KeyIndex {
    /// Indexes `text`; a document that does not parse has no keys.
    pub fn new(text: &str) -> KeyIndex {
        let mut entries = Vec::new();
        // toml_edit 0.23 panics on some malformed documents ("all items have
        // spans", e.g. on "==\n.=", found by the `config` fuzz target)
        // instead of returning an error, so it only sees documents the toml
        // crate's parser has accepted: for the others the index would be
        // empty anyway.
        if text.parse::<toml::Table>().is_ok()
            && let Ok(document) = Document::parse(text)
        {
            walk_table(document.as_table(), "", &mut entries);
        }
        KeyIndex { text: text.to_string(), entries }
    }

    /// The 1-based line of `path`, or of its closest ancestor that is written
    /// in the file (a missing key is reported at its table's header).
    pub fn line_of(&self, path: &str) -> Option<usize> {
        let mut path = path;
        loop {
            if let Some(entry) = self.entries.iter().find(|entry| entry.path == path) {
                let at = entry.key.clone().or(entry.value.clone())?;
                return Some(self.line_at(at.start));
            }
            path = parent(path)?;
        }
    }

    /// The deepest key whose key or value covers byte `offset`.
    pub fn path_at(&self, offset: usize) -> Option<&str> {
        let covers = |range: &Option<Range<usize>>| {
            range.as_ref().is_some_and(|r| r.start <= offset && offset < r.end.max(r.start + 1))
        };
        self.entries
            .iter()
            .filter(|entry| covers(&entry.key) || covers(&entry.value))
            .max_by_key(|entry| entry.path.len())
            .map(|entry| entry.path.as_str())
    }

    pub fn line_at(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|&&byte| byte == b'\n').count() + 1
    }
}

/// `sources[1].key` -> `sources[1]` -> `sources` -> None.
fn parent(path: &str) -> Option<&str> {
    let cut = path.rfind(['.', '['])?;
    Some(&path[..cut])
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

fn walk_table(table: &Table, prefix: &str, entries: &mut Vec<Entry>) {
    for (key, item) in table.iter() {
        let path = join(prefix, key);
        let key_span = table.key(key).and_then(|k| k.span());
        match item {
            Item::Table(inner) => {
                entries.push(Entry {
                    path: path.clone(),
                    key: inner.span().or(key_span),
                    value: None,
                });
                walk_table(inner, &path, entries);
            }
            Item::ArrayOfTables(array) => {
                entries.push(Entry { path: path.clone(), key: key_span, value: array.span() });
                for (index, inner) in array.iter().enumerate() {
                    let element = format!("{path}[{index}]");
                    entries.push(Entry { path: element.clone(), key: inner.span(), value: None });
                    walk_table(inner, &element, entries);
                }
            }
            Item::Value(value) => walk_value(value, path, key_span, entries),
            Item::None => {}
        }
    }
}

fn walk_value(value: &Value, path: String, key: Option<Range<usize>>, entries: &mut Vec<Entry>) {
    entries.push(Entry { path: path.clone(), key, value: value.span() });
    match value {
        Value::InlineTable(table) => {
            for (inner_key, inner) in table.iter() {
                let inner_span = table.key(inner_key).and_then(|k| k.span());
                walk_value(inner, join(&path, inner_key), inner_span, entries);
            }
        }
        Value::Array(array) => {
            for (index, inner) in array.iter().enumerate() {
                walk_value(inner, format!("{path}[{index}]"), None, entries);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[server]\nlisten = \"x\"\n\n[[sources]]\nname = \"a\"\n\n[[sources]]\nname = \"b\"\nsettings = { on_hold = \"open\" }\n";

    #[test]
    fn finds_the_line_of_a_nested_key() {
        let index = KeyIndex::new(TEXT);
        assert_eq!(index.line_of("server.listen"), Some(2));
        assert_eq!(index.line_of("sources[1].name"), Some(8));
        assert_eq!(index.line_of("sources[1].settings.on_hold"), Some(9));
    }

    #[test]
    fn a_missing_key_points_at_its_table() {
        let index = KeyIndex::new(TEXT);
        assert_eq!(index.line_of("sources[1].key"), Some(7));
        assert_eq!(index.line_of("nowhere"), None);
    }

    /// Regression: found by the `config` fuzz target; toml_edit panicked.
    #[test]
    fn a_document_toml_edit_cannot_index_has_no_keys() {
        let text = "==\n.=";
        let index = KeyIndex::new(text);
        assert_eq!(index.line_of("server"), None);
        let error =
            crate::config::Config::parse(std::path::Path::new("config.toml"), text).unwrap_err();
        assert!(error.to_string().starts_with("config.toml:1: "), "{error}");
    }

    #[test]
    fn an_offset_names_the_deepest_key_there() {
        let index = KeyIndex::new(TEXT);
        let offset = TEXT.find("name = \"b\"").unwrap();
        assert_eq!(index.path_at(offset), Some("sources[1].name"));
    }
}
