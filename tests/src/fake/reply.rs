//! What a fake answers: one [`Reply`] per chat request, taken from the front of the script.
//!
//! A reply says *what* to answer (a chat completion, an HTTP error, garbage, a stream that
//! fails) and *how* to deliver it (late, paced, cut short). It is API-neutral: the fake
//! it is given to renders it in its own wire format, as JSON or as an SSE stream depending
//! on the request's `stream` flag.

use std::time::Duration;

use serde_json::Value;

/// One scripted answer. Build with the constructors, refine with the `with_*` methods:
///
/// ```
/// use std::time::Duration;
/// use wasmhost_e2e::fake::Reply;
///
/// let script = [
///     Reply::chat("").with_tool_call("call_1", "get_skill", r#"{"name":"csv-stats"}"#),
///     Reply::slow(Duration::from_millis(50), Reply::chat("Done.").with_usage(120, 8)),
///     Reply::status(429, serde_json::json!({"error": {"message": "slow down"}}))
///         .with_header("retry-after", "1"),
/// ];
/// assert_eq!(script.len(), 3);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a reply does nothing until it is in a fake's script"]
pub struct Reply {
    pub(crate) kind: Kind,
    /// Waited before the response headers are sent.
    pub(crate) delay: Duration,
    /// Waited between two SSE events (or body pieces).
    pub(crate) interval: Option<Duration>,
    /// Send only this many SSE events, then close the connection without the terminator.
    pub(crate) cut_after: Option<usize>,
    /// Extra response headers, sent as given.
    pub(crate) headers: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Chat(ChatReply),
    Status {
        code: u16,
        body: Value,
    },
    Malformed,
    StreamError {
        after: usize,
        chat: ChatReply,
        error_type: String,
        message: String,
    },
}

/// The content of a successful completion, rendered by each fake in its own format.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatReply {
    /// The assistant's text; empty means no text at all (no text block, `content: null`).
    pub text: String,
    /// Further text blocks after the first (Anthropic answers in several); a dialect with
    /// one text field (OpenAI) sends no such reply.
    pub more_text: Vec<String>,
    /// Tool calls, in order, after the text.
    pub tool_calls: Vec<ToolCall>,
    /// Token counts; [`Usage::default`] when not given.
    pub usage: Usage,
    /// The raw finish/stop reason; when `None` the fake picks the API's usual one
    /// (`stop`/`tool_calls` for OpenAI, `end_turn`/`tool_use` for Anthropic).
    pub finish: Option<String>,
    /// Reasoning sent before the answer, in the shape an OpenAI-compatible server uses.
    pub reasoning: Option<(Reasoning, String)>,
}

/// How an OpenAI-compatible server sends reasoning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reasoning {
    /// Mistral's reasoning models: `content` is an array of `thinking` parts, then `text`
    /// parts (streamed and whole).
    MistralParts,
    /// A field of the message or delta beside `content`: `reasoning_content` (DeepSeek,
    /// llama.cpp, vLLM) or `reasoning` (OpenRouter, Ollama).
    Field(&'static str),
}

/// A tool call the fake model makes.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as a JSON text, sent as is (so it may be deliberately broken).
    pub arguments: String,
}

/// Token counts reported in the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
}

impl Default for Usage {
    /// Fixed, so tests can assert on totals without giving usage to every reply.
    fn default() -> Self {
        Self {
            input: 10,
            output: 20,
        }
    }
}

impl Reply {
    fn of(kind: Kind) -> Self {
        Self {
            kind,
            delay: Duration::ZERO,
            interval: None,
            cut_after: None,
            headers: Vec::new(),
        }
    }

    /// A successful completion with this text (`""` for none, e.g. a tool-call-only turn).
    pub fn chat(text: impl Into<String>) -> Self {
        Self::of(Kind::Chat(ChatReply {
            text: text.into(),
            ..ChatReply::default()
        }))
    }

    /// An HTTP error (or any status) with this JSON body, whatever the request's `stream`.
    /// The API modules have constructors for the documented error bodies.
    pub fn status(code: u16, body: Value) -> Self {
        Self::of(Kind::Status { code, body })
    }

    /// `inner`, with its response headers sent only after `delay`.
    pub fn slow(delay: Duration, inner: Reply) -> Self {
        Self {
            delay: inner.delay + delay,
            ..inner
        }
    }

    /// `inner`, with `interval` between its SSE events, so a client sees them arrive one by
    /// one (and benchmarks can model a model's token rate).
    pub fn paced(interval: Duration, inner: Reply) -> Self {
        Self {
            interval: Some(interval),
            ..inner
        }
    }

    /// `inner`, streamed for its first `events` SSE events, after which the connection is
    /// closed without the stream's terminator (no `[DONE]`, no `message_stop`, no final
    /// chunk of the chunked encoding). A non-streamed reply is cut in the middle of its body.
    pub fn cut_after(events: usize, inner: Reply) -> Self {
        Self {
            cut_after: Some(events),
            ..inner
        }
    }

    /// A 200 whose body is not valid JSON; streamed, a normal opening event followed by a
    /// data line that is not valid JSON.
    pub fn malformed() -> Self {
        Self::of(Kind::Malformed)
    }

    /// A stream that opens normally and then reports an error in-band (Anthropic: an
    /// `event: error`; OpenAI: a `data: {"error": …}` line), then ends. `error_type` is the
    /// API's error type (`overloaded_error`, `api_error`; `server_error`). Non-streamed, it
    /// is the same error as an HTTP status.
    pub fn stream_error(error_type: &str, message: &str) -> Self {
        Self::chat("").stream_error_after(1, error_type, message)
    }

    /// This chat reply streamed for its first `events` events, then the in-band error of
    /// [`Reply::stream_error`].
    ///
    /// # Panics
    /// If this is not a chat reply (a mistake in the test, not in the code under test).
    pub fn stream_error_after(self, events: usize, error_type: &str, message: &str) -> Self {
        let Kind::Chat(chat) = self.kind else {
            panic!(
                "stream_error_after applies to Reply::chat, not {:?}",
                self.kind
            )
        };
        Self {
            kind: Kind::StreamError {
                after: events,
                chat,
                error_type: error_type.into(),
                message: message.into(),
            },
            ..self
        }
    }

    /// Adds a tool call (several allowed; streamed, each gets its own `index`).
    pub fn with_tool_call(mut self, id: &str, name: &str, arguments_json: &str) -> Self {
        self.chat_mut("with_tool_call").tool_calls.push(ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: arguments_json.into(),
        });
        self
    }

    /// Sets the reported token usage.
    pub fn with_usage(mut self, input: u64, output: u64) -> Self {
        self.chat_mut("with_usage").usage = Usage { input, output };
        self
    }

    /// Sets the raw finish reason (`length`, `max_tokens`, `content_filter`, …).
    pub fn finish(mut self, reason: &str) -> Self {
        self.chat_mut("finish").finish = Some(reason.into());
        self
    }

    /// Reasoning before the answer (OpenAI-compatible servers only).
    pub fn with_reasoning(mut self, how: Reasoning, text: &str) -> Self {
        self.chat_mut("with_reasoning").reasoning = Some((how, text.to_string()));
        self
    }

    /// Adds a text block after the text (Anthropic only).
    pub fn with_text_block(mut self, text: &str) -> Self {
        self.chat_mut("with_text_block")
            .more_text
            .push(text.to_string());
        self
    }

    /// Adds a response header (e.g. `retry-after`), to any kind of reply.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// # Panics
    /// If the reply carries no chat content: a mistake in the test's script.
    fn chat_mut(&mut self, method: &str) -> &mut ChatReply {
        match &mut self.kind {
            Kind::Chat(chat) | Kind::StreamError { chat, .. } => chat,
            other => panic!("{method} applies to Reply::chat, not {other:?}"),
        }
    }
}
