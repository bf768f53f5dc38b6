//! Whole conversations: tool calls, streaming or not, images, resume, chat.

use serde_json::Value;
use wasmhost_e2e::fake::Reply;
use wasmhost_e2e::fake::anthropic::FakeAnthropic;
use wasmhost_e2e::fake::openai::FakeOpenAi;

use super::*;
use crate::support::{stderr, stdout};

#[test]
fn openai_streams_a_run_with_tool_calls() {
    let fake = FakeOpenAi::start(openai_skill_script());
    let url = fake.base_url();
    let r = run(
        &[
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--skills",
            &skills(),
            "How far is 10 km in miles?",
        ],
        &[OPENAI_KEY],
    );
    assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
    fake.assert_no_violations();
    assert_eq!(r.final_text(), "10 km is 6.21 miles.");

    let calls: Vec<&str> = r
        .of_type("tool_call")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(calls, ["list_skills", "get_skill", "read_file_in_skill"]);
    let results = r.of_type("tool_result");
    assert!(results.iter().all(|t| t["ok"] == true), "{results:#?}");
    assert!(
        results[0]["output"]
            .as_str()
            .unwrap_or("")
            .contains("unit-converter")
    );
    // Text arrived as deltas, not only in the final message.
    let streamed: String = r
        .of_type("text")
        .iter()
        .map(|t| t["text"].as_str().unwrap_or(""))
        .collect();
    assert!(streamed.contains("10 km is 6.21 miles."), "{streamed}");

    let requests = fake.chat_requests();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {}", FakeOpenAi::KEY).as_str())
        );
        assert!(request.is_stream());
    }
    // The skills catalog is in the system prompt; every tool call has its result.
    let last = &requests[2].body["messages"];
    assert!(
        last[0]["content"]
            .as_str()
            .unwrap_or("")
            .contains("unit-converter"),
        "{last:#}"
    );
    let tool_messages: Vec<&Value> = last
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["role"] == "tool")
        .collect();
    assert_eq!(tool_messages.len(), 3);

    // The transcript holds the whole conversation, with who served each response.
    let kinds: Vec<String> = r
        .transcript
        .iter()
        .map(|l| match l["type"].as_str() {
            Some("message") => l["message"]["role"].as_str().unwrap_or("?").to_string(),
            other => other.unwrap_or("?").to_string(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "system",
            "user",
            "assistant",
            "response",
            "tool",
            "assistant",
            "response",
            "tool",
            "tool",
            "assistant",
            "response"
        ]
    );
    assert!(
        r.transcript
            .iter()
            .any(|l| l["type"] == "response" && l["provider"] == "openai")
    );
}

#[test]
fn openai_without_streaming() {
    let fake = FakeOpenAi::start(openai_skill_script());
    let url = fake.base_url();
    let r = run(
        &[
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--skills",
            &skills(),
            "--no-stream",
            "km?",
        ],
        &[OPENAI_KEY],
    );
    assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
    fake.assert_no_violations();
    assert_eq!(r.final_text(), "10 km is 6.21 miles.");
    assert!(r.of_type("text").is_empty());
    assert!(fake.chat_requests().iter().all(|q| !q.is_stream()));
}

#[test]
fn anthropic_runs_parallel_tool_calls_with_grouped_results() {
    let fake = FakeAnthropic::start(vec![
        Reply::chat("")
            .with_tool_call("toolu_1", "get_skill", r#"{"name":"csv-stats"}"#)
            .with_tool_call("toolu_2", "get_skill", r#"{"name":"text-stats"}"#),
        Reply::chat("Both skills are ready."),
    ]);
    let url = fake.base_url();
    let r = run(
        &[
            "--plugin",
            "anthropic",
            "--base-url",
            &url,
            "--skills",
            &skills(),
            "Which skills?",
        ],
        &[ANTHROPIC_KEY],
    );
    assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
    fake.assert_no_violations();
    assert_eq!(r.final_text(), "Both skills are ready.");
    let requests = fake.chat_requests();
    assert_eq!(requests[0].header("x-api-key"), Some(FakeAnthropic::KEY));
    assert!(requests[0].header("authorization").is_none());
    // Both results for the turn travel in one user message.
    let messages = requests[1].body["messages"].as_array().expect("messages");
    let last = messages.last().expect("last");
    assert_eq!(last["role"], "user");
    let results: Vec<&Value> = last["content"]
        .as_array()
        .expect("blocks")
        .iter()
        .filter(|b| b["type"] == "tool_result")
        .collect();
    assert_eq!(results.len(), 2);

    fake.push(Reply::chat("").with_tool_call("toolu_3", "list_skills", "{}"));
    fake.push(Reply::chat("Done."));
    let r = run(
        &[
            "--plugin",
            "anthropic",
            "--base-url",
            &url,
            "--skills",
            &skills(),
            "--no-stream",
            "list",
        ],
        &[ANTHROPIC_KEY],
    );
    assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
    assert_eq!(r.final_text(), "Done.");
    fake.assert_no_violations();
}

#[test]
fn resume_continues_the_transcript() {
    let fake = FakeOpenAi::start(vec![
        Reply::chat("first answer"),
        Reply::chat("second answer"),
    ]);
    let url = fake.base_url();
    let dir = tempfile::tempdir().expect("tempdir");
    let r = run_in(
        &dir,
        &["--plugin", "openai", "--base-url", &url, "first question"],
        &[OPENAI_KEY],
    );
    assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
    let path = dir.path().join("transcript.jsonl").display().to_string();
    let r = run_in(
        &dir,
        &[
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--resume",
            &path,
            "second question",
        ],
        &[OPENAI_KEY],
    );
    assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
    assert_eq!(r.final_text(), "second answer");
    let sent = &fake.chat_requests()[1].body["messages"];
    let texts: Vec<String> = sent
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["content"].to_string())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("first answer")),
        "{texts:#?}"
    );
    assert_eq!(
        r.transcript
            .iter()
            .filter(|l| l["type"] == "message")
            .count(),
        5
    );
    // A new run may not silently append to an existing conversation.
    let r = run_in(
        &dir,
        &[
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--transcript",
            &path,
            "third",
        ],
        &[OPENAI_KEY],
    );
    assert_eq!(r.code(), Some(2));
}

#[test]
fn an_image_travels_as_a_data_url() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A 1×1 PNG.
    let png: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0,
        0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0x0a, 0x49, 0x44,
        0x41, 0x54, 0x78, 0x9c, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0d, 0x0a, 0x2d, 0xb4, 0, 0, 0, 0,
        0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];
    std::fs::write(dir.path().join("dot.png"), png).expect("png");
    let fake = FakeOpenAi::start(vec![Reply::chat("A dot.")]);
    let url = fake.base_url();
    let r = run_in(
        &dir,
        &[
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--image",
            "dot.png",
            "What is this?",
        ],
        &[OPENAI_KEY],
    );
    assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
    fake.assert_no_violations();
    let user = &fake.chat_requests()[0].body["messages"][1];
    let parts = user["content"].as_array().expect("parts");
    let image = parts
        .iter()
        .find(|p| p["type"] == "image_url")
        .expect("image part");
    assert!(
        image["image_url"]["url"]
            .as_str()
            .unwrap_or("")
            .starts_with("data:image/png;base64,iVBORw0KGgo"),
        "{image:#}"
    );

    let bad = run_in(
        &dir,
        &[
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--image",
            "notes.txt",
            "?",
        ],
        &[OPENAI_KEY],
    );
    assert_eq!(bad.code(), Some(2));
}

#[test]
fn chat_keeps_one_conversation_across_prompts() {
    let fake = FakeOpenAi::start(vec![Reply::chat("one"), Reply::chat("two")]);
    let url = fake.base_url();
    let dir = tempfile::tempdir().expect("tempdir");
    let transcript = dir.path().join("chat.jsonl").display().to_string();
    let args = [
        "chat",
        "--plugin",
        "openai",
        "--base-url",
        &url,
        "--api-key-env",
        OPENAI_KEY.0,
        "--transcript",
        &transcript,
    ];
    let mut child = crate::support::wasmhost_command(&args, dir.path(), &[OPENAI_KEY])
        .env("XDG_DATA_HOME", dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("chat starts");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"first\n\nsecond\n/exit\n").expect("type");
    }
    let out = child.wait_with_output().expect("chat ends");
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(said.contains("one") && said.contains("two"), "{said}");
    let second = &fake.chat_requests()[1].body["messages"];
    let roles: Vec<&str> = second
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["role"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    fake.assert_no_violations();
}

#[test]
fn a_tool_overrun_goes_back_to_the_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("wasmhost.toml"),
        "[plugins.hostile]\nfuel = 5000000\n",
    )
    .expect("policy");
    let fake = FakeOpenAi::start(vec![
        Reply::chat("")
            .with_tool_call("c1", "spin", "{}")
            .with_tool_call("c2", "ok", "{}"),
        Reply::chat("The spin tool ran out of budget."),
    ]);
    let url = fake.base_url();
    let hostile = wasmhost_e2e::guests::HOSTILE;
    let r = run_in(
        &dir,
        &[
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--tool",
            hostile,
            "spin",
        ],
        &[OPENAI_KEY],
    );
    assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
    fake.assert_no_violations();
    let results = r.of_type("tool_result");
    assert_eq!(results[0]["ok"], false);
    assert!(
        results[0]["output"]
            .as_str()
            .unwrap_or("")
            .contains("budget-exceeded"),
        "{results:#?}"
    );
    assert_eq!(results[1]["ok"], true);
    let spin_result = sent_tool_result(&fake, "c1");
    assert!(
        spin_result["content"]
            .as_str()
            .unwrap_or("")
            .contains("fuel"),
        "{spin_result:#}"
    );
}

#[test]
fn anthropic_text_blocks_stay_separate_paragraphs() {
    for stream in [true, false] {
        let reply = || {
            Reply::chat("I looked up the information.").with_text_block("I found three results.")
        };
        let fake = FakeAnthropic::start(vec![reply()]);
        let url = fake.base_url();
        let mut args = vec![
            "--plugin",
            "anthropic",
            "--base-url",
            &url,
            "what did you find?",
        ];
        if !stream {
            args.push("--no-stream");
        }
        let r = run(&args, &[ANTHROPIC_KEY]);
        assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
        fake.assert_no_violations();
        assert_eq!(
            r.final_text(),
            "I looked up the information.\n\nI found three results.",
            "stream: {stream}"
        );
    }
}

#[test]
fn each_tool_failure_reaches_the_events_and_the_transcript_with_its_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("wasmhost.toml"),
        "[plugins.hostile]\nfuel = 5000000\n",
    )
    .expect("policy");
    let cases = [
        ("c1", "no_such_tool", "{}", Some("unknown_tool")),
        ("c2", "echo", "{}", Some("invalid_arguments")),
        (
            "c3",
            "http_get",
            r#"{"url":"https://example.com/"}"#,
            Some("denied"),
        ),
        (
            "c4",
            "read_file",
            r#"{"path":"/missing.txt"}"#,
            Some("tool_error"),
        ),
        ("c5", "spin", "{}", Some("budget_exceeded")),
        ("c6", "trap", "{}", Some("plugin_trapped")),
        ("c7", "ok", "{}", None),
    ];
    let mut first = Reply::chat("");
    for (id, tool, arguments, _) in cases {
        first = first.with_tool_call(id, tool, arguments);
    }
    let fake = FakeOpenAi::start(vec![first, Reply::chat("Six of seven failed.")]);
    let url = fake.base_url();
    let cassette = dir.path().join("failures.cassette.jsonl");
    let cassette = cassette.to_string_lossy();
    let r = run_in(
        &dir,
        &[
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--tool",
            wasmhost_e2e::guests::HOSTILE,
            "--record",
            &cassette,
            "try them all",
        ],
        &[OPENAI_KEY],
    );
    assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
    fake.assert_no_violations();
    // The cassette holds the kinds too, and replays: the tools run again, fail again alike.
    let recorded = std::fs::read_to_string(cassette.as_ref()).expect("cassette");
    assert!(
        recorded.contains(r#""error_kind":"budget_exceeded""#),
        "{recorded}"
    );
    let replayed = run_in(
        &dir,
        &[
            "--plugin",
            "replay",
            "--cassette",
            &cassette,
            "--tool",
            wasmhost_e2e::guests::HOSTILE,
            "--transcript",
            &dir.path().join("replayed.jsonl").to_string_lossy(),
            "try them all",
        ],
        &[],
    );
    assert_eq!(replayed.code(), Some(0), "{}", stderr(&replayed.output));
    assert_eq!(replayed.final_text(), "Six of seven failed.");
    let events = r.of_type("tool_result");
    let results: Vec<&serde_json::Value> = r
        .transcript
        .iter()
        .filter_map(|line| line["message"].get("tool_result"))
        .collect();
    assert_eq!((events.len(), results.len()), (7, 7), "{events:#?}");
    for (((id, tool, _, kind), event), result) in cases.iter().zip(&events).zip(&results) {
        assert_eq!(event["id"], *id);
        let expected = kind.map_or(serde_json::Value::Null, serde_json::Value::from);
        assert_eq!(event["error_kind"], expected, "{tool}: {event}");
        assert_eq!(event["ok"], kind.is_none(), "{tool}: {event}");
        assert_eq!(result["error_kind"], expected, "{tool}: {result}");
        assert_eq!(result["is_error"], kind.is_some(), "{tool}: {result}");
    }
    assert_eq!(events[4]["limit"], "fuel", "{}", events[4]);
    assert!(events[0]["limit"].is_null());
    // The model gets each failure's message as the call's result.
    let unknown = sent_tool_result(&fake, "c1");
    assert!(
        unknown["content"]
            .as_str()
            .is_some_and(|c| c.contains("unknown tool `no_such_tool`; available:")),
        "{unknown}"
    );
}

/// The tool message answering call `id` in the second request the model got.
fn sent_tool_result(fake: &FakeOpenAi, id: &str) -> serde_json::Value {
    fake.chat_requests()[1].body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["tool_call_id"] == id)
        .cloned()
        .expect("result sent")
}
