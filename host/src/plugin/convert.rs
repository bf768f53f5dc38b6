//! Conversions between the contract's generated types and the host's `chat` types, so
//! nothing outside `plugin` sees a bindgen type.

use base64::Engine as _;

use crate::bindings::llm_types as wit;
use crate::chat;

pub fn request(r: &chat::ChatRequest) -> wit::ChatRequest {
    wit::ChatRequest {
        messages: r.messages.iter().map(message).collect(),
        tools: r
            .tools
            .iter()
            .map(|t| wit::ToolSpec {
                name: t.name.clone(),
                description: t.description.clone(),
                parameters_schema: t.parameters_schema.clone(),
            })
            .collect(),
        options: wit::RequestOptions {
            model: r.options.model.clone(),
            temperature: r.options.temperature,
            max_tokens: r.options.max_tokens,
            stop: r.options.stop.clone(),
        },
    }
}

fn message(m: &chat::Message) -> wit::Message {
    wit::Message {
        role: match m.role {
            chat::Role::System => wit::Role::System,
            chat::Role::User => wit::Role::User,
            chat::Role::Assistant => wit::Role::Assistant,
            chat::Role::Tool => wit::Role::Tool,
        },
        content: m.content.iter().map(part).collect(),
        tool_calls: m
            .tool_calls
            .iter()
            .map(|c| wit::ToolCall {
                id: c.id.clone(),
                name: c.name.clone(),
                arguments: c.arguments.clone(),
            })
            .collect(),
        tool_result: m.tool_result.as_ref().map(|r| wit::ToolResult {
            call_id: r.call_id.clone(),
            name: r.name.clone(),
            content: r.content.clone(),
            is_error: r.is_error,
        }),
    }
}

fn part(p: &chat::ContentPart) -> wit::ContentPart {
    match p {
        chat::ContentPart::Text { text } => wit::ContentPart::Text(text.clone()),
        chat::ContentPart::Image { media_type, source } => wit::ContentPart::Image(wit::Image {
            media_type: media_type.clone(),
            source: match source {
                chat::ImageSource::Url(url) => wit::ImageSource::Url(url.clone()),
                chat::ImageSource::Base64(data) => {
                    match base64::engine::general_purpose::STANDARD.decode(data) {
                        Ok(bytes) => wit::ImageSource::Bytes(bytes),
                        // Not ours to fix here: pass it on as a data URL the API can reject.
                        Err(_) => wit::ImageSource::Url(format!("data:{media_type};base64,{data}")),
                    }
                }
            },
        }),
    }
}

pub fn response(r: wit::ChatResponse) -> chat::ChatResponse {
    chat::ChatResponse {
        message: message_back(r.message),
        finish_reason: finish(r.finish_reason),
        usage: r.usage.map(usage),
        model: r.model,
        reasoning: r.reasoning.filter(|r| !r.is_empty()),
    }
}

fn message_back(m: wit::Message) -> chat::Message {
    chat::Message {
        role: match m.role {
            wit::Role::System => chat::Role::System,
            wit::Role::User => chat::Role::User,
            wit::Role::Assistant => chat::Role::Assistant,
            wit::Role::Tool => chat::Role::Tool,
        },
        content: m
            .content
            .into_iter()
            .map(|p| match p {
                wit::ContentPart::Text(text) => chat::ContentPart::Text { text },
                wit::ContentPart::Image(image) => chat::ContentPart::Image {
                    media_type: image.media_type,
                    source: match image.source {
                        wit::ImageSource::Url(u) => chat::ImageSource::Url(u),
                        wit::ImageSource::Bytes(b) => chat::ImageSource::Base64(
                            base64::engine::general_purpose::STANDARD.encode(b),
                        ),
                    },
                },
            })
            .collect(),
        tool_calls: m
            .tool_calls
            .into_iter()
            .map(|c| chat::ToolCall {
                id: c.id,
                name: c.name,
                arguments: c.arguments,
            })
            .collect(),
        tool_result: m.tool_result.map(|r| chat::ToolResult {
            call_id: r.call_id,
            name: r.name,
            content: r.content,
            is_error: r.is_error,
            // The contract carries no kind: a message a plugin hands back has none.
            error_kind: None,
        }),
    }
}

pub fn usage(u: wit::Usage) -> chat::Usage {
    chat::Usage {
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        cached_input_tokens: u.cached_input_tokens,
    }
}

pub fn finish(f: wit::FinishReason) -> chat::FinishReason {
    match f {
        wit::FinishReason::Stop => chat::FinishReason::Stop,
        wit::FinishReason::Length => chat::FinishReason::Length,
        wit::FinishReason::ToolCalls => chat::FinishReason::ToolCalls,
        wit::FinishReason::ContentFilter => chat::FinishReason::ContentFilter,
        wit::FinishReason::Other => chat::FinishReason::Other,
    }
}

pub fn event(e: wit::StreamEvent) -> chat::StreamEvent {
    match e {
        wit::StreamEvent::TextDelta(t) => chat::StreamEvent::TextDelta(t),
        wit::StreamEvent::ReasoningDelta(t) => chat::StreamEvent::ReasoningDelta(t),
        wit::StreamEvent::ToolCallStart(s) => chat::StreamEvent::ToolCallStart {
            index: s.index,
            id: s.id,
            name: s.name,
        },
        wit::StreamEvent::ToolCallDelta(d) => chat::StreamEvent::ToolCallDelta {
            index: d.index,
            fragment: d.arguments_fragment,
        },
        wit::StreamEvent::Usage(u) => chat::StreamEvent::Usage(usage(u)),
        wit::StreamEvent::Finish(f) => chat::StreamEvent::Finish(finish(f)),
    }
}

pub fn error(e: wit::ProviderError) -> chat::ProviderError {
    use chat::ProviderError as P;
    match e {
        wit::ProviderError::Auth(message) => P::Auth { message },
        wit::ProviderError::RateLimited(r) => P::RateLimited {
            message: r.message,
            retry_after_ms: r.retry_after_ms,
        },
        wit::ProviderError::Timeout(message) => P::Timeout { message },
        wit::ProviderError::ModelNotFound(message) => P::ModelNotFound { message },
        wit::ProviderError::ContextOverflow(message) => P::ContextOverflow { message },
        wit::ProviderError::BadRequest(message) => P::BadRequest { message },
        wit::ProviderError::Server(s) => P::Server {
            status: s.status,
            message: s.message,
            retryable: s.retryable,
        },
        wit::ProviderError::Network(message) => P::Network { message },
        wit::ProviderError::Other(message) => P::Other { message },
    }
}
