//! The rules of a Messages request body (<https://docs.anthropic.com/en/api/messages>), the
//! ones a client can get wrong and the real API answers with a 400.
//!
//! One rule is stricter than the API: it merges consecutive turns of the same role, but a
//! client that sends them almost always split a tool answer or a turn by mistake, so here
//! roles must alternate, starting with `user`.

use serde_json::Value;

use crate::fake::json::{Problems, path, type_name};

/// Block types the API documents; anything else is a typo the API would reject.
const BLOCK_TYPES: &[&str] = &[
    "text",
    "image",
    "document",
    "search_result",
    "thinking",
    "redacted_thinking",
    "tool_use",
    "tool_result",
    "server_tool_use",
    "web_search_tool_result",
];

/// Every problem with a messages request body, each naming where it is.
pub(crate) fn check(body: &Value) -> Vec<String> {
    let mut p = Problems::default();
    let Some(messages) = p.common(body) else {
        return p.0;
    };
    match body.get("max_tokens") {
        Some(v) if v.as_u64().is_some_and(|n| n >= 1) => {}
        Some(v) => p.add(format!(
            "`max_tokens` is {}, not a positive integer",
            if v.is_number() {
                "not positive"
            } else {
                type_name(v)
            }
        )),
        None => p.add("`max_tokens` is missing (the Messages API requires it)"),
    }
    check_system(body, &mut p);
    let mut previous_role = None;
    for (i, message) in messages.iter().enumerate() {
        let last = i + 1 == messages.len();
        let role = check_message(message, &format!("messages[{i}]"), last, &mut p);
        match (previous_role, role) {
            (None, Some("assistant")) => {
                p.add("`messages[0]` is from `assistant`; the first must be `user`")
            }
            (Some(before), Some(now)) if before == now => p.add(format!(
                "`messages[{i}]` is a second `{now}` turn in a row; roles must alternate"
            )),
            _ => {}
        }
        previous_role = role.or(previous_role);
    }
    check_tool_answers(messages, &mut p);
    check_tools(body, &mut p);
    p.0
}

fn check_system(body: &Value, p: &mut Problems) {
    match body.get("system") {
        None | Some(Value::String(_)) => {}
        Some(Value::Array(blocks)) => {
            for (i, block) in blocks.iter().enumerate() {
                let at = format!("system[{i}]");
                match p.string(block, &at, "type") {
                    Some("text") | None => {}
                    Some(other) => p.add(format!("`{at}.type` is `{other}`, not `text`")),
                }
                p.string(block, &at, "text");
            }
        }
        Some(other) => p.add(format!(
            "`system` is {}, not a string or an array of text blocks",
            type_name(other)
        )),
    }
}

/// Checks one message; returns its role when it is a valid one.
fn check_message<'a>(
    message: &'a Value,
    at: &str,
    last: bool,
    p: &mut Problems,
) -> Option<&'a str> {
    if !message.is_object() {
        p.add(format!("`{at}` is {}, not an object", type_name(message)));
        return None;
    }
    let role = p.string(message, at, "role")?;
    match role {
        "user" | "assistant" => {}
        "system" => {
            p.add(format!("`{at}` has role `system`; the Messages API takes the system prompt in the top-level `system` field"));
            return None;
        }
        other => {
            p.add(format!(
                "`{at}.role` is `{other}`, not `user` or `assistant`"
            ));
            return None;
        }
    }
    // Only a final assistant message (a prefill) may be empty.
    let may_be_empty = last && role == "assistant";
    let content_at = path(at, "content");
    match message.get("content") {
        Some(Value::String(s)) if s.is_empty() && !may_be_empty => p.add(format!(
            "`{content_at}` is empty; only a final assistant message may be"
        )),
        Some(Value::String(_)) => {}
        Some(Value::Array(blocks)) => {
            if blocks.is_empty() && !may_be_empty {
                p.add(format!(
                    "`{content_at}` is empty; only a final assistant message may be"
                ));
            }
            for (i, block) in blocks.iter().enumerate() {
                check_block(block, &format!("{content_at}[{i}]"), role, p);
            }
        }
        Some(other) => p.add(format!(
            "`{content_at}` is {}, not a string or an array of content blocks",
            type_name(other)
        )),
        None => p.add(format!("`{content_at}` is missing")),
    }
    Some(role)
}

fn check_block(block: &Value, at: &str, role: &str, p: &mut Problems) {
    let Some(kind) = p.string(block, at, "type") else {
        return;
    };
    match kind {
        "text" => {
            if p.string(block, at, "text") == Some("") {
                p.add(format!(
                    "`{at}.text` is empty; text content blocks must be non-empty"
                ));
            }
        }
        "tool_use" => {
            if role != "assistant" {
                p.add(format!(
                    "`{at}` is a `tool_use` block in a `{role}` message"
                ));
            }
            p.nonempty_string(block, at, "id");
            if let Some(name) = p.string(block, at, "name") {
                p.tool_name(name, &path(at, "name"));
            }
            p.object(block, at, "input");
        }
        "tool_result" => {
            if role != "user" {
                p.add(format!(
                    "`{at}` is a `tool_result` block in a `{role}` message"
                ));
            }
            p.nonempty_string(block, at, "tool_use_id");
            match block.get("content") {
                None | Some(Value::String(_)) | Some(Value::Array(_)) => {}
                Some(other) => p.add(format!(
                    "`{at}.content` is {}, not a string or an array of blocks",
                    type_name(other)
                )),
            }
            p.optional_bool(block, at, "is_error");
        }
        known if BLOCK_TYPES.contains(&known) => {}
        other => p.add(format!("`{at}.type` `{other}` is not a content block type")),
    }
}

fn blocks_of<'a>(message: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    message
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |b| b.get("type").and_then(Value::as_str) == Some(kind))
}

/// Each `tool_use` in an assistant message is answered by exactly one `tool_result` with
/// its id in the very next (user) message, where the results come before anything else;
/// no `tool_result` answers anything but the message just before it.
fn check_tool_answers(messages: &[Value], p: &mut Problems) {
    for (i, message) in messages.iter().enumerate() {
        let asked: Vec<&str> = match i.checked_sub(1).and_then(|before| messages.get(before)) {
            Some(before) if before.get("role").and_then(Value::as_str) == Some("assistant") => {
                blocks_of(before, "tool_use")
                    .filter_map(|b| b.get("id").and_then(Value::as_str))
                    .collect()
            }
            _ => Vec::new(),
        };
        let is_user = message.get("role").and_then(Value::as_str) == Some("user");
        let answered: Vec<&str> = if is_user {
            blocks_of(message, "tool_result")
                .filter_map(|b| b.get("tool_use_id").and_then(Value::as_str))
                .collect()
        } else {
            Vec::new()
        };
        let at = format!("messages[{i}]");
        for id in &asked {
            match answered.iter().filter(|a| *a == id).count() {
                0 => p.add(format!(
                    "tool_use `{id}` of `messages[{}]` has no `tool_result` in `{at}`",
                    i - 1
                )),
                1 => {}
                n => p.add(format!("`{at}` answers tool_use `{id}` {n} times")),
            }
        }
        for id in answered.iter().filter(|id| !asked.contains(id)) {
            p.add(format!(
                "`{at}` has a `tool_result` for `{id}`, which no `tool_use` in the message just before it asked for"
            ));
        }
        check_results_first(message, &at, p);
    }
    // The last message may not leave tool calls unanswered either.
    if let Some(last) = messages.last()
        && last.get("role").and_then(Value::as_str) == Some("assistant")
    {
        for block in blocks_of(last, "tool_use") {
            let id = block.get("id").and_then(Value::as_str).unwrap_or_default();
            p.add(format!(
                "tool_use `{id}` of `messages[{}]` has no `tool_result` after it",
                messages.len() - 1
            ));
        }
    }
}

/// In a message with tool results, they come first: text goes after them.
fn check_results_first(message: &Value, at: &str, p: &mut Problems) {
    let Some(blocks) = message.get("content").and_then(Value::as_array) else {
        return;
    };
    let is_result = |b: &Value| b.get("type").and_then(Value::as_str) == Some("tool_result");
    if let Some(first_other) = blocks.iter().position(|b| !is_result(b))
        && blocks[first_other..].iter().any(is_result)
    {
        p.add(format!(
            "`{at}` has a block before a `tool_result`; tool results must come first"
        ));
    }
}

/// Client tools are `{name, description?, input_schema}` with `input_schema` an object;
/// server tools (with a `type` other than `custom`) are the API's business.
fn check_tools(body: &Value, p: &mut Problems) {
    if body.get("tools").is_none() {
        return;
    }
    let Some(tools) = p.array(body, "", "tools") else {
        return;
    };
    for (i, tool) in tools.iter().enumerate() {
        let at = format!("tools[{i}]");
        if !tool.is_object() {
            p.add(format!("`{at}` is {}, not an object", type_name(tool)));
            continue;
        }
        if tool.get("type").is_some_and(|t| t != "custom") {
            continue;
        }
        if let Some(name) = p.string(tool, &at, "name") {
            p.tool_name(name, &path(&at, "name"));
        }
        p.object(tool, &at, "input_schema");
        if let Some(description) = tool.get("description").filter(|d| !d.is_string()) {
            p.add(format!(
                "`{at}.description` is {}, not a string",
                type_name(description)
            ));
        }
    }
}
