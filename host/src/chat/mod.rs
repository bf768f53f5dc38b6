//! The conversation data model the agent loop, the CLI and transcripts share. Nothing here
//! knows about WebAssembly: providers and tools are reached through the traits in `agent`.

mod error;
mod message;
mod tool_failure;

pub use error::ProviderError;
pub use message::*;
pub use tool_failure::{ToolErrorKind, ToolFailure, cap_tool_result};
