//! The `anthropic` provider plugin: Anthropic's Messages API.
//!
//! ```toml
//! [plugins.anthropic]
//! allowed_hosts = ["api.anthropic.com"]
//! config = { model = "claude-haiku-4-5", api-version = "2023-06-01" }
//! ```
//!
//! The host adds the `x-api-key` header itself (from `ANTHROPIC_API_KEY`); this plugin never
//! sees or sets it. Config keys: `base-url` (default `https://api.anthropic.com`, without
//! `/v1`), `model`, `api-version` (the `anthropic-version` header, default `2023-06-01`).
//!
//! Layout: this file is the WIT glue and the only code that sends requests; `request`
//! builds the JSON body, `response` reads answers, `stream` is the streaming state
//! machine, `errors` maps error answers. All four are plain functions tested natively
//! (`cargo test -p anthropic`) on recorded API transcripts in `fixtures/`.

mod errors;
mod request;
mod response;
mod stream;

use std::cell::RefCell;

use errors::Asked;
use exports::wasmhost::plugin::provider::{CompletionStream, Guest, GuestCompletionStream};
use provider_kit::http::{Body, Request, Response};
use provider_kit::llm_types::{
    Capabilities, ChatRequest, ChatResponse, CredentialSpec, ModelInfo, ProviderError,
    ProviderInfo, StreamEvent,
};
use provider_kit::stream::{EventStream, ResponseStream};
use provider_kit::{config, host, wire};

// The world's bindings, sharing provider-kit's types.
provider_kit::provider_world!();

const DEFAULT_MODEL: &str = "claude-sonnet-4-5";
const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The config key of the `anthropic-version` header.
const API_VERSION_KEY: &str = "api-version";
const DEFAULT_API_VERSION: &str = "2023-06-01";
/// `list-models` follows `has_more` at most this many pages.
const MAX_MODEL_PAGES: usize = 10;

struct Anthropic;

impl Guest for Anthropic {
    type CompletionStream = StreamedMessage;

    fn info() -> ProviderInfo {
        ProviderInfo {
            name: "anthropic".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            default_model: DEFAULT_MODEL.into(),
            default_base_url: DEFAULT_BASE_URL.into(),
            credential: Some(CredentialSpec {
                header: "x-api-key".into(),
                prefix: String::new(),
                env_var: "ANTHROPIC_API_KEY".into(),
                required: true,
            }),
            capabilities: Capabilities::TOOLS
                | Capabilities::IMAGES
                | Capabilities::STREAMING
                | Capabilities::LIST_MODELS,
        }
    }

    fn complete(request: ChatRequest) -> Result<ChatResponse, ProviderError> {
        let model = config::model(request.options.model.as_deref(), DEFAULT_MODEL);
        let response = post_messages(&request, &model, false)?;
        response::parse_message(&response.bytes()?, &model)
    }

    fn complete_streaming(request: ChatRequest) -> Result<CompletionStream, ProviderError> {
        let model = config::model(request.options.model.as_deref(), DEFAULT_MODEL);
        let response = post_messages(&request, &model, true)?;
        let stream = if response.is_json() {
            let whole = response::parse_message(&response.bytes()?, &model)?;
            ResponseStream::Whole(Some(wire::response_events(&whole)))
        } else {
            let handler = stream::MessageStream::default();
            ResponseStream::Live(Box::new(EventStream::new(response.into_body(), handler)))
        };
        Ok(CompletionStream::new(StreamedMessage(RefCell::new(stream))))
    }

    fn list_models() -> Result<Vec<ModelInfo>, ProviderError> {
        let base = config::endpoint(DEFAULT_BASE_URL, "v1/models?limit=1000");
        let mut models = Vec::new();
        let mut url = base.clone();
        for _ in 0..MAX_MODEL_PAGES {
            let response = checked(with_version(Request::get(url)).send()?, Asked::Other)?;
            let page = response::parse_models(&response.bytes()?)?;
            models.extend(page.models);
            match page.next {
                Some(after) => url = format!("{base}&after_id={after}"),
                None => break,
            }
        }
        Ok(models)
    }
}

/// `POST {base}/v1/messages`, with non-2xx answers turned into errors.
fn post_messages(
    request: &ChatRequest,
    model: &str,
    stream: bool,
) -> Result<Response, ProviderError> {
    let built = request::build(request, model, stream)?;
    for warning in &built.warnings {
        provider_kit::warn(warning);
    }
    let url = config::endpoint(DEFAULT_BASE_URL, "v1/messages");
    let accept = if stream {
        "text/event-stream"
    } else {
        "application/json"
    };
    let request = Request::post_json(url, &built.body).header("accept", accept);
    checked(with_version(request).send()?, Asked::Message)
}

/// Adds the `anthropic-version` header every request needs.
fn with_version(request: Request) -> Request {
    let version = host::get_config(API_VERSION_KEY)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_API_VERSION.into());
    request.header("anthropic-version", &version)
}

/// The response if it is a success, else the error its status and body describe.
fn checked(response: Response, asked: Asked) -> Result<Response, ProviderError> {
    if response.is_success() {
        return Ok(response);
    }
    let status = response.status();
    let headers = response.headers().clone();
    // An error body that cannot be read still leaves the status to go by.
    let body = response.bytes().unwrap_or_default();
    Err(errors::from_response(status, &headers, &body, asked))
}

/// A streamed message as the host pulls it.
struct StreamedMessage(RefCell<ResponseStream<Body, stream::MessageStream>>);

impl GuestCompletionStream for StreamedMessage {
    fn next(&self) -> Result<Option<Vec<StreamEvent>>, ProviderError> {
        self.0.borrow_mut().pull()
    }
}

export!(Anthropic);
