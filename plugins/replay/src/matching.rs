//! Whether a request is the one the cassette recorded, and if not, where and how it
//! departs.
//!
//! A request is compared as a projection of its conversation: each message's role; a
//! user's text; an assistant's text and its tool calls' names and arguments (as JSON, so
//! key order and spacing do not matter); a tool result's call id. Not compared, because
//! they legitimately vary from run to run: tool results' contents (timings, paths), the
//! system prompt (it lists the installed skills), tool specs and options.

use provider_kit::errors::shorten;
use provider_kit::llm_types::{ChatRequest, ContentPart, Message, Role};
use serde_json::Value;

/// How much of a differing value a departure message quotes.
const QUOTE_CHARS: usize = 120;

/// One message as far as matching cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    System,
    User {
        text: String,
    },
    Assistant {
        text: String,
        /// `(name, arguments)`, arguments normalized.
        calls: Vec<(String, String)>,
    },
    Tool {
        call_id: String,
    },
}

impl Step {
    fn kind(&self) -> &'static str {
        match self {
            Step::System => "system",
            Step::User { .. } => "user",
            Step::Assistant { calls, .. } if !calls.is_empty() => "assistant tool call",
            Step::Assistant { .. } => "assistant",
            Step::Tool { .. } => "tool result",
        }
    }

    /// What differs between `self` and `other` (of the same kind), as `self` shows it.
    fn describe(&self, other: &Step) -> String {
        let text = match self {
            Step::System => String::new(),
            Step::User { text } => quote(text),
            Step::Assistant { text, calls } => match other {
                Step::Assistant { calls: theirs, .. } if theirs != calls || text.is_empty() => {
                    describe_calls(calls)
                }
                _ => quote(text),
            },
            Step::Tool { call_id } => format!("for call {call_id}"),
        };
        shorten(&text, QUOTE_CHARS)
    }
}

fn quote(text: &str) -> String {
    format!("{text:?}")
}

fn describe_calls(calls: &[(String, String)]) -> String {
    if calls.is_empty() {
        return "no tool calls".into();
    }
    let calls: Vec<String> = calls
        .iter()
        .map(|(name, arguments)| format!("{name} {arguments}"))
        .collect();
    calls.join("; ")
}

/// Tool arguments in a canonical form: parsed and re-serialized (keys sorted, no
/// spacing) when they are JSON, else trimmed as they are.
pub fn normalize_arguments(arguments: &str) -> String {
    serde_json::from_str::<Value>(arguments)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| arguments.trim().to_owned())
}

/// The incoming request's projection.
pub fn project(request: &ChatRequest) -> Vec<Step> {
    request.messages.iter().map(project_message).collect()
}

fn project_message(message: &Message) -> Step {
    let text = || {
        let parts: Vec<&str> = message
            .content
            .iter()
            .filter_map(|p| match p {
                ContentPart::Text(t) => Some(t.as_str()),
                ContentPart::Image(_) => None,
            })
            .collect();
        parts.concat().trim().to_owned()
    };
    match message.role {
        Role::System => Step::System,
        Role::User => Step::User { text: text() },
        Role::Assistant => Step::Assistant {
            text: text(),
            calls: message
                .tool_calls
                .iter()
                .map(|c| (c.name.clone(), normalize_arguments(&c.arguments)))
                .collect(),
        },
        Role::Tool => Step::Tool {
            call_id: message
                .tool_result
                .as_ref()
                .map(|r| r.call_id.clone())
                .unwrap_or_default(),
        },
    }
}

/// A recorded request's projection (the host's `ChatRequest` as serde JSON).
pub fn project_recorded(request: &Value) -> Vec<Step> {
    let empty = Vec::new();
    let messages = request["messages"].as_array().unwrap_or(&empty);
    messages.iter().map(project_recorded_message).collect()
}

fn project_recorded_message(message: &Value) -> Step {
    let str_of = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let empty = Vec::new();
    let text = || {
        let parts: Vec<&str> = message["content"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .filter(|p| p["type"] == "text")
            .filter_map(|p| p["text"].as_str())
            .collect();
        parts.concat().trim().to_owned()
    };
    match message["role"].as_str() {
        Some("system") => Step::System,
        Some("assistant") => Step::Assistant {
            text: text(),
            calls: message["tool_calls"]
                .as_array()
                .unwrap_or(&empty)
                .iter()
                .map(|c| {
                    (
                        str_of(&c["name"]),
                        normalize_arguments(c["arguments"].as_str().unwrap_or("")),
                    )
                })
                .collect(),
        },
        Some("tool") => Step::Tool {
            call_id: str_of(&message["tool_result"]["call_id"]),
        },
        _ => Step::User { text: text() },
    }
}

/// The number of assistant messages: which request of the conversation this is (0-based).
pub fn turn_index(steps: &[Step]) -> usize {
    steps
        .iter()
        .filter(|s| matches!(s, Step::Assistant { .. }))
        .count()
}

/// `None` when `got` matches `recorded`; else where and how it differs, e.g.
/// `message 4 (assistant tool call) differs: recorded get_skill {"name":"a"}, got …`.
/// Messages are numbered from 1, the system prompt included, as in a transcript.
pub fn departure(recorded: &[Step], got: &[Step]) -> Option<String> {
    let longest = recorded.len().max(got.len());
    (0..longest).find_map(|i| {
        let n = i + 1;
        match (recorded.get(i), got.get(i)) {
            (Some(r), Some(g)) if r == g => None,
            (Some(r), Some(g)) if r.kind() == g.kind() => Some(format!(
                "message {n} ({}) differs: recorded {}, got {}",
                r.kind(),
                r.describe(g),
                g.describe(r)
            )),
            (Some(r), Some(g)) => Some(format!(
                "message {n} differs: recorded a {} message, got a {} message",
                r.kind(),
                g.kind()
            )),
            (Some(r), None) => Some(format!(
                "the recording has {} messages, this request {}: recorded message {n} ({}) {} is missing",
                recorded.len(),
                got.len(),
                r.kind(),
                r.describe(r)
            )),
            (None, Some(g)) => Some(format!(
                "the recording has {} messages, this request {}: message {n} ({}) {} is new",
                recorded.len(),
                got.len(),
                g.kind(),
                g.describe(g)
            )),
            (None, None) => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use provider_kit::llm_types::{RequestOptions, ToolCall, ToolResult};
    use serde_json::json;

    fn text(role: Role, t: &str) -> Message {
        Message {
            role,
            content: vec![ContentPart::Text(t.into())],
            tool_calls: Vec::new(),
            tool_result: None,
        }
    }

    fn call(name: &str, arguments: &str) -> Message {
        Message {
            tool_calls: vec![ToolCall {
                id: "call_1".into(),
                name: name.into(),
                arguments: arguments.into(),
            }],
            ..text(Role::Assistant, "")
        }
    }

    fn result(call_id: &str, content: &str) -> Message {
        Message {
            role: Role::Tool,
            content: Vec::new(),
            tool_calls: Vec::new(),
            tool_result: Some(ToolResult {
                call_id: call_id.into(),
                name: "get_skill".into(),
                content: content.into(),
                is_error: false,
            }),
        }
    }

    fn request(messages: Vec<Message>) -> ChatRequest {
        ChatRequest {
            messages,
            tools: Vec::new(),
            options: RequestOptions {
                model: None,
                temperature: None,
                max_tokens: None,
                stop: Vec::new(),
            },
        }
    }

    /// The same conversation as the host serializes it into a cassette.
    fn recorded(args: &str, result_content: &str) -> Value {
        json!({"messages": [
            {"role": "system", "content": [{"type": "text", "text": "another system prompt"}]},
            {"role": "user", "content": [{"type": "text", "text": "42 km in miles?"}]},
            {"role": "assistant", "tool_calls": [{"id": "call_1", "name": "get_skill", "arguments": args}]},
            {"role": "tool", "tool_result": {"call_id": "call_1", "name": "get_skill", "content": result_content, "is_error": false}},
        ], "tools": [], "options": {"model": null, "temperature": null, "max_tokens": null, "stop": []}})
    }

    fn incoming(user: &str, args: &str) -> Vec<Step> {
        project(&request(vec![
            text(Role::System, "You are…"),
            text(Role::User, user),
            call("get_skill", args),
            result("call_1", "took 12 ms"),
        ]))
    }

    #[test]
    fn matches_modulo_system_prompt_result_contents_and_argument_formatting() {
        let recorded = project_recorded(&recorded(r#"{"name": "unit-converter"}"#, "other"));
        let got = incoming("42 km in miles?", r#"{"name":"unit-converter"}"#);
        assert_eq!(departure(&recorded, &got), None);
        assert_eq!(turn_index(&got), 1);
        assert_eq!(turn_index(&recorded), 1);
    }

    #[test]
    fn a_different_tool_argument_is_named_with_both_values() {
        let recorded = project_recorded(&recorded(r#"{"name":"unit-converter"}"#, ""));
        let got = incoming("42 km in miles?", r#"{"name":"csv-stats"}"#);
        assert_eq!(
            departure(&recorded, &got).as_deref(),
            Some(
                r#"message 3 (assistant tool call) differs: recorded get_skill {"name":"unit-converter"}, got get_skill {"name":"csv-stats"}"#
            )
        );
    }

    #[test]
    fn a_different_user_text_is_quoted() {
        let recorded = project_recorded(&recorded("{}", ""));
        let got = incoming("42 km in furlongs?", "{}");
        assert_eq!(
            departure(&recorded, &got).as_deref(),
            Some(
                r#"message 2 (user) differs: recorded "42 km in miles?", got "42 km in furlongs?""#
            )
        );
    }

    #[test]
    fn extra_and_missing_messages_are_reported() {
        let recorded_steps = project_recorded(&recorded("{}", ""));
        let mut got = incoming("42 km in miles?", "{}");
        got.push(Step::User {
            text: "and back?".into(),
        });
        let extra = departure(&recorded_steps, &got).expect("departs");
        assert!(
            extra.contains("message 5 (user) \"and back?\" is new"),
            "{extra}"
        );
        got.truncate(3);
        let missing = departure(&recorded_steps, &got).expect("departs");
        assert!(
            missing.contains("recorded message 4 (tool result) for call call_1 is missing"),
            "{missing}"
        );
    }

    #[test]
    fn a_different_kind_of_message_is_reported() {
        let recorded = project_recorded(&recorded("{}", ""));
        let mut got = incoming("42 km in miles?", "{}");
        got[3] = Step::User { text: "x".into() };
        assert_eq!(
            departure(&recorded, &got).as_deref(),
            Some("message 4 differs: recorded a tool result message, got a user message")
        );
    }

    #[test]
    fn long_values_are_shortened() {
        let long = "x".repeat(500);
        let recorded = project_recorded(&recorded("{}", ""));
        let got = incoming(&long, "{}");
        let message = departure(&recorded, &got).expect("departs");
        assert!(message.len() < 400 && message.ends_with('…'), "{message}");
    }

    #[test]
    fn arguments_normalize_key_order_and_spacing() {
        assert_eq!(
            normalize_arguments(r#"{ "b": 1, "a": [1, 2] }"#),
            r#"{"a":[1,2],"b":1}"#
        );
        assert_eq!(normalize_arguments(" not json "), "not json");
    }
}
