//! The Messages stream (<https://docs.anthropic.com/en/api/messages-streaming>):
//!
//! - `message_start` → input usage remembered;
//! - `content_block_start`: a `text` block's initial text → `text-delta`; a `tool_use`
//!   block → `tool-call-start` with the content block's index;
//! - `content_block_delta`: `text_delta` → `text-delta`; `input_json_delta.partial_json`
//!   → `tool-call-delta`; `thinking_delta` → `reasoning-delta`; signature and citation
//!   deltas are skipped;
//! - `content_block_stop`: a tool call that got no arguments gets `{}`;
//! - `message_delta` → stop reason and (cumulative) usage remembered;
//! - `message_stop` → `usage`, then `finish`;
//! - `ping` and unknown events are ignored, as the docs ask; `error` → the mapped error.

use std::collections::BTreeMap;

use provider_kit::errors::shorten;
use provider_kit::llm_types::{ProviderError, StreamEvent, ToolCallDelta, ToolCallStart};
use provider_kit::sse::Event;
use provider_kit::stream::EventHandler;
use serde_json::Value;

use crate::errors::{self, ApiError};
use crate::response::{WireUsage, block_separator, finish_reason, malformed};

/// The stream state machine.
#[derive(Debug, Default)]
pub struct MessageStream {
    usage: WireUsage,
    stop_reason: Option<String>,
    /// Open tool-use blocks by index: whether any argument text was sent.
    tool_blocks: BTreeMap<u32, bool>,
    /// The answer's text blocks, joined as `response::parse_message` joins them.
    text: Joined,
    /// The thinking blocks, joined the same way.
    thinking: Joined,
    done: bool,
}

/// Blocks of text streamed one after another, separated as a whole message's are.
#[derive(Debug, Default)]
struct Joined {
    /// The end of the text sent so far (its last two characters), to separate the next
    /// block from it like `response::block_separator` does.
    tail: String,
    /// A new block began after earlier text: it is separated once it has text.
    separate: bool,
}

impl Joined {
    /// A new block starts.
    fn start(&mut self) {
        self.separate = !self.tail.is_empty();
    }

    /// The pieces to send for `text` of the current block (a separator first, if due).
    fn push(&mut self, text: Option<&Value>) -> Vec<String> {
        let Some(text) = text.and_then(Value::as_str).filter(|t| !t.is_empty()) else {
            return Vec::new();
        };
        let mut pieces = Vec::new();
        if std::mem::take(&mut self.separate) {
            let separator = block_separator(&self.tail);
            if !separator.is_empty() {
                pieces.push(separator.to_owned());
            }
        }
        pieces.push(text.to_owned());
        self.tail.push_str(text);
        let keep = self
            .tail
            .chars()
            .rev()
            .take(2)
            .map(char::len_utf8)
            .sum::<usize>();
        self.tail.drain(..self.tail.len() - keep);
        pieces
    }
}

impl MessageStream {
    /// One event, by its `type` (which the docs keep equal to the SSE event name).
    fn handle(&mut self, event: &Value, out: &mut Vec<StreamEvent>) -> Result<(), Malformed> {
        let kind = event
            .get("type")
            .and_then(Value::as_str)
            .ok_or(Malformed("no `type`"))?;
        match kind {
            "message_start" => {
                if let Some(usage) = event.pointer("/message/usage") {
                    self.usage.update(&usage_of(usage)?);
                }
            }
            "content_block_start" => {
                let index = index_of(event)?;
                let block = event
                    .get("content_block")
                    .ok_or(Malformed("no `content_block`"))?;
                match block.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        self.text.start();
                        self.push_text(out, block.get("text"));
                    }
                    Some("thinking") => {
                        self.thinking.start();
                        self.push_thinking(out, block.get("thinking"));
                    }
                    Some("tool_use") => {
                        let id = string(block, "id")?;
                        let name = string(block, "name")?;
                        self.tool_blocks.insert(index, false);
                        out.push(StreamEvent::ToolCallStart(ToolCallStart {
                            index,
                            id,
                            name,
                        }));
                    }
                    // redacted_thinking (encrypted), server tool blocks: not ours to relay.
                    _ => {}
                }
            }
            "content_block_delta" => {
                let index = index_of(event)?;
                let delta = event.get("delta").ok_or(Malformed("no `delta`"))?;
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => self.push_text(out, delta.get("text")),
                    Some("input_json_delta") => {
                        let json = string(delta, "partial_json")?;
                        if let (Some(sent), false) =
                            (self.tool_blocks.get_mut(&index), json.is_empty())
                        {
                            *sent = true;
                            out.push(StreamEvent::ToolCallDelta(ToolCallDelta {
                                index,
                                arguments_fragment: json,
                            }));
                        }
                    }
                    Some("thinking_delta") => self.push_thinking(out, delta.get("thinking")),
                    // signature_delta, citations_delta.
                    _ => {}
                }
            }
            "content_block_stop" => {
                let index = index_of(event)?;
                if self.tool_blocks.remove(&index) == Some(false) {
                    out.push(StreamEvent::ToolCallDelta(ToolCallDelta {
                        index,
                        arguments_fragment: "{}".into(),
                    }));
                }
            }
            "message_delta" => {
                if let Some(reason) = event.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop_reason = Some(reason.to_owned());
                }
                if let Some(usage) = event.get("usage") {
                    self.usage.update(&usage_of(usage)?);
                }
            }
            "message_stop" => {
                out.push(StreamEvent::Usage(self.usage.to_usage()));
                out.push(StreamEvent::Finish(finish_reason(
                    self.stop_reason.as_deref(),
                )));
                self.done = true;
            }
            // `ping`, and event types added after this was written, as the docs ask.
            _ => {}
        }
        Ok(())
    }
}

/// What was missing from an event that should have had it.
#[derive(Debug)]
struct Malformed(&'static str);

fn index_of(event: &Value) -> Result<u32, Malformed> {
    event
        .get("index")
        .and_then(Value::as_u64)
        .and_then(|i| u32::try_from(i).ok())
        .ok_or(Malformed("no `index`"))
}

fn string(object: &Value, key: &'static str) -> Result<String, Malformed> {
    object
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(Malformed(key))
}

fn usage_of(usage: &Value) -> Result<WireUsage, Malformed> {
    if usage.is_null() {
        return Ok(WireUsage::default());
    }
    let count = |key: &str| usage.get(key).and_then(Value::as_u64);
    if !usage.is_object() {
        return Err(Malformed("a `usage` object"));
    }
    Ok(WireUsage {
        input_tokens: count("input_tokens"),
        output_tokens: count("output_tokens"),
        cache_creation_input_tokens: count("cache_creation_input_tokens"),
        cache_read_input_tokens: count("cache_read_input_tokens"),
    })
}

impl MessageStream {
    /// Relays a piece of text, after the separator a new block owes the text before it.
    fn push_text(&mut self, out: &mut Vec<StreamEvent>, text: Option<&Value>) {
        out.extend(self.text.push(text).into_iter().map(StreamEvent::TextDelta));
    }

    fn push_thinking(&mut self, out: &mut Vec<StreamEvent>, text: Option<&Value>) {
        out.extend(
            self.thinking
                .push(text)
                .into_iter()
                .map(StreamEvent::ReasoningDelta),
        );
    }
}

impl EventHandler for MessageStream {
    fn on_event(&mut self, event: Event, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(());
        }
        let parsed = serde_json::from_str::<Value>(data);
        let is_error = event.event == "error"
            || parsed
                .as_ref()
                .is_ok_and(|v| v.get("type").and_then(Value::as_str) == Some("error"));
        if is_error {
            // The documented `{"type":"error","error":{...}}`, or whatever text came.
            let error = parsed
                .ok()
                .and_then(|v| serde_json::from_value::<ApiError>(v.get("error")?.clone()).ok())
                .unwrap_or_else(|| ApiError {
                    kind: String::new(),
                    message: shorten(data, 300),
                });
            return Err(errors::from_stream(&error));
        }
        let parsed = parsed.map_err(|e| malformed("a stream event", data, e))?;
        self.handle(&parsed, out).map_err(|Malformed(what)| {
            malformed("a stream event", data, format_args!("missing {what}"))
        })
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
