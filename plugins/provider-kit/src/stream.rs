//! The pull loop of a streamed completion: bytes from a [`ByteSource`] go through the SSE
//! [`Decoder`], each event through the plugin's [`EventHandler`] (the API-specific state
//! machine), and [`EventStream::pull`] hands the host the `stream-event`s in order.
//!
//! The source is a trait so the whole loop runs natively in tests on recorded transcripts
//! ([`Chunks`]); in the plugin it is the HTTP response [`Body`](crate::http::Body).

use std::collections::VecDeque;

use crate::llm_types::{ProviderError, StreamEvent};
use crate::sse::{Decoder, Event};

/// What the loop says when the body ends before the API's end-of-response marker.
pub const CUT_SHORT: &str = "stream ended before the response was complete";

/// Where the bytes of a streamed body come from.
pub trait ByteSource {
    /// The next bytes, blocking until some arrive; `None` at the end.
    fn read_chunk(&mut self) -> Result<Option<Vec<u8>>, ProviderError>;
}

/// An API's streaming protocol: SSE events in, `stream-event`s out.
pub trait EventHandler {
    /// Handles one SSE event, pushing the stream events it yields onto `out`. An error ends
    /// the stream after the events already pushed are delivered.
    fn on_event(&mut self, event: Event, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError>;

    /// True once the API's end-of-response marker has been handled (and `finish` emitted):
    /// the loop stops reading. A body that ends while this is false was cut short.
    fn is_done(&self) -> bool;
}

/// One streamed response being pulled by the host.
#[derive(Debug)]
pub struct EventStream<S, H> {
    source: S,
    decoder: Decoder,
    handler: H,
    ready: VecDeque<StreamEvent>,
    /// Delivered after `ready` drains; then the stream is over.
    error: Option<ProviderError>,
    over: bool,
}

impl<S: ByteSource, H: EventHandler> EventStream<S, H> {
    pub fn new(source: S, handler: H) -> Self {
        Self {
            source,
            decoder: Decoder::new(),
            handler,
            ready: VecDeque::new(),
            error: None,
            over: false,
        }
    }

    /// The next events, reading as much of the body as it takes to have at least one;
    /// `None` once the response has ended. After an error, `None` too.
    pub fn pull(&mut self) -> Result<Option<Vec<StreamEvent>>, ProviderError> {
        while self.ready.is_empty() && self.error.is_none() && !self.over {
            self.pump();
        }
        if !self.ready.is_empty() {
            return Ok(Some(self.ready.drain(..).collect()));
        }
        match self.error.take() {
            Some(error) => Err(error),
            None => Ok(None),
        }
    }

    /// Reads one chunk and runs the events it completes through the handler.
    fn pump(&mut self) {
        match self.source.read_chunk() {
            Ok(Some(bytes)) => self.decoder.feed(&bytes),
            Ok(None) => {
                self.decoder.finish();
                self.over = true;
            }
            Err(error) => {
                self.fail(error);
                return;
            }
        }
        let mut out = Vec::new();
        while let Some(event) = self.decoder.next_event() {
            if let Err(error) = self.handler.on_event(event, &mut out) {
                self.fail(error);
                break;
            }
            if self.handler.is_done() {
                self.over = true;
                break;
            }
        }
        self.ready.extend(out);
        if self.over && self.error.is_none() && !self.handler.is_done() {
            self.error = Some(ProviderError::Network(CUT_SHORT.into()));
        }
    }

    fn fail(&mut self, error: ProviderError) {
        self.error = Some(error);
        self.over = true;
    }
}

/// A streamed response as the host pulls it: live from the body, or, when the server
/// answered a streaming request with one JSON body (a proxy that ignores `stream`), that
/// body's events in one batch ([`crate::wire::response_events`]).
#[derive(Debug)]
pub enum ResponseStream<S, H> {
    Live(Box<EventStream<S, H>>),
    Whole(Option<Vec<StreamEvent>>),
}

impl<S: ByteSource, H: EventHandler> ResponseStream<S, H> {
    pub fn pull(&mut self) -> Result<Option<Vec<StreamEvent>>, ProviderError> {
        match self {
            Self::Live(stream) => stream.pull(),
            Self::Whole(events) => Ok(events.take()),
        }
    }
}

/// A recorded body, delivered in chunks: for tests of a plugin's stream handling.
#[derive(Debug, Clone, Default)]
pub struct Chunks(VecDeque<Vec<u8>>);

impl Chunks {
    /// `bytes` cut into pieces of `size` bytes (the last may be shorter).
    pub fn split(bytes: &[u8], size: usize) -> Self {
        Self(bytes.chunks(size.max(1)).map(<[u8]>::to_vec).collect())
    }

    /// `bytes` cut at the given offsets (sorted, each at most `bytes.len()`).
    pub fn cut_at(bytes: &[u8], offsets: &[usize]) -> Self {
        let mut pieces = VecDeque::new();
        let mut start = 0;
        for &end in offsets.iter().chain([&bytes.len()]) {
            pieces.push_back(bytes[start..end].to_vec());
            start = end;
        }
        Self(pieces)
    }
}

impl ByteSource for Chunks {
    fn read_chunk(&mut self) -> Result<Option<Vec<u8>>, ProviderError> {
        Ok(self.0.pop_front())
    }
}

/// Everything a stream delivered: its events, in order, and the error that ended it.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub events: Vec<StreamEvent>,
    pub error: Option<ProviderError>,
}

/// The transcript of `body` through a handler from `handler`, checked to be the same for
/// every way of cutting the body into chunks and with CRLF line ends (a test helper for
/// each plugin's stream state machine).
pub fn transcript_any_chunking<H: EventHandler>(
    body: &[u8],
    handler: impl Fn() -> H,
) -> Transcript {
    let run = |bytes: &[u8], size: usize| {
        collect(EventStream::new(Chunks::split(bytes, size), handler()))
    };
    let whole = run(body, body.len().max(1));
    for size in [1, 2, 3, 5, 17, 64, 333] {
        assert_eq!(run(body, size), whole, "chunks of {size}");
    }
    let crlf = String::from_utf8_lossy(body).replace('\n', "\r\n");
    assert_eq!(run(crlf.as_bytes(), 7), whole, "CRLF");
    whole
}

/// Pulls `stream` to its end, as the host would.
pub fn collect<S: ByteSource, H: EventHandler>(mut stream: EventStream<S, H>) -> Transcript {
    let mut events = Vec::new();
    loop {
        match stream.pull() {
            Ok(Some(batch)) => {
                assert!(!batch.is_empty(), "pull() returned an empty batch");
                events.extend(batch);
            }
            Ok(None) => {
                return Transcript {
                    events,
                    error: None,
                };
            }
            Err(error) => {
                assert_eq!(stream.pull(), Ok(None), "the stream went on after an error");
                return Transcript {
                    events,
                    error: Some(error),
                };
            }
        }
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
