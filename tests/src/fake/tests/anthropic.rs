use serde_json::{Value, json};

use super::{Answer, Stream, get, post, post_stream};
use crate::fake::Reply;
use crate::fake::anthropic::{self, FakeAnthropic};

const VERSION: (&str, &str) = ("anthropic-version", "2023-06-01");

fn url(fake: &FakeAnthropic) -> String {
    format!("{}/v1/messages", fake.base_url())
}

/// A messages request with the expected key and version.
fn send(fake: &FakeAnthropic, body: &Value) -> Answer {
    post(
        &url(fake),
        &[("x-api-key", FakeAnthropic::KEY), VERSION],
        body,
    )
}

/// A messages request with the expected key and version, read as a stream.
fn send_stream(fake: &FakeAnthropic, body: &Value) -> Stream {
    post_stream(
        &url(fake),
        &[("x-api-key", FakeAnthropic::KEY), VERSION],
        body,
    )
}

fn hello(stream: bool) -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "stream": stream,
        "system": "Be brief.",
        "messages": [{ "role": "user", "content": "Hi" }],
        "tools": [{
            "name": "get_skill",
            "description": "Reads a skill.",
            "input_schema": { "type": "object", "properties": { "name": { "type": "string" } } },
        }],
    })
}

#[test]
fn non_streamed_chat_is_a_message_with_blocks() {
    let fake = FakeAnthropic::start([Reply::chat("Looking.")
        .with_tool_call("toolu_1", "get_skill", r#"{"name":"csv-stats"}"#)
        .with_usage(30, 9)]);
    let answer = send(&fake, &hello(false));
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("request-id"), Some("req_fake_1"));
    let body = answer.json();
    assert_eq!(body["type"], "message");
    assert_eq!(body["role"], "assistant");
    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(body["stop_reason"], "tool_use");
    assert_eq!(
        body["content"],
        json!([
            { "type": "text", "text": "Looking." },
            { "type": "tool_use", "id": "toolu_1", "name": "get_skill", "input": { "name": "csv-stats" } },
        ])
    );
    assert_eq!(
        body["usage"],
        json!({ "input_tokens": 30, "output_tokens": 9 })
    );
    fake.assert_no_violations();
    let seen = &fake.requests()[0];
    assert_eq!(seen.header("x-api-key"), Some(FakeAnthropic::KEY));
    assert_eq!(seen.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(seen.body, hello(false));
}

#[test]
fn streamed_chat_follows_the_documented_event_sequence() {
    let arguments = r#"{"name":"csv-stats","limit":10}"#;
    let fake = FakeAnthropic::start([Reply::chat("Let me check.")
        .with_tool_call("toolu_1", "get_skill", arguments)
        .with_usage(40, 15)]);
    let stream = send_stream(&fake, &hello(true));
    assert_eq!(stream.status, 200);
    assert!(stream.content_type.starts_with("text/event-stream"));
    assert_eq!(stream.end, Ok(()));
    // Every event is named, and its data's `type` is its name.
    for event in &stream.events {
        assert_eq!(event.json()["type"], event.name.as_deref().unwrap_or("?"));
    }
    let mut names: Vec<&str> = stream
        .events
        .iter()
        .filter_map(|e| e.name.as_deref())
        .collect();
    names.dedup();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    let start = stream.events[0].json();
    assert_eq!(start["message"]["usage"]["input_tokens"], 40);
    assert_eq!(start["message"]["content"], json!([]));

    let (mut text, mut partial_json, mut fragments) = (String::new(), String::new(), 0);
    for event in &stream.events {
        let data = event.json();
        match data["delta"]["type"].as_str() {
            Some("text_delta") => {
                assert_eq!(data["index"], 0);
                text.push_str(data["delta"]["text"].as_str().expect("text"));
            }
            Some("input_json_delta") => {
                assert_eq!(data["index"], 1);
                fragments += 1;
                partial_json.push_str(data["delta"]["partial_json"].as_str().expect("json"));
            }
            _ => {}
        }
    }
    assert_eq!(text, "Let me check.");
    assert!(fragments > 5, "{fragments} fragments");
    assert_eq!(partial_json, arguments);
    let tool_start = stream
        .events
        .iter()
        .map(|e| e.json())
        .find(|d| d["content_block"]["type"] == "tool_use")
        .expect("a tool_use block");
    assert_eq!(tool_start["content_block"]["id"], "toolu_1");
    assert_eq!(tool_start["content_block"]["name"], "get_skill");
    let delta = stream.events[stream.events.len() - 2].json();
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert_eq!(delta["usage"]["output_tokens"], 15);
    fake.assert_no_violations();
}

#[test]
fn missing_key_and_version_are_violations() {
    let fake = FakeAnthropic::start([Reply::chat("unused")]);
    let answer = post(&url(&fake), &[], &hello(false));
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json()["type"], "error");
    assert_eq!(answer.json()["error"]["type"], "authentication_error");
    let violations = fake.violations();
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(violations[0].contains("no `x-api-key` header"));
    assert!(violations[1].contains("no `anthropic-version` header"));
    assert_eq!(fake.remaining(), 1);
}

#[test]
fn unanswered_tool_use_and_system_turns_are_violations() {
    let fake = FakeAnthropic::start([Reply::chat("unused")]);
    let tool_use =
        |id: &str| json!({ "type": "tool_use", "id": id, "name": "get_skill", "input": {} });
    let mut body = hello(false);
    body["messages"] = json!([
        { "role": "system", "content": "Be brief." },
        { "role": "user", "content": "Hi" },
        { "role": "assistant", "content": [tool_use("toolu_1"), tool_use("toolu_2")] },
        { "role": "user", "content": [
            { "type": "tool_result", "tool_use_id": "toolu_1", "content": "done" },
            { "type": "text", "text": "and the other?" },
        ] },
    ]);
    let answer = send(&fake, &body);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"]["type"], "invalid_request_error");
    let violations = fake.violations();
    assert_eq!(violations.len(), 2, "{violations:#?}");
    assert!(violations[0].contains("`messages[0]` has role `system`"));
    assert!(violations[1].contains("tool_use `toolu_2` of `messages[2]` has no `tool_result`"));
}

#[test]
fn overloaded_and_rate_limited_are_documented_errors() {
    let fake = FakeAnthropic::start([anthropic::overloaded(), anthropic::rate_limited(1)]);
    let first = send(&fake, &hello(true));
    assert_eq!(first.status, 529);
    assert_eq!(
        first.json(),
        json!({ "type": "error", "error": { "type": "overloaded_error", "message": "Overloaded" } })
    );
    let second = send(&fake, &hello(false));
    assert_eq!(second.status, 429);
    assert_eq!(second.header("retry-after"), Some("1"));
    assert_eq!(second.json()["error"]["type"], "rate_limit_error");
    fake.assert_no_violations();
}

#[test]
fn cut_stream_stops_without_message_stop() {
    let fake = FakeAnthropic::start([Reply::cut_after(4, Reply::chat("Never finished."))]);
    let stream = send_stream(&fake, &hello(true));
    assert_eq!(stream.events.len(), 4);
    assert!(stream.end.is_err(), "the body must not end cleanly");
    assert!(
        stream
            .events
            .iter()
            .all(|e| e.name.as_deref() != Some("message_stop"))
    );
}

#[test]
fn stream_error_is_an_error_event() {
    let fake = FakeAnthropic::start([Reply::stream_error("overloaded_error", "Overloaded")]);
    let stream = send_stream(&fake, &hello(true));
    let names: Vec<_> = stream.events.iter().map(|e| e.name.as_deref()).collect();
    assert_eq!(names, [Some("message_start"), Some("error")]);
    assert_eq!(stream.events[1].json()["error"]["type"], "overloaded_error");
}

#[test]
fn exhausted_script_answers_500_and_is_a_violation() {
    let fake = FakeAnthropic::start([]);
    let answer = send(&fake, &hello(false));
    assert_eq!(answer.status, 500);
    assert_eq!(answer.json()["error"]["type"], "api_error");
    assert!(answer.text.contains("fake server: script exhausted"));
    assert_eq!(fake.violations().len(), 1);
}

#[test]
fn models_are_listed() {
    let fake = FakeAnthropic::start([]);
    let answer = get(
        &format!("{}/v1/models", fake.base_url()),
        &[("x-api-key", FakeAnthropic::KEY), VERSION],
    );
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["data"][0]["type"], "model");
    assert_eq!(body["has_more"], false);
    fake.assert_no_violations();
}

#[test]
fn malformed_stream_has_a_data_line_that_is_not_json() {
    let fake = FakeAnthropic::start([Reply::malformed()]);
    let stream = send_stream(&fake, &hello(true));
    assert_eq!(stream.events.len(), 2);
    assert_eq!(stream.events[0].json()["type"], "message_start");
    assert!(serde_json::from_str::<Value>(&stream.events[1].data).is_err());
}
