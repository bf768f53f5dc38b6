//! The `replay` provider plugin: answers from a cassette recorded with
//! `wasmhost run --record FILE` instead of an API, with no network and no key.
//!
//! ```sh
//! wasmhost run --plugin replay --cassette demo/unit-conversion.cassette.jsonl \
//!     --skills skills "How many miles is a 42 km marathon?"
//! ```
//!
//! The host grants the cassette's folder read-only at `/cassette` and names the file in
//! the `cassette` config. Each call (on a fresh instance, like every call) reads it, finds
//! the recorded exchange for this request by its turn (the number of assistant messages
//! so far), checks that the conversation is the recorded one ([`matching`]) and replays
//! the recorded response, events or error. A conversation that departs from the recording
//! gets a `bad-request` saying which request and which message differ, and how.

mod cassette;
mod matching;

use std::cell::RefCell;
use std::collections::VecDeque;

use exports::wasmhost::plugin::provider::{CompletionStream, Guest, GuestCompletionStream};
use provider_kit::host;
use provider_kit::llm_types::{
    Capabilities, ChatRequest, ChatResponse, ModelInfo, ProviderError, ProviderInfo, StreamEvent,
};
use provider_kit::wire;

use cassette::{Cassette, Exchange};

// The world's bindings, sharing provider-kit's types.
provider_kit::provider_world!();

/// The config key holding the cassette's path inside the sandbox.
const CASSETTE_CONFIG: &str = "cassette";
/// The model reported when the recording names none.
const DEFAULT_MODEL: &str = "recorded";
/// Events handed over per `next`, so a replayed stream arrives in pieces like a live one.
const EVENTS_PER_PULL: usize = 3;

struct Replay;

impl Guest for Replay {
    type CompletionStream = ReplayStream;

    fn info() -> ProviderInfo {
        ProviderInfo {
            name: "replay".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            default_model: DEFAULT_MODEL.into(),
            // No API: the host grants no network.
            default_base_url: String::new(),
            credential: None,
            capabilities: Capabilities::TOOLS | Capabilities::STREAMING,
        }
    }

    fn complete(request: ChatRequest) -> Result<ChatResponse, ProviderError> {
        recorded_exchange(&request)?.outcome
    }

    fn complete_streaming(request: ChatRequest) -> Result<CompletionStream, ProviderError> {
        let exchange = recorded_exchange(&request)?;
        let (events, error) = match exchange.outcome {
            // A failure before any event: the call itself fails, as it did.
            Err(error) if exchange.events.is_empty() => return Err(error),
            Err(error) => (exchange.events, Some(error)),
            Ok(_) if !exchange.events.is_empty() => (exchange.events, None),
            // Recorded without streaming: the events the response adds up to.
            Ok(response) => (wire::response_events(&response), None),
        };
        Ok(CompletionStream::new(ReplayStream {
            events: RefCell::new(events.into()),
            error: RefCell::new(error),
        }))
    }

    fn list_models() -> Result<Vec<ModelInfo>, ProviderError> {
        Ok(vec![ModelInfo {
            id: DEFAULT_MODEL.into(),
            context_window: None,
        }])
    }
}

/// The recorded exchange answering `request`, or why there is none.
fn recorded_exchange(request: &ChatRequest) -> Result<Exchange, ProviderError> {
    let Some(path) = host::get_config(CASSETTE_CONFIG) else {
        return Err(ProviderError::BadRequest(
            "no cassette configured: run with --cassette FILE".into(),
        ));
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ProviderError::BadRequest(format!("cannot read cassette {path}: {e}")))?;
    let cassette = Cassette::parse(&text)
        .map_err(|e| ProviderError::BadRequest(format!("cassette {path}: {e}")))?;
    find(&cassette, &matching::project(request)).map_err(ProviderError::BadRequest)
}

/// The exchange for the request whose projection is `got`, or a departure message.
fn find(cassette: &Cassette, got: &[matching::Step]) -> Result<Exchange, String> {
    let turn = matching::turn_index(got);
    let n = turn + 1;
    let departs = format!("The conversation departs from the recording at request {n}");
    let Some(exchange) = cassette.requests.get(turn) else {
        return Err(format!(
            "{departs}: the cassette holds only {} request{}",
            cassette.requests.len(),
            if cassette.requests.len() == 1 {
                ""
            } else {
                "s"
            }
        ));
    };
    match matching::departure(&exchange.steps, got) {
        None => Ok(exchange.clone()),
        Some(how) => Err(format!("{departs}: {how}")),
    }
}

/// A recorded stream, handed over a few events at a time.
struct ReplayStream {
    events: RefCell<VecDeque<StreamEvent>>,
    /// Delivered once the events run out, if the recorded stream failed.
    error: RefCell<Option<ProviderError>>,
}

impl GuestCompletionStream for ReplayStream {
    fn next(&self) -> Result<Option<Vec<StreamEvent>>, ProviderError> {
        let mut events = self.events.borrow_mut();
        if !events.is_empty() {
            let take = events.len().min(EVENTS_PER_PULL);
            return Ok(Some(events.drain(..take).collect()));
        }
        match self.error.borrow_mut().take() {
            Some(error) => Err(error),
            None => Ok(None),
        }
    }
}

export!(Replay);

#[cfg(test)]
mod tests {
    use super::*;
    use matching::Step;

    #[test]
    fn a_request_beyond_the_recording_says_how_many_there_are() {
        let cassette = Cassette::default();
        let got = [Step::User { text: "hi".into() }];
        assert_eq!(
            find(&cassette, &got).expect_err("fails"),
            "The conversation departs from the recording at request 1: the cassette holds only 0 requests"
        );
    }
}
