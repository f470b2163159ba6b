//! A short fingerprint of a comment, so the plugin state remembers which
//! comment it last saw without keeping the comment's text.

/// FNV-1a, 64 bits, as 16 lower-case hex digits. Only compared for change
/// detection, never for security: a collision merely skips one comment.
pub fn fingerprint(text: &str) -> String {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash =
        text.bytes().fold(OFFSET_BASIS, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(PRIME));
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::fingerprint;

    #[test]
    fn known_fnv1a_values() {
        assert_eq!(fingerprint(""), "cbf29ce484222325");
        assert_eq!(fingerprint("a"), "af63dc4c8601ec8c");
        assert_eq!(fingerprint("foobar"), "85944171f73967e8");
    }

    #[test]
    fn different_text_different_fingerprint() {
        assert_ne!(fingerprint("Thanks, fixed."), fingerprint("Thanks, fixed!"));
    }
}
