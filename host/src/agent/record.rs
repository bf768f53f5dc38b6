//! Recording provider exchanges into a cassette, for `wasmhost run --record FILE` and the
//! `replay` provider plugin that answers from one.
//!
//! A cassette is JSON Lines, each line flushed as it is written (a crash loses nothing):
//!
//! ```text
//! {"type":"cassette","version":1,"provider":"openai"}
//! {"type":"exchange","provider":"openai","request":{…},"stream":true,"events":[…],"response":{…}}
//! {"type":"exchange","provider":"openai","request":{…},"stream":false,"events":[],"error":{…}}
//! ```
//!
//! - the header names the primary provider; each exchange names the provider that served
//!   it (a fallback may take over), so a cassette may mix providers;
//! - `request` is the host's [`ChatRequest`] as serde JSON (messages, tools, options);
//! - `stream` says whether the response was streamed; `events` are the streamed events in
//!   order (empty when not streamed): `{"type":"text","text"}`, `{"type":"reasoning","text"}`,
//!   `{"type":"tool_call_start","index","id","name"}`,
//!   `{"type":"tool_call_delta","index","fragment"}`,
//!   `{"type":"usage","input_tokens","output_tokens"[,"cached_input_tokens"]}`,
//!   `{"type":"finish","reason"}`;
//! - then either `response` (the [`ChatResponse`] as serde JSON) or `error` (the
//!   [`ProviderError`] as serde JSON, tagged by `kind`). Every attempt is recorded,
//!   retried and failed ones included, in the order they happened.
//!
//! Credentials are never in a cassette: a provider, and so this decorator, never sees
//! them. The host adds the key to outbound HTTP requests itself, below the provider, and
//! a key an API echoes in an error is redacted before the error reaches this layer.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::{BoxFuture, ChatProvider, EventCallback};
use crate::chat::{ChatRequest, ChatResponse, ProviderError, StreamEvent};

/// The cassette format version written in the header line.
pub const CASSETTE_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
#[error("cannot write cassette {path}: {source}")]
pub struct RecordError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// A cassette being written. Shared by the [`RecordingProvider`]s of one session (the
/// primary provider and its fallbacks), which append to it in call order.
pub struct Cassette {
    path: PathBuf,
    file: Mutex<File>,
}

impl Cassette {
    /// Creates (or truncates) `path` and writes the header line naming `provider`.
    pub fn create(path: &Path, provider: &str) -> Result<Self, RecordError> {
        let error = |source| RecordError {
            path: path.to_path_buf(),
            source,
        };
        let file = File::create(path).map_err(error)?;
        let cassette = Self {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        };
        cassette.append(&json!({
            "type": "cassette",
            "version": CASSETTE_VERSION,
            "provider": provider,
        }))?;
        Ok(cassette)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one line and flushes it.
    fn append(&self, line: &Value) -> Result<(), RecordError> {
        let mut text = line.to_string();
        text.push('\n');
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        crate::blocking::off_the_async_workers(|| {
            file.write_all(text.as_bytes()).and_then(|()| file.flush())
        })
        .map_err(|source| RecordError {
            path: self.path.clone(),
            source,
        })
    }
}

/// A provider whose every exchange is appended to a [`Cassette`]; otherwise transparent.
pub struct RecordingProvider {
    inner: Arc<dyn ChatProvider>,
    cassette: Arc<Cassette>,
}

impl RecordingProvider {
    pub fn new(inner: Arc<dyn ChatProvider>, cassette: Arc<Cassette>) -> Self {
        Self { inner, cassette }
    }
}

impl ChatProvider for RecordingProvider {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn respond<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_event: Option<EventCallback<'a>>,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>> {
        Box::pin(async move {
            let stream = on_event.is_some();
            let mut events = Vec::new();
            let result = match on_event {
                Some(forward) => {
                    let mut tap = |event: &StreamEvent| {
                        events.push(event_json(event));
                        forward(event);
                    };
                    self.inner.respond(request, Some(&mut tap)).await
                }
                None => self.inner.respond(request, None).await,
            };
            let line = exchange_json(self.inner.name(), request, stream, events, &result);
            // A cassette that cannot be written ends the turn: a recording with holes
            // would replay as a departure much later, far from the cause.
            if let Err(error) = self.cassette.append(&line) {
                return Err(ProviderError::Other {
                    message: error.to_string(),
                });
            }
            result
        })
    }
}

/// One exchange line.
fn exchange_json(
    provider: &str,
    request: &ChatRequest,
    stream: bool,
    events: Vec<Value>,
    result: &Result<ChatResponse, ProviderError>,
) -> Value {
    let mut line = json!({
        "type": "exchange",
        "provider": provider,
        "request": request,
        "stream": stream,
        "events": events,
    });
    let (key, value) = match result {
        Ok(response) => ("response", serde_json::to_value(response)),
        Err(error) => ("error", serde_json::to_value(error)),
    };
    line[key] = value.unwrap_or(Value::Null);
    line
}

/// A stream event as a cassette line holds it.
fn event_json(event: &StreamEvent) -> Value {
    match event {
        StreamEvent::TextDelta(text) => json!({"type": "text", "text": text}),
        StreamEvent::ReasoningDelta(text) => json!({"type": "reasoning", "text": text}),
        StreamEvent::ToolCallStart { index, id, name } => {
            json!({"type": "tool_call_start", "index": index, "id": id, "name": name})
        }
        StreamEvent::ToolCallDelta { index, fragment } => {
            json!({"type": "tool_call_delta", "index": index, "fragment": fragment})
        }
        StreamEvent::Usage(usage) => {
            let mut value = serde_json::to_value(usage).unwrap_or(Value::Null);
            value["type"] = json!("usage");
            value
        }
        StreamEvent::Finish(reason) => json!({"type": "finish", "reason": reason}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{FinishReason, Message, RequestOptions, Role, StreamAssembler, Usage};

    struct Scripted;

    impl ChatProvider for Scripted {
        fn name(&self) -> &str {
            "scripted"
        }

        fn respond<'a>(
            &'a self,
            _request: &'a ChatRequest,
            on_event: Option<EventCallback<'a>>,
        ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>> {
            Box::pin(async move {
                let events = [
                    StreamEvent::TextDelta("hi".into()),
                    StreamEvent::ToolCallStart {
                        index: 0,
                        id: "c1".into(),
                        name: "t".into(),
                    },
                    StreamEvent::ToolCallDelta {
                        index: 0,
                        fragment: "{}".into(),
                    },
                    StreamEvent::Usage(Usage {
                        input_tokens: 1,
                        output_tokens: 2,
                        cached_input_tokens: None,
                    }),
                    StreamEvent::Finish(FinishReason::ToolCalls),
                ];
                let mut on_event = on_event;
                let mut assembler = StreamAssembler::default();
                for event in events {
                    if let Some(callback) = on_event.as_mut() {
                        callback(&event);
                    }
                    assembler.push(event);
                }
                Ok(assembler.finish("m".into()))
            })
        }
    }

    #[tokio::test]
    async fn records_streamed_events_and_the_response() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.jsonl");
        let cassette = Arc::new(Cassette::create(&path, "scripted").expect("create"));
        let provider = RecordingProvider::new(Arc::new(Scripted), cassette);
        let request = ChatRequest {
            messages: vec![Message::text(Role::User, "hello")],
            tools: Vec::new(),
            options: RequestOptions::default(),
        };
        let mut seen = 0;
        let mut count = |_: &StreamEvent| seen += 1;
        let response = provider
            .respond(&request, Some(&mut count))
            .await
            .expect("response");
        assert_eq!(seen, 5, "events are forwarded");
        assert_eq!(response.message.text_content(), "hi");
        provider.respond(&request, None).await.expect("response");

        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["type"], "cassette");
        assert_eq!(lines[0]["version"], 1);
        assert_eq!(lines[1]["stream"], true);
        assert_eq!(lines[1]["provider"], "scripted");
        assert_eq!(
            lines[1]["request"]["messages"][0]["content"][0]["text"],
            "hello"
        );
        let kinds: Vec<&str> = lines[1]["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["type"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(
            kinds,
            [
                "text",
                "tool_call_start",
                "tool_call_delta",
                "usage",
                "finish"
            ]
        );
        assert_eq!(lines[1]["events"][3]["output_tokens"], 2);
        assert_eq!(lines[1]["events"][4]["reason"], "tool_calls");
        assert_eq!(lines[1]["response"]["message"]["tool_calls"][0]["id"], "c1");
        assert_eq!(lines[2]["stream"], false);
        assert_eq!(lines[2]["events"], json!([]));
    }

    #[test]
    fn errors_are_recorded_by_kind() {
        let request = ChatRequest {
            messages: Vec::new(),
            tools: Vec::new(),
            options: RequestOptions::default(),
        };
        let line = exchange_json(
            "p",
            &request,
            false,
            Vec::new(),
            &Err(ProviderError::BadRequest {
                message: "no".into(),
            }),
        );
        assert_eq!(
            line["error"],
            json!({"kind": "bad-request", "message": "no"})
        );
        assert!(line.get("response").is_none());
    }
}
