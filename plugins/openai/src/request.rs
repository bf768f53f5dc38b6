//! A `chat-request` as the JSON body of `POST /chat/completions`.
//!
//! Kept to the fields every compatible server accepts (Ollama, llama.cpp, vLLM, LM Studio,
//! OpenRouter, Groq): `max_tokens` rather than the newer `max_completion_tokens`, the
//! `system` role rather than `developer`, and user content as a plain string unless it has
//! an image.

use provider_kit::llm_types::{
    ChatRequest, ContentPart, ImageSource, Message, ProviderError, Role, ToolCall, ToolSpec,
};
use provider_kit::wire;
use serde_json::{Map, Value, json};

/// The request body, and what was dropped on the way (for the host's log).
#[derive(Debug, PartialEq)]
pub struct Built {
    pub body: Value,
    pub warnings: Vec<String>,
}

/// The body for `request` to `model`; `stream` asks for SSE with a final usage chunk.
pub fn build(request: &ChatRequest, model: &str, stream: bool) -> Result<Built, ProviderError> {
    let mut warnings = Vec::new();
    let messages = request
        .messages
        .iter()
        .map(|m| message(m, &mut warnings))
        .collect::<Result<Vec<_>, _>>()?;

    let mut body = Map::new();
    body.insert("model".into(), model.into());
    body.insert("messages".into(), Value::Array(messages));
    if !request.tools.is_empty() {
        let tools = request
            .tools
            .iter()
            .map(tool)
            .collect::<Result<Vec<_>, _>>()?;
        body.insert("tools".into(), Value::Array(tools));
    }
    let options = &request.options;
    if let Some(temperature) = options.temperature {
        body.insert("temperature".into(), wire::f32_number(temperature));
    }
    if let Some(max_tokens) = options.max_tokens {
        body.insert("max_tokens".into(), max_tokens.into());
    }
    if !options.stop.is_empty() {
        body.insert("stop".into(), options.stop.clone().into());
    }
    if stream {
        body.insert("stream".into(), true.into());
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Ok(Built {
        body: Value::Object(body),
        warnings,
    })
}

fn message(message: &Message, warnings: &mut Vec<String>) -> Result<Value, ProviderError> {
    let text = wire::text_of(&message.content);
    if message.role != Role::User && wire::has_image(&message.content) {
        warnings.push(format!(
            "dropped an image from a {} message: the API takes images in user messages only",
            role_name(message.role)
        ));
    }
    Ok(match message.role {
        Role::System => json!({"role": "system", "content": text}),
        Role::User => json!({"role": "user", "content": user_content(&message.content, text)}),
        Role::Assistant => {
            let mut value = json!({
                "role": "assistant",
                "content": if text.is_empty() { Value::Null } else { text.into() },
            });
            if !message.tool_calls.is_empty() {
                value["tool_calls"] = message.tool_calls.iter().map(tool_call).collect();
            }
            value
        }
        Role::Tool => {
            let result = message.tool_result.as_ref().ok_or_else(|| {
                ProviderError::BadRequest("a tool message has no tool result".into())
            })?;
            json!({
                "role": "tool",
                "tool_call_id": result.call_id,
                "content": tool_result_text(&result.content, result.is_error),
            })
        }
    })
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

/// A string when the message is text only (what every server accepts), else content parts.
fn user_content(parts: &[ContentPart], text: String) -> Value {
    if !wire::has_image(parts) {
        return text.into();
    }
    parts
        .iter()
        .map(|part| match part {
            ContentPart::Text(text) => json!({"type": "text", "text": text}),
            ContentPart::Image(image) => {
                let url = match &image.source {
                    ImageSource::Bytes(bytes) => wire::data_uri(&image.media_type, bytes),
                    ImageSource::Url(url) => url.clone(),
                };
                json!({"type": "image_url", "image_url": {"url": url}})
            }
        })
        .collect()
}

fn tool_call(call: &ToolCall) -> Value {
    // Servers parse `arguments`; an empty string is not a JSON object.
    let arguments = if call.arguments.trim().is_empty() {
        "{}"
    } else {
        &call.arguments
    };
    json!({
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    })
}

/// The API has no error flag on tool results: a failure is said in the text, once.
fn tool_result_text(content: &str, is_error: bool) -> String {
    let says_error = content
        .get(..5)
        .is_some_and(|head| head.eq_ignore_ascii_case("error"));
    if is_error && !says_error {
        format!("Error: {content}")
    } else {
        content.to_owned()
    }
}

fn tool(spec: &ToolSpec) -> Result<Value, ProviderError> {
    Ok(json!({
        "type": "function",
        "function": {
            "name": spec.name,
            "description": spec.description,
            "parameters": wire::tool_schema(spec)?,
        },
    }))
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
