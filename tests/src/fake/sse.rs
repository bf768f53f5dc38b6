//! Server-sent events as both APIs frame them (one JSON object per `data:` line, a blank
//! line after each event), and the fragmenting that makes streamed text and tool-call
//! arguments arrive in many small pieces, as real models send them.

use serde_json::Value;

/// Characters per streamed text delta.
pub(crate) const TEXT_PIECE: usize = 5;
/// Characters per streamed tool-argument fragment: small, so a client that does not
/// reassemble fragments is caught on the first call.
pub(crate) const ARGUMENTS_PIECE: usize = 3;

/// `data: JSON` (OpenAI's events carry no name).
pub(crate) fn data(json: &Value) -> String {
    format!("data: {json}\n\n")
}

/// `event: NAME` then `data: JSON` (Anthropic names every event).
pub(crate) fn event(name: &str, json: &Value) -> String {
    format!("event: {name}\ndata: {json}\n\n")
}

/// `s` in pieces of `chars` characters (the last may be shorter); none for `""`.
pub(crate) fn pieces(s: &str, chars: usize) -> Vec<&str> {
    let chars = chars.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    for (count, (at, _)) in s.char_indices().enumerate() {
        if count > 0 && count % chars == 0 {
            out.push(&s[start..at]);
            start = at;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// The first half of `text` (at a character boundary): a body that stops mid-JSON.
pub(crate) fn first_half(text: &str) -> &str {
    let mut at = text.len() / 2;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    &text[..at]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_text_at_char_boundaries() {
        assert_eq!(pieces("", 3), Vec::<&str>::new());
        assert_eq!(pieces("abcdefg", 3), ["abc", "def", "g"]);
        assert_eq!(pieces("héllo", 2), ["hé", "ll", "o"]);
        assert_eq!(pieces("ab", 0), ["a", "b"]);
    }

    #[test]
    fn first_half_stops_at_a_char_boundary() {
        assert_eq!(first_half("abcd"), "ab");
        assert_eq!(first_half("aé"), "a");
    }
}
