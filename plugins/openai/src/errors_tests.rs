use provider_kit::llm_types::{RateLimit, ServerError};

use super::*;

fn respond(status: u16, headers: &[(&str, &str)], body: &str) -> ProviderError {
    let headers: Headers = headers.iter().copied().collect();
    from_response(status, &headers, body.as_bytes(), Some("gpt-4o-mini"))
}

fn openai_body(message: &str, kind: &str, code: Option<&str>) -> String {
    serde_json::json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
        .to_string()
}

#[test]
fn auth_failures() {
    let body = openai_body(
        "Incorrect API key provided: sk-abc. You can find your API key at https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        Some("invalid_api_key"),
    );
    match respond(401, &[], &body) {
        ProviderError::Auth(m) => assert!(m.starts_with("HTTP 401: Incorrect API key"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(respond(403, &[], "{}"), ProviderError::Auth(_)));
}

#[test]
fn a_missing_model_is_told_apart_from_a_wrong_path() {
    let openai = openai_body(
        "The model `gpt-5-nope` does not exist or you do not have access to it.",
        "invalid_request_error",
        Some("model_not_found"),
    );
    assert!(matches!(
        respond(404, &[], &openai),
        ProviderError::ModelNotFound(_)
    ));
    // Ollama: the message names the model.
    let ollama = openai_body(
        "model \"gpt-4o-mini\" not found, try pulling it first",
        "api_error",
        None,
    );
    assert!(matches!(
        respond(404, &[], &ollama),
        ProviderError::ModelNotFound(_)
    ));
    // vLLM: top-level fields, numeric code.
    let vllm = r#"{"object":"error","message":"The model `gpt-4o-mini` does not exist.","type":"NotFoundError","param":null,"code":404}"#;
    assert!(matches!(
        respond(404, &[], vllm),
        ProviderError::ModelNotFound(_)
    ));
    // A base URL missing its /v1: a 404 page about nothing we asked for.
    assert_eq!(
        respond(404, &[], "404 page not found"),
        ProviderError::BadRequest("HTTP 404: 404 page not found".into())
    );
}

#[test]
fn rate_limits_carry_the_wait_and_quota_is_not_retried() {
    let body = openai_body(
        "Rate limit reached for gpt-4o-mini in organization org-x on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.",
        "requests",
        Some("rate_limit_exceeded"),
    );
    assert_eq!(
        respond(
            429,
            &[("retry-after", "20"), ("retry-after-ms", "19500")],
            &body
        ),
        ProviderError::RateLimited(RateLimit {
            retry_after_ms: Some(19_500),
            message: format!("HTTP 429: {}", ApiError::parse(body.as_bytes()).message),
        })
    );
    let quota = openai_body(
        "You exceeded your current quota, please check your plan and billing details.",
        "insufficient_quota",
        Some("insufficient_quota"),
    );
    match respond(429, &[("retry-after", "1")], &quota) {
        ProviderError::Other(m) => assert!(m.contains("exceeded your current quota"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn context_overflow_by_code_or_by_message() {
    let openai = openai_body(
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
        "invalid_request_error",
        Some("context_length_exceeded"),
    );
    assert!(matches!(
        respond(400, &[], &openai),
        ProviderError::ContextOverflow(_)
    ));
    let vllm = r#"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.","type":"BadRequestError","param":null,"code":400}"#;
    assert!(matches!(
        respond(400, &[], vllm),
        ProviderError::ContextOverflow(_)
    ));
    let llama_cpp = r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5000,"n_ctx":4096}}"#;
    assert!(matches!(
        respond(400, &[], llama_cpp),
        ProviderError::ContextOverflow(_)
    ));
    let other = openai_body(
        "Invalid value for 'temperature'",
        "invalid_request_error",
        None,
    );
    assert!(matches!(
        respond(400, &[], &other),
        ProviderError::BadRequest(_)
    ));
    assert!(matches!(
        respond(422, &[], "{}"),
        ProviderError::BadRequest(_)
    ));
}

#[test]
fn server_errors_are_retryable() {
    let body = openai_body(
        "The server had an error while processing your request.",
        "server_error",
        None,
    );
    assert_eq!(
        respond(500, &[], &body),
        ProviderError::Server(ServerError {
            status: Some(500),
            message: "HTTP 500: The server had an error while processing your request.".into(),
            retryable: true,
        })
    );
    assert!(matches!(
        respond(502, &[], "<html><h1>502 Bad Gateway</h1></html>"),
        ProviderError::Server(ServerError {
            status: Some(502),
            retryable: true,
            ..
        })
    ));
}

#[test]
fn stream_errors_go_by_type_code_or_upstream_status() {
    let parse = |json: &str| {
        let value: Value = serde_json::from_str(json).expect("json");
        from_stream(
            &ApiError::from_json(&value).expect("an error"),
            Some("gpt-4o-mini"),
        )
    };
    assert!(matches!(
        parse(
            r#"{"error":{"message":"The server had an error","type":"server_error","code":null}}"#
        ),
        ProviderError::Server(ServerError {
            status: None,
            retryable: true,
            ..
        })
    ));
    assert!(matches!(
        parse(r#"{"error":{"message":"Rate limit","type":"tokens","code":"rate_limit_exceeded"}}"#),
        ProviderError::RateLimited(_)
    ));
    // OpenRouter: the upstream status as a number.
    assert!(matches!(
        parse(r#"{"error":{"code":502,"message":"Provider returned error"}}"#),
        ProviderError::Server(ServerError {
            status: Some(502),
            ..
        })
    ));
    assert!(matches!(
        parse(r#"{"error":{"code":429,"message":"Rate limited upstream"}}"#),
        ProviderError::RateLimited(_)
    ));
    // Classified by the upstream code, but never reported as the HTTP status it was not.
    match parse(r#"{"error":{"code":400,"message":"Invalid model id"}}"#) {
        ProviderError::BadRequest(m) => {
            assert_eq!(m, "error 400 in an HTTP 200 answer: Invalid model id");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse(r#"{"error":"boom"}"#),
        ProviderError::Server(_)
    ));
    assert_eq!(
        ApiError::from_json(&serde_json::json!({"choices": []})),
        None
    );
}
