use provider_kit::testing::*;
use serde_json::json;

use super::*;

const WEATHER: &str =
    r#"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"#;

#[test]
fn a_tool_conversation_becomes_exactly_this_json() {
    let mut request = request(
        vec![
            system("You are terse."),
            user("Weather in Paris and Rome?"),
            assistant(
                "Checking.",
                vec![
                    call("call_1", "get_weather", r#"{"city":"Paris"}"#),
                    call("call_2", "get_weather", r#"{"city":"Rome"}"#),
                ],
            ),
            tool_result("call_1", "get_weather", "18°C, sunny", false),
            tool_result("call_2", "get_weather", "service unavailable", true),
            assistant("", vec![call("call_3", "now", "")]),
            tool_result("call_3", "now", "error: no clock", true),
        ],
        vec![
            tool_spec("get_weather", "Current weather for a city.", WEATHER),
            tool_spec("now", "The time.", ""),
        ],
    );
    request.options.temperature = Some(0.2);
    request.options.max_tokens = Some(512);
    request.options.stop = vec!["END".into()];

    let built = build(&request, "gpt-4o-mini", false).expect("builds");
    assert_eq!(built.warnings, Vec::<String>::new());
    assert_eq!(
        built.body,
        json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Weather in Paris and Rome?"},
                {
                    "role": "assistant",
                    "content": "Checking.",
                    "tool_calls": [
                        {"id": "call_1", "type": "function",
                         "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                        {"id": "call_2", "type": "function",
                         "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}},
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "18°C, sunny"},
                {"role": "tool", "tool_call_id": "call_2", "content": "Error: service unavailable"},
                {
                    "role": "assistant",
                    "content": null,
                    "tool_calls": [
                        {"id": "call_3", "type": "function",
                         "function": {"name": "now", "arguments": "{}"}},
                    ],
                },
                {"role": "tool", "tool_call_id": "call_3", "content": "error: no clock"},
            ],
            "tools": [
                {"type": "function", "function": {
                    "name": "get_weather",
                    "description": "Current weather for a city.",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                }},
                {"type": "function", "function": {
                    "name": "now",
                    "description": "The time.",
                    "parameters": {"type": "object", "properties": {}},
                }},
            ],
            "temperature": 0.2,
            "max_tokens": 512,
            "stop": ["END"],
        })
    );
    // 0.2f32 stays 0.2 on the wire.
    assert!(built.body.to_string().contains(r#""temperature":0.2,"#));
}

#[test]
fn streaming_asks_for_usage_and_omits_empty_tools() {
    let built = build(&request(vec![user("hi")], vec![]), "llama3.2", true).expect("builds");
    assert_eq!(
        built.body,
        json!({
            "model": "llama3.2",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": true,
            "stream_options": {"include_usage": true},
        })
    );
}

#[test]
fn images_become_content_parts() {
    let picture = message_with(
        Role::User,
        vec![
            text("What is this?"),
            image_bytes("image/png", b"\x89PNG"),
            image_url("image/jpeg", "https://example.com/cat.jpg"),
        ],
    );
    let stray = message_with(
        Role::System,
        vec![text("sys"), image_bytes("image/png", b"x")],
    );
    let built = build(&request(vec![stray, picture], vec![]), "gpt-4o", false).expect("builds");
    assert_eq!(
        built.body["messages"],
        json!([
            {"role": "system", "content": "sys"},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
            ]},
        ])
    );
    assert_eq!(built.warnings.len(), 1);
    assert!(
        built.warnings[0].contains("system message"),
        "{:?}",
        built.warnings
    );
}

#[test]
fn bad_input_is_a_bad_request() {
    let bad_schema = request(vec![user("hi")], vec![tool_spec("t", "", "{not json")]);
    assert!(matches!(
        build(&bad_schema, "m", false),
        Err(ProviderError::BadRequest(m)) if m.contains("tool `t`")
    ));
    let orphan = request(vec![message_with(Role::Tool, vec![text("result")])], vec![]);
    assert!(matches!(
        build(&orphan, "m", false),
        Err(ProviderError::BadRequest(_))
    ));
}
