//! Server-Sent Events, decoded incrementally from byte chunks.
//!
//! The parsing is the `sse-parse` crate's: a sans-IO implementation of the WHATWG
//! "interpreting an event stream" algorithm (`data`/`event`/`id`/`retry` fields, `:`
//! comments, multi-line data joined with `\n`, CR/LF/CRLF line ends even when a CRLF is
//! split across chunks, one leading BOM, a UTF-8 sequence split across chunks) with no async
//! runtime and no `unsafe`. This module pins the part of its API the kit uses behind
//! [`Decoder`] and [`Event`], so replacing it is a local change, and its tests (including a
//! property test over arbitrary chunkings) check the behaviour the providers rely on.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field, or `message` when the block had none.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// An incremental SSE decoder: feed it chunks as they arrive, drain the events.
#[derive(Debug, Default)]
pub struct Decoder {
    parser: sse_parse::SseParser,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next bytes of the stream; any chunking gives the same events.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.parser.feed(bytes);
    }

    /// The next complete event, in stream order.
    pub fn next_event(&mut self) -> Option<Event> {
        self.parser.next_event().map(|e| Event {
            event: e.event,
            data: e.data,
        })
    }

    /// Marks the end of the stream: an event without its closing blank line is dropped, as
    /// the standard says. Events completed before stay available.
    pub fn finish(&mut self) {
        self.parser.finish();
    }
}

/// Every event of a complete stream given in one piece (for tests and whole bodies).
pub fn decode_all(bytes: &[u8]) -> Vec<Event> {
    let mut decoder = Decoder::new();
    decoder.feed(bytes);
    decoder.finish();
    std::iter::from_fn(|| decoder.next_event()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pairs(events: &[Event]) -> Vec<(&str, &str)> {
        events
            .iter()
            .map(|e| (e.event.as_str(), e.data.as_str()))
            .collect()
    }

    #[test]
    fn fields_comments_and_multiline_data() {
        let stream = b"\xEF\xBB\xBF: a comment\nevent: message_start\ndata: {\"a\":1}\n\n\
            data:first\ndata: second\nid: 7\nretry: 10\nunknown: x\n\n\
            event: only-type\n\n\
            data\n\n";
        assert_eq!(
            pairs(&decode_all(stream)),
            [
                ("message_start", "{\"a\":1}"),
                ("message", "first\nsecond"),
                ("message", ""),
            ]
        );
    }

    #[test]
    fn every_line_ending_works() {
        for stream in [
            &b"data: a\n\ndata: b\n\n"[..],
            b"data: a\r\n\r\ndata: b\r\n\r\n",
            b"data: a\r\rdata: b\r\r",
            b"data: a\r\n\ndata: b\n\r\n",
        ] {
            assert_eq!(
                pairs(&decode_all(stream)),
                [("message", "a"), ("message", "b")]
            );
        }
    }

    #[test]
    fn an_unterminated_last_event_is_dropped() {
        assert_eq!(
            pairs(&decode_all(b"data: a\n\ndata: b\n")),
            [("message", "a")]
        );
    }

    #[test]
    fn utf8_split_across_chunks_survives() {
        let text = "data: héllo — 😀\n\n".as_bytes();
        for split in 0..text.len() {
            let mut decoder = Decoder::new();
            decoder.feed(&text[..split]);
            decoder.feed(&text[split..]);
            assert_eq!(
                decoder.next_event().map(|e| e.data),
                Some("héllo — 😀".to_owned()),
                "split at {split}"
            );
        }
    }

    /// Bytes that look like SSE (fields, comments, every line ending, multi-byte and broken
    /// UTF-8, BOMs) or are plain noise.
    fn stream_bytes() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"data: ".to_vec()),
            Just(b"data:".to_vec()),
            Just(b"event: ".to_vec()),
            Just(b"id: 1".to_vec()),
            Just(b"retry: 30".to_vec()),
            Just(b": comment".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\n\n".to_vec()),
            Just(b"\xEF\xBB\xBF".to_vec()),
            Just("é😀".as_bytes().to_vec()),
            Just(b"\xF0\x9F".to_vec()),
            Just(b"\xFF".to_vec()),
            "[a-z{}\":, ]{0,12}".prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..8),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn chunking_never_changes_the_events(
            bytes in stream_bytes(),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let whole = decode_all(&bytes);
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
            at.sort_unstable();
            let mut decoder = Decoder::new();
            let mut start = 0;
            let mut split = Vec::new();
            for end in at.into_iter().chain([bytes.len()]) {
                decoder.feed(&bytes[start..end]);
                start = end;
                split.extend(std::iter::from_fn(|| decoder.next_event()));
            }
            decoder.finish();
            split.extend(std::iter::from_fn(|| decoder.next_event()));
            prop_assert_eq!(split, whole);
        }
    }
}
