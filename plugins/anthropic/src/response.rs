//! The JSON the Messages API answers with: a whole message, the models list, and what a
//! stream shares with them (usage, stop reasons).

use provider_kit::errors::shorten;
use provider_kit::llm_types::{
    ChatResponse, ContentPart, FinishReason, Message, ModelInfo, ProviderError, Role, ToolCall,
    Usage,
};
use serde::Deserialize;
use serde_json::Value;

/// How much of an unparsable answer an error quotes.
const QUOTE_CHARS: usize = 300;

#[derive(Debug, Deserialize)]
struct WireMessage {
    model: Option<String>,
    /// Text, tool-use and thinking blocks are read; redacted thinking (encrypted),
    /// server-tool and other blocks skipped.
    #[serde(default)]
    content: Vec<Value>,
    stop_reason: Option<String>,
    usage: Option<WireUsage>,
}

/// `usage` of a message, of `message_start` and of `message_delta` (there, cumulative).
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub struct WireUsage {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_creation_input_tokens: Option<u64>,
    pub cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    /// Takes every count `later` has, keeping the rest.
    pub fn update(&mut self, later: &WireUsage) {
        let pick = |old: &mut Option<u64>, new: Option<u64>| {
            if new.is_some() {
                *old = new;
            }
        };
        pick(&mut self.input_tokens, later.input_tokens);
        pick(&mut self.output_tokens, later.output_tokens);
        pick(
            &mut self.cache_creation_input_tokens,
            later.cache_creation_input_tokens,
        );
        pick(
            &mut self.cache_read_input_tokens,
            later.cache_read_input_tokens,
        );
    }

    /// `input-tokens` is every input token (the API's `input_tokens` counts only those
    /// after the last cache breakpoint; cache writes and reads come on top), so that
    /// `cached-input-tokens` is a part of it, as with OpenAI.
    pub fn to_usage(self) -> Usage {
        let input = self.input_tokens.unwrap_or(0)
            + self.cache_creation_input_tokens.unwrap_or(0)
            + self.cache_read_input_tokens.unwrap_or(0);
        Usage {
            input_tokens: clamp(input),
            output_tokens: clamp(self.output_tokens.unwrap_or(0)),
            cached_input_tokens: self.cache_read_input_tokens.map(clamp),
        }
    }
}

fn clamp(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `stop_reason` → `finish-reason`.
pub fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        Some("end_turn" | "stop_sequence") | None => FinishReason::Stop,
        Some("max_tokens" | "model_context_window_exceeded") => FinishReason::Length,
        Some("tool_use") => FinishReason::ToolCalls,
        Some("refusal") => FinishReason::ContentFilter,
        Some(_) => FinishReason::Other,
    }
}

/// An error for an answer that is not the JSON we expect.
pub fn malformed(what: &str, text: &str, error: impl std::fmt::Display) -> ProviderError {
    ProviderError::Other(format!(
        "the API sent {what} that is not the expected JSON ({error}): {}",
        shorten(text.trim(), QUOTE_CHARS)
    ))
}

/// What goes between two text blocks of one answer so they read as the paragraphs they
/// are ("…information." and "I found…" are separate blocks, not one sentence): a blank
/// line, less whatever line breaks the first already ends with.
pub fn block_separator(before: &str) -> &'static str {
    if before.is_empty() || before.ends_with("\n\n") {
        ""
    } else if before.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    }
}

/// The text blocks of an answer as one text, their boundaries kept.
fn join_text_blocks<'a>(blocks: impl IntoIterator<Item = &'a str>) -> String {
    let mut text = String::new();
    for block in blocks.into_iter().filter(|b| !b.is_empty()) {
        text.push_str(block_separator(&text));
        text.push_str(block);
    }
    text
}

/// A whole (non-streamed) message; `model` is reported if the API names none.
pub fn parse_message(body: &[u8], model: &str) -> Result<ChatResponse, ProviderError> {
    let text = String::from_utf8_lossy(body);
    let message: WireMessage =
        serde_json::from_str(&text).map_err(|e| malformed("an answer", &text, e))?;
    let mut texts = Vec::new();
    let mut thoughts = Vec::new();
    let mut tool_calls = Vec::new();
    for block in &message.content {
        let field = |key: &str| block.get(key).and_then(Value::as_str);
        match field("type") {
            Some("text") => texts.push(field("text").unwrap_or_default()),
            Some("thinking") => thoughts.push(field("thinking").unwrap_or_default()),
            Some("tool_use") => {
                let (Some(id), Some(name)) = (field("id"), field("name")) else {
                    return Err(malformed(
                        "an answer",
                        &text,
                        "a tool_use block without id or name",
                    ));
                };
                tool_calls.push(ToolCall {
                    id: id.to_owned(),
                    name: name.to_owned(),
                    arguments: match block.get("input") {
                        None | Some(Value::Null) => "{}".into(),
                        Some(input) => input.to_string(),
                    },
                });
            }
            _ => {}
        }
    }
    let text = join_text_blocks(texts);
    let reasoning = join_text_blocks(thoughts);
    Ok(ChatResponse {
        reasoning: (!reasoning.is_empty()).then_some(reasoning),
        message: Message {
            role: Role::Assistant,
            content: if text.is_empty() {
                Vec::new()
            } else {
                vec![ContentPart::Text(text)]
            },
            tool_calls,
            tool_result: None,
        },
        finish_reason: finish_reason(message.stop_reason.as_deref()),
        usage: message.usage.map(|u| u.to_usage()),
        model: message
            .model
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| model.into()),
    })
}

/// One page of `GET /v1/models`.
#[derive(Debug, PartialEq)]
pub struct ModelPage {
    pub models: Vec<ModelInfo>,
    /// The `after_id` of the next page, when there is one.
    pub next: Option<String>,
}

#[derive(Deserialize)]
struct WirePage {
    data: Vec<WireModel>,
    #[serde(default)]
    has_more: bool,
    last_id: Option<String>,
}

#[derive(Deserialize)]
struct WireModel {
    id: String,
    max_input_tokens: Option<u64>,
}

pub fn parse_models(body: &[u8]) -> Result<ModelPage, ProviderError> {
    let text = String::from_utf8_lossy(body);
    let page: WirePage =
        serde_json::from_str(&text).map_err(|e| malformed("a models list", &text, e))?;
    Ok(ModelPage {
        models: page
            .data
            .into_iter()
            .map(|m| ModelInfo {
                id: m.id,
                context_window: m.max_input_tokens.map(clamp),
            })
            .collect(),
        next: page.last_id.filter(|_| page.has_more),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separate_text_blocks_stay_separate_paragraphs() {
        assert_eq!(
            join_text_blocks(["I looked up the information.", "I found three results."]),
            "I looked up the information.\n\nI found three results."
        );
        assert_eq!(
            join_text_blocks(["a\n", "b", "", "c\n\n", "d"]),
            "a\n\nb\n\nc\n\nd"
        );
        assert_eq!(join_text_blocks(["only"]), "only");
    }

    #[test]
    fn text_and_tool_use_blocks() {
        let body = br#"{
          "id": "msg_01Aq9w938a90dw8q", "type": "message", "role": "assistant",
          "model": "claude-sonnet-4-5-20250929",
          "content": [
            {"type": "thinking", "thinking": "...", "signature": "x"},
            {"type": "text", "text": "I'll check the weather."},
            {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"city": "San Francisco, CA"}},
            {"type": "tool_use", "id": "toolu_01B", "name": "now", "input": {}}
          ],
          "stop_reason": "tool_use", "stop_sequence": null,
          "usage": {"input_tokens": 12, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 2000, "output_tokens": 70}
        }"#;
        let response = parse_message(body, "claude-sonnet-4-5").expect("parses");
        assert_eq!(response.model, "claude-sonnet-4-5-20250929");
        assert_eq!(
            response.reasoning.as_deref(),
            Some("..."),
            "thinking is reasoning"
        );
        assert_eq!(response.finish_reason, FinishReason::ToolCalls);
        assert_eq!(
            response.message.content,
            [ContentPart::Text("I'll check the weather.".into())]
        );
        assert_eq!(
            response.message.tool_calls,
            [
                ToolCall {
                    id: "toolu_01A09q90qw90lq917835lq9".into(),
                    name: "get_weather".into(),
                    arguments: r#"{"city":"San Francisco, CA"}"#.into()
                },
                ToolCall {
                    id: "toolu_01B".into(),
                    name: "now".into(),
                    arguments: "{}".into()
                },
            ]
        );
        assert_eq!(
            response.usage,
            Some(Usage {
                input_tokens: 2112,
                output_tokens: 70,
                cached_input_tokens: Some(2000)
            })
        );
    }

    #[test]
    fn stop_reasons() {
        for (reason, expected) in [
            (Some("end_turn"), FinishReason::Stop),
            (Some("stop_sequence"), FinishReason::Stop),
            (Some("max_tokens"), FinishReason::Length),
            (Some("model_context_window_exceeded"), FinishReason::Length),
            (Some("tool_use"), FinishReason::ToolCalls),
            (Some("refusal"), FinishReason::ContentFilter),
            (Some("pause_turn"), FinishReason::Other),
            (None, FinishReason::Stop),
        ] {
            assert_eq!(finish_reason(reason), expected, "{reason:?}");
        }
    }

    #[test]
    fn bad_answers_are_errors() {
        assert!(
            matches!(parse_message(b"nope", "m"), Err(ProviderError::Other(m)) if m.contains("nope"))
        );
        assert!(matches!(
            parse_message(br#"{"content":"x"}"#, "m"),
            Err(ProviderError::Other(_))
        ));
        let minimal = parse_message(br#"{"content":[]}"#, "m").expect("parses");
        assert_eq!((minimal.model.as_str(), minimal.usage), ("m", None));
    }

    #[test]
    fn model_pages() {
        let body = br#"{"data":[
            {"type":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"},
            {"type":"model","id":"claude-haiku-4-5-20251001","display_name":"Claude Haiku 4.5","created_at":"2025-10-01T00:00:00Z"}],
          "has_more":true,"first_id":"claude-sonnet-4-5-20250929","last_id":"claude-haiku-4-5-20251001"}"#;
        let page = parse_models(body).expect("parses");
        assert_eq!(page.models.len(), 2);
        assert_eq!(page.models[0].id, "claude-sonnet-4-5-20250929");
        assert_eq!(page.next.as_deref(), Some("claude-haiku-4-5-20251001"));
        let last = parse_models(br#"{"data":[],"has_more":false,"first_id":null,"last_id":null}"#)
            .expect("parses");
        assert_eq!(
            last,
            ModelPage {
                models: vec![],
                next: None
            }
        );
    }
}
