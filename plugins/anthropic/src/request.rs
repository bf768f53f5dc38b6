//! A `chat-request` as the JSON body of `POST /v1/messages`.
//!
//! The Messages API differs from the conversation the host keeps: system text is a
//! top-level `system` field; tool results are `tool_result` blocks inside a `user` message
//! (all the results of one assistant turn in one message); roles must alternate, so
//! consecutive messages of one role are merged; text blocks must not be empty; and
//! `max_tokens` is required.

use provider_kit::llm_types::{
    ChatRequest, ContentPart, Image, ImageSource, Message, ProviderError, Role, ToolCall, ToolSpec,
};
use provider_kit::wire;
use serde_json::{Map, Value, json};

/// `max_tokens` when the request sets none: the API requires one.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// The request body, and what was changed on the way (for the host's log).
#[derive(Debug, PartialEq)]
pub struct Built {
    pub body: Value,
    pub warnings: Vec<String>,
}

/// The body for `request` to `model`; `stream` asks for SSE.
pub fn build(request: &ChatRequest, model: &str, stream: bool) -> Result<Built, ProviderError> {
    let mut warnings = Vec::new();
    let system: Vec<String> = request
        .messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| wire::text_of(&m.content))
        .filter(|text| !text.is_empty())
        .collect();
    let messages = messages(&request.messages, &mut warnings)?;

    let mut body = Map::new();
    body.insert("model".into(), model.into());
    let max_tokens = request.options.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
    body.insert("max_tokens".into(), max_tokens.into());
    if !system.is_empty() {
        body.insert("system".into(), system.join("\n\n").into());
    }
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
    if !options.stop.is_empty() {
        body.insert("stop_sequences".into(), options.stop.clone().into());
    }
    if let Some(temperature) = options.temperature {
        body.insert("temperature".into(), wire::f32_number(temperature));
    }
    if stream {
        body.insert("stream".into(), true.into());
    }
    Ok(Built {
        body: Value::Object(body),
        warnings,
    })
}

/// The non-system messages as alternating `{"role","content":[blocks]}`.
fn messages(messages: &[Message], warnings: &mut Vec<String>) -> Result<Vec<Value>, ProviderError> {
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for message in messages {
        let (role, blocks) = match message.role {
            Role::System => continue,
            Role::User => (
                "user",
                message.content.iter().filter_map(content_block).collect(),
            ),
            Role::Assistant => ("assistant", assistant_blocks(message, warnings)),
            Role::Tool => ("user", vec![tool_result_block(message)?]),
        };
        match turns.last_mut() {
            Some((last, previous)) if *last == role => previous.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let before = turns.len();
    turns.retain(|(_, blocks)| !blocks.is_empty());
    if turns.len() < before {
        warnings.push("dropped a message with no content: the API rejects empty messages".into());
    }
    Ok(turns
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect())
}

fn content_block(part: &ContentPart) -> Option<Value> {
    match part {
        ContentPart::Text(text) if text.is_empty() => None,
        ContentPart::Text(text) => Some(json!({"type": "text", "text": text})),
        ContentPart::Image(image) => Some(image_block(image)),
    }
}

fn image_block(image: &Image) -> Value {
    let source = match &image.source {
        ImageSource::Bytes(bytes) => json!({
            "type": "base64",
            "media_type": image.media_type,
            "data": wire::base64(bytes),
        }),
        // The API fetches https URLs itself but takes data URLs only as base64 sources.
        ImageSource::Url(url) => match wire::split_data_uri(url) {
            Some((media_type, data)) => {
                json!({"type": "base64", "media_type": media_type, "data": data})
            }
            None => json!({"type": "url", "url": url}),
        },
    };
    json!({"type": "image", "source": source})
}

fn assistant_blocks(message: &Message, warnings: &mut Vec<String>) -> Vec<Value> {
    let mut blocks: Vec<Value> = message
        .content
        .iter()
        .filter(|part| matches!(part, ContentPart::Text(_)))
        .filter_map(content_block)
        .collect();
    if wire::has_image(&message.content) {
        warnings.push("dropped an image from an assistant message".into());
    }
    blocks.extend(
        message
            .tool_calls
            .iter()
            .map(|call| tool_use_block(call, warnings)),
    );
    blocks
}

/// `input` must be an object; a model's broken arguments are sent as `{}` so the
/// conversation can go on (the tool already answered them with an error).
fn tool_use_block(call: &ToolCall, warnings: &mut Vec<String>) -> Value {
    let input = match serde_json::from_str::<Value>(&call.arguments) {
        Ok(input @ Value::Object(_)) => input,
        _ if call.arguments.trim().is_empty() => json!({}),
        _ => {
            warnings.push(format!(
                "tool call {} ({}) has arguments that are not a JSON object; sending {{}} instead",
                call.id, call.name
            ));
            json!({})
        }
    };
    json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input})
}

fn tool_result_block(message: &Message) -> Result<Value, ProviderError> {
    let result = message
        .tool_result
        .as_ref()
        .ok_or_else(|| ProviderError::BadRequest("a tool message has no tool result".into()))?;
    Ok(json!({
        "type": "tool_result",
        "tool_use_id": result.call_id,
        "content": result.content,
        "is_error": result.is_error,
    }))
}

fn tool(spec: &ToolSpec) -> Result<Value, ProviderError> {
    Ok(json!({
        "name": spec.name,
        "description": spec.description,
        "input_schema": wire::tool_schema(spec)?,
    }))
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
