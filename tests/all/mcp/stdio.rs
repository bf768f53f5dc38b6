//! `wasmhost mcp` over stdio: the SDK's stdio client, and raw lines a client would not send.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use wasmhost_e2e::guests;

use super::{session, skills_dir};
use crate::support::{test_environment, wasmhost_bin};

#[test]
fn the_sdk_client_lists_and_calls_the_skills_tools_and_reads_typed_failures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let calls = json!([
        ["list_skills", {}],
        ["get_skill", {"name": "unit-converter"}],
        ["read_file_in_skill", {"name": "unit-converter", "path": "../../etc/passwd"}],
        ["get_skill", {"name": "nope"}],
        ["no_such_tool", {}],
        ["run_python_script", {"name": "unit-converter", "script": "scripts/convert.py",
                               "args": ["10", "km", "mi"]}],
        ["list_skills", {"limit": 1}],
    ]);
    let (report, stderr) = session(dir.path(), &["--skills", &skills_dir()], calls);
    assert_eq!(report["server"]["name"], "wasmhost", "{report}");
    assert_eq!(report["server"]["tools_capability"], true);
    let tools: Vec<&str> = report["tools"]
        .as_object()
        .expect("tools")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tools,
        [
            "get_skill",
            "list_skills",
            "read_file_in_skill",
            "run_python_script"
        ]
    );
    // The input schema is the plugin's JSON Schema, as an object.
    assert_eq!(
        report["tools"]["get_skill"]["schema"]["required"],
        json!(["name"])
    );
    assert!(
        stderr
            .contains("serving 4 tools and 3 skills (as resources and prompts) over MCP on stdio"),
        "{stderr}"
    );

    let calls = report["calls"].as_array().expect("calls");
    let ok = |i: usize| {
        assert_eq!(calls[i]["result"]["is_error"], false, "{}", calls[i]);
        calls[i]["result"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let listed: Value = serde_json::from_str(&ok(0)).expect("json");
    assert_eq!(listed["total"], 3);
    let skill: Value = serde_json::from_str(&ok(1)).expect("json");
    assert_eq!(skill["name"], "unit-converter");
    // The tool's own refusals: results with isError and the kind, not protocol errors.
    for (i, kind) in [(2, "invalid_arguments"), (3, "not_found")] {
        let result = &calls[i]["result"];
        assert_eq!(result["is_error"], true, "{}", calls[i]);
        assert_eq!(result["structured"]["error_kind"], kind, "{}", calls[i]);
        assert!(!result["text"].as_str().unwrap_or_default().is_empty());
    }
    // An unknown tool is the request's mistake: a JSON-RPC error (invalid params).
    assert_eq!(calls[4]["error"]["code"], -32602, "{}", calls[4]);
    assert!(
        calls[4]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("available: list_skills")),
        "{}",
        calls[4]
    );
    // Sandboxed Python runs through MCP as through `run`; the session is still healthy.
    let run: Value = serde_json::from_str(&ok(5)).expect("json");
    assert_eq!(run["stdout"], "10 km = 6.213711922 mi\n", "{run}");
    let page: Value = serde_json::from_str(&ok(6)).expect("json");
    assert_eq!(page["next_offset"], 1);
}

#[test]
fn a_budget_overrun_names_its_limit_and_colliding_names_get_a_prefix() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The hostile guest under a second name: every tool name collides.
    let twin = dir.path().join("twin.wasm");
    std::fs::copy(guests::HOSTILE, &twin).expect("copy");
    let calls = json!([["hostile__spin", {}], ["twin__ok", {}], ["ok", {}],]);
    let (report, stderr) = session(
        dir.path(),
        &["--tool", guests::HOSTILE, "--tool", &twin.to_string_lossy()],
        calls,
    );
    assert!(
        stderr.contains("plugins both offer `ok`; `twin`'s is served as `twin__ok`"),
        "{stderr}"
    );
    let tools = report["tools"].as_object().expect("tools");
    assert!(tools.contains_key("hostile__ok") && tools.contains_key("twin__ok"));
    assert!(
        !tools.contains_key("ok"),
        "no unprefixed name stays ambiguous"
    );
    let calls = report["calls"].as_array().expect("calls");
    let spun = &calls[0]["result"];
    assert_eq!(spun["is_error"], true, "{spun}");
    assert_eq!(
        spun["structured"]["error_kind"], "budget_exceeded",
        "{spun}"
    );
    assert_eq!(spun["structured"]["limit"], "fuel", "{spun}");
    assert!(
        spun["text"]
            .as_str()
            .is_some_and(|t| t.contains("raise `fuel` in [plugins.hostile]")),
        "{spun}"
    );
    // The next call gets a fresh instance and answers.
    assert_eq!(calls[1]["result"]["is_error"], false, "{}", calls[1]);
    assert_eq!(calls[1]["result"]["text"], "ok");
    assert_eq!(calls[2]["error"]["code"], -32602, "{}", calls[2]);
}

#[test]
fn serving_nothing_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = crate::support::wasmhost(&["mcp"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        crate::support::stderr(&out).contains("give --tool NAME|PATH"),
        "{}",
        crate::support::stderr(&out)
    );
}

#[test]
fn stdio_survives_malformed_lines_unknown_methods_and_oversized_requests() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = Command::new(wasmhost_bin());
    command
        .args([
            "mcp",
            "--tool",
            guests::HOSTILE,
            "--max-body-bytes",
            "1048576",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    test_environment(&mut command, dir.path(), &[]);
    let mut child = command.spawn().expect("wasmhost runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let send = |stdin: &mut std::process::ChildStdin, line: String| {
        stdin.write_all(line.as_bytes()).expect("write");
        stdin.write_all(b"\n").expect("write");
        stdin.flush().expect("flush");
    };
    let mut answer = || {
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read");
        serde_json::from_str::<Value>(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    };
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"}}})
        .to_string(),
    );
    assert_eq!(answer()["result"]["serverInfo"]["name"], "wasmhost");
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(),
    );
    send(&mut stdin, "{not json".into());
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 2, "method": "no/such", "params": {}}).to_string(),
    );
    let unknown = answer();
    assert_eq!(unknown["id"], 2, "{unknown}");
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    // A line over --max-body-bytes is dropped whole; one under it is served.
    let call = |id: u32, text: String| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": "echo", "arguments": {"text": text}}})
        .to_string()
    };
    send(&mut stdin, call(3, "x".repeat(2 << 20)));
    send(&mut stdin, call(4, "y".repeat(512 << 10)));
    let served = answer();
    assert_eq!(served["id"], 4, "the oversized request gets no answer");
    assert_eq!(
        served["result"]["content"][0]["text"]
            .as_str()
            .map(str::len),
        Some(512 << 10)
    );
    send(&mut stdin, call(5, "still here".into()));
    assert_eq!(answer()["result"]["content"][0]["text"], "still here");
    drop(stdin);
    let out = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "stdin closed: the server ends cleanly: {stderr}"
    );
    // Nothing is dropped silently: the user sees why a request got no answer.
    assert!(
        stderr.contains("exceeded the maximum line length, discarding it")
            && stderr.contains("max_line_length=1048576"),
        "{stderr}"
    );
}
