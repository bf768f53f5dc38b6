//! The conversation loop: prompt → provider → tool calls → tools → provider → answer.
//!
//! It sees providers and tools only through the [`ChatProvider`] and [`ToolBox`] traits
//! (no wasmtime types), reports everything it does as [`AgentEvent`]s, and appends every
//! message to the [`Transcript`] the moment it exists, so a crash loses nothing.

mod events;
#[cfg(test)]
mod fakes;
mod record;
mod retry;
mod task;
mod toolset;
mod transcript;
mod turn;

pub use events::AgentEvent;
pub use record::{CASSETTE_VERSION, Cassette, RecordError, RecordingProvider};
pub use retry::RetryPolicy;
pub use task::{AgentTask, Submission, Submitter, TaskEnded, TaskEvent, TaskFailed};
pub use tokio_util::sync::CancellationToken;
pub use toolset::{Offered, SOURCE_SEPARATOR, ToolSet, ToolSetError};
pub use transcript::{Resumed, Transcript, TranscriptError};
pub use turn::{Agent, AgentConfig, AgentError, CANCELLED_RESULT, Outcome};

use crate::chat::{ChatRequest, ChatResponse, ProviderError, StreamEvent, ToolFailure, ToolSpec};

pub use crate::BoxFuture;

/// Where streamed events go while a response arrives.
pub type EventCallback<'a> = &'a mut (dyn FnMut(&StreamEvent) + Send);

/// An LLM API, as the loop sees it.
pub trait ChatProvider: Send + Sync {
    /// The name shown to the user and recorded in transcripts.
    fn name(&self) -> &str;

    /// One response; streamed when `on_event` is given (it then sees each event).
    fn respond<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_event: Option<EventCallback<'a>>,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>>;
}

/// The tools the model may call.
pub trait ToolBox: Send + Sync {
    fn specs(&self) -> &[ToolSpec];

    /// Runs one tool. `Err` is a failure to hand back to the model as an error result,
    /// with its kind (unknown tool, bad arguments, the tool's own error, a budget overrun).
    fn call<'a>(
        &'a self,
        name: &'a str,
        arguments: &'a str,
    ) -> BoxFuture<'a, Result<String, ToolFailure>>;
}
