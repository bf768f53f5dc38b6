//! `wasmhost mcp` driven by a client written by others: the official MCP Python SDK (`mcp`
//! from PyPI; `just mcp-sdk` installs it into target/tools/mcp), over stdio.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use wasmhost_e2e::guests;

use crate::support::{repo_root, test_environment, wasmhost_bin};

/// The SDK's interpreter: `$MCP_PYTHON`, else what `just mcp-sdk` installs.
fn sdk_python() -> PathBuf {
    if let Some(path) = std::env::var_os("MCP_PYTHON") {
        return PathBuf::from(path);
    }
    let installed = repo_root().join("target/tools/mcp/bin/python");
    assert!(
        installed.is_file(),
        "the MCP Python SDK is not installed: run `just mcp-sdk` (or set MCP_PYTHON)"
    );
    installed
}

/// Runs the SDK's stdio client against `wasmhost mcp SERVER_ARGS`, making `calls` (tool
/// name and arguments) in order; returns its report and the server's stderr.
fn session(dir: &Path, server_args: &[&str], calls: Value) -> (Value, String) {
    let mut command = Command::new(sdk_python());
    command
        .arg(repo_root().join("tests/mcp/stdio_client.py"))
        .arg(wasmhost_bin())
        .arg("mcp")
        .args(server_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    test_environment(&mut command, dir, &[]);
    let mut child = command.spawn().expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(calls.to_string().as_bytes())
        .expect("write calls");
    let out = child.wait_with_output().expect("client ends");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "the client failed:\n{stderr}");
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("report ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (report, stderr)
}

fn skills_dir() -> String {
    repo_root().join("skills").to_string_lossy().into_owned()
}

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
        stderr.contains("serving 4 tools over MCP on stdio"),
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
