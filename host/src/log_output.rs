//! Where log lines go: stderr, one line per event, free of raw control
//! characters.
//!
//! Messages carry text from senders and plugins (a plugin's log lines, its
//! rejection, its panic message). The text format writes field values as
//! they are, so a CR or LF in one would end the line early and let the rest
//! pass for a line of inbound's own. Each event reaches this writer as one
//! buffer ending in a newline; every other control character in it is
//! written as an escape (`\r`, `\n`, `\t`, `\u{1b}`), whatever logged it.
//! (The JSON format escapes them already; this changes nothing there.)

use std::io::{self, Write};
use tracing_subscriber::fmt::MakeWriter;

/// Makes stderr writers that escape control characters.
#[derive(Debug, Clone, Copy)]
pub struct ControlFreeStderr {
    /// Keep ESC: the text format's own colours, when writing to a terminal.
    /// (tracing already escapes ESC inside values.)
    pub colours: bool,
}

impl<'a> MakeWriter<'a> for ControlFreeStderr {
    type Writer = ControlFree;

    fn make_writer(&'a self) -> ControlFree {
        ControlFree { colours: self.colours }
    }
}

pub struct ControlFree {
    colours: bool,
}

impl Write for ControlFree {
    fn write(&mut self, event: &[u8]) -> io::Result<usize> {
        io::stderr().lock().write_all(&escape(event, self.colours))?;
        Ok(event.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// `event` with every control character but its final newline escaped.
pub fn escape(event: &[u8], colours: bool) -> Vec<u8> {
    let text = String::from_utf8_lossy(event);
    let (line, newline) = match text.strip_suffix('\n') {
        Some(line) => (line, true),
        None => (&*text, false),
    };
    let mut out = String::with_capacity(line.len() + 1);
    for c in line.chars() {
        match c {
            '\u{1b}' if colours => out.push(c),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    if newline {
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn only_the_final_newline_stays_raw() {
        let event = b"2026 INFO plugin: one\r\n2026 ERROR forged\tline\x07\n";
        let escaped = String::from_utf8(escape(event, false)).unwrap();
        assert_eq!(escaped, "2026 INFO plugin: one\\r\\n2026 ERROR forged\\tline\\u{7}\n");
        assert_eq!(escaped.matches('\n').count(), 1);
    }

    #[test]
    fn colours_keep_their_escape_only_when_enabled() {
        assert_eq!(escape(b"\x1b[32mok\x1b[0m\n", true), b"\x1b[32mok\x1b[0m\n");
        assert_eq!(escape(b"\x1b[32m\n", false), b"\\u{1b}[32m\n");
        assert_eq!(escape("ø✓\n".as_bytes(), false), "ø✓\n".as_bytes());
    }
}
