use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Answer, Stream, get, post, post_stream};
use crate::fake::Reply;
use crate::fake::openai::{self, FakeOpenAi};

fn url(fake: &FakeOpenAi) -> String {
    format!("{}/chat/completions", fake.base_url())
}

fn auth() -> String {
    format!("Bearer {}", FakeOpenAi::KEY)
}

/// A chat request with the expected key.
fn send(fake: &FakeOpenAi, body: &Value) -> Answer {
    post(&url(fake), &[("authorization", &auth())], body)
}

/// A chat request with the expected key, read as a stream.
fn send_stream(fake: &FakeOpenAi, body: &Value) -> Stream {
    post_stream(&url(fake), &[("authorization", &auth())], body)
}

fn hello(stream: bool) -> Value {
    json!({
        "model": "gpt-4o-mini",
        "stream": stream,
        "messages": [
            { "role": "system", "content": "Be brief." },
            { "role": "user", "content": "Hi" },
        ],
    })
}

#[test]
fn non_streamed_chat_is_a_chat_completion() {
    let fake = FakeOpenAi::start([Reply::chat("Hello there!").with_usage(3, 4)]);
    let answer = send(&fake, &hello(false));
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.header("x-request-id"), Some("req_fake_1"));
    let body = answer.json();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(body["choices"][0]["message"]["content"], "Hello there!");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        body["usage"],
        json!({ "prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7 })
    );
    fake.assert_no_violations();
    let seen = fake.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/v1/chat/completions");
    assert_eq!(
        seen[0].header("Authorization"),
        Some("Bearer sk-fake-openai-key")
    );
    assert_eq!(seen[0].body, hello(false));
    assert_eq!(fake.remaining(), 0);
}

#[test]
fn streamed_chat_sends_documented_chunks_and_fragments_tool_arguments() {
    let arguments = r#"{"name":"csv-stats","columns":["a","b"],"verbose":true}"#;
    let fake = FakeOpenAi::start([Reply::chat("Let me look that up.")
        .with_tool_call("call_1", "get_skill", arguments)
        .with_tool_call("call_2", "list_skills", "{}")
        .with_usage(50, 12)]);
    let mut request = hello(true);
    request["stream_options"] = json!({ "include_usage": true });
    let stream = send_stream(&fake, &request);
    assert_eq!(stream.status, 200);
    assert!(stream.content_type.starts_with("text/event-stream"));
    assert_eq!(stream.end, Ok(()));
    let (done, chunks) = stream.events.split_last().expect("events");
    assert_eq!(done.data, "[DONE]");
    assert!(stream.events.iter().all(|e| e.name.is_none()));
    let chunks: Vec<Value> = chunks.iter().map(|e| e.json()).collect();
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");

    let (usage, deltas) = chunks.split_last().expect("chunks");
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["total_tokens"], 62);
    assert!(deltas.iter().all(|c| c["usage"].is_null()));
    let (finish, deltas) = deltas.split_last().expect("deltas");
    assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");
    assert!(
        deltas
            .iter()
            .all(|c| c["choices"][0]["finish_reason"].is_null())
    );

    let mut text = String::new();
    let mut calls: BTreeMap<u64, (String, String, String)> = BTreeMap::new();
    let mut argument_chunks = 0;
    for chunk in deltas {
        let delta = &chunk["choices"][0]["delta"];
        if let Some(piece) = delta["content"].as_str() {
            text.push_str(piece);
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let index = call["index"]
                .as_u64()
                .expect("every tool-call delta has an index");
            let entry = calls.entry(index).or_default();
            if let Some(id) = call["id"].as_str() {
                assert!(entry.0.is_empty(), "id sent twice");
                entry.0 = id.into();
                assert_eq!(call["type"], "function");
                entry.1 = call["function"]["name"].as_str().expect("name").into();
            }
            if let Some(fragment) = call["function"]["arguments"].as_str() {
                argument_chunks += 1;
                entry.2.push_str(fragment);
            }
        }
    }
    assert_eq!(text, "Let me look that up.");
    assert!(argument_chunks > 10, "{argument_chunks} argument chunks");
    assert_eq!(
        calls[&0],
        ("call_1".into(), "get_skill".into(), arguments.into())
    );
    assert_eq!(
        calls[&1],
        ("call_2".into(), "list_skills".into(), "{}".into())
    );
    fake.assert_no_violations();
}

#[test]
fn stream_without_include_usage_has_no_usage() {
    let fake = FakeOpenAi::start([Reply::chat("Hi")]);
    let stream = send_stream(&fake, &hello(true));
    let chunks: Vec<Value> = stream
        .events
        .iter()
        .rev()
        .skip(1)
        .map(|e| e.json())
        .collect();
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    assert_eq!(chunks[0]["choices"][0]["finish_reason"], "stop");
}

#[test]
fn missing_key_is_a_violation_answered_401() {
    let fake = FakeOpenAi::start([Reply::chat("unused")]);
    let answer = post(&url(&fake), &[], &hello(false));
    assert_eq!(answer.status, 401);
    let error = &answer.json()["error"];
    assert_eq!(error["type"], "invalid_request_error");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("authorization"),
        "{error}"
    );
    let violations = fake.violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].starts_with("request 1 (POST /v1/chat/completions)"));
    assert_eq!(fake.remaining(), 1, "a refused request uses no reply");
}

#[test]
fn a_key_where_none_is_expected_is_a_violation() {
    let fake = FakeOpenAi::start([Reply::chat("unused")]).expect_key(None);
    let answer = send(&fake, &hello(false));
    assert_eq!(answer.status, 401);
    assert_eq!(fake.violations().len(), 1);
    let fake = fake.expect_key(Some("other"));
    let answer = post(
        &url(&fake),
        &[("authorization", "Bearer other")],
        &hello(false),
    );
    assert_eq!(answer.status, 200);
}

#[test]
fn unanswered_tool_call_is_a_violation_answered_400() {
    let fake = FakeOpenAi::start([Reply::chat("unused")]);
    let call = |id: &str| json!({ "id": id, "type": "function", "function": { "name": "f", "arguments": "{}" } });
    let body = json!({
        "model": "gpt-4o-mini",
        "messages": [
            { "role": "user", "content": "Hi" },
            { "role": "assistant", "content": null, "tool_calls": [call("call_1"), call("call_2")] },
            { "role": "tool", "tool_call_id": "call_1", "content": "one" },
            { "role": "tool", "tool_call_id": "call_9", "content": "stray" },
            { "role": "user", "content": "and?" },
        ],
    });
    let answer = send(&fake, &body);
    assert_eq!(answer.status, 400);
    let message = answer.json()["error"]["message"].clone();
    assert!(
        message.as_str().unwrap_or_default().contains("call_2"),
        "{message}"
    );
    let violations = fake.violations();
    assert_eq!(violations.len(), 2, "{violations:#?}");
    assert!(violations[0].contains("`call_9` matches no tool call of `messages[1]`"));
    assert!(violations[1].contains("tool call `call_2` of `messages[1]`"));
}

#[test]
fn rate_limit_carries_retry_after_then_the_next_reply_follows() {
    let fake = FakeOpenAi::start([openai::rate_limited(1), Reply::chat("ok")]);
    let first = send(&fake, &hello(false));
    assert_eq!(first.status, 429);
    assert_eq!(first.header("retry-after"), Some("1"));
    assert_eq!(first.json()["error"]["code"], "rate_limit_exceeded");
    let second = send(&fake, &hello(true));
    assert_eq!(second.status, 200);
    assert!(second.text.ends_with("data: [DONE]\n\n"), "{}", second.text);
    fake.assert_no_violations();
}

#[test]
fn cut_stream_stops_after_n_events_without_done() {
    let fake = FakeOpenAi::start([Reply::cut_after(
        3,
        Reply::chat("A long answer that never finishes."),
    )]);
    let stream = send_stream(&fake, &hello(true));
    assert_eq!(stream.events.len(), 3, "{:?}", stream.events);
    assert!(stream.events.iter().all(|e| e.data != "[DONE]"));
    assert!(stream.end.is_err(), "the body must not end cleanly");
}

#[test]
fn exhausted_script_answers_500_and_is_a_violation() {
    let fake = FakeOpenAi::start([]);
    let answer = send(&fake, &hello(false));
    assert_eq!(answer.status, 500);
    assert!(answer.text.contains("fake server: script exhausted"));
    assert_eq!(fake.violations().len(), 1);
}

#[test]
fn models_are_listed() {
    let fake = FakeOpenAi::start([]).with_models(&["gpt-test"]);
    let answer = get(
        &format!("{}/models", fake.base_url()),
        &[("authorization", &auth())],
    );
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["object"], "list");
    assert_eq!(body["data"][0]["id"], "gpt-test");
    assert_eq!(fake.chat_requests().len(), 0);
    fake.assert_no_violations();
}

#[test]
fn unknown_path_is_a_404_violation() {
    let fake = FakeOpenAi::start([]);
    let answer = post(
        &format!("{}/completions", fake.base_url()),
        &[("authorization", &auth())],
        &hello(false),
    );
    assert_eq!(answer.status, 404);
    assert!(fake.violations()[0].contains("serves no POST /v1/completions"));
}

#[test]
fn malformed_replies_are_not_json() {
    let fake = FakeOpenAi::start([Reply::malformed(), Reply::malformed()]);
    let answer = send(&fake, &hello(false));
    assert_eq!(answer.status, 200);
    assert!(serde_json::from_str::<Value>(&answer.text).is_err());
    let stream = send_stream(&fake, &hello(true));
    assert_eq!(stream.events.len(), 3);
    assert!(serde_json::from_str::<Value>(&stream.events[1].data).is_err());
    assert_eq!(stream.events[2].data, "[DONE]");
}

#[test]
fn stream_error_is_an_error_data_line() {
    let fake = FakeOpenAi::start([
        Reply::chat("Partial answer").stream_error_after(2, "server_error", "boom"),
        Reply::stream_error("server_error", "boom"),
    ]);
    let stream = send_stream(&fake, &hello(true));
    assert_eq!(stream.events.len(), 3);
    assert_eq!(
        stream.events[1].json()["choices"][0]["delta"]["content"],
        "Parti"
    );
    assert_eq!(stream.events[2].json()["error"]["message"], "boom");
    let answer = send(&fake, &hello(false));
    assert_eq!(answer.status, 500);
    assert_eq!(answer.json()["error"]["type"], "server_error");
}
