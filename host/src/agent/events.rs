//! What the loop reports as it goes. The CLI renders these (text for people, JSON Lines
//! with `--json`); the loop never prints.

use serde::Serialize;

use crate::chat::{Message, Usage};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// A fragment of assistant text, as it streams in.
    Text {
        text: String,
    },
    /// The model asked for a tool.
    ToolCall {
        id: String,
        name: String,
        arguments: String,
    },
    /// A tool answered (or failed; `ok` false and `output` is the error).
    ToolResult {
        id: String,
        name: String,
        ok: bool,
        output: String,
        duration_ms: u64,
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
}
