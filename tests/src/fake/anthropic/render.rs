//! A reply as the Messages API sends it: a `message` object, or the documented event
//! sequence (<https://docs.anthropic.com/en/api/messages-streaming>): `message_start`; per
//! content block `content_block_start`, its deltas (`text_delta`, or `input_json_delta`
//! with `partial_json` fragments) and `content_block_stop`; a `ping`; `message_delta` with
//! the `stop_reason` and cumulative `usage`; `message_stop`.

use serde_json::{Value, json};

use crate::fake::dialect::Call;
use crate::fake::reply::{ChatReply, ToolCall};
use crate::fake::sse::{self, ARGUMENTS_PIECE, TEXT_PIECE};

fn id(call: &Call) -> String {
    format!("msg_fake{:04}", call.number)
}

fn stop_reason(reply: &ChatReply) -> &str {
    match &reply.finish {
        Some(reason) => reason,
        None if reply.tool_calls.is_empty() => "end_turn",
        None => "tool_use",
    }
}

/// The parsed arguments; arguments that are not JSON (a test of a broken model) are sent
/// as a string, the nearest a non-streamed body can come to them.
fn input(tool_call: &ToolCall) -> Value {
    serde_json::from_str(&tool_call.arguments).unwrap_or_else(|_| json!(tool_call.arguments))
}

fn blocks(reply: &ChatReply) -> Vec<Value> {
    assert!(
        reply.reasoning.is_none(),
        "with_reasoning is for OpenAI-compatible servers; Anthropic thinking needs a request \
         that asks for it"
    );
    let texts = std::iter::once(&reply.text)
        .chain(&reply.more_text)
        .filter(|t| !t.is_empty())
        .map(|t| json!({ "type": "text", "text": t }));
    let tools = reply
        .tool_calls
        .iter()
        .map(|c| json!({ "type": "tool_use", "id": c.id, "name": c.name, "input": input(c) }));
    texts.chain(tools).collect()
}

fn message(reply: &ChatReply, call: &Call, content: Vec<Value>) -> Value {
    json!({
        "id": id(call),
        "type": "message",
        "role": "assistant",
        "model": call.model,
        "content": content,
        "stop_reason": null,
        "stop_sequence": null,
        "usage": { "input_tokens": reply.usage.input, "output_tokens": reply.usage.output },
    })
}

pub(crate) fn chat_json(reply: &ChatReply, call: &Call) -> Value {
    let mut body = message(reply, call, blocks(reply));
    body["stop_reason"] = json!(stop_reason(reply));
    body
}

pub(crate) fn chat_events(reply: &ChatReply, call: &Call) -> Vec<String> {
    let mut start = message(reply, call, Vec::new());
    // At the start, only the input is counted.
    start["usage"]["output_tokens"] = json!(1);
    let mut events = vec![sse::event(
        "message_start",
        &json!({ "type": "message_start", "message": start }),
    )];
    let ping = sse::event("ping", &json!({ "type": "ping" }));
    let mut index = 0;
    let mut block = |events: &mut Vec<String>, opening: Value, deltas: Vec<Value>| {
        events.push(sse::event(
            "content_block_start",
            &json!({ "type": "content_block_start", "index": index, "content_block": opening }),
        ));
        if index == 0 {
            events.push(ping.clone());
        }
        for delta in deltas {
            events.push(sse::event(
                "content_block_delta",
                &json!({ "type": "content_block_delta", "index": index, "delta": delta }),
            ));
        }
        events.push(sse::event(
            "content_block_stop",
            &json!({ "type": "content_block_stop", "index": index }),
        ));
        index += 1;
    };
    for text in std::iter::once(&reply.text).chain(&reply.more_text) {
        if text.is_empty() {
            continue;
        }
        let deltas = sse::pieces(text, TEXT_PIECE)
            .into_iter()
            .map(|piece| json!({ "type": "text_delta", "text": piece }))
            .collect();
        block(&mut events, json!({ "type": "text", "text": "" }), deltas);
    }
    for tool_call in &reply.tool_calls {
        // The documented stream opens each input with an empty fragment.
        let deltas = std::iter::once("")
            .chain(sse::pieces(&tool_call.arguments, ARGUMENTS_PIECE))
            .map(|piece| json!({ "type": "input_json_delta", "partial_json": piece }))
            .collect();
        let opening =
            json!({ "type": "tool_use", "id": tool_call.id, "name": tool_call.name, "input": {} });
        block(&mut events, opening, deltas);
    }
    if index == 0 {
        events.push(ping);
    }
    events.push(sse::event(
        "message_delta",
        &json!({
            "type": "message_delta",
            "delta": { "stop_reason": stop_reason(reply), "stop_sequence": null },
            "usage": { "output_tokens": reply.usage.output },
        }),
    ));
    events.push(sse::event(
        "message_stop",
        &json!({ "type": "message_stop" }),
    ));
    events
}

/// The documented in-stream error event.
pub(crate) fn stream_error_event(error_type: &str, message: &str) -> String {
    sse::event("error", &super::typed_error_body(error_type, message))
}

/// `message_start`, then a `content_block_start` whose data is cut off mid-JSON.
pub(crate) fn malformed_events(call: &Call) -> Vec<String> {
    let mut out: Vec<String> = chat_events(&ChatReply::default(), call)
        .into_iter()
        .take(1)
        .collect();
    let opening = json!({
        "type": "content_block_start",
        "index": 0,
        "content_block": { "type": "text", "text": "" },
    })
    .to_string();
    out.push(format!(
        "event: content_block_start\ndata: {}\n\n",
        sse::first_half(&opening)
    ));
    out
}
