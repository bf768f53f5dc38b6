use super::*;

#[test]
fn a_text_answer() {
    let body = br#"{
      "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
      "object": "chat.completion",
      "created": 1741569952,
      "model": "gpt-4o-mini-2024-07-18",
      "choices": [{
        "index": 0,
        "message": {"role": "assistant", "content": "Hello! How can I help?", "refusal": null, "annotations": []},
        "logprobs": null,
        "finish_reason": "stop"
      }],
      "usage": {
        "prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0}
      },
      "service_tier": "default",
      "system_fingerprint": "fp_06737a9306"
    }"#;
    let response = parse_completion(body, "gpt-4o-mini").expect("parses");
    assert_eq!(response.model, "gpt-4o-mini-2024-07-18");
    assert_eq!(response.finish_reason, FinishReason::Stop);
    assert_eq!(
        response.message.content,
        [ContentPart::Text("Hello! How can I help?".into())]
    );
    assert!(response.message.tool_calls.is_empty());
    assert_eq!(
        response.usage,
        Some(Usage {
            input_tokens: 19,
            output_tokens: 10,
            cached_input_tokens: Some(0)
        })
    );
}

#[test]
fn tool_calls_with_null_content() {
    let body = br#"{
      "id": "chatcmpl-abc", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
      "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": null,
        "tool_calls": [
          {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
          {"id": "call_b", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}
        ]}}],
      "usage": {"prompt_tokens": 80, "completion_tokens": 40, "total_tokens": 120,
                "prompt_tokens_details": {"cached_tokens": 64}}
    }"#;
    let response = parse_completion(body, "gpt-4o-mini").expect("parses");
    assert_eq!(response.finish_reason, FinishReason::ToolCalls);
    assert!(response.message.content.is_empty());
    assert_eq!(
        response.message.tool_calls,
        [
            ToolCall {
                id: "call_a".into(),
                name: "get_weather".into(),
                arguments: r#"{"city":"Paris"}"#.into()
            },
            ToolCall {
                id: "call_b".into(),
                name: "get_weather".into(),
                arguments: r#"{"city":"Rome"}"#.into()
            },
        ]
    );
    assert_eq!(response.usage.and_then(|u| u.cached_input_tokens), Some(64));
}

#[test]
fn sparse_answers_from_local_servers() {
    // Ollama: "stop" with tool calls, no usage details, object arguments, no id.
    let body = br#"{"model":"llama3.2","choices":[{"index":0,"message":{"role":"assistant","content":"",
      "tool_calls":[{"type":"function","function":{"name":"now","arguments":{"tz":"UTC"}}}]},"finish_reason":"stop"}],
      "usage":{"prompt_tokens":5,"completion_tokens":3}}"#;
    let response = parse_completion(body, "llama3.2").expect("parses");
    assert_eq!(response.finish_reason, FinishReason::ToolCalls);
    assert_eq!(response.message.tool_calls[0].id, "call_0");
    assert_eq!(response.message.tool_calls[0].arguments, r#"{"tz":"UTC"}"#);
    assert_eq!(response.usage.map(|u| u.cached_input_tokens), Some(None));

    let minimal = br#"{"choices":[{"message":{"content":"hi"}}]}"#;
    let response = parse_completion(minimal, "local").expect("parses");
    assert_eq!(response.model, "local");
    assert_eq!(response.finish_reason, FinishReason::Stop);
    assert_eq!(response.usage, None);
}

#[test]
fn a_refusal_is_the_text() {
    let body = br#"{"model":"gpt-4o","choices":[{"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}"#;
    let response = parse_completion(body, "gpt-4o").expect("parses");
    assert_eq!(
        response.message.content,
        [ContentPart::Text("I can't help with that.".into())]
    );
}

#[test]
fn finish_reasons() {
    assert_eq!(finish_reason(Some("stop"), false), FinishReason::Stop);
    assert_eq!(finish_reason(Some("length"), true), FinishReason::Length);
    assert_eq!(
        finish_reason(Some("tool_calls"), true),
        FinishReason::ToolCalls
    );
    assert_eq!(
        finish_reason(Some("function_call"), false),
        FinishReason::ToolCalls
    );
    assert_eq!(
        finish_reason(Some("content_filter"), false),
        FinishReason::ContentFilter
    );
    assert_eq!(finish_reason(None, false), FinishReason::Stop);
    assert_eq!(finish_reason(Some("error"), false), FinishReason::Other);
}

#[test]
fn bad_answers_are_errors_not_panics() {
    assert!(matches!(
        parse_completion(b"<html>oops</html>", "m"),
        Err(ProviderError::Other(m)) if m.contains("<html>oops</html>")
    ));
    assert!(matches!(
        parse_completion(br#"{"choices":[]}"#, "m"),
        Err(ProviderError::Other(m)) if m.contains("no choices")
    ));
    assert!(matches!(
        parse_completion(br#"{"choices":"x"}"#, "m"),
        Err(ProviderError::Other(_))
    ));
    // 200 with an error body (some proxies).
    assert!(matches!(
        parse_completion(
            br#"{"error":{"message":"upstream overloaded","code":503}}"#,
            "m"
        ),
        Err(ProviderError::Server(_))
    ));
}

#[test]
fn models_list() {
    let openai = br#"{"object":"list","data":[
      {"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"},
      {"id":"text-embedding-3-small","object":"model","created":1705948997,"owned_by":"system"}]}"#;
    assert_eq!(
        parse_models(openai).expect("parses"),
        [
            ModelInfo {
                id: "gpt-4o-mini".into(),
                context_window: None
            },
            ModelInfo {
                id: "text-embedding-3-small".into(),
                context_window: None
            },
        ]
    );
    let vllm = br#"{"object":"list","data":[{"id":"Qwen/Qwen2.5-7B-Instruct","object":"model","max_model_len":32768}]}"#;
    assert_eq!(
        parse_models(vllm).expect("parses")[0].context_window,
        Some(32768)
    );
    let groq = br#"{"object":"list","data":[{"id":"llama-3.3-70b-versatile","context_window":131072},{"no_id":1}]}"#;
    assert_eq!(parse_models(groq).expect("parses").len(), 1);
    assert!(parse_models(br#"{"models":[]}"#).is_err());
}

#[test]
fn mistral_thinking_parts_and_reasoning_fields_are_not_the_answer() {
    let body = br#"{
      "id": "c1", "object": "chat.completion", "created": 1, "model": "magistral-small-2509",
      "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
        "content": [
          {"type": "thinking", "thinking": [{"type": "text", "text": "Six sevens..."}]},
          {"type": "text", "text": "42"}
        ]}}],
      "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}
    }"#;
    provider_kit::testing::take_warnings();
    let response = parse_completion(body, "magistral-small-latest").expect("parses");
    assert_eq!(response.message.content, [ContentPart::Text("42".into())]);
    assert_eq!(response.reasoning.as_deref(), Some("Six sevens..."));
    assert!(provider_kit::testing::take_warnings().is_empty());

    // DeepSeek / llama.cpp: reasoning in its own field, the budget spent before any answer.
    let body = br#"{
      "id": "c2", "object": "chat.completion", "created": 1, "model": "deepseek-reasoner",
      "choices": [{"index": 0, "finish_reason": "length", "message": {"role": "assistant",
        "content": "", "reasoning_content": "Let me think"}}]
    }"#;
    let response = parse_completion(body, "deepseek-reasoner").expect("parses");
    assert!(response.message.content.is_empty());
    assert_eq!(response.reasoning.as_deref(), Some("Let me think"));

    assert_eq!(response.finish_reason, FinishReason::Length);
    let warnings = provider_kit::testing::take_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("12 characters of reasoning"),
        "{warnings:?}"
    );
    // A gateway that fills both fields sends the text once, not twice.
    let body = br#"{
      "id": "c3", "object": "chat.completion", "created": 1, "model": "m",
      "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
        "content": "8", "reasoning_content": "2 cubed", "reasoning": "2 cubed"}}]
    }"#;
    let response = parse_completion(body, "m").expect("parses");
    assert_eq!(response.reasoning.as_deref(), Some("2 cubed"));
}
