//! Text helpers every integration needs.

/// Cuts `text` to at most `max_chars` characters, never inside a character,
/// ending with `…` when something was cut.
pub fn truncate_chars(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_string(),
        Some(_) if max_chars == 0 => String::new(),
        Some(_) => {
            // Keep room for the ellipsis so the result stays within max_chars.
            let cut = text.char_indices().nth(max_chars - 1).map_or(text.len(), |(i, _)| i);
            format!("{}…", &text[..cut])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::truncate_chars;

    #[test]
    fn short_text_is_unchanged() {
        assert_eq!(truncate_chars("abc", 3), "abc");
        assert_eq!(truncate_chars("", 3), "");
    }

    #[test]
    fn long_text_is_cut_with_ellipsis_within_limit() {
        assert_eq!(truncate_chars("abcdef", 4), "abc…");
        assert_eq!(truncate_chars("abcdef", 4).chars().count(), 4);
    }

    #[test]
    fn multibyte_characters_are_never_split() {
        let cut = truncate_chars("løøøøst", 3);
        assert_eq!(cut, "lø…");
        assert_eq!(truncate_chars("🚨🚨🚨", 2), "🚨…");
    }

    #[test]
    fn zero_limit_gives_empty() {
        assert_eq!(truncate_chars("abc", 0), "");
    }
}
