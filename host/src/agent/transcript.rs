//! The conversation as JSON Lines, written as it happens: each message is appended and
//! flushed the moment it exists, so a crash of a plugin, a provider or the host loses
//! nothing. `--resume` reads the messages back.
//!
//! Lines: `{"type":"message","message":{...}}` for every message, and
//! `{"type":"response","provider","model","latency_ms","retries","usage"}` after each
//! assistant message, recording who served it.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::chat::{Message, Role, ToolErrorKind, ToolResult, Usage};

#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    #[error("cannot write transcript {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read transcript {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not a transcript line: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line {
    Message {
        message: Message,
    },
    Response {
        provider: String,
        model: String,
        latency_ms: u64,
        retries: u32,
        #[serde(default)]
        usage: Option<Usage>,
    },
}

/// A transcript read back for `--resume`.
#[derive(Debug)]
pub struct Resumed {
    pub messages: Vec<Message>,
    /// Tool calls that had no result in the file, now answered as cancelled.
    pub repaired: usize,
}

/// `messages` with a `cancelled` result for every tool call that has none, placed right
/// after the results its call's message did get; and how many were added.
fn answer_every_call(messages: Vec<Message>) -> (Vec<Message>, usize) {
    let mut out = Vec::with_capacity(messages.len());
    let mut pending: Vec<(String, String)> = Vec::new();
    let mut added = 0;
    let mut flush = |pending: &mut Vec<(String, String)>, out: &mut Vec<Message>| {
        for (call_id, name) in pending.drain(..) {
            added += 1;
            out.push(Message::tool_result(ToolResult {
                call_id,
                name,
                content: super::CANCELLED_RESULT.to_string(),
                is_error: true,
                error_kind: Some(ToolErrorKind::Cancelled),
            }));
        }
    };
    for message in messages {
        match (&message.role, &message.tool_result) {
            (Role::Tool, Some(result)) => {
                pending.retain(|(id, _)| *id != result.call_id);
            }
            _ => flush(&mut pending, &mut out),
        }
        if message.role == Role::Assistant {
            pending = message
                .tool_calls
                .iter()
                .map(|call| (call.id.clone(), call.name.clone()))
                .collect();
        }
        out.push(message);
    }
    flush(&mut pending, &mut out);
    (out, added)
}

/// The messages so far, mirrored to a file when there is one.
#[derive(Debug, Default)]
pub struct Transcript {
    messages: Vec<Message>,
    file: Option<(PathBuf, File)>,
}

impl Transcript {
    /// In memory only.
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// Appends to `path` (created if missing), starting from `history`.
    pub fn append_to(path: &Path, history: Vec<Message>) -> Result<Self, TranscriptError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| TranscriptError::Write {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            messages: history,
            file: Some((path.to_path_buf(), file)),
        })
    }

    /// The messages of a transcript file, with every tool call answered: a call left
    /// without a result (a run killed mid-turn) gets a `cancelled` one, and
    /// [`Resumed::repaired`] says how many, so that the APIs (which refuse unanswered calls)
    /// accept the conversation again.
    pub fn read(path: &Path) -> Result<Resumed, TranscriptError> {
        let messages = Self::read_lines(path)?;
        let (messages, repaired) = answer_every_call(messages);
        Ok(Resumed { messages, repaired })
    }

    fn read_lines(path: &Path) -> Result<Vec<Message>, TranscriptError> {
        let file = File::open(path).map_err(|source| TranscriptError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut messages = Vec::new();
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|source| TranscriptError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Line>(&line) {
                Ok(Line::Message { message }) => messages.push(message),
                Ok(Line::Response { .. }) => {}
                Err(e) => {
                    return Err(TranscriptError::Parse {
                        path: path.to_path_buf(),
                        line: i + 1,
                        message: e.to_string(),
                    });
                }
            }
        }
        Ok(messages)
    }

    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    pub fn push(&mut self, message: Message) -> Result<(), TranscriptError> {
        self.write(&Line::Message {
            message: message.clone(),
        })?;
        self.messages.push(message);
        Ok(())
    }

    /// Records who served the last assistant message.
    pub fn record_response(
        &mut self,
        provider: &str,
        model: &str,
        latency_ms: u64,
        retries: u32,
        usage: Option<Usage>,
    ) -> Result<(), TranscriptError> {
        self.write(&Line::Response {
            provider: provider.to_string(),
            model: model.to_string(),
            latency_ms,
            retries,
            usage,
        })
    }

    fn write(&mut self, line: &Line) -> Result<(), TranscriptError> {
        let Some((path, file)) = &mut self.file else {
            return Ok(());
        };
        let mut text = serde_json::to_string(line).map_err(|e| TranscriptError::Write {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        text.push('\n');
        // One write per line and a flush: a reader (or a crash) never sees half a line.
        crate::blocking::off_the_async_workers(|| {
            file.write_all(text.as_bytes()).and_then(|()| file.flush())
        })
        .map_err(|source| TranscriptError::Write {
            path: path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::Role;

    #[test]
    fn appends_and_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        let mut t = Transcript::append_to(&path, Vec::new()).expect("open");
        t.push(Message::text(Role::User, "hi")).expect("push");
        t.push(Message::text(Role::Assistant, "hello"))
            .expect("push");
        t.record_response("p", "m", 12, 0, None).expect("meta");
        drop(t);
        let back = Transcript::read(&path).expect("read");
        assert_eq!((back.messages.len(), back.repaired), (2, 0));
        assert_eq!(back.messages[1].text_content(), "hello");
        // Resuming appends after what is there.
        let mut t = Transcript::append_to(&path, back.messages).expect("reopen");
        t.push(Message::text(Role::User, "again")).expect("push");
        assert_eq!(Transcript::read(&path).expect("read").messages.len(), 3);
    }

    fn calls(ids: &[&str]) -> Message {
        let mut m = Message::text(Role::Assistant, "");
        m.content.clear();
        m.tool_calls = ids
            .iter()
            .map(|id| crate::chat::ToolCall {
                id: (*id).into(),
                name: format!("t{id}"),
                arguments: "{}".into(),
            })
            .collect();
        m
    }

    fn answer(id: &str) -> Message {
        Message::tool_result(ToolResult {
            call_id: id.into(),
            name: format!("t{id}"),
            content: "ok".into(),
            is_error: false,
            error_kind: None,
        })
    }

    #[test]
    fn unanswered_calls_are_answered_as_cancelled_where_they_belong() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        let mut t = Transcript::append_to(&path, Vec::new()).expect("open");
        for message in [
            Message::text(Role::User, "go"),
            calls(&["a", "b"]),
            answer("a"),
            // Interrupted here: `b` never answered; then the user went on.
            Message::text(Role::User, "again"),
            calls(&["c"]),
            // Killed here: `c` never answered.
        ] {
            t.push(message).expect("push");
        }
        drop(t);
        let resumed = Transcript::read(&path).expect("read");
        assert_eq!(resumed.repaired, 2);
        let shape: Vec<String> = resumed
            .messages
            .iter()
            .map(|m| match &m.tool_result {
                Some(r) => format!(
                    "{}:{}",
                    r.call_id,
                    r.error_kind.map_or("ok", |k| k.as_str())
                ),
                None => format!("{:?}", m.role),
            })
            .collect();
        assert_eq!(
            shape,
            [
                "User",
                "Assistant",
                "a:ok",
                "b:cancelled",
                "User",
                "Assistant",
                "c:cancelled"
            ]
        );
        // A whole transcript needs nothing.
        let (same, added) = answer_every_call(vec![calls(&["x"]), answer("x")]);
        assert_eq!((same.len(), added), (2, 0));
    }

    #[test]
    fn a_bad_line_is_reported_with_its_number() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        std::fs::write(
            &path,
            "{\"type\":\"message\",\"message\":{\"role\":\"user\"}}\nnot json\n",
        )
        .expect("write");
        let err = Transcript::read(&path).expect_err("bad line").to_string();
        assert!(err.contains(":2:"), "{err}");
    }
}
