//! Text from plugins, models and servers made safe to show on a terminal.
//!
//! A model's answer, a tool's result, a plugin's log line or description can hold escape
//! sequences that a terminal obeys: OSC 52 writes the clipboard, CSI clears the screen,
//! OSC 0 sets the title, `\r` overwrites what was shown, a bidi override reorders it. Every
//! such character is shown as a visible escape (`\x1b`, `\u{202e}`) instead, so the user
//! sees what was sent and the terminal does nothing. `--json` output is not passed through
//! here: JSON escapes control characters itself, and scripts get the exact text.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether a terminal may act on `c` rather than print it: C0 controls other than `\n` and
/// `\t`, DEL, C1 controls (U+0080–U+009F, which some terminals take as 8-bit CSI/OSC), the
/// Unicode bidirectional overrides, isolates and marks, and the line and paragraph
/// separators (which some terminals and viewers break lines at).
fn is_unsafe(c: char, keep_newlines: bool) -> bool {
    match c {
        '\n' => !keep_newlines,
        '\t' => false,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{2028}' | '\u{2029}' => true,
        _ => false,
    }
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c, keep_newlines)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !is_unsafe(c, keep_newlines) {
            out.push(c);
        } else if c == '\n' {
            out.push_str("\\n");
        } else if (c as u32) < 0x100 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// Text that may span lines (an answer, a result, an error): line breaks kept.
pub fn text(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// Text shown on one line (a log line, a name, a value): a line break is shown as `\n`,
/// so no plugin can forge a line that looks like another's.
pub fn line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_obeyed() {
        let hostile = "\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{1b}]0;pwned\u{7}ok\r\u{9b}31m\u{202e}x";
        let shown = text(hostile);
        assert_eq!(
            shown,
            "\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\x1b]0;pwned\\x07ok\\x0d\\x9b31m\\u{202e}x"
        );
        assert!(!shown.chars().any(|c| c.is_control()));
    }

    #[test]
    fn plain_text_is_untouched_and_lines_stay_lines_only_where_allowed() {
        assert!(matches!(text("héllo\n\tworld"), Cow::Borrowed(_)));
        assert_eq!(text("a\nb"), "a\nb");
        assert_eq!(line("a\n[openai warn] forged"), "a\\n[openai warn] forged");
        assert_eq!(line("tab\tok"), "tab\tok");
        assert_eq!(line("a\u{2028}b\u{200f}"), "a\\u{2028}b\\u{200f}");
        // Emoji sequences (zero-width joiners) are text, not controls.
        assert_eq!(line("👩\u{200d}💻"), "👩\u{200d}💻");
    }
}
