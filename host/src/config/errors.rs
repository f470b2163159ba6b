//! Errors about the file: `file:line: key: message`, each part when known.
//! Beneath both validation and secrets, which build them with [`Errors`].

use super::locate::KeyIndex;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The io error is the source, printed once by the error chain.
    #[error("cannot read {file} (choose the file with --config or INBOUND_CONFIG)")]
    Read { file: String, source: std::io::Error },
    /// `file:line: key: message`, each part when known.
    #[error("{}", render(.file, *.line, .key.as_deref(), .message))]
    Invalid { file: String, line: Option<usize>, key: Option<String>, message: String },
}

fn render(file: &str, line: Option<usize>, key: Option<&str>, message: &str) -> String {
    let mut text = file.to_string();
    if let Some(line) = line {
        text.push_str(&format!(":{line}"));
    }
    if let Some(key) = key {
        text.push_str(&format!(": {key}"));
    }
    format!("{text}: {message}")
}

/// Builds errors that point at a key's line.
pub(super) struct Errors<'a> {
    pub file: String,
    pub index: &'a KeyIndex,
}

impl Errors<'_> {
    pub fn at(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        let key = key.into();
        self.at_key(key.clone(), key, message)
    }

    /// `path` finds the line; `shown` is how the key is named in the message.
    pub fn at_key(
        &self,
        path: impl Into<String>,
        shown: impl Into<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.clone(),
            line: self.index.line_of(&path.into()),
            key: Some(shown.into()),
            message: message.into(),
        }
    }

    pub fn toml_error(&self, error: &toml::de::Error) -> ConfigError {
        let offset = error.span().map(|span| span.start);
        let key = offset.and_then(|offset| self.index.path_at(offset)).map(str::to_string);
        let message = error.message().trim().replace('\n', " ");
        let hint = if message.starts_with("unknown field") {
            "check the spelling; docs/configuration.md lists every key"
        } else if message.starts_with("missing field") {
            "add it; docs/configuration.md lists every key"
        } else if key.is_none() {
            "this is not valid TOML; fix the syntax at that line"
        } else {
            "fix the value; docs/configuration.md gives each key's type and an example"
        };
        ConfigError::Invalid {
            file: self.file.clone(),
            line: offset.map(|offset| self.index.line_at(offset)),
            key,
            message: format!("{message}; {hint}"),
        }
    }
}
