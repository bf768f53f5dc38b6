//! A reply as Chat Completions sends it: a `chat.completion` object, or a stream of
//! `chat.completion.chunk` objects in the documented order
//! (<https://platform.openai.com/docs/api-reference/chat-streaming>): the role first, then
//! content deltas, then each tool call's id, type and name followed by its arguments in
//! many fragments, then the `finish_reason` chunk, then (when `stream_options.include_usage`
//! is set) a chunk with empty `choices` and the `usage`, then `data: [DONE]`.

use serde_json::{Value, json};

use crate::fake::dialect::Call;
use crate::fake::reply::{ChatReply, Reasoning, Usage};
use crate::fake::sse::{self, ARGUMENTS_PIECE, TEXT_PIECE};

/// The `created` timestamp of every response: fixed, so output is reproducible.
const CREATED: u64 = 1_700_000_000;
const FINGERPRINT: &str = "fp_fake";

fn id(call: &Call) -> String {
    format!("chatcmpl-fake{:04}", call.number)
}

/// Chat Completions has one text per message: a reply of several blocks is a test bug.
fn one_text(reply: &ChatReply) {
    assert!(
        reply.more_text.is_empty(),
        "with_text_block is Anthropic's: an OpenAI message has one text"
    );
}

fn finish_reason(reply: &ChatReply) -> &str {
    match &reply.finish {
        Some(reason) => reason,
        None if reply.tool_calls.is_empty() => "stop",
        None => "tool_calls",
    }
}

fn usage(usage: Usage) -> Value {
    json!({
        "prompt_tokens": usage.input,
        "completion_tokens": usage.output,
        "total_tokens": usage.input + usage.output,
    })
}

/// Mistral's content parts: the reasoning as one `thinking` part, then the text.
fn mistral_parts(reasoning: &str, text: &str) -> Value {
    let mut parts = Vec::new();
    if !reasoning.is_empty() {
        parts.push(
            json!({ "type": "thinking", "thinking": [{ "type": "text", "text": reasoning }] }),
        );
    }
    if !text.is_empty() {
        parts.push(json!({ "type": "text", "text": text }));
    }
    json!(parts)
}

pub(crate) fn chat_json(reply: &ChatReply, call: &Call) -> Value {
    one_text(reply);
    let mut message = json!({
        "role": "assistant",
        "content": if reply.text.is_empty() { Value::Null } else { json!(reply.text) },
        "refusal": null,
    });
    match &reply.reasoning {
        Some((Reasoning::MistralParts, reasoning)) => {
            message["content"] = mistral_parts(reasoning, &reply.text);
        }
        Some((Reasoning::Field(field), reasoning)) => message[*field] = json!(reasoning),
        None => {}
    }
    if !reply.tool_calls.is_empty() {
        let calls: Vec<Value> = reply
            .tool_calls
            .iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "type": "function",
                    "function": { "name": c.name, "arguments": c.arguments },
                })
            })
            .collect();
        message["tool_calls"] = json!(calls);
    }
    json!({
        "id": id(call),
        "object": "chat.completion",
        "created": CREATED,
        "model": call.model,
        "system_fingerprint": FINGERPRINT,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(reply),
        }],
        "usage": usage(reply.usage),
    })
}

/// Builds the chunks of one stream; with `include_usage`, every chunk carries
/// `"usage": null` except the last, as documented.
struct Chunks<'a> {
    call: &'a Call,
    include_usage: bool,
    events: Vec<String>,
}

impl Chunks<'_> {
    fn chunk(&self, choices: Value) -> Value {
        let mut chunk = json!({
            "id": id(self.call),
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": self.call.model,
            "system_fingerprint": FINGERPRINT,
            "choices": choices,
        });
        if self.include_usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    }

    fn delta(&mut self, delta: Value, finish_reason: Option<&str>) {
        let chunk = self.chunk(json!([{
            "index": 0,
            "delta": delta,
            "logprobs": null,
            "finish_reason": finish_reason,
        }]));
        self.events.push(sse::data(&chunk));
    }
}

pub(crate) fn chat_events(reply: &ChatReply, call: &Call) -> Vec<String> {
    one_text(reply);
    let include_usage = call.body["stream_options"]["include_usage"] == json!(true);
    let mut chunks = Chunks {
        call,
        include_usage,
        events: Vec::new(),
    };
    let opening = if reply.text.is_empty() {
        Value::Null
    } else {
        json!("")
    };
    chunks.delta(
        json!({ "role": "assistant", "content": opening, "refusal": null }),
        None,
    );
    if let Some((how, reasoning)) = &reply.reasoning {
        for piece in sse::pieces(reasoning, TEXT_PIECE) {
            let delta = match how {
                Reasoning::MistralParts => json!({ "content": mistral_parts(piece, "") }),
                Reasoning::Field(field) => json!({ *field: piece }),
            };
            chunks.delta(delta, None);
        }
    }
    for piece in sse::pieces(&reply.text, TEXT_PIECE) {
        let delta = match &reply.reasoning {
            // Mistral sends the answer as `text` parts too.
            Some((Reasoning::MistralParts, _)) => json!({ "content": mistral_parts("", piece) }),
            _ => json!({ "content": piece }),
        };
        chunks.delta(delta, None);
    }
    for (index, tool_call) in reply.tool_calls.iter().enumerate() {
        chunks.delta(
            json!({ "tool_calls": [{
                "index": index,
                "id": tool_call.id,
                "type": "function",
                "function": { "name": tool_call.name, "arguments": "" },
            }]}),
            None,
        );
        for fragment in sse::pieces(&tool_call.arguments, ARGUMENTS_PIECE) {
            chunks.delta(
                json!({ "tool_calls": [{ "index": index, "function": { "arguments": fragment } }] }),
                None,
            );
        }
    }
    chunks.delta(json!({}), Some(finish_reason(reply)));
    if include_usage {
        let mut last = chunks.chunk(json!([]));
        last["usage"] = usage(reply.usage);
        chunks.events.push(sse::data(&last));
    }
    chunks.events.push("data: [DONE]\n\n".to_owned());
    chunks.events
}

/// The documented in-stream error: a data line holding an `error` object.
pub(crate) fn stream_error_event(error_type: &str, message: &str) -> String {
    sse::data(&super::typed_error_body(error_type, message))
}

/// The role chunk, then a content chunk cut off mid-JSON, then `[DONE]`.
pub(crate) fn malformed_events(call: &Call) -> Vec<String> {
    let reply = ChatReply {
        text: "malformed".into(),
        ..ChatReply::default()
    };
    let events = chat_events(&reply, call);
    let mut out: Vec<String> = events.iter().take(1).cloned().collect();
    if let Some(content) = events.get(1) {
        let json = content.trim_start_matches("data: ").trim_end();
        out.push(format!("data: {}\n\n", sse::first_half(json)));
    }
    out.push("data: [DONE]\n\n".to_owned());
    out
}
