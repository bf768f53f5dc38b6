//! What the loop reports as it goes. The CLI renders these (text for people, JSON Lines
//! with `--json`); the loop never prints.

use serde::Serialize;

use crate::chat::{FinishReason, Message, ToolErrorKind, Usage};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// A fragment of assistant text, as it streams in.
    Text {
        text: String,
    },
    /// The model's reasoning ("thinking"), where the provider sends it apart from the
    /// answer: fragments as they stream in, or the whole of it for a response that was
    /// not streamed. Not part of the answer or the transcript.
    Reasoning {
        text: String,
    },
    /// The model asked for a tool.
    ToolCall {
        id: String,
        name: String,
        arguments: String,
    },
    /// A tool answered (or failed: `ok` false, `output` is the error and `error_kind` says
    /// which kind; `limit` names the limit of a budget overrun).
    ToolResult {
        id: String,
        name: String,
        ok: bool,
        output: String,
        duration_ms: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        error_kind: Option<ToolErrorKind>,
        #[serde(skip_serializing_if = "Option::is_none")]
        limit: Option<&'static str>,
    },
    /// An assistant message is complete; `final` when it has no tool calls.
    Message {
        message: Message,
        #[serde(rename = "final")]
        is_final: bool,
        provider: String,
        model: String,
        latency_ms: u64,
        retries: u32,
        /// Why the model stopped.
        finish_reason: FinishReason,
    },
    /// Something the user should know about an answer: it is empty, or was cut short.
    Warning {
        message: String,
    },
    Usage {
        usage: Usage,
    },
    /// A provider call failed and will be tried again after `delay_ms`.
    Retry {
        provider: String,
        attempt: u32,
        delay_ms: u64,
        error: String,
    },
    /// Retries were exhausted; the next provider takes over.
    Fallback {
        from: String,
        to: String,
        error: String,
    },
    Error {
        message: String,
    },
    /// The run was interrupted; the transcript is valid (see `Outcome::Interrupted`).
    Interrupted,
}

/// What to tell the user about a final answer, if anything: an empty answer (the model
/// spent its output on reasoning, or was filtered) or one cut at the output limit.
pub fn answer_warning(message: &Message, finish: FinishReason) -> Option<String> {
    let empty = message.text_content().trim().is_empty();
    match (empty, finish) {
        (true, FinishReason::Length) => Some(
            "the model stopped at its output limit before it wrote an answer (finish reason \
             `length`; reasoning models can spend the whole limit thinking): raise \
             --max-tokens, or ask for less"
                .to_string(),
        ),
        (true, FinishReason::ContentFilter) => Some(
            "the provider's content filter withheld the answer (finish reason \
             `content_filter`)"
                .to_string(),
        ),
        (true, reason) => Some(format!(
            "the model returned an empty answer (finish reason `{}`)",
            reason.as_str()
        )),
        (false, FinishReason::Length) => Some(
            "the answer was cut at the model's output limit (finish reason `length`): raise \
             --max-tokens for the rest"
                .to_string(),
        ),
        (false, FinishReason::ContentFilter) => Some(
            "the provider's content filter stopped the answer part-way (finish reason \
             `content_filter`)"
                .to_string(),
        ),
        (false, _) => None,
    }
}
