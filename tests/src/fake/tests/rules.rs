//! The request rules, checked directly on bodies: one broken body per rule, and a full,
//! valid tool round trip that must pass clean.

use serde_json::{Value, json};

use crate::fake::anthropic::Anthropic;
use crate::fake::dialect::Dialect;
use crate::fake::openai::OpenAi;

fn openai(body: Value) -> Vec<String> {
    OpenAi::check_chat(&body)
}

fn anthropic(body: Value) -> Vec<String> {
    Anthropic::check_chat(&body)
}

fn assert_one(problems: &[String], needle: &str) {
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains(needle), "{problems:#?}");
}

#[test]
fn openai_tool_round_trip_is_clean() {
    let problems = openai(json!({
        "model": "gpt-4o-mini",
        "stream": true,
        "stream_options": { "include_usage": true },
        "messages": [
            { "role": "developer", "content": "Be brief." },
            { "role": "user", "content": [{ "type": "text", "text": "Hi" }] },
            { "role": "assistant", "content": null, "tool_calls": [
                { "id": "a", "type": "function", "function": { "name": "f", "arguments": "{}" } },
                { "id": "b", "type": "function", "function": { "name": "g", "arguments": "{\"x\":1}" } },
            ] },
            { "role": "tool", "tool_call_id": "b", "content": "B" },
            { "role": "tool", "tool_call_id": "a", "content": "A" },
            { "role": "assistant", "content": "Done." },
            { "role": "user", "content": "Thanks" },
        ],
        "tools": [{ "type": "function", "function": { "name": "f", "parameters": { "type": "object" } } }],
        "tool_choice": "auto",
    }));
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn openai_rules() {
    let base = |messages: Value| json!({ "model": "m", "messages": messages });
    let user = json!({ "role": "user", "content": "Hi" });
    assert_one(&openai(json!({ "messages": [user] })), "`model` is missing");
    assert_one(&openai(base(json!([]))), "`messages` is empty");
    assert_one(
        &openai(json!({ "model": "m", "messages": [user], "stream": "yes" })),
        "`stream` is a string, not a boolean",
    );
    assert_one(
        &openai(
            json!({ "model": "m", "messages": [user], "stream_options": { "include_usage": true } }),
        ),
        "only allowed when `stream` is true",
    );
    assert_one(
        &openai(base(json!([{ "role": "robot", "content": "x" }]))),
        "`messages[0].role` is `robot`",
    );
    assert_one(
        &openai(base(json!([user, { "role": "assistant" }]))),
        "neither `content` nor `tool_calls`",
    );
    let object_arguments = json!([user, { "role": "assistant", "tool_calls": [
        { "id": "a", "type": "function", "function": { "name": "f", "arguments": {} } },
    ] }, { "role": "tool", "tool_call_id": "a", "content": "A" }]);
    assert_one(
        &openai(base(object_arguments)),
        "`messages[1].tool_calls[0].function.arguments` is an object, not a string",
    );
    assert_one(
        &openai(base(
            json!([user, { "role": "tool", "tool_call_id": "a", "content": "A" }]),
        )),
        "does not follow an assistant message with `tool_calls`",
    );
    let answered_twice = json!([user, { "role": "assistant", "tool_calls": [
        { "id": "a", "type": "function", "function": { "name": "f", "arguments": "{}" } },
    ] }, { "role": "tool", "tool_call_id": "a", "content": "A" },
         { "role": "tool", "tool_call_id": "a", "content": "A" }]);
    assert_one(
        &openai(base(answered_twice)),
        "answers tool call `a` a second time",
    );
    let unanswered_at_end = json!([user, { "role": "assistant", "tool_calls": [
        { "id": "a", "type": "function", "function": { "name": "f", "arguments": "{}" } },
    ] }]);
    assert_one(
        &openai(base(unanswered_at_end)),
        "before the end of `messages`",
    );
    let tools = |tools: Value| json!({ "model": "m", "messages": [user], "tools": tools });
    assert_one(
        &openai(tools(
            json!([{ "type": "tool", "function": { "name": "f" } }]),
        )),
        "`tools[0].type` is `tool`, not `function`",
    );
    assert_one(
        &openai(tools(
            json!([{ "type": "function", "function": { "name": "f", "parameters": "{}" } }]),
        )),
        "`tools[0].function.parameters` is a string, not an object",
    );
    assert_one(
        &openai(tools(
            json!([{ "type": "function", "function": { "name": "bad name" } }]),
        )),
        "does not match",
    );
    assert_one(&openai(tools(json!([]))), "`tools` is empty");
    assert_one(&openai(json!([1])), "the body is an array, not an object");
}

#[test]
fn anthropic_tool_round_trip_is_clean() {
    let problems = anthropic(json!({
        "model": "claude",
        "max_tokens": 100,
        "system": [{ "type": "text", "text": "Be brief." }],
        "messages": [
            { "role": "user", "content": "Hi" },
            { "role": "assistant", "content": [
                { "type": "text", "text": "Looking." },
                { "type": "tool_use", "id": "a", "name": "f", "input": {} },
                { "type": "tool_use", "id": "b", "name": "g", "input": { "x": 1 } },
            ] },
            { "role": "user", "content": [
                { "type": "tool_result", "tool_use_id": "b", "content": "B" },
                { "type": "tool_result", "tool_use_id": "a", "content": [{ "type": "text", "text": "A" }], "is_error": true },
                { "type": "text", "text": "Go on." },
            ] },
            { "role": "assistant", "content": "" },
        ],
        "tools": [
            { "name": "f", "input_schema": { "type": "object" } },
            { "type": "web_search_20250305", "name": "web_search" },
        ],
    }));
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn anthropic_rules() {
    let user = json!({ "role": "user", "content": "Hi" });
    let base = |messages: Value| json!({ "model": "m", "max_tokens": 10, "messages": messages });
    assert_one(
        &anthropic(json!({ "model": "m", "messages": [user] })),
        "`max_tokens` is missing",
    );
    assert_one(
        &anthropic(json!({ "model": "m", "max_tokens": 0, "messages": [user] })),
        "not a positive integer",
    );
    assert_one(
        &anthropic(base(json!([{ "role": "assistant", "content": "x" }]))),
        "the first must be `user`",
    );
    assert_one(
        &anthropic(base(json!([user, user]))),
        "roles must alternate",
    );
    assert_one(
        &anthropic(base(json!([{ "role": "user", "content": "" }]))),
        "only a final assistant message may be",
    );
    assert_one(
        &anthropic(base(
            json!([{ "role": "user", "content": [{ "type": "text", "text": "" }] }]),
        )),
        "text content blocks must be non-empty",
    );
    assert_one(
        &anthropic(base(json!([{ "role": "user", "content": [
            { "type": "tool_use", "id": "a", "name": "f", "input": {} },
        ] }]))),
        "`tool_use` block in a `user` message",
    );
    let stray_result = json!([user, { "role": "assistant", "content": "ok" }, { "role": "user", "content": [
        { "type": "tool_result", "tool_use_id": "zzz", "content": "?" },
    ] }]);
    assert_one(
        &anthropic(base(stray_result)),
        "no `tool_use` in the message just before",
    );
    let text_first = json!([user, { "role": "assistant", "content": [
        { "type": "tool_use", "id": "a", "name": "f", "input": {} },
    ] }, { "role": "user", "content": [
        { "type": "text", "text": "here:" },
        { "type": "tool_result", "tool_use_id": "a", "content": "A" },
    ] }]);
    assert_one(&anthropic(base(text_first)), "tool results must come first");
    let unanswered_at_end = json!([user, { "role": "assistant", "content": [
        { "type": "tool_use", "id": "a", "name": "f", "input": "{}" },
    ] }]);
    let problems = anthropic(base(unanswered_at_end));
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].contains("`messages[1].content[0].input` is a string, not an object"));
    assert!(problems[1].contains("has no `tool_result` after it"));
    assert_one(
        &anthropic(
            json!({ "model": "m", "max_tokens": 10, "messages": [user], "tools": [{ "name": "f" }] }),
        ),
        "`tools[0].input_schema` is missing",
    );
    assert_one(
        &anthropic(base(
            json!([{ "role": "user", "content": [{ "type": "tool-result" }] }]),
        )),
        "is not a content block type",
    );
}
