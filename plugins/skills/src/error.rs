//! Why a tool call failed, before it becomes the WIT `tool-error`.
//!
//! Kept apart from the generated bindings so the catalog and file logic compile and test
//! natively. Each variant says how the caller should read it; every message names the skill
//! and the path involved, because it goes straight back to the model.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No tool by that name: the model misremembered the tool list.
    UnknownTool(String),
    /// Malformed arguments, a bad skill name or path: the model should fix its call.
    InvalidArguments(String),
    /// The skill or file does not exist: the model should list or look again.
    NotFound(String),
    /// A safety rule refuses it (symlink, size limit, no folder granted): retrying won't help.
    Denied(String),
    /// The tool ran and could not finish (I/O error, broken SKILL.md, binary file).
    Failed(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::UnknownTool(m)
            | Failure::InvalidArguments(m)
            | Failure::NotFound(m)
            | Failure::Denied(m)
            | Failure::Failed(m) => m,
        }
    }
}

pub type Outcome<T> = Result<T, Failure>;
