//! The rules of a Chat Completions request body
//! (<https://platform.openai.com/docs/api-reference/chat/create>), the ones a client can get
//! wrong and the real API answers with a 400.

use serde_json::Value;

use crate::fake::json::{Problems, path, type_name};

const ROLES: &[&str] = &["system", "developer", "user", "assistant", "tool"];

/// Every problem with a chat request body, each naming where it is.
pub(crate) fn check(body: &Value) -> Vec<String> {
    let mut p = Problems::default();
    let Some(messages) = p.common(body) else {
        return p.0;
    };
    check_stream_options(body, &mut p);
    for (i, message) in messages.iter().enumerate() {
        check_message(message, &format!("messages[{i}]"), &mut p);
    }
    check_tool_answers(messages, &mut p);
    check_tools(body, &mut p);
    p.0
}

fn check_stream_options(body: &Value, p: &mut Problems) {
    let Some(options) = body.get("stream_options") else {
        return;
    };
    if body.get("stream") != Some(&Value::Bool(true)) {
        p.add("`stream_options` is only allowed when `stream` is true");
    }
    if options.is_object() {
        p.optional_bool(options, "stream_options", "include_usage");
    } else {
        p.optional_object(body, "", "stream_options");
    }
}

fn check_message(message: &Value, at: &str, p: &mut Problems) {
    if !message.is_object() {
        p.add(format!("`{at}` is {}, not an object", type_name(message)));
        return;
    }
    let Some(role) = p.string(message, at, "role") else {
        return;
    };
    match role {
        "system" | "developer" | "user" => check_content(message, at, p),
        "tool" => {
            p.nonempty_string(message, at, "tool_call_id");
            check_content(message, at, p);
        }
        "assistant" => check_assistant(message, at, p),
        other => p.add(format!(
            "`{at}.role` is `{other}`, not one of {}",
            ROLES.join(", ")
        )),
    }
}

/// `content` must be a string or an array of parts, each with a `type`.
fn check_content(message: &Value, at: &str, p: &mut Problems) {
    match message.get("content") {
        Some(Value::String(_)) => {}
        Some(Value::Array(parts)) => {
            for (i, part) in parts.iter().enumerate() {
                let part_at = format!("{}[{i}]", path(at, "content"));
                if p.string(part, &part_at, "type") == Some("text") {
                    p.string(part, &part_at, "text");
                }
            }
        }
        Some(other) => p.add(format!(
            "`{}` is {}, not a string or an array of parts",
            path(at, "content"),
            type_name(other)
        )),
        None => p.add(format!("`{}` is missing", path(at, "content"))),
    }
}

/// Content may be null or absent only when the message makes tool calls; each call has an
/// id, `type: function`, a name and its arguments as a JSON *string*.
fn check_assistant(message: &Value, at: &str, p: &mut Problems) {
    let has_content = !message.get("content").is_none_or(Value::is_null);
    if has_content {
        check_content(message, at, p);
    }
    if message.get("tool_calls").is_none() {
        if !has_content {
            p.add(format!("`{at}` has neither `content` nor `tool_calls`"));
        }
        return;
    }
    let Some(calls) = p.array(message, at, "tool_calls") else {
        return;
    };
    if calls.is_empty() {
        p.add(format!(
            "`{}` is empty (omit it instead)",
            path(at, "tool_calls")
        ));
    }
    let mut ids = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        let call_at = format!("{}[{i}]", path(at, "tool_calls"));
        if let Some(id) = p.nonempty_string(call, &call_at, "id") {
            if ids.contains(&id) {
                p.add(format!("`{call_at}.id` `{id}` is used twice in `{at}`"));
            }
            ids.push(id);
        }
        match p.string(call, &call_at, "type") {
            Some("function") | None => {}
            Some(other) => p.add(format!("`{call_at}.type` is `{other}`, not `function`")),
        }
        if p.object(call, &call_at, "function").is_some() {
            let function = &call["function"];
            let function_at = path(&call_at, "function");
            p.nonempty_string(function, &function_at, "name");
            p.string(function, &function_at, "arguments");
        }
    }
}

/// The tool calls of one assistant message, waiting for their `tool` messages.
struct Pending<'a> {
    at: String,
    ids: Vec<&'a str>,
    answers: Vec<usize>,
}

impl Pending<'_> {
    fn report_unanswered(&self, before: &str, p: &mut Problems) {
        for (id, answers) in self.ids.iter().zip(&self.answers) {
            if *answers == 0 {
                p.add(format!(
                    "tool call `{id}` of `{}` has no `tool` message answering it before {before}",
                    self.at
                ));
            }
        }
    }
}

/// Every `tool_calls[].id` of an assistant message is answered by exactly one `tool`
/// message with that `tool_call_id`, and those come right after it; no `tool` message
/// answers anything else.
fn check_tool_answers(messages: &[Value], p: &mut Problems) {
    let mut pending: Option<Pending<'_>> = None;
    for (i, message) in messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        let role = message.get("role").and_then(Value::as_str);
        if role == Some("tool") {
            let Some(id) = message.get("tool_call_id").and_then(Value::as_str) else {
                continue;
            };
            let Some(waiting) = pending.as_mut() else {
                p.add(format!(
                    "`{at}` answers tool call `{id}`, but it does not follow an assistant \
                     message with `tool_calls` (or that message's other tool messages)"
                ));
                continue;
            };
            match waiting.ids.iter().position(|known| *known == id) {
                Some(k) => {
                    waiting.answers[k] += 1;
                    if waiting.answers[k] == 2 {
                        p.add(format!("`{at}` answers tool call `{id}` a second time"));
                    }
                }
                None => p.add(format!(
                    "`{at}.tool_call_id` `{id}` matches no tool call of `{}`",
                    waiting.at
                )),
            }
            continue;
        }
        if let Some(waiting) = pending.take() {
            waiting.report_unanswered(&format!("`{at}`"), p);
        }
        if role == Some("assistant") {
            let ids: Vec<&str> = message
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|call| call.get("id").and_then(Value::as_str))
                .collect();
            if !ids.is_empty() {
                let answers = vec![0; ids.len()];
                pending = Some(Pending { at, ids, answers });
            }
        }
    }
    if let Some(waiting) = pending {
        waiting.report_unanswered("the end of `messages`", p);
    }
}

/// `tools[]` are `{type: "function", function: {name, description?, parameters?}}` with
/// `parameters` a JSON Schema object when given; `tool_choice` needs `tools`.
fn check_tools(body: &Value, p: &mut Problems) {
    if body.get("tool_choice").is_some() && body.get("tools").is_none() {
        p.add("`tool_choice` is only allowed when `tools` are given");
    }
    if body.get("tools").is_none() {
        return;
    }
    let Some(tools) = p.array(body, "", "tools") else {
        return;
    };
    if tools.is_empty() {
        p.add("`tools` is empty (omit it instead)");
    }
    for (i, tool) in tools.iter().enumerate() {
        let at = format!("tools[{i}]");
        match p.string(tool, &at, "type") {
            Some("function") | None => {}
            Some(other) => p.add(format!("`{at}.type` is `{other}`, not `function`")),
        }
        if p.object(tool, &at, "function").is_none() {
            continue;
        }
        let function = &tool["function"];
        let function_at = path(&at, "function");
        if let Some(name) = p.string(function, &function_at, "name") {
            p.tool_name(name, &path(&function_at, "name"));
        }
        p.optional_object(function, &function_at, "parameters");
        if let Some(description) = function.get("description").filter(|d| !d.is_string()) {
            p.add(format!(
                "`{function_at}.description` is {}, not a string",
                type_name(description)
            ));
        }
    }
}
