//! Chat Completions errors → `provider-error`.
//!
//! OpenAI answers `{"error":{"message","type","code","param"}}`; compatible servers vary:
//! vLLM puts `message`/`type`/`code` at the top level, some send `{"error":"text"}`, and
//! OpenRouter puts the upstream HTTP status in a numeric `code`. All of them go through
//! [`ApiError::parse`], then [`classify`].

use provider_kit::errors::{self, MAX_MESSAGE_CHARS, shorten};
use provider_kit::http::Headers;
use provider_kit::llm_types::ProviderError;
use serde_json::Value;

/// What an error body says, whichever shape it came in.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ApiError {
    pub message: String,
    /// `type`, e.g. `invalid_request_error`.
    pub kind: Option<String>,
    /// `code`, e.g. `context_length_exceeded`; a number (an HTTP status) as its digits.
    pub code: Option<String>,
}

impl ApiError {
    /// Reads an error body; anything that is not one of the known shapes becomes the
    /// message (shortened).
    pub fn parse(body: &[u8]) -> Self {
        match serde_json::from_slice::<Value>(body) {
            Ok(json) => Self::from_json(&json).unwrap_or_else(|| Self::text(body)),
            Err(_) => Self::text(body),
        }
    }

    /// The `error` member of a stream chunk, or an error body's JSON.
    pub fn from_json(json: &Value) -> Option<Self> {
        let object = match json.get("error") {
            Some(Value::String(message)) => {
                return Some(Self {
                    message: shorten(message, MAX_MESSAGE_CHARS),
                    ..Self::default()
                });
            }
            Some(error @ Value::Object(_)) => error,
            _ if json.get("message").is_some() => json,
            _ => return None,
        };
        let string = |key: &str| match object.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        Some(Self {
            message: shorten(
                string("message").as_deref().unwrap_or("(no message)"),
                MAX_MESSAGE_CHARS,
            ),
            kind: string("type"),
            code: string("code"),
        })
    }

    fn text(body: &[u8]) -> Self {
        Self {
            message: errors::body_message(body),
            ..Self::default()
        }
    }

    fn is(&self, name: &str) -> bool {
        self.kind.as_deref() == Some(name) || self.code.as_deref() == Some(name)
    }

    /// The upstream HTTP status a numeric `code` carries (OpenRouter, vLLM).
    fn status_code(&self) -> Option<u16> {
        self.code
            .as_deref()
            .and_then(|c| c.parse().ok())
            .filter(|s| (400..600).contains(s))
    }

    fn says_context_is_full(&self) -> bool {
        if self.is("context_length_exceeded") || self.is("exceed_context_size_error") {
            return true;
        }
        let message = self.message.to_ascii_lowercase();
        [
            "maximum context length",
            "context length",
            "context size",
            "context window",
        ]
        .iter()
        .any(|phrase| message.contains(phrase))
    }

    fn says_model_is_missing(&self, model: Option<&str>) -> bool {
        if self.is("model_not_found") {
            return true;
        }
        let message = self.message.to_ascii_lowercase();
        model.is_some_and(|m| !m.is_empty() && message.contains(&m.to_ascii_lowercase()))
            || (message.contains("model")
                && (message.contains("not found") || message.contains("does not exist")))
    }
}

/// The error for a non-2xx answer. `model` is the model the request named, if it named one
/// (a 404 that mentions it is `model-not-found`).
pub fn from_response(
    status: u16,
    headers: &Headers,
    body: &[u8],
    model: Option<&str>,
) -> ProviderError {
    let error = ApiError::parse(body);
    classify(Some(status), &error, errors::retry_after_ms(headers), model)
}

/// The error for a stream chunk carrying `{"error": ...}`.
pub fn from_stream(error: &ApiError, model: Option<&str>) -> ProviderError {
    classify(None, error, None, model)
}

/// The mapping itself; `status` is `None` for an error inside a 200 stream.
pub fn classify(
    status: Option<u16>,
    error: &ApiError,
    retry_after_ms: Option<u64>,
    model: Option<&str>,
) -> ProviderError {
    // A proxy (OpenRouter) may answer HTTP 200 with an error whose `code` is the upstream
    // status: classified by it, but not reported as if it were the HTTP status.
    let (status, label) = match (status, error.status_code()) {
        (Some(status), _) => (status, format!("HTTP {status}")),
        (None, Some(code)) => (code, format!("error {code} in an HTTP 200 answer")),
        (None, None) => return classify_by_type(error),
    };
    let text = format!("{label}: {}", error.message);
    match status {
        // Not retryable: waiting does not add credit.
        429 if error.is("insufficient_quota") => ProviderError::Other(text),
        400 | 413 | 422 if error.says_context_is_full() => ProviderError::ContextOverflow(text),
        404 if error.says_model_is_missing(model) => ProviderError::ModelNotFound(text),
        _ => errors::by_status(status, text, retry_after_ms),
    }
}

/// A stream error with no status: go by its `type`/`code`. Unknown ones are treated as a
/// retryable server failure, since the request itself was accepted.
fn classify_by_type(error: &ApiError) -> ProviderError {
    let message = error.message.clone();
    if error.says_context_is_full() {
        ProviderError::ContextOverflow(message)
    } else if error.is("insufficient_quota") {
        ProviderError::Other(message)
    } else if error.is("rate_limit_exceeded") || error.is("rate_limit_error") {
        errors::rate_limited(None, message)
    } else if error.is("invalid_request_error") {
        ProviderError::BadRequest(message)
    } else if error.is("authentication_error") || error.is("invalid_api_key") {
        ProviderError::Auth(message)
    } else if error.is("model_not_found") {
        ProviderError::ModelNotFound(message)
    } else {
        errors::server(None, message, true)
    }
}

#[cfg(test)]
#[path = "errors_tests.rs"]
mod tests;
