//! Which comments an open ticket's incident already has, kept in the
//! plugin state as fingerprints (never the text).
//!
//! Zendesk sends the ticket's latest comment with every update and may
//! deliver an old update again, late and out of order: first, second, then
//! first once more. Remembering only the last comment seen would add the
//! first one twice; the incident keeps the fingerprints of its last
//! [`MAX_REMEMBERED`] comments instead.

/// Enough for any conversation on one ticket; bounded so a ticket's state
/// value stays small (17 bytes a comment, about 2 KiB).
pub const MAX_REMEMBERED: usize = 128;

/// Fingerprints, oldest first.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeenComments(Vec<String>);

impl SeenComments {
    /// Reads the state value: fingerprints separated by newlines. The format
    /// older versions wrote, one fingerprint, reads as a list of one.
    pub fn from_state(value: Option<&[u8]>) -> SeenComments {
        let text = value.map(String::from_utf8_lossy).unwrap_or_default();
        SeenComments(text.split('\n').filter(|line| !line.is_empty()).map(str::to_string).collect())
    }

    pub fn contains(&self, fingerprint: &str) -> bool {
        self.0.iter().any(|seen| seen == fingerprint)
    }

    /// Adds `fingerprint`, forgetting the oldest beyond [`MAX_REMEMBERED`].
    pub fn remember(&mut self, fingerprint: String) {
        self.0.push(fingerprint);
        if self.0.len() > MAX_REMEMBERED {
            self.0.drain(..self.0.len() - MAX_REMEMBERED);
        }
    }

    pub fn to_state(&self) -> Vec<u8> {
        self.0.join("\n").into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_single_fingerprint_of_older_versions_is_read_as_one() {
        let seen = SeenComments::from_state(Some(b"85944171f73967e8"));
        assert!(seen.contains("85944171f73967e8"));
        assert_eq!(seen.to_state(), b"85944171f73967e8");
        assert_eq!(SeenComments::from_state(None), SeenComments::default());
    }

    #[test]
    fn fingerprints_round_trip_through_the_state_in_order() {
        let mut seen = SeenComments::default();
        seen.remember("a".into());
        seen.remember("b".into());
        let read = SeenComments::from_state(Some(&seen.to_state()));
        assert_eq!(read, seen);
        assert!(read.contains("a") && read.contains("b") && !read.contains("c"));
    }

    #[test]
    fn only_the_newest_are_remembered() {
        let mut seen = SeenComments::default();
        for index in 0..MAX_REMEMBERED + 5 {
            seen.remember(format!("{index:016x}"));
        }
        assert!(!seen.contains(&format!("{:016x}", 4)));
        assert!(seen.contains(&format!("{:016x}", 5)));
        assert!(seen.to_state().len() <= MAX_REMEMBERED * 17);
    }
}
