//! A fake OpenAI Chat Completions API: `POST /v1/chat/completions` and `GET /v1/models`,
//! with `authorization: Bearer KEY`, errors shaped `{"error": {message, type, param, code}}`.
//!
//! ```
//! use wasmhost_e2e::fake::Reply;
//! use wasmhost_e2e::fake::openai::{self, FakeOpenAi};
//!
//! let fake = FakeOpenAi::start([openai::rate_limited(1), Reply::chat("Hello!")]);
//! assert!(fake.base_url().ends_with("/v1"));
//! // … point the provider plugin at fake.base_url() with FakeOpenAi::KEY, run it …
//! fake.assert_no_violations();
//! ```

mod render;
mod validate;

use serde_json::{Value, json};

use super::dialect::{Call, Dialect, Endpoint, Fault};
use super::recorded::Recorded;
use super::reply::{ChatReply, Reply};
use super::server::Fake;

/// The OpenAI dialect; use it through [`FakeOpenAi`].
#[derive(Debug)]
pub struct OpenAi;

/// A loopback server speaking the OpenAI Chat Completions API.
pub type FakeOpenAi = Fake<OpenAi>;

/// An error reply in OpenAI's shape.
pub fn error(status: u16, error_type: &str, code: Option<&str>, message: &str) -> Reply {
    Reply::status(
        status,
        json!({ "error": { "message": message, "type": error_type, "param": null, "code": code } }),
    )
}

/// 429 `rate_limit_exceeded` with `retry-after: SECS`.
pub fn rate_limited(retry_after_secs: u64) -> Reply {
    error(
        429,
        "requests",
        Some("rate_limit_exceeded"),
        "Rate limit reached for requests. Please try again later.",
    )
    .with_header("retry-after", &retry_after_secs.to_string())
}

/// 401 `invalid_api_key`, as for a revoked key.
pub fn invalid_api_key() -> Reply {
    error(
        401,
        "invalid_request_error",
        Some("invalid_api_key"),
        "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
    )
}

/// 500 `server_error`.
pub fn server_error() -> Reply {
    error(
        500,
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    )
}

/// 400 `context_length_exceeded`.
pub fn context_length_exceeded() -> Reply {
    let message = "This model's maximum context length is 128000 tokens. However, your \
                   messages resulted in 130000 tokens. Please reduce the length of the messages.";
    Reply::status(
        400,
        json!({ "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }}),
    )
}

fn typed_error_body(error_type: &str, message: &str) -> Value {
    json!({ "error": { "message": message, "type": error_type, "param": null, "code": null } })
}

impl Dialect for OpenAi {
    const NAME: &'static str = "OpenAI";
    const KEY: &'static str = "sk-fake-openai-key";
    const MODELS: &'static [&'static str] = &["gpt-4o-mini", "gpt-4o"];
    const CREDENTIAL_HEADER: &'static str = "authorization";
    const REQUEST_ID_HEADER: &'static str = "x-request-id";

    fn base_url(port: u16) -> String {
        format!("http://127.0.0.1:{port}/v1")
    }

    fn route(method: &str, path: &str) -> Option<Endpoint> {
        match (method, path) {
            ("POST", "/v1/chat/completions") => Some(Endpoint::Chat),
            ("GET", "/v1/models") => Some(Endpoint::Models),
            _ => None,
        }
    }

    fn presented_key(header: &str) -> Option<&str> {
        header.strip_prefix("Bearer ")
    }

    fn check_headers(_request: &Recorded) -> Vec<(Fault, String)> {
        Vec::new()
    }

    fn check_chat(body: &Value) -> Vec<String> {
        validate::check(body)
    }

    fn error_body(fault: Fault, message: &str) -> Value {
        let (error_type, code) = match fault {
            Fault::InvalidRequest | Fault::NotFound => ("invalid_request_error", Value::Null),
            Fault::Authentication => ("invalid_request_error", json!("invalid_api_key")),
            Fault::Server => ("server_error", Value::Null),
        };
        json!({ "error": { "message": message, "type": error_type, "param": null, "code": code } })
    }

    fn error_type_status(error_type: &str) -> u16 {
        match error_type {
            "invalid_request_error" => 400,
            "requests" | "tokens" | "insufficient_quota" => 429,
            _ => 500,
        }
    }

    fn typed_error_body(error_type: &str, message: &str) -> Value {
        typed_error_body(error_type, message)
    }

    fn models(ids: &[String]) -> Value {
        let data: Vec<Value> = ids
            .iter()
            .map(|id| json!({ "id": id, "object": "model", "created": 1_700_000_000, "owned_by": "openai" }))
            .collect();
        json!({ "object": "list", "data": data })
    }

    fn chat_json(reply: &ChatReply, call: &Call) -> Value {
        render::chat_json(reply, call)
    }

    fn chat_events(reply: &ChatReply, call: &Call) -> Vec<String> {
        render::chat_events(reply, call)
    }

    fn stream_error_event(error_type: &str, message: &str) -> String {
        render::stream_error_event(error_type, message)
    }

    fn malformed_events(call: &Call) -> Vec<String> {
        render::malformed_events(call)
    }
}
