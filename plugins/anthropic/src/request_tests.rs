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
                "Checking both.",
                vec![
                    call("toolu_01A", "get_weather", r#"{"city":"Paris"}"#),
                    call("toolu_01B", "get_weather", r#"{"city": "Rome""#),
                ],
            ),
            tool_result("toolu_01A", "get_weather", "18°C, sunny", false),
            tool_result("toolu_01B", "get_weather", "arguments are not JSON", true),
            user("Thanks. And now?"),
            system("Answer in French."),
        ],
        vec![tool_spec(
            "get_weather",
            "Current weather for a city.",
            WEATHER,
        )],
    );
    request.options.temperature = Some(0.7);
    request.options.stop = vec!["\n\nHuman:".into()];

    let built = build(&request, "claude-sonnet-4-5", false).expect("builds");
    assert_eq!(
        built.body,
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 4096,
            "system": "You are terse.\n\nAnswer in French.",
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "Checking both."},
                    {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "toolu_01B", "name": "get_weather", "input": {}},
                ]},
                // Both results of the turn, then the next user text, in one user message.
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "18°C, sunny", "is_error": false},
                    {"type": "tool_result", "tool_use_id": "toolu_01B", "content": "arguments are not JSON", "is_error": true},
                    {"type": "text", "text": "Thanks. And now?"},
                ]},
            ],
            "tools": [{
                "name": "get_weather",
                "description": "Current weather for a city.",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            }],
            "stop_sequences": ["\n\nHuman:"],
            "temperature": 0.7,
        })
    );
    assert_eq!(built.warnings.len(), 1);
    assert!(
        built.warnings[0].contains("toolu_01B"),
        "{:?}",
        built.warnings
    );
}

#[test]
fn streaming_and_explicit_max_tokens() {
    let mut request = request(vec![user("hi")], vec![]);
    request.options.max_tokens = Some(100);
    let built = build(&request, "claude-haiku-4-5", true).expect("builds");
    assert_eq!(
        built.body,
        json!({
            "model": "claude-haiku-4-5",
            "max_tokens": 100,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
            "stream": true,
        })
    );
}

#[test]
fn images_as_base64_or_url_sources() {
    let picture = message_with(
        Role::User,
        vec![
            image_bytes("image/png", b"\x89PNG"),
            image_url("image/jpeg", "https://example.com/cat.jpg"),
            image_url("image/gif", "data:image/gif;base64,R0lGOD=="),
            text(""),
            text("What are these?"),
        ],
    );
    let built = build(&request(vec![picture], vec![]), "m", false).expect("builds");
    assert_eq!(
        built.body["messages"][0]["content"],
        json!([
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw=="}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": "R0lGOD=="}},
            {"type": "text", "text": "What are these?"},
        ])
    );
}

#[test]
fn empty_messages_are_dropped_and_same_roles_merged() {
    let built = build(
        &request(
            vec![
                user("a"),
                message_with(Role::User, vec![text("")]),
                user("b"),
                assistant("", vec![]),
            ],
            vec![],
        ),
        "m",
        false,
    )
    .expect("builds");
    assert_eq!(
        built.body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}])
    );
    assert_eq!(built.warnings.len(), 1, "{:?}", built.warnings);
}

#[test]
fn bad_input_is_a_bad_request() {
    let bad_schema = request(vec![user("hi")], vec![tool_spec("t", "", "[")]);
    assert!(matches!(
        build(&bad_schema, "m", false),
        Err(ProviderError::BadRequest(_))
    ));
    let orphan = request(vec![message_with(Role::Tool, vec![text("x")])], vec![]);
    assert!(matches!(
        build(&orphan, "m", false),
        Err(ProviderError::BadRequest(_))
    ));
}
