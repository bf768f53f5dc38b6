//! Faults: retries, fallbacks, errors a person can act on, and secrets kept off screen.

use wasmhost_e2e::fake::Reply;
use wasmhost_e2e::fake::anthropic::{self, FakeAnthropic};
use wasmhost_e2e::fake::openai::{self, FakeOpenAi};

use super::*;
use crate::support::{stderr, stdout};

#[test]
fn rate_limits_and_server_errors_are_retried() {
    let fake = FakeOpenAi::start(vec![
        openai::rate_limited(1),
        openai::server_error(),
        Reply::chat("finally"),
    ]);
    let url = fake.base_url();
    let r = run(
        &["--plugin", "openai", "--base-url", &url, "hi"],
        &[OPENAI_KEY],
    );
    assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
    assert_eq!(r.final_text(), "finally");
    let retries = r.of_type("retry");
    assert_eq!(retries.len(), 2, "{retries:#?}");
    // Retry-After: 1 is honoured exactly.
    assert_eq!(retries[0]["delay_ms"], 1000);
    assert!(
        retries[0]["error"]
            .as_str()
            .unwrap_or("")
            .contains("rate limited")
    );
    let message = &r.of_type("message")[0];
    assert_eq!(message["retries"], 2);
}

#[test]
fn auth_errors_end_the_run_without_retrying() {
    let fake = FakeOpenAi::start(vec![openai::invalid_api_key()]);
    let url = fake.base_url();
    let r = run(
        &["--plugin", "openai", "--base-url", &url, "hi"],
        &[OPENAI_KEY],
    );
    assert_eq!(r.code(), Some(1));
    assert!(r.of_type("retry").is_empty());
    let errors = r.of_type("error");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("authentication failed"),
        "{errors:#?}"
    );
    assert_eq!(fake.chat_requests().len(), 1);
}

#[test]
fn dropped_and_slow_streams_are_retried() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("wasmhost.toml"),
        "[plugins.openai]\ntimeout_secs = 1\n",
    )
    .expect("policy");
    let fake = FakeOpenAi::start(vec![
        Reply::cut_after(3, Reply::chat("this stream breaks off in the middle")),
        Reply::slow(std::time::Duration::from_secs(4), Reply::chat("too late")),
        Reply::chat("whole answer"),
    ]);
    let url = fake.base_url();
    let r = run_in(
        &dir,
        &["--plugin", "openai", "--base-url", &url, "hi"],
        &[OPENAI_KEY],
    );
    assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
    assert_eq!(r.final_text(), "whole answer");
    let retries = r.of_type("retry");
    assert_eq!(retries.len(), 2, "{retries:#?}");
    assert!(
        retries[1]["error"].as_str().unwrap_or("").contains("time"),
        "{retries:#?}"
    );
}

#[test]
fn malformed_responses_are_errors_not_nonsense() {
    for stream in [true, false] {
        let fake = FakeOpenAi::start(vec![Reply::malformed()]);
        let url = fake.base_url();
        let mut args = vec![
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--max-retries",
            "0",
            "hi",
        ];
        if !stream {
            args.insert(0, "--no-stream");
        }
        let r = run(&args, &[OPENAI_KEY]);
        assert_eq!(r.code(), Some(1), "stream={stream}: {}", stderr(&r.output));
        assert!(!r.of_type("error").is_empty());
    }
}

#[test]
fn fallback_takes_over_and_gets_only_its_own_key() {
    let primary = FakeOpenAi::start(vec![openai::server_error(), openai::server_error()]);
    let fallback = FakeAnthropic::start(vec![Reply::chat("served by the fallback")]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("wasmhost.toml"),
        format!(
            "[plugins.anthropic]\nbase_url = \"{}\"\n\
             [plugins.anthropic.secret]\nenv = \"ANTHROPIC_API_KEY\"\n",
            fallback.base_url()
        ),
    )
    .expect("policy");
    let url = primary.base_url();
    let r = run_in(
        &dir,
        &[
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--fallback",
            "anthropic",
            "--max-retries",
            "1",
            "hi",
        ],
        &[OPENAI_KEY, ANTHROPIC_KEY],
    );
    assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
    assert_eq!(r.final_text(), "served by the fallback");
    let switch = r.of_type("fallback");
    assert_eq!(switch[0]["from"], "openai");
    assert_eq!(switch[0]["to"], "anthropic");
    fallback.assert_no_violations();
    let request = &fallback.chat_requests()[0];
    assert!(
        request.header("authorization").is_none(),
        "the OpenAI key must not reach another host"
    );
    assert_eq!(r.of_type("message")[0]["provider"], "anthropic");
}

#[test]
fn a_missing_key_or_a_dead_server_is_explained() {
    let r = run(
        &[
            "--plugin",
            "openai",
            "--base-url",
            "https://api.openai.com/v1",
            "hi",
        ],
        &[],
    );
    assert_eq!(r.code(), Some(1));
    assert!(
        stderr(&r.output).contains("no credential for openai: OPENAI_API_KEY is not set"),
        "{}",
        stderr(&r.output)
    );

    let r = run(
        &[
            "--plugin",
            "openai",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--max-retries",
            "0",
            "hi",
        ],
        &[OPENAI_KEY],
    );
    assert_eq!(r.code(), Some(1));
    let message = r.of_type("error")[0]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        message.contains("127.0.0.1:9") && message.contains("refused"),
        "{message}"
    );
}

#[test]
fn a_key_echoed_by_the_api_is_redacted() {
    let fake = FakeOpenAi::start(vec![openai::error(
        401,
        "invalid_request_error",
        Some("invalid_api_key"),
        &format!("Incorrect API key provided: {}", FakeOpenAi::KEY),
    )]);
    let url = fake.base_url();
    let r = run(
        &["--plugin", "openai", "--base-url", &url, "hi"],
        &[OPENAI_KEY],
    );
    assert_eq!(r.code(), Some(1));
    let all = format!("{}{}", stdout(&r.output), stderr(&r.output));
    assert!(!all.contains(FakeOpenAi::KEY), "{all}");
    assert!(all.contains("[REDACTED]"), "{all}");
}

#[test]
fn anthropic_overload_is_retried_and_mid_stream_errors_are_reported() {
    let fake = FakeAnthropic::start(vec![
        anthropic::overloaded(),
        Reply::chat("a partial answer").stream_error_after(2, "overloaded_error", "Overloaded"),
        Reply::chat("recovered"),
    ]);
    let url = fake.base_url();
    let r = run(
        &["--plugin", "anthropic", "--base-url", &url, "hi"],
        &[ANTHROPIC_KEY],
    );
    assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
    assert_eq!(r.final_text(), "recovered");
    assert_eq!(r.of_type("retry").len(), 2);
    fake.assert_no_violations();
}

#[test]
fn an_error_inside_a_200_answer_is_not_called_an_http_error() {
    // OpenRouter answers HTTP 200 with `{"error": {"code": 400, ...}}` for upstream errors.
    let fake = FakeOpenAi::start(vec![Reply::status(
        200,
        serde_json::json!({ "error": { "code": 400, "message": "google/gemini-x is not a valid model ID" } }),
    )]);
    let url = fake.base_url();
    let r = run(
        &[
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--no-stream",
            "hi",
        ],
        &[OPENAI_KEY],
    );
    assert_eq!(r.code(), Some(1));
    let message = r.of_type("error")[0]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        message
            .contains("error 400 in an HTTP 200 answer: google/gemini-x is not a valid model ID"),
        "{message}"
    );
    assert!(!message.contains("HTTP 400"), "{message}");
    // A bad request ends the turn: no retries.
    assert!(r.of_type("retry").is_empty());
}
