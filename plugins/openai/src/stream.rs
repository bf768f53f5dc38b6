//! The Chat Completions stream: `data: {chunk}` events until `data: [DONE]`.
//!
//! - `choices[0].delta.content` (and `refusal`) → `text-delta`; content may be an array of
//!   parts (Mistral's reasoning models), of which only `text` parts are the answer.
//!   Reasoning (`thinking` parts, `reasoning_content`, `reasoning`) is not the answer: it
//!   goes out as `reasoning-delta`, and a stream of reasoning alone is also said in a
//!   warning.
//! - `choices[0].delta.tool_calls[i]`: the first fragment of a call carries `id` and
//!   `function.name` → `tool-call-start` (with the call's `index`); every non-empty
//!   `function.arguments` fragment → `tool-call-delta`. Servers that send a whole call in
//!   one fragment, omit `index`, or repeat `id` on later fragments work too.
//! - `finish_reason` is remembered; `usage` (the last chunk, with empty `choices`, when
//!   `stream_options.include_usage` is set) → `usage`.
//! - `[DONE]` → `finish(reason)`, once, at the end.
//! - `{"error": {...}}` in a chunk (or an `event: error`) → that error, mapped.

use std::collections::BTreeMap;

use provider_kit::llm_types::{
    FinishReason, ProviderError, StreamEvent, ToolCallDelta, ToolCallStart,
};
use provider_kit::sse::Event;
use provider_kit::stream::EventHandler;
use serde::Deserialize;
use serde_json::Value;

use crate::errors::{self, ApiError};
use crate::response::{
    Content, WireUsage, finish_reason, first_reasoning, malformed, reasoning_only_warning,
};

#[derive(Debug, Deserialize)]
struct Chunk {
    choices: Option<Vec<ChunkChoice>>,
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct ChunkChoice {
    index: Option<u32>,
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Delta {
    /// A string, or an array of parts (Mistral's reasoning models): see [`Content`].
    content: Option<Value>,
    refusal: Option<String>,
    tool_calls: Option<Vec<CallFragment>>,
    /// Reasoning as DeepSeek, llama.cpp and vLLM stream it.
    reasoning_content: Option<String>,
    /// Reasoning as OpenRouter and Ollama stream it.
    reasoning: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CallFragment {
    index: Option<u32>,
    id: Option<String>,
    function: Option<FunctionFragment>,
}

#[derive(Debug, Deserialize)]
struct FunctionFragment {
    name: Option<String>,
    arguments: Option<String>,
}

/// One tool call being streamed.
#[derive(Debug, Default)]
struct Call {
    id: Option<String>,
    name: String,
    started: bool,
    /// Arguments that arrived before the name (flushed at the start).
    pending: String,
    sent_arguments: bool,
}

/// The stream state machine.
#[derive(Debug, Default)]
pub struct ChatStream {
    /// The model the request named, for error messages.
    model: Option<String>,
    calls: BTreeMap<u32, Call>,
    finish_reason: Option<String>,
    done: bool,
    /// Characters of answer text and of reasoning seen: a stream of reasoning alone is
    /// said, not passed off as an empty answer.
    text_chars: usize,
    reasoning_chars: usize,
}

impl ChatStream {
    pub fn new(model: &str) -> Self {
        Self {
            model: Some(model.to_owned()),
            ..Self::default()
        }
    }

    fn chunk(&mut self, chunk: Chunk, out: &mut Vec<StreamEvent>) {
        for choice in chunk.choices.unwrap_or_default() {
            // We never ask for n > 1; a server that sends more gets its first choice used.
            if choice.index.unwrap_or(0) != 0 {
                continue;
            }
            if let Some(delta) = choice.delta {
                let content = Content::of(delta.content.as_ref());
                // Servers that fill both fields send the same text twice: take one.
                if let Some(reasoning) = first_reasoning([
                    Some(content.reasoning),
                    delta.reasoning_content,
                    delta.reasoning,
                ]) {
                    self.reasoning_chars += reasoning.chars().count();
                    out.push(StreamEvent::ReasoningDelta(reasoning));
                }
                for text in [Some(content.text), delta.refusal].into_iter().flatten() {
                    if !text.is_empty() {
                        self.text_chars += text.trim().chars().count();
                        out.push(StreamEvent::TextDelta(text));
                    }
                }
                for (position, fragment) in (0u32..).zip(delta.tool_calls.unwrap_or_default()) {
                    self.fragment(position, fragment, out);
                }
            }
            if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
                self.finish_reason = Some(reason);
            }
        }
        if let Some(usage) = chunk.usage {
            out.push(StreamEvent::Usage(usage.to_usage()));
        }
    }

    fn fragment(&mut self, position: u32, fragment: CallFragment, out: &mut Vec<StreamEvent>) {
        let index = fragment.index.unwrap_or(position);
        let call = self.calls.entry(index).or_default();
        if let Some(id) = fragment.id.filter(|id| !id.is_empty()) {
            call.id.get_or_insert(id);
        }
        let function = fragment.function.unwrap_or(FunctionFragment {
            name: None,
            arguments: None,
        });
        if let Some(name) = function.name.filter(|n| !n.is_empty())
            && !call.started
        {
            call.name = name;
        }
        call.pending
            .push_str(function.arguments.as_deref().unwrap_or_default());
        if !call.started && !call.name.is_empty() {
            call.started = true;
            out.push(StreamEvent::ToolCallStart(ToolCallStart {
                index,
                id: call.id.clone().unwrap_or_else(|| format!("call_{index}")),
                name: call.name.clone(),
            }));
        }
        if call.started && !call.pending.is_empty() {
            call.sent_arguments = true;
            out.push(StreamEvent::ToolCallDelta(ToolCallDelta {
                index,
                arguments_fragment: std::mem::take(&mut call.pending),
            }));
        }
    }

    /// `[DONE]`: close every call and finish.
    fn end(&mut self, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        for (&index, call) in &self.calls {
            if !call.started {
                return Err(ProviderError::Other(format!(
                    "the API streamed tool call {index} without a function name"
                )));
            }
            // A call without arguments still gets a JSON object.
            if !call.sent_arguments {
                out.push(StreamEvent::ToolCallDelta(ToolCallDelta {
                    index,
                    arguments_fragment: "{}".into(),
                }));
            }
        }
        if self.reasoning_chars > 0 && self.text_chars == 0 && self.calls.is_empty() {
            provider_kit::warn(&reasoning_only_warning(self.reasoning_chars));
        }
        let reason: FinishReason =
            finish_reason(self.finish_reason.as_deref(), !self.calls.is_empty());
        out.push(StreamEvent::Finish(reason));
        self.done = true;
        Ok(())
    }
}

impl EventHandler for ChatStream {
    fn on_event(&mut self, event: Event, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return self.end(out);
        }
        if data.is_empty() {
            return Ok(());
        }
        let json: Value =
            serde_json::from_str(data).map_err(|e| malformed("a stream chunk", data, e))?;
        let has_error = json.get("error").is_some_and(|e| !e.is_null());
        if has_error || event.event == "error" {
            let error = ApiError::from_json(&json).unwrap_or_else(|| ApiError {
                message: provider_kit::errors::shorten(data, 300),
                ..ApiError::default()
            });
            return Err(errors::from_stream(&error, self.model.as_deref()));
        }
        let chunk: Chunk =
            serde_json::from_value(json).map_err(|e| malformed("a stream chunk", data, e))?;
        self.chunk(chunk, out);
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
