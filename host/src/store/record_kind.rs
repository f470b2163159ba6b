//! The kinds of keyed records (`keyed.rs`): their own file, as change sets
//! (`changes.rs`) name them and `keyed.rs` builds change sets.

/// What a keyed record is. Its text is the stored key's first part: never
/// rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// A maintenance window made through the API, CLI or console, by name.
    Maintenance,
    /// A heartbeat's last ping and timer, by the heartbeat's name.
    Heartbeat,
    /// What one contact (channel and address) was sent lately, and what is
    /// held for its next digest.
    Contact,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Maintenance => "maintenance",
            RecordKind::Heartbeat => "heartbeat",
            RecordKind::Contact => "contact",
        }
    }
}
