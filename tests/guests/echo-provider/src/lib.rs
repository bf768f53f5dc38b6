//! A provider plugin that answers without any network: the reply is `echo: ` followed by
//! the text of the last user message. It lets the agent loop, streaming and model listing
//! be tested end to end with no LLM API. It never calls `wasi:http`, so the component does
//! not even import it.
//!
//! Usage counts words, not tokens: `input` is the last user message's word count and
//! `output` the reply's.
//!
//! It targets contract 0.1 on purpose: the host serves it through its 0.1 adapters, so
//! every test that runs it also tests that an older plugin still works.

wit_bindgen::generate!({ path: "../../../wit/v0.1.0", world: "provider-plugin", generate_all });

use std::cell::RefCell;
use std::collections::VecDeque;

use exports::wasmhost::plugin::provider::{CompletionStream, Guest, GuestCompletionStream};
use wasmhost::plugin::llm_types::{
    Capabilities, ChatRequest, ChatResponse, ContentPart, FinishReason, Message, ModelInfo,
    ProviderError, ProviderInfo, Role, StreamEvent, Usage,
};

const MODEL: &str = "echo-1";

struct EchoProvider;

/// The reply to a request, with its usage and the model name to report.
struct Reply {
    text: String,
    usage: Usage,
    model: String,
}

impl Reply {
    fn new(request: &ChatRequest) -> Self {
        let input = request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| {
                let texts: Vec<&str> = m
                    .content
                    .iter()
                    .filter_map(|part| match part {
                        ContentPart::Text(text) => Some(text.as_str()),
                        ContentPart::Image(_) => None,
                    })
                    .collect();
                texts.join(" ")
            })
            .unwrap_or_default();
        let text = format!("echo: {input}");
        let usage = Usage {
            input_tokens: word_count(&input),
            output_tokens: word_count(&text),
            cached_input_tokens: None,
        };
        let model = request
            .options
            .model
            .clone()
            .unwrap_or_else(|| MODEL.into());
        Self { text, usage, model }
    }
}

fn word_count(text: &str) -> u32 {
    u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX)
}

/// Splits `text` into words, each with the whitespace that follows it, so that the pieces
/// concatenate back to exactly `text`.
fn words_with_spaces(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut after_space = false;
    for (i, c) in text.char_indices() {
        if after_space && !c.is_whitespace() {
            pieces.push(text[start..i].to_owned());
            start = i;
        }
        after_space = c.is_whitespace();
    }
    if start < text.len() {
        pieces.push(text[start..].to_owned());
    }
    pieces
}

impl Guest for EchoProvider {
    type CompletionStream = EchoStream;

    fn info() -> ProviderInfo {
        ProviderInfo {
            name: "echo-provider".into(),
            version: "0.1.0".into(),
            default_model: MODEL.into(),
            // The discard port: a base URL that nothing should ever reach.
            default_base_url: "http://127.0.0.1:9".into(),
            credential: None,
            capabilities: Capabilities::STREAMING | Capabilities::LIST_MODELS,
        }
    }

    fn complete(request: ChatRequest) -> Result<ChatResponse, ProviderError> {
        let reply = Reply::new(&request);
        Ok(ChatResponse {
            message: Message {
                role: Role::Assistant,
                content: vec![ContentPart::Text(reply.text)],
                tool_calls: Vec::new(),
                tool_result: None,
            },
            finish_reason: FinishReason::Stop,
            usage: Some(reply.usage),
            model: reply.model,
        })
    }

    fn complete_streaming(request: ChatRequest) -> Result<CompletionStream, ProviderError> {
        let reply = Reply::new(&request);
        let mut events: VecDeque<StreamEvent> = words_with_spaces(&reply.text)
            .into_iter()
            .map(StreamEvent::TextDelta)
            .collect();
        events.push_back(StreamEvent::Usage(reply.usage));
        events.push_back(StreamEvent::Finish(FinishReason::Stop));
        Ok(CompletionStream::new(EchoStream {
            events: RefCell::new(events),
        }))
    }

    fn list_models() -> Result<Vec<ModelInfo>, ProviderError> {
        Ok(vec![ModelInfo {
            id: MODEL.into(),
            context_window: Some(4096),
        }])
    }
}

/// The events still to deliver, one per `next` call, so the host sees a real stream.
struct EchoStream {
    events: RefCell<VecDeque<StreamEvent>>,
}

impl GuestCompletionStream for EchoStream {
    fn next(&self) -> Result<Option<Vec<StreamEvent>>, ProviderError> {
        Ok(self
            .events
            .borrow_mut()
            .pop_front()
            .map(|event| vec![event]))
    }
}

export!(EchoProvider);
