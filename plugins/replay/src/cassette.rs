//! Reading a cassette (the format `wasmhost run --record` writes; see `demo/README.md`)
//! and turning its recorded JSON back into the contract's types.

use provider_kit::llm_types::{
    ChatResponse, ContentPart, FinishReason, Message, ProviderError, RateLimit, Role, ServerError,
    StreamEvent, ToolCall, ToolCallDelta, ToolCallStart, Usage,
};
use serde_json::Value;

use crate::matching::{Step, project_recorded, turn_index};

/// The cassette versions this plugin reads.
pub const VERSION: u64 = 1;

/// One recorded provider call.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request's projection, for matching.
    pub steps: Vec<Step>,
    /// Streamed events in order; empty when the call was not streamed.
    pub events: Vec<StreamEvent>,
    pub outcome: Result<ChatResponse, ProviderError>,
}

/// The exchanges of a cassette, by request: `requests[n]` answers the request with `n`
/// assistant messages. When a request was recorded more than once (retries, fallbacks),
/// the last attempt is the one replayed: it is the one the conversation went on with.
#[derive(Debug, Default)]
pub struct Cassette {
    pub requests: Vec<Exchange>,
}

impl Cassette {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            return Err("the cassette is empty".into());
        };
        let header: Value =
            serde_json::from_str(header).map_err(|e| format!("line 1 is not JSON: {e}"))?;
        if header["type"] != "cassette" {
            return Err("line 1 is not a cassette header ({\"type\":\"cassette\",…})".into());
        }
        if header["version"].as_u64() != Some(VERSION) {
            return Err(format!(
                "cassette version {} is not supported (this replay reads version {VERSION})",
                header["version"]
            ));
        }
        let mut cassette = Cassette::default();
        for (i, line) in lines {
            let value: Value = serde_json::from_str(line)
                .map_err(|e| format!("line {} is not JSON: {e}", i + 1))?;
            if value["type"] != "exchange" {
                continue;
            }
            let exchange = exchange(&value).map_err(|e| format!("line {}: {e}", i + 1))?;
            let turn = turn_index(&exchange.steps);
            match turn.cmp(&cassette.requests.len()) {
                std::cmp::Ordering::Less => cassette.requests[turn] = exchange,
                std::cmp::Ordering::Equal => cassette.requests.push(exchange),
                std::cmp::Ordering::Greater => {
                    return Err(format!(
                        "line {}: request {} recorded without request {} before it",
                        i + 1,
                        turn + 1,
                        cassette.requests.len() + 1
                    ));
                }
            }
        }
        Ok(cassette)
    }
}

fn exchange(value: &Value) -> Result<Exchange, String> {
    let events = match value["events"].as_array() {
        Some(events) => events.iter().map(event).collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let outcome = match (value.get("response"), value.get("error")) {
        (Some(response), _) if !response.is_null() => Ok(chat_response(response)?),
        (_, Some(error)) if !error.is_null() => Err(provider_error(error)),
        _ => return Err("an exchange has neither `response` nor `error`".into()),
    };
    Ok(Exchange {
        steps: project_recorded(&value["request"]),
        events,
        outcome,
    })
}

fn string(value: &Value) -> String {
    value.as_str().unwrap_or("").to_owned()
}

fn u32_of(value: &Value) -> u32 {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

fn usage(value: &Value) -> Usage {
    Usage {
        input_tokens: u32_of(&value["input_tokens"]),
        output_tokens: u32_of(&value["output_tokens"]),
        cached_input_tokens: value["cached_input_tokens"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok()),
    }
}

fn finish_reason(value: &Value) -> FinishReason {
    match value.as_str() {
        Some("stop") => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some("tool_calls") => FinishReason::ToolCalls,
        Some("content_filter") => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    }
}

/// A recorded stream event.
pub fn event(value: &Value) -> Result<StreamEvent, String> {
    Ok(match value["type"].as_str() {
        Some("text") => StreamEvent::TextDelta(string(&value["text"])),
        Some("reasoning") => StreamEvent::ReasoningDelta(string(&value["text"])),
        Some("tool_call_start") => StreamEvent::ToolCallStart(ToolCallStart {
            index: u32_of(&value["index"]),
            id: string(&value["id"]),
            name: string(&value["name"]),
        }),
        Some("tool_call_delta") => StreamEvent::ToolCallDelta(ToolCallDelta {
            index: u32_of(&value["index"]),
            arguments_fragment: string(&value["fragment"]),
        }),
        Some("usage") => StreamEvent::Usage(usage(value)),
        Some("finish") => StreamEvent::Finish(finish_reason(&value["reason"])),
        _ => return Err(format!("unknown stream event {value}")),
    })
}

/// A recorded response (the host's `ChatResponse` as JSON).
pub fn chat_response(value: &Value) -> Result<ChatResponse, String> {
    let message = &value["message"];
    if !message.is_object() {
        return Err("a response has no `message`".into());
    }
    let empty = Vec::new();
    let content = message["content"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .filter(|p| p["type"] == "text")
        .map(|p| ContentPart::Text(string(&p["text"])))
        .collect();
    let tool_calls = message["tool_calls"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|c| ToolCall {
            id: string(&c["id"]),
            name: string(&c["name"]),
            arguments: string(&c["arguments"]),
        })
        .collect();
    Ok(ChatResponse {
        message: Message {
            role: Role::Assistant,
            content,
            tool_calls,
            tool_result: None,
        },
        finish_reason: finish_reason(&value["finish_reason"]),
        usage: value["usage"].is_object().then(|| usage(&value["usage"])),
        model: string(&value["model"]),
        reasoning: value["reasoning"].as_str().map(str::to_owned),
    })
}

/// A recorded error (the host's `ProviderError` as JSON, tagged by `kind`).
pub fn provider_error(value: &Value) -> ProviderError {
    let message = string(&value["message"]);
    match value["kind"].as_str() {
        Some("auth") => ProviderError::Auth(message),
        Some("rate-limited") => ProviderError::RateLimited(RateLimit {
            retry_after_ms: value["retry_after_ms"].as_u64(),
            message,
        }),
        Some("timeout") => ProviderError::Timeout(message),
        Some("model-not-found") => ProviderError::ModelNotFound(message),
        Some("context-overflow") => ProviderError::ContextOverflow(message),
        Some("bad-request") => ProviderError::BadRequest(message),
        Some("server") => ProviderError::Server(ServerError {
            status: value["status"].as_u64().and_then(|s| u16::try_from(s).ok()),
            message,
            retryable: value["retryable"].as_bool().unwrap_or(false),
        }),
        Some("network") => ProviderError::Network(message),
        _ => ProviderError::Other(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"type":"cassette","version":1,"provider":"openai"}"#;

    fn exchange_line(assistants: usize, response: &str) -> String {
        let mut messages = vec![r#"{"role":"user","content":[{"type":"text","text":"hi"}]}"#];
        for _ in 0..assistants {
            messages.push(r#"{"role":"assistant","content":[{"type":"text","text":"a"}]}"#);
            messages.push(r#"{"role":"user","content":[{"type":"text","text":"more"}]}"#);
        }
        format!(
            r#"{{"type":"exchange","provider":"openai","request":{{"messages":[{}]}},"stream":false,"events":[],{response}}}"#,
            messages.join(",")
        )
    }

    const OK: &str = r#""response":{"message":{"role":"assistant","content":[{"type":"text","text":"fine"}]},"finish_reason":"stop","usage":{"input_tokens":3,"output_tokens":4},"model":"m"}"#;
    const LIMITED: &str =
        r#""error":{"kind":"rate-limited","message":"slow down","retry_after_ms":1000}"#;

    #[test]
    fn the_last_attempt_of_a_request_is_replayed() {
        let text = [
            HEADER.to_string(),
            exchange_line(0, LIMITED),
            exchange_line(0, OK),
            exchange_line(1, LIMITED),
        ]
        .join("\n");
        let cassette = Cassette::parse(&text).expect("parses");
        assert_eq!(cassette.requests.len(), 2);
        let first = cassette.requests[0].outcome.as_ref().expect("ok");
        assert_eq!(first.message.content, [ContentPart::Text("fine".into())]);
        assert_eq!(first.usage.map(|u| u.output_tokens), Some(4));
        assert_eq!(
            cassette.requests[1].outcome,
            Err(ProviderError::RateLimited(RateLimit {
                retry_after_ms: Some(1000),
                message: "slow down".into()
            }))
        );
    }

    #[test]
    fn bad_cassettes_say_what_is_wrong() {
        assert!(Cassette::parse("").expect_err("fails").contains("empty"));
        let v2 = r#"{"type":"cassette","version":2}"#;
        assert!(
            Cassette::parse(v2)
                .expect_err("fails")
                .contains("version 2")
        );
        let gap = [HEADER.to_string(), exchange_line(1, OK)].join("\n");
        assert!(
            Cassette::parse(&gap)
                .expect_err("fails")
                .contains("request 2 recorded without request 1")
        );
    }

    #[test]
    fn events_round_trip_from_the_recorded_form() {
        let e = |s: &str| event(&serde_json::from_str(s).expect("json")).expect("event");
        assert_eq!(
            e(r#"{"type":"tool_call_delta","index":1,"fragment":"{}"}"#),
            StreamEvent::ToolCallDelta(ToolCallDelta {
                index: 1,
                arguments_fragment: "{}".into()
            })
        );
        assert_eq!(
            e(r#"{"type":"finish","reason":"tool_calls"}"#),
            StreamEvent::Finish(FinishReason::ToolCalls)
        );
    }
}
