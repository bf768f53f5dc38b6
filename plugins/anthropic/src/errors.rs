//! Messages API errors → `provider-error`.
//!
//! Error answers are `{"type":"error","error":{"type","message"},"request_id"}`; the same
//! `error` object arrives mid-stream as an `event: error`. The error `type` decides, the
//! HTTP status only where the type is unknown
//! (<https://docs.anthropic.com/en/api/errors>).

use provider_kit::errors::{self, MAX_MESSAGE_CHARS, shorten};
use provider_kit::http::Headers;
use provider_kit::llm_types::ProviderError;
use serde::Deserialize;

/// The `error` object.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ApiError,
}

impl ApiError {
    /// Reads an error body; one that is not the documented shape keeps its text as the
    /// message and an empty type, leaving the status to decide.
    pub fn parse(body: &[u8]) -> Self {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(ErrorBody { error }) => Self {
                message: shorten(&error.message, MAX_MESSAGE_CHARS),
                kind: error.kind,
            },
            Err(_) => Self {
                kind: String::new(),
                message: errors::body_message(body),
            },
        }
    }

    fn says_context_is_full(&self) -> bool {
        let message = self.message.to_ascii_lowercase();
        [
            "prompt is too long",
            "context limit",
            "context window",
            "context length",
        ]
        .iter()
        .any(|phrase| message.contains(phrase))
    }
}

/// What was asked, for telling a missing model from a wrong URL on `not_found_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// A message request, which names a model.
    Message,
    /// Anything else (the models list).
    Other,
}

/// The error for a non-2xx answer.
pub fn from_response(status: u16, headers: &Headers, body: &[u8], asked: Asked) -> ProviderError {
    classify(
        Some(status),
        &ApiError::parse(body),
        errors::retry_after_ms(headers),
        asked,
    )
}

/// The error for an `event: error` in a stream (whose HTTP status was 200).
pub fn from_stream(error: &ApiError) -> ProviderError {
    classify(None, error, None, Asked::Message)
}

/// The mapping itself; `status` is `None` for an error inside a stream.
pub fn classify(
    status: Option<u16>,
    error: &ApiError,
    retry_after_ms: Option<u64>,
    asked: Asked,
) -> ProviderError {
    let text = match (status, error.kind.as_str()) {
        (Some(status), _) => format!("HTTP {status}: {}", error.message),
        (None, "") => error.message.clone(),
        (None, kind) => format!("{kind}: {}", error.message),
    };
    match error.kind.as_str() {
        "authentication_error" | "permission_error" => ProviderError::Auth(text),
        "not_found_error" if asked == Asked::Message => ProviderError::ModelNotFound(text),
        "not_found_error" | "request_too_large" => ProviderError::BadRequest(text),
        "invalid_request_error" if error.says_context_is_full() => {
            ProviderError::ContextOverflow(text)
        }
        "invalid_request_error" => ProviderError::BadRequest(text),
        "rate_limit_error" => errors::rate_limited(retry_after_ms, text),
        // Anthropic's own status for "overloaded"; 529 also when it comes mid-stream.
        "overloaded_error" => errors::server(Some(status.unwrap_or(529)), text, true),
        "api_error" => errors::server(status, text, true),
        "timeout_error" => ProviderError::Timeout(text),
        // Waiting does not add credit.
        "billing_error" => ProviderError::Other(text),
        _ => match status {
            Some(status) => errors::from_status(status, &error.message, retry_after_ms),
            None => errors::server(None, text, true),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use provider_kit::llm_types::{RateLimit, ServerError};

    fn respond(status: u16, headers: &[(&str, &str)], kind: &str, message: &str) -> ProviderError {
        let body = serde_json::json!({
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
        });
        let headers: Headers = headers.iter().copied().collect();
        from_response(
            status,
            &headers,
            body.to_string().as_bytes(),
            Asked::Message,
        )
    }

    #[test]
    fn each_documented_error_type() {
        assert_eq!(
            respond(401, &[], "authentication_error", "invalid x-api-key"),
            ProviderError::Auth("HTTP 401: invalid x-api-key".into())
        );
        assert!(matches!(
            respond(403, &[], "permission_error", "no"),
            ProviderError::Auth(_)
        ));
        assert_eq!(
            respond(404, &[], "not_found_error", "model: claude-nope"),
            ProviderError::ModelNotFound("HTTP 404: model: claude-nope".into())
        );
        assert_eq!(
            respond(
                429,
                &[("retry-after", "7")],
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit"
            ),
            ProviderError::RateLimited(RateLimit {
                retry_after_ms: Some(7000),
                message:
                    "HTTP 429: Number of request tokens has exceeded your per-minute rate limit"
                        .into(),
            })
        );
        assert_eq!(
            respond(529, &[], "overloaded_error", "Overloaded"),
            ProviderError::Server(ServerError {
                status: Some(529),
                message: "HTTP 529: Overloaded".into(),
                retryable: true
            })
        );
        assert!(matches!(
            respond(500, &[], "api_error", "Internal server error"),
            ProviderError::Server(ServerError {
                status: Some(500),
                retryable: true,
                ..
            })
        ));
        assert!(matches!(
            respond(413, &[], "request_too_large", "too big"),
            ProviderError::BadRequest(_)
        ));
        assert!(matches!(
            respond(402, &[], "billing_error", "credit balance is too low"),
            ProviderError::Other(_)
        ));
        assert!(matches!(
            respond(504, &[], "timeout_error", "timed out"),
            ProviderError::Timeout(_)
        ));
    }

    #[test]
    fn invalid_requests_about_the_context_window_are_overflow() {
        for message in [
            "prompt is too long: 210000 tokens > 200000 maximum",
            "input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000, decrease input length or `max_tokens` and try again",
        ] {
            assert!(
                matches!(
                    respond(400, &[], "invalid_request_error", message),
                    ProviderError::ContextOverflow(_)
                ),
                "{message}"
            );
        }
        assert!(matches!(
            respond(
                400,
                &[],
                "invalid_request_error",
                "messages: roles must alternate between \"user\" and \"assistant\""
            ),
            ProviderError::BadRequest(_)
        ));
    }

    #[test]
    fn unknown_shapes_fall_back_on_the_status() {
        let headers = Headers::new();
        assert!(matches!(
            from_response(502, &headers, b"<html>Bad Gateway</html>", Asked::Message),
            ProviderError::Server(ServerError {
                status: Some(502),
                retryable: true,
                ..
            })
        ));
        assert!(matches!(
            from_response(404, &headers, b"404 page not found", Asked::Message),
            ProviderError::BadRequest(_)
        ));
        let body = br#"{"type":"error","error":{"type":"not_found_error","message":"Not found"}}"#;
        assert!(matches!(
            from_response(404, &headers, body, Asked::Other),
            ProviderError::BadRequest(_)
        ));
    }

    #[test]
    fn stream_errors() {
        let overloaded = ApiError {
            kind: "overloaded_error".into(),
            message: "Overloaded".into(),
        };
        assert_eq!(
            from_stream(&overloaded),
            ProviderError::Server(ServerError {
                status: Some(529),
                message: "overloaded_error: Overloaded".into(),
                retryable: true
            })
        );
        let limited = ApiError {
            kind: "rate_limit_error".into(),
            message: "slow".into(),
        };
        assert!(matches!(
            from_stream(&limited),
            ProviderError::RateLimited(RateLimit {
                retry_after_ms: None,
                ..
            })
        ));
        let unknown = ApiError {
            kind: "new_error".into(),
            message: "?".into(),
        };
        assert!(matches!(
            from_stream(&unknown),
            ProviderError::Server(ServerError {
                status: None,
                retryable: true,
                ..
            })
        ));
    }
}
