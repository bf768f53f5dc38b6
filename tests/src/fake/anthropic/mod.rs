//! A fake Anthropic Messages API: `POST /v1/messages` and `GET /v1/models`, with
//! `x-api-key: KEY` and `anthropic-version`, errors shaped
//! `{"type": "error", "error": {type, message}}`.
//!
//! ```
//! use wasmhost_e2e::fake::Reply;
//! use wasmhost_e2e::fake::anthropic::{self, FakeAnthropic};
//!
//! let fake = FakeAnthropic::start([anthropic::overloaded(), Reply::chat("Hello!")]);
//! assert!(fake.base_url().starts_with("http://127.0.0.1:"));
//! // … point the provider plugin at fake.base_url() with FakeAnthropic::KEY, run it …
//! fake.assert_no_violations();
//! ```

mod render;
mod validate;

use serde_json::{Value, json};

use super::dialect::{Call, Dialect, Endpoint, Fault};
use super::recorded::Recorded;
use super::reply::{ChatReply, Reply};
use super::server::Fake;

/// The versions of the API the fake accepts in `anthropic-version`.
const VERSIONS: &[&str] = &["2023-06-01", "2023-01-01"];

/// The Anthropic dialect; use it through [`FakeAnthropic`].
#[derive(Debug)]
pub struct Anthropic;

/// A loopback server speaking the Anthropic Messages API.
pub type FakeAnthropic = Fake<Anthropic>;

/// An error reply in Anthropic's shape.
pub fn error(status: u16, error_type: &str, message: &str) -> Reply {
    Reply::status(status, typed_error_body(error_type, message))
}

/// 429 `rate_limit_error` with `retry-after: SECS`.
pub fn rate_limited(retry_after_secs: u64) -> Reply {
    error(
        429,
        "rate_limit_error",
        "Number of request tokens has exceeded your per-minute rate limit.",
    )
    .with_header("retry-after", &retry_after_secs.to_string())
}

/// 401 `authentication_error`, as for a revoked key.
pub fn authentication_error() -> Reply {
    error(401, "authentication_error", "invalid x-api-key")
}

/// 500 `api_error`.
pub fn api_error() -> Reply {
    error(500, "api_error", "Internal server error")
}

/// 529 `overloaded_error`.
pub fn overloaded() -> Reply {
    error(529, "overloaded_error", "Overloaded")
}

/// 400 `invalid_request_error` for a prompt over the context window.
pub fn prompt_too_long() -> Reply {
    error(
        400,
        "invalid_request_error",
        "prompt is too long: 208310 tokens > 200000 maximum",
    )
}

fn typed_error_body(error_type: &str, message: &str) -> Value {
    json!({ "type": "error", "error": { "type": error_type, "message": message } })
}

impl Dialect for Anthropic {
    const NAME: &'static str = "Anthropic";
    const KEY: &'static str = "sk-ant-fake-key";
    const MODELS: &'static [&'static str] = &["claude-sonnet-4-5", "claude-haiku-4-5"];
    const CREDENTIAL_HEADER: &'static str = "x-api-key";
    const REQUEST_ID_HEADER: &'static str = "request-id";

    fn base_url(port: u16) -> String {
        format!("http://127.0.0.1:{port}")
    }

    fn route(method: &str, path: &str) -> Option<Endpoint> {
        match (method, path) {
            ("POST", "/v1/messages") => Some(Endpoint::Chat),
            ("GET", "/v1/models") => Some(Endpoint::Models),
            _ => None,
        }
    }

    fn presented_key(header: &str) -> Option<&str> {
        Some(header)
    }

    fn check_headers(request: &Recorded) -> Vec<(Fault, String)> {
        match request.header("anthropic-version") {
            None => vec![(
                Fault::InvalidRequest,
                "no `anthropic-version` header".to_owned(),
            )],
            Some(version) if !VERSIONS.contains(&version) => vec![(
                Fault::InvalidRequest,
                format!("`anthropic-version: {version}` is not one of {VERSIONS:?}"),
            )],
            Some(_) => Vec::new(),
        }
    }

    fn check_chat(body: &Value) -> Vec<String> {
        validate::check(body)
    }

    fn error_body(fault: Fault, message: &str) -> Value {
        let error_type = match fault {
            Fault::InvalidRequest => "invalid_request_error",
            Fault::Authentication => "authentication_error",
            Fault::NotFound => "not_found_error",
            Fault::Server => "api_error",
        };
        typed_error_body(error_type, message)
    }

    fn error_type_status(error_type: &str) -> u16 {
        match error_type {
            "invalid_request_error" => 400,
            "authentication_error" => 401,
            "permission_error" => 403,
            "not_found_error" => 404,
            "request_too_large" => 413,
            "rate_limit_error" => 429,
            "overloaded_error" => 529,
            _ => 500,
        }
    }

    fn typed_error_body(error_type: &str, message: &str) -> Value {
        typed_error_body(error_type, message)
    }

    fn models(ids: &[String]) -> Value {
        let data: Vec<Value> = ids
            .iter()
            .map(|id| {
                json!({
                    "type": "model",
                    "id": id,
                    "display_name": id,
                    "created_at": "2025-01-01T00:00:00Z",
                })
            })
            .collect();
        json!({
            "data": data,
            "has_more": false,
            "first_id": ids.first(),
            "last_id": ids.last(),
        })
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
