//! The JSON the API answers with: a whole chat completion, the models list, and the parts
//! a stream shares with them (usage, finish reasons).
//!
//! Every field a compatible server might leave out or send as `null` is optional here, so
//! a sparse answer from a local server still parses.

use provider_kit::errors::shorten;
use provider_kit::llm_types::{
    ChatResponse, ContentPart, FinishReason, Message, ModelInfo, ProviderError, Role, ToolCall,
    Usage,
};
use serde::Deserialize;
use serde_json::Value;

use crate::errors::{self, ApiError};

/// How much of an unparsable answer an error quotes.
const QUOTE_CHARS: usize = 300;

#[derive(Debug, Deserialize)]
struct Completion {
    model: Option<String>,
    choices: Option<Vec<Choice>>,
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: Option<WireMessage>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireMessage {
    /// A string, or (some servers) an array of parts: see [`Content`].
    content: Option<Value>,
    refusal: Option<String>,
    tool_calls: Option<Vec<WireToolCall>>,
    /// Reasoning as DeepSeek, llama.cpp and vLLM send it.
    reasoning_content: Option<String>,
    /// Reasoning as OpenRouter and Ollama send it.
    reasoning: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireToolCall {
    id: Option<String>,
    function: WireFunction,
}

#[derive(Debug, Deserialize)]
struct WireFunction {
    name: String,
    /// A JSON string per the spec; an object from some servers.
    arguments: Option<Value>,
}

/// `usage` of a completion or of the last stream chunk.
#[derive(Debug, Deserialize)]
pub struct WireUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Debug, Deserialize)]
struct PromptDetails {
    cached_tokens: Option<u64>,
}

impl WireUsage {
    pub fn to_usage(&self) -> Usage {
        Usage {
            input_tokens: clamp(self.prompt_tokens.unwrap_or(0)),
            output_tokens: clamp(self.completion_tokens.unwrap_or(0)),
            cached_input_tokens: self
                .prompt_tokens_details
                .as_ref()
                .and_then(|d| d.cached_tokens)
                .map(clamp),
        }
    }
}

fn clamp(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `finish_reason` → `finish-reason`. A turn that asked for tools is `tool-calls` even when
/// the server says `stop` (Ollama and some llama.cpp builds do).
pub fn finish_reason(reason: Option<&str>, has_tool_calls: bool) -> FinishReason {
    match reason {
        Some("length") => FinishReason::Length,
        Some("content_filter") => FinishReason::ContentFilter,
        Some("tool_calls" | "function_call") => FinishReason::ToolCalls,
        _ if has_tool_calls => FinishReason::ToolCalls,
        Some("stop" | "eos" | "end_turn") | None => FinishReason::Stop,
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

/// A whole (non-streamed) chat completion; `model` is reported if the API names none.
pub fn parse_completion(body: &[u8], model: &str) -> Result<ChatResponse, ProviderError> {
    let text = String::from_utf8_lossy(body);
    let json: Value = serde_json::from_str(&text).map_err(|e| malformed("an answer", &text, e))?;
    // Some proxies answer 200 with an error body.
    if json.get("error").is_some_and(|e| !e.is_null())
        && let Some(error) = ApiError::from_json(&json)
    {
        return Err(errors::from_stream(&error, Some(model)));
    }
    let completion: Completion =
        serde_json::from_value(json).map_err(|e| malformed("an answer", &text, e))?;
    let choice = completion
        .choices
        .and_then(|choices| choices.into_iter().next())
        .ok_or_else(|| malformed("an answer", &text, "no choices"))?;
    let message = choice.message;
    let (mut content_text, reasoning) = message
        .as_ref()
        .map(content_and_reasoning)
        .unwrap_or_default();
    if content_text.is_empty() {
        content_text = message
            .as_ref()
            .and_then(|m| m.refusal.clone())
            .unwrap_or_default();
    }
    let tool_calls: Vec<ToolCall> = message
        .and_then(|m| m.tool_calls)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, call)| ToolCall {
            id: call
                .id
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| format!("call_{i}")),
            name: call.function.name,
            arguments: match call.function.arguments {
                Some(Value::String(s)) => s,
                None | Some(Value::Null) => "{}".into(),
                Some(other) => other.to_string(),
            },
        })
        .collect();
    let content = if content_text.is_empty() {
        Vec::new()
    } else {
        vec![ContentPart::Text(content_text)]
    };
    Ok(ChatResponse {
        finish_reason: finish_reason(choice.finish_reason.as_deref(), !tool_calls.is_empty()),
        message: Message {
            role: Role::Assistant,
            content,
            tool_calls,
            tool_result: None,
        },
        usage: completion.usage.map(|u| u.to_usage()),
        model: completion
            .model
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| model.into()),
        reasoning: (!reasoning.is_empty()).then_some(reasoning),
    })
}

/// A message's (or a stream delta's) `content`, split into the answer and the reasoning.
/// It is a string, or an array of parts: `{"type":"text","text"}` (OpenAI-compatible
/// servers), and Mistral's reasoning models add `{"type":"thinking","thinking":[{"type":
/// "text","text"}]}` before the answer. Other parts (references, images) carry no text.
#[derive(Debug, Default, PartialEq)]
pub struct Content {
    pub text: String,
    pub reasoning: String,
}

impl Content {
    pub fn of(content: Option<&Value>) -> Self {
        let mut out = Self::default();
        match content {
            Some(Value::String(text)) => out.text.push_str(text),
            Some(Value::Array(parts)) => {
                for part in parts {
                    match part.get("type").and_then(Value::as_str) {
                        Some("text") | None => {
                            if let Some(text) = part.get("text").and_then(Value::as_str) {
                                out.text.push_str(text);
                            }
                        }
                        Some("thinking") => match part.get("thinking") {
                            Some(Value::String(text)) => out.reasoning.push_str(text),
                            Some(Value::Array(inner)) => {
                                for piece in inner {
                                    if let Some(text) = piece.get("text").and_then(Value::as_str) {
                                        out.reasoning.push_str(text);
                                    }
                                }
                            }
                            _ => {}
                        },
                        Some(_) => {}
                    }
                }
            }
            _ => {}
        }
        out
    }
}

/// What the plugin says when a model reasoned and gave no answer (servers stop there when
/// the output budget ends mid-thought): the reasoning is not the answer, so a person
/// would otherwise see nothing.
pub fn reasoning_only_warning(reasoning_chars: usize) -> String {
    format!(
        "the model sent {reasoning_chars} characters of reasoning and no answer (its output \
         limit may have ended it: raise --max-tokens); the reasoning is in the `reasoning` \
         events of --json"
    )
}

/// The reasoning of a message or delta: the first non-empty of the `thinking` parts,
/// `reasoning_content` and `reasoning`. Servers and gateways that fill two of them (for
/// compatibility) send the same text in both.
pub fn first_reasoning(candidates: [Option<String>; 3]) -> Option<String> {
    candidates.into_iter().flatten().find(|r| !r.is_empty())
}

/// A message's answer text and its reasoning.
fn content_and_reasoning(message: &WireMessage) -> (String, String) {
    let content = Content::of(message.content.as_ref());
    let reasoning = first_reasoning([
        Some(content.reasoning),
        message.reasoning_content.clone(),
        message.reasoning.clone(),
    ])
    .unwrap_or_default();
    let answered = !content.text.trim().is_empty()
        || message.tool_calls.as_ref().is_some_and(|c| !c.is_empty());
    if !reasoning.is_empty() && !answered {
        provider_kit::warn(&reasoning_only_warning(reasoning.chars().count()));
    }
    (content.text, reasoning)
}

/// `GET /models`: `{"data":[{"id", ...}]}`. The context window is read from the fields
/// servers use for it (`context_length`: OpenRouter, LM Studio; `context_window`: Groq;
/// `max_model_len`: vLLM) where present.
pub fn parse_models(body: &[u8]) -> Result<Vec<ModelInfo>, ProviderError> {
    let text = String::from_utf8_lossy(body);
    let json: Value =
        serde_json::from_str(&text).map_err(|e| malformed("a models list", &text, e))?;
    let data = json
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("a models list", &text, "no `data` array"))?;
    Ok(data
        .iter()
        .filter_map(|model| {
            let id = model.get("id")?.as_str()?.to_owned();
            let context_window = ["context_length", "context_window", "max_model_len"]
                .iter()
                .find_map(|key| model.get(*key)?.as_u64())
                .map(clamp);
            Some(ModelInfo { id, context_window })
        })
        .collect())
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
