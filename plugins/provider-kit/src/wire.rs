//! Small conversions every provider's wire format needs: numbers, images, tool schemas,
//! message text, and a whole response replayed as stream events.

use base64::Engine as _;
use serde_json::Value;

use crate::errors::{MAX_MESSAGE_CHARS, shorten};
use crate::llm_types::{
    ChatResponse, ContentPart, ProviderError, StreamEvent, ToolCallDelta, ToolCallStart, ToolSpec,
};

/// `value` as a JSON number with its shortest decimal form: `0.7f32` is `0.7`, not
/// `0.699999988079071` (what widening to f64 would give). Non-finite values become `null`.
pub fn f32_number(value: f32) -> Value {
    value
        .to_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// Standard base64 with padding, as both APIs take image bytes.
pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `data:<media-type>;base64,<bytes>`.
pub fn data_uri(media_type: &str, bytes: &[u8]) -> String {
    format!("data:{media_type};base64,{}", base64(bytes))
}

/// The media type and base64 payload of a `data:<type>;base64,<data>` URL.
pub fn split_data_uri(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media_type = meta.strip_suffix(";base64")?;
    Some((media_type, data))
}

/// A tool's JSON Schema, parsed; an empty schema means "no arguments".
pub fn tool_schema(tool: &ToolSpec) -> Result<Value, ProviderError> {
    if tool.parameters_schema.trim().is_empty() {
        return Ok(serde_json::json!({"type": "object", "properties": {}}));
    }
    serde_json::from_str(&tool.parameters_schema).map_err(|e| {
        ProviderError::BadRequest(format!(
            "tool `{}` has a parameters schema that is not JSON ({e}): {}",
            tool.name,
            shorten(&tool.parameters_schema, MAX_MESSAGE_CHARS)
        ))
    })
}

/// The text parts of a message joined with `\n`; images are skipped.
pub fn text_of(parts: &[ContentPart]) -> String {
    let texts: Vec<&str> = parts
        .iter()
        .filter_map(|part| match part {
            ContentPart::Text(text) => Some(text.as_str()),
            ContentPart::Image(_) => None,
        })
        .collect();
    texts.join("\n")
}

/// True when the message has an image part.
pub fn has_image(parts: &[ContentPart]) -> bool {
    parts
        .iter()
        .any(|part| matches!(part, ContentPart::Image(_)))
}

/// A whole response as the events a stream of it would have carried, for a server that
/// answers a streaming request with one JSON body.
pub fn response_events(response: &ChatResponse) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    if let Some(reasoning) = response.reasoning.as_ref().filter(|r| !r.is_empty()) {
        events.push(StreamEvent::ReasoningDelta(reasoning.clone()));
    }
    let text = text_of(&response.message.content);
    if !text.is_empty() {
        events.push(StreamEvent::TextDelta(text));
    }
    for (index, call) in (0u32..).zip(&response.message.tool_calls) {
        events.push(StreamEvent::ToolCallStart(ToolCallStart {
            index,
            id: call.id.clone(),
            name: call.name.clone(),
        }));
        events.push(StreamEvent::ToolCallDelta(ToolCallDelta {
            index,
            arguments_fragment: call.arguments.clone(),
        }));
    }
    if let Some(usage) = response.usage {
        events.push(StreamEvent::Usage(usage));
    }
    events.push(StreamEvent::Finish(response.finish_reason));
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm_types::{FinishReason, Image, ImageSource, Message, Role, ToolCall, Usage};

    #[test]
    fn f32_keeps_its_short_decimal_form() {
        assert_eq!(f32_number(0.7).to_string(), "0.7");
        assert_eq!(f32_number(1.0).to_string(), "1.0");
        assert_eq!(f32_number(0.0).to_string(), "0.0");
        assert_eq!(f32_number(f32::NAN), Value::Null);
    }

    #[test]
    fn data_uris_round_trip() {
        let uri = data_uri("image/png", b"\x89PNG");
        assert_eq!(uri, "data:image/png;base64,iVBORw==");
        assert_eq!(split_data_uri(&uri), Some(("image/png", "iVBORw==")));
        assert_eq!(split_data_uri("https://x/y.png"), None);
        assert_eq!(split_data_uri("data:text/plain,hello"), None);
    }

    #[test]
    fn tool_schemas_parse_or_name_the_tool() {
        let tool = |schema: &str| ToolSpec {
            name: "t".into(),
            description: String::new(),
            parameters_schema: schema.into(),
        };
        assert_eq!(
            tool_schema(&tool(r#"{"type":"object"}"#)),
            Ok(serde_json::json!({"type":"object"}))
        );
        assert_eq!(
            tool_schema(&tool("")),
            Ok(serde_json::json!({"type":"object","properties":{}}))
        );
        match tool_schema(&tool("{nope")) {
            Err(ProviderError::BadRequest(m)) => assert!(m.contains("tool `t`"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_whole_response_replays_as_events() {
        let response = ChatResponse {
            message: Message {
                role: Role::Assistant,
                content: vec![
                    ContentPart::Text("a".into()),
                    ContentPart::Image(Image {
                        media_type: "image/png".into(),
                        source: ImageSource::Url("https://x".into()),
                    }),
                ],
                tool_calls: vec![ToolCall {
                    id: "c1".into(),
                    name: "f".into(),
                    arguments: "{}".into(),
                }],
                tool_result: None,
            },
            finish_reason: FinishReason::ToolCalls,
            usage: Some(Usage {
                input_tokens: 1,
                output_tokens: 2,
                cached_input_tokens: None,
            }),
            model: "m".into(),
            reasoning: Some("think".into()),
        };
        let events = response_events(&response);
        assert_eq!(events.len(), 6);
        assert_eq!(events[0], StreamEvent::ReasoningDelta("think".into()));
        assert_eq!(events[1], StreamEvent::TextDelta("a".into()));
        assert_eq!(events[5], StreamEvent::Finish(FinishReason::ToolCalls));
    }
}
