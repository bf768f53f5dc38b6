//! Shorthands for building `llm-types` values in the plugins' unit tests.

use crate::llm_types::{
    ChatRequest, ContentPart, Image, ImageSource, Message, RequestOptions, Role, StreamEvent,
    ToolCall, ToolCallDelta, ToolCallStart, ToolResult, ToolSpec,
};

pub fn text(text: &str) -> ContentPart {
    ContentPart::Text(text.into())
}

pub fn image_bytes(media_type: &str, bytes: &[u8]) -> ContentPart {
    ContentPart::Image(Image {
        media_type: media_type.into(),
        source: ImageSource::Bytes(bytes.to_vec()),
    })
}

pub fn image_url(media_type: &str, url: &str) -> ContentPart {
    ContentPart::Image(Image {
        media_type: media_type.into(),
        source: ImageSource::Url(url.into()),
    })
}

pub fn message_with(role: Role, content: Vec<ContentPart>) -> Message {
    Message {
        role,
        content,
        tool_calls: Vec::new(),
        tool_result: None,
    }
}

pub fn system(text_: &str) -> Message {
    message_with(Role::System, vec![text(text_)])
}

pub fn user(text_: &str) -> Message {
    message_with(Role::User, vec![text(text_)])
}

/// An assistant turn with optional text and the tool calls it asked for.
pub fn assistant(text_: &str, calls: Vec<ToolCall>) -> Message {
    let content = if text_.is_empty() {
        Vec::new()
    } else {
        vec![text(text_)]
    };
    Message {
        tool_calls: calls,
        ..message_with(Role::Assistant, content)
    }
}

pub fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    }
}

/// A `tool` message answering the call `call_id`.
pub fn tool_result(call_id: &str, name: &str, content: &str, is_error: bool) -> Message {
    Message {
        tool_result: Some(ToolResult {
            call_id: call_id.into(),
            name: name.into(),
            content: content.into(),
            is_error,
        }),
        ..message_with(Role::Tool, vec![text(content)])
    }
}

pub fn tool_spec(name: &str, description: &str, schema: &str) -> ToolSpec {
    ToolSpec {
        name: name.into(),
        description: description.into(),
        parameters_schema: schema.into(),
    }
}

/// A request with default options.
pub fn request(messages: Vec<Message>, tools: Vec<ToolSpec>) -> ChatRequest {
    ChatRequest {
        messages,
        tools,
        options: RequestOptions {
            model: None,
            temperature: None,
            max_tokens: None,
            stop: Vec::new(),
        },
    }
}

pub fn text_delta(text: &str) -> StreamEvent {
    StreamEvent::TextDelta(text.into())
}

pub fn call_start(index: u32, id: &str, name: &str) -> StreamEvent {
    StreamEvent::ToolCallStart(ToolCallStart {
        index,
        id: id.into(),
        name: name.into(),
    })
}

pub fn call_delta(index: u32, fragment: &str) -> StreamEvent {
    StreamEvent::ToolCallDelta(ToolCallDelta {
        index,
        arguments_fragment: fragment.into(),
    })
}

#[cfg(not(target_family = "wasm"))]
std::thread_local! {
    static WARNINGS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Where [`crate::warn`] puts warnings in native tests (per thread, so tests running in
/// parallel do not see each other's).
#[cfg(not(target_family = "wasm"))]
pub(crate) fn keep_warning(message: &str) {
    WARNINGS.with(|w| w.borrow_mut().push(message.to_owned()));
}

/// The warnings this thread logged since the last call.
#[cfg(not(target_family = "wasm"))]
pub fn take_warnings() -> Vec<String> {
    WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()))
}
