//! Keeping granted secrets out of everything the host writes.
//!
//! The host adds a plugin's key to its requests itself, so the plugin never holds it, but
//! a server that echoes request headers hands it back. Whatever a plugin returns (answers,
//! streamed text, tool calls, tool results, errors, log lines, its stderr) passes through
//! the plugin's [`Redactor`] before the host shows, records or forwards it. Streams go
//! through a [`StreamRedactor`], which holds back any tail that could be the start of a
//! secret, so a key split across deltas is caught too.

use std::borrow::Cow;

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Secrets shorter than this are refused when granted: replacing a two-letter value
/// everywhere would garble output, and not replacing it would leak it. Real API keys are
/// 20 characters and more.
pub const MIN_SECRET_CHARS: usize = 8;

/// Replaces every occurrence of a set of secrets.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret that contains another is replaced whole.
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every secret replaced by [`REDACTED`]; borrowed when there was none.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
            }
        }
        out
    }

    /// [`Redactor::redact`] in place.
    pub fn redact_string(&self, text: &mut String) {
        if let Cow::Owned(clean) = self.redact(text) {
            *text = clean;
        }
    }

    /// A redactor for one stream of fragments.
    pub fn stream(&self) -> StreamRedactor<'_> {
        StreamRedactor {
            redactor: self,
            pending: String::new(),
        }
    }

    /// [`Redactor::redact`] for text that was cut off: a tail that could be the start of a
    /// secret is replaced too, since the rest of it was lost with the cut.
    pub fn redact_cut(&self, text: &str) -> String {
        let mut out = self.redact(text).into_owned();
        let hold = self.held_back(&out);
        if hold > 0 {
            out.truncate(out.len() - hold);
            out.push_str(REDACTED);
        }
        out
    }

    /// The longest suffix of `text` that is a proper prefix of some secret: text that must
    /// wait for the next fragment before it can be shown.
    fn held_back(&self, text: &str) -> usize {
        let mut longest = 0;
        for secret in &self.secrets {
            let max = (secret.len() - 1).min(text.len());
            for len in (longest + 1..=max).rev() {
                let start = text.len() - len;
                if text.is_char_boundary(start)
                    && secret.as_bytes().starts_with(&text.as_bytes()[start..])
                {
                    longest = len;
                    break;
                }
            }
        }
        longest
    }
}

/// Redacts a text that arrives in fragments. Each [`StreamRedactor::push`] returns what can
/// be shown now; [`StreamRedactor::finish`] returns the rest.
#[derive(Debug, Clone)]
pub struct StreamRedactor<'a> {
    redactor: &'a Redactor,
    pending: String,
}

impl StreamRedactor<'_> {
    pub fn push(&mut self, fragment: &str) -> String {
        if self.redactor.is_empty() {
            return fragment.to_string();
        }
        self.pending.push_str(fragment);
        self.redactor.redact_string(&mut self.pending);
        let hold = self.redactor.held_back(&self.pending);
        let keep = self.pending.split_off(self.pending.len() - hold);
        std::mem::replace(&mut self.pending, keep)
    }

    /// What is still held back: not a whole secret, so it is shown as it is.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_every_secret_longest_first() {
        let r = Redactor::new(["sk-abcdef123", "sk-abcdef123456"]);
        assert_eq!(
            r.redact("a sk-abcdef123456 b sk-abcdef123 c"),
            "a [REDACTED] b [REDACTED] c"
        );
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
        assert!(Redactor::new([""]).is_empty());
    }

    #[test]
    fn a_secret_split_across_fragments_is_caught_at_any_cut() {
        let secret = "sk-live-0123456789";
        let text = format!("key={secret}; again {secret}!");
        let r = Redactor::new([secret]);
        for a in 0..text.len() {
            for b in a..text.len() {
                let mut s = r.stream();
                let mut out = s.push(&text[..a]);
                out += &s.push(&text[a..b]);
                out += &s.push(&text[b..]);
                out += &s.finish();
                assert_eq!(out, "key=[REDACTED]; again [REDACTED]!", "cuts {a} {b}");
            }
        }
    }

    #[test]
    fn text_that_only_looks_like_a_start_is_released_at_the_end() {
        let r = Redactor::new(["sk-live-0123456789"]);
        let mut s = r.stream();
        assert_eq!(s.push("answer: sk-li"), "answer: ");
        assert_eq!(s.push("ke"), "sk-like");
        assert_eq!(s.push(" sk"), " ");
        assert_eq!(s.finish(), "sk");
    }

    #[test]
    fn a_secret_cut_off_at_the_end_is_redacted_too() {
        let r = Redactor::new(["sk-live-0123456789"]);
        assert_eq!(r.redact_cut("log: sk-live-01"), "log: [REDACTED]");
        assert_eq!(
            r.redact_cut("log: sk-live-0123456789 ok"),
            "log: [REDACTED] ok"
        );
        assert_eq!(r.redact_cut("plain"), "plain");
    }

    #[test]
    fn non_ascii_text_is_cut_on_char_boundaries() {
        let r = Redactor::new(["ключ-секрет-1"]);
        let mut s = r.stream();
        let mut out = String::new();
        for c in "да ключ-секрет-1 нет ключ".chars() {
            out += &s.push(&c.to_string());
        }
        out += &s.finish();
        assert_eq!(out, "да [REDACTED] нет ключ");
    }
}
