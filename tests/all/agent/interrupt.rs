//! Interrupting a turn with a real SIGINT to the real binary while a tool runs: the
//! transcript keeps exactly one result per tool call, and the conversation goes on (the
//! fake API refuses a request with an unanswered call, as the real ones do).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use wasmhost_e2e::fake::Reply;
use wasmhost_e2e::fake::openai::FakeOpenAi;
use wasmhost_e2e::guests;

use super::{OPENAI_KEY, run_in};
use crate::support::{stderr, wasmhost_command};

/// A model that calls the hostile plugin's `sleep` for far longer than the test waits.
fn sleeping_call() -> Reply {
    Reply::chat("").with_tool_call("c1", "sleep", r#"{"ms": 60000}"#)
}

/// The JSON events a child prints, line by line, as they come.
fn events(stdout: ChildStdout) -> mpsc::Receiver<Value> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(event) = serde_json::from_str::<Value>(&line)
                && send.send(event).is_err()
            {
                break;
            }
        }
    });
    receive
}

/// Waits for the first event of type `kind`.
fn wait_for(events: &mpsc::Receiver<Value>, kind: &str) -> Value {
    loop {
        match events.recv_timeout(Duration::from_secs(60)) {
            Ok(event) if event["type"] == kind => return event,
            Ok(_) => {}
            Err(e) => panic!("no `{kind}` event: {e}"),
        }
    }
}

/// `wasmhost COMMAND --json` on the fake, with the hostile tools, its pipes captured.
fn start(
    command: &str,
    url: &str,
    transcript: &str,
    dir: &tempfile::TempDir,
    rest: &[&str],
) -> Child {
    let mut args = vec![
        command,
        "--json",
        "--plugin",
        "openai",
        "--base-url",
        url,
        "--api-key-env",
        OPENAI_KEY.0,
        "--tool",
        guests::HOSTILE,
        "--transcript",
        transcript,
    ];
    args.extend(rest);
    wasmhost_command(&args, dir.path(), &[OPENAI_KEY])
        .env("XDG_DATA_HOME", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wasmhost starts")
}

fn interrupt(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// The tool results of a transcript file, as (call id, error kind).
fn results(transcript: &std::path::Path) -> Vec<(String, Value)> {
    std::fs::read_to_string(transcript)
        .expect("transcript")
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|line| line["message"].get("tool_result").cloned())
        .map(|r| {
            (
                r["call_id"].as_str().unwrap_or("").to_string(),
                r["error_kind"].clone(),
            )
        })
        .collect()
}

#[test]
fn sigint_to_run_during_a_tool_call_leaves_a_transcript_that_resumes() {
    let fake = FakeOpenAi::start(vec![sleeping_call(), Reply::chat("Resumed fine.")]);
    let url = fake.base_url();
    let dir = tempfile::tempdir().expect("tempdir");
    let transcript = dir.path().join("run.jsonl");
    let t = transcript.to_string_lossy();
    let mut child = start("run", &url, &t, &dir, &["sleep a minute"]);
    let events = events(child.stdout.take().expect("stdout"));
    wait_for(&events, "tool_call");
    interrupt(&child);
    let cancelled = wait_for(&events, "tool_result");
    assert_eq!(cancelled["error_kind"], "cancelled", "{cancelled}");
    wait_for(&events, "interrupted");
    let out = child.wait_with_output().expect("run ends");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("go on with --resume"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        results(&transcript),
        [("c1".to_string(), Value::from("cancelled"))]
    );

    let resumed = run_in(
        &dir,
        &[
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--resume",
            &t,
            "go on",
        ],
        &[OPENAI_KEY],
    );
    assert_eq!(resumed.code(), Some(0), "{}", stderr(&resumed.output));
    assert_eq!(resumed.final_text(), "Resumed fine.");
    // The resumed request carried the cancelled result: the fake accepted it.
    fake.assert_no_violations();
}

#[test]
fn ctrl_c_in_chat_during_a_tool_call_keeps_the_conversation_going() {
    let fake = FakeOpenAi::start(vec![
        sleeping_call(),
        Reply::chat("After the interruption."),
    ]);
    let url = fake.base_url();
    let dir = tempfile::tempdir().expect("tempdir");
    let transcript = dir.path().join("chat.jsonl");
    let t = transcript.to_string_lossy();
    let mut child = start("chat", &url, &t, &dir, &[]);
    let mut stdin = child.stdin.take().expect("stdin");
    let events = events(child.stdout.take().expect("stdout"));
    stdin.write_all(b"sleep a minute\n").expect("type");
    wait_for(&events, "tool_call");
    interrupt(&child);
    wait_for(&events, "interrupted");
    stdin.write_all(b"what now?\n").expect("type");
    let answer = wait_for(&events, "message");
    assert_eq!(answer["final"], true, "{answer}");
    stdin.write_all(b"/exit\n").expect("type");
    drop(stdin);
    let out = child.wait_with_output().expect("chat ends");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        results(&transcript),
        [("c1".to_string(), Value::from("cancelled"))]
    );
    let second = &fake.chat_requests()[1].body["messages"];
    let roles: Vec<&str> = second
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["role"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "tool", "user"]);
    fake.assert_no_violations();
}
