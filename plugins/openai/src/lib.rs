//! The `openai` provider plugin: the Chat Completions API, against OpenAI or any server that
//! speaks it (Ollama's `/v1`, llama.cpp's server, vLLM, LM Studio, OpenRouter, Groq): point
//! `base-url` at it.
//!
//! ```toml
//! [plugins.openai]
//! allowed_hosts = ["127.0.0.1:11434"]
//! config = { base-url = "http://127.0.0.1:11434/v1", model = "llama3.2" }
//! ```
//!
//! The host adds the `Authorization: Bearer …` header itself (from `OPENAI_API_KEY`); this
//! plugin never sees or sets it.
//!
//! Layout: this file is the WIT glue and the only code that sends requests; `request`
//! builds the JSON body, `response` reads answers, `stream` is the streaming state
//! machine, `errors` maps error answers. All four are plain functions tested natively
//! (`cargo test -p openai`) on recorded API transcripts in `fixtures/`.

mod errors;
mod request;
mod response;
mod stream;

use std::cell::RefCell;

use exports::wasmhost::plugin::provider::{CompletionStream, Guest, GuestCompletionStream};
use provider_kit::config;
use provider_kit::http::{Body, Request, Response};
use provider_kit::llm_types::{
    Capabilities, ChatRequest, ChatResponse, CredentialSpec, ModelInfo, ProviderError,
    ProviderInfo, StreamEvent,
};
use provider_kit::stream::{EventStream, ResponseStream};
use provider_kit::wire;

// The world's bindings, sharing provider-kit's types.
provider_kit::provider_world!();

const DEFAULT_MODEL: &str = "gpt-4o-mini";
const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

struct OpenAi;

impl Guest for OpenAi {
    type CompletionStream = ChatCompletionStream;

    fn info() -> ProviderInfo {
        ProviderInfo {
            name: "openai".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            default_model: DEFAULT_MODEL.into(),
            default_base_url: DEFAULT_BASE_URL.into(),
            credential: Some(CredentialSpec {
                header: "authorization".into(),
                prefix: "Bearer ".into(),
                env_var: "OPENAI_API_KEY".into(),
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
        let response = post_chat(&request, &model, false)?;
        response::parse_completion(&response.bytes()?, &model)
    }

    fn complete_streaming(request: ChatRequest) -> Result<CompletionStream, ProviderError> {
        let model = config::model(request.options.model.as_deref(), DEFAULT_MODEL);
        let response = post_chat(&request, &model, true)?;
        let stream = if response.is_json() {
            let whole = response::parse_completion(&response.bytes()?, &model)?;
            ResponseStream::Whole(Some(wire::response_events(&whole)))
        } else {
            let handler = stream::ChatStream::new(&model);
            ResponseStream::Live(Box::new(EventStream::new(response.into_body(), handler)))
        };
        Ok(CompletionStream::new(ChatCompletionStream(RefCell::new(
            stream,
        ))))
    }

    fn list_models() -> Result<Vec<ModelInfo>, ProviderError> {
        let url = config::endpoint(DEFAULT_BASE_URL, "models");
        let response = checked(Request::get(url).send()?, None)?;
        response::parse_models(&response.bytes()?)
    }
}

/// `POST {base}/chat/completions`, with non-2xx answers turned into errors.
fn post_chat(request: &ChatRequest, model: &str, stream: bool) -> Result<Response, ProviderError> {
    let built = request::build(request, model, stream)?;
    for warning in &built.warnings {
        provider_kit::warn(warning);
    }
    let url = config::endpoint(DEFAULT_BASE_URL, "chat/completions");
    let accept = if stream {
        "text/event-stream"
    } else {
        "application/json"
    };
    let response = Request::post_json(url, &built.body)
        .header("accept", accept)
        .send()?;
    checked(response, Some(model))
}

/// The response if it is a success, else the error its status and body describe.
fn checked(response: Response, model: Option<&str>) -> Result<Response, ProviderError> {
    if response.is_success() {
        return Ok(response);
    }
    let status = response.status();
    let headers = response.headers().clone();
    // An error body that cannot be read still leaves the status to go by.
    let body = response.bytes().unwrap_or_default();
    Err(errors::from_response(status, &headers, &body, model))
}

/// A streamed completion as the host pulls it.
struct ChatCompletionStream(RefCell<ResponseStream<Body, stream::ChatStream>>);

impl GuestCompletionStream for ChatCompletionStream {
    fn next(&self) -> Result<Option<Vec<StreamEvent>>, ProviderError> {
        self.0.borrow_mut().pull()
    }
}

export!(OpenAi);
