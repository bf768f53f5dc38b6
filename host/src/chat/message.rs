//! Messages, requests and responses, in a provider-neutral shape (serialized as-is into
//! transcripts, so field names are part of the transcript format).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    Text {
        text: String,
    },
    Image {
        media_type: String,
        source: ImageSource,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageSource {
    /// Base64 of the image bytes (kept encoded so transcripts stay JSON text).
    Base64(String),
    Url(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments object as JSON text, as the model produced it.
    pub arguments: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolResult {
    pub call_id: String,
    pub name: String,
    pub content: String,
    pub is_error: bool,
    /// What kind of failure an error result is (older transcripts have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<super::ToolErrorKind>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<ContentPart>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_result: Option<ToolResult>,
}

impl Message {
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: vec![ContentPart::Text { text: text.into() }],
            tool_calls: Vec::new(),
            tool_result: None,
        }
    }

    pub fn tool_result(result: ToolResult) -> Self {
        Self {
            role: Role::Tool,
            content: Vec::new(),
            tool_calls: Vec::new(),
            tool_result: Some(result),
        }
    }

    /// The text parts joined.
    pub fn text_content(&self) -> String {
        self.content
            .iter()
            .filter_map(|p| match p {
                ContentPart::Text { text } => Some(text.as_str()),
                ContentPart::Image { .. } => None,
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RequestOptions {
    pub model: Option<String>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub stop: Vec<String>,
}

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// JSON Schema of the arguments, as JSON text.
    pub parameters_schema: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    pub tools: Vec<ToolSpec>,
    pub options: RequestOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Usage {
    pub input_tokens: u32,
    pub output_tokens: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input_tokens: Option<u32>,
}

impl Usage {
    pub fn add(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        if let Some(c) = other.cached_input_tokens {
            *self.cached_input_tokens.get_or_insert(0) += c;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    Other,
}

impl FinishReason {
    /// The name `--json` and the transcript use.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatResponse {
    pub message: Message,
    pub finish_reason: FinishReason,
    pub usage: Option<Usage>,
    pub model: String,
    /// The model's reasoning, where the API sent it apart from the answer (never part of
    /// `message`, never sent back to the API).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
}

/// A piece of a streamed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    TextDelta(String),
    /// A fragment of the model's reasoning, not of its answer.
    ReasoningDelta(String),
    ToolCallStart {
        index: u32,
        id: String,
        name: String,
    },
    ToolCallDelta {
        index: u32,
        fragment: String,
    },
    Usage(Usage),
    Finish(FinishReason),
}

/// Assembles streamed events into the response they add up to.
#[derive(Debug, Default)]
pub struct StreamAssembler {
    text: String,
    reasoning: String,
    /// Tool calls by stream index, in the order they started.
    calls: Vec<(u32, ToolCall)>,
    /// Stream index → the position in `calls` of the latest call started with it, so a
    /// fragment finds its call in constant time however many calls there are.
    latest: std::collections::HashMap<u32, usize>,
    usage: Option<Usage>,
    finish: Option<FinishReason>,
}

impl StreamAssembler {
    pub fn push(&mut self, event: StreamEvent) {
        match event {
            StreamEvent::TextDelta(t) => self.text.push_str(&t),
            StreamEvent::ReasoningDelta(t) => self.reasoning.push_str(&t),
            StreamEvent::ToolCallStart { index, id, name } => {
                self.latest.insert(index, self.calls.len());
                self.calls.push((
                    index,
                    ToolCall {
                        id,
                        name,
                        arguments: String::new(),
                    },
                ));
            }
            StreamEvent::ToolCallDelta { index, fragment } => {
                if let Some(&at) = self.latest.get(&index) {
                    self.calls[at].1.arguments.push_str(&fragment);
                }
            }
            StreamEvent::Usage(u) => self.usage = Some(u),
            StreamEvent::Finish(f) => self.finish = Some(f),
        }
    }

    pub fn is_finished(&self) -> bool {
        self.finish.is_some()
    }

    pub fn finish(self, model: String) -> ChatResponse {
        let mut message = Message::text(Role::Assistant, self.text);
        if message.text_content().is_empty() {
            message.content.clear();
        }
        message.tool_calls = self.calls.into_iter().map(|(_, c)| c).collect();
        let finish_reason = self.finish.unwrap_or(if message.tool_calls.is_empty() {
            FinishReason::Stop
        } else {
            FinishReason::ToolCalls
        });
        ChatResponse {
            message,
            finish_reason,
            usage: self.usage,
            model,
            reasoning: (!self.reasoning.is_empty()).then_some(self.reasoning),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assembles_interleaved_tool_call_fragments() {
        let mut a = StreamAssembler::default();
        for e in [
            StreamEvent::TextDelta("Let me ".into()),
            StreamEvent::TextDelta("check.".into()),
            StreamEvent::ToolCallStart {
                index: 0,
                id: "c1".into(),
                name: "a".into(),
            },
            StreamEvent::ToolCallStart {
                index: 1,
                id: "c2".into(),
                name: "b".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                fragment: "{\"x\":".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 1,
                fragment: "{}".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                fragment: "1}".into(),
            },
            StreamEvent::Usage(Usage {
                input_tokens: 3,
                output_tokens: 4,
                cached_input_tokens: None,
            }),
            StreamEvent::Finish(FinishReason::ToolCalls),
        ] {
            a.push(e);
        }
        let r = a.finish("m".into());
        assert_eq!(r.message.text_content(), "Let me check.");
        assert_eq!(r.message.tool_calls[0].arguments, "{\"x\":1}");
        assert_eq!(r.message.tool_calls[1].arguments, "{}");
        assert_eq!(r.finish_reason, FinishReason::ToolCalls);
        assert_eq!(r.usage.map(|u| u.output_tokens), Some(4));
    }

    #[test]
    fn fragments_find_their_call_among_many() {
        // n starts, then n fragments for the first: each fragment used to search the
        // calls from the end (n² steps, 14 s at n = 30,000); now it is one lookup.
        let n = 100_000u32;
        let mut a = StreamAssembler::default();
        for index in 0..n {
            a.push(StreamEvent::ToolCallStart {
                index,
                id: format!("c{index}"),
                name: "t".into(),
            });
        }
        for _ in 0..n {
            a.push(StreamEvent::ToolCallDelta {
                index: 0,
                fragment: " ".into(),
            });
        }
        // A reused index continues the latest call that started with it.
        a.push(StreamEvent::ToolCallStart {
            index: 0,
            id: "again".into(),
            name: "t".into(),
        });
        a.push(StreamEvent::ToolCallDelta {
            index: 0,
            fragment: "{}".into(),
        });
        let r = a.finish("m".into());
        assert_eq!(r.message.tool_calls.len(), n as usize + 1);
        assert_eq!(r.message.tool_calls[0].arguments.len(), n as usize);
        assert_eq!(r.message.tool_calls[1].arguments, "");
        assert_eq!(r.message.tool_calls[n as usize].arguments, "{}");
    }

    #[test]
    fn messages_round_trip_through_json() {
        let mut m = Message::text(Role::Assistant, "hi");
        m.tool_calls.push(ToolCall {
            id: "1".into(),
            name: "t".into(),
            arguments: "{}".into(),
        });
        let back: Message =
            serde_json::from_str(&serde_json::to_string(&m).expect("json")).expect("parse");
        assert_eq!(back, m);
    }
}
