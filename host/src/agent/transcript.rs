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

use crate::chat::{Message, Usage};

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

    /// The messages of a transcript file.
    pub fn read(path: &Path) -> Result<Vec<Message>, TranscriptError> {
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
        file.write_all(text.as_bytes())
            .and_then(|()| file.flush())
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
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].text_content(), "hello");
        // Resuming appends after what is there.
        let mut t = Transcript::append_to(&path, back).expect("reopen");
        t.push(Message::text(Role::User, "again")).expect("push");
        assert_eq!(Transcript::read(&path).expect("read").len(), 3);
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
