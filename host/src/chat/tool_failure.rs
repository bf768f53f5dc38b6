//! Why a tool call gave no result. Every failure goes back to the model as the call's
//! result, marked as an error, and the turn goes on: the model may correct itself, choose
//! another tool or tell the user. The kind reaches `--json` events, the transcript and the
//! cassette, so a person or a script can tell one failure from another.

use serde::{Deserialize, Serialize};

/// What went wrong with one tool call, and how the loop reacts (it always hands the
/// message to the model and goes on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolErrorKind {
    /// No loaded tool has that name; the message lists the ones there are, so the model
    /// can pick again.
    UnknownTool,
    /// The arguments are not valid JSON or do not fit the tool's schema; the model usually
    /// retries with corrected ones.
    InvalidArguments,
    /// Something the call named (a skill, a file) does not exist.
    NotFound,
    /// The policy does not allow what the call needed; the message names the grant that
    /// would. Retrying does not help until the user grants it.
    Denied,
    /// The tool ran and reported a failure of its own.
    ToolError,
    /// The plugin crossed one of its limits (`limit` says which); the message names the
    /// policy key that raises it. The plugin's next call starts afresh.
    BudgetExceeded,
    /// The plugin crashed (a trap, a panic, an exit) on this call; its next call starts on
    /// a fresh instance.
    PluginTrapped,
    /// The host could not run the plugin at all (its sandbox could not be set up).
    HostFailure,
    /// The call was interrupted (Ctrl+C, a shutdown) before it answered.
    Cancelled,
}

impl ToolErrorKind {
    /// The kind as `--json` and transcripts spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolErrorKind::UnknownTool => "unknown_tool",
            ToolErrorKind::InvalidArguments => "invalid_arguments",
            ToolErrorKind::NotFound => "not_found",
            ToolErrorKind::Denied => "denied",
            ToolErrorKind::ToolError => "tool_error",
            ToolErrorKind::BudgetExceeded => "budget_exceeded",
            ToolErrorKind::PluginTrapped => "plugin_trapped",
            ToolErrorKind::HostFailure => "host_failure",
            ToolErrorKind::Cancelled => "cancelled",
        }
    }
}

/// A tool call's failure: its kind, the text the model gets, and for a budget overrun the
/// limit crossed (`fuel`, `time`, `memory`, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ToolFailure {
    pub kind: ToolErrorKind,
    pub message: String,
    pub limit: Option<&'static str>,
}

impl ToolFailure {
    pub fn new(kind: ToolErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            limit: None,
        }
    }

    /// No tool of `name` among `offered`: the message lists them, so the model can pick
    /// again.
    pub fn unknown_tool(name: &str, offered: &[crate::chat::ToolSpec]) -> Self {
        let known: Vec<&str> = offered.iter().map(|s| s.name.as_str()).collect();
        Self::new(
            ToolErrorKind::UnknownTool,
            format!("unknown tool `{name}`; available: {}", known.join(", ")),
        )
    }
}

/// A tool result cut to `limit` bytes (at a character boundary), ending with a line that
/// says how much there was and which key of `section` (`[plugins.NAME]`, `[mcp.NAME]`)
/// raises the limit.
pub fn cap_tool_result(mut text: String, limit: usize, section: &str) -> String {
    if text.len() <= limit {
        return text;
    }
    let total = text.len();
    let mut cut = limit;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text.push_str(&format!(
        "\n[wasmhost: the result was {total} bytes; only the first {cut} are shown. Raise \
         `result_kib` in {section} of wasmhost.toml to see more.]"
    ));
    text
}
