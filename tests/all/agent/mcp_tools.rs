//! `--mcp NAME`: a local MCP server written with the official Python SDK (its `MCPServer`,
//! tests/mcp/demo_server.py) as a tool source, under its `[mcp.NAME]` policy, in full
//! conversations with the fake OpenAI server calling its tools.

use serde_json::Value;
use wasmhost_e2e::fake::Reply;
use wasmhost_e2e::fake::openai::FakeOpenAi;

use super::{OPENAI_KEY, run_in};
use crate::mcp::sdk_python;
use crate::support::{repo_root, stderr};

/// `wasmhost.toml` with `[mcp.demo]` running the demo server, plus `extra` keys.
fn policy(dir: &std::path::Path, extra: &str) {
    let server = repo_root().join("tests/mcp/demo_server.py");
    let work = dir.join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    std::fs::write(
        dir.join("wasmhost.toml"),
        format!(
            "[mcp.demo]\ncommand = [{:?}, {:?}]\ncwd = \"work\"\nenv = {{ MODE = \"test\" }}\n{extra}\n",
            sdk_python().display().to_string(),
            server.display().to_string(),
        ),
    )
    .expect("policy");
}

fn results(run: &super::Run) -> Vec<(bool, String)> {
    run.of_type("tool_result")
        .iter()
        .map(|r| {
            (
                r["ok"] == true,
                r["output"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn an_mcp_servers_tools_run_under_its_policy_in_a_conversation() {
    let dir = tempfile::tempdir().expect("tempdir");
    policy(
        dir.path(),
        "deny_tools = [\"die\"]\nresult_kib = 1\ninherit_env = [\"LANG\"]",
    );
    let fake = FakeOpenAi::start(vec![
        Reply::chat("")
            .with_tool_call("c1", "add", r#"{"a": 2, "b": 3}"#)
            .with_tool_call("c2", "env", r#"{"name": "MODE"}"#)
            .with_tool_call("c3", "env", r#"{"name": "MCP_TEST_SECRET"}"#)
            .with_tool_call("c4", "where", "{}")
            .with_tool_call("c5", "fail", r#"{"message": "no such city"}"#)
            .with_tool_call("c6", "big", r#"{"n": 5000}"#)
            .with_tool_call("c7", "pixel", "{}")
            .with_tool_call("c8", "die", "{}")
            .with_tool_call("c9", "shout", r#"{"mib": 64}"#),
        Reply::chat("2 + 3 = 5."),
    ]);
    let url = fake.base_url();
    let r = run_in(
        &dir,
        &[
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--mcp",
            "demo",
            "add 2 and 3",
        ],
        &[OPENAI_KEY, ("MCP_TEST_SECRET", "sk-must-not-leak")],
    );
    let err = stderr(&r.output);
    assert_eq!(r.code(), Some(0), "{err}");
    fake.assert_no_violations();
    assert_eq!(r.final_text(), "2 + 3 = 5.");

    // The model was offered the server's tools with their schemas, minus the denied one
    // and the one whose name the APIs refuse (both named on stderr).
    let offered: Vec<String> = fake.chat_requests()[0].body["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["function"]["name"].as_str().map(str::to_string))
        .collect();
    for name in ["add", "env", "where", "fail", "sleep", "big", "pixel"] {
        assert!(offered.iter().any(|o| o == name), "{name} in {offered:?}");
    }
    assert!(
        !offered.iter().any(|o| o == "die" || o == "bad.name"),
        "{offered:?}"
    );
    assert!(err.contains("tool `die` is left out: not allowed"), "{err}");
    assert!(err.contains("tool `bad.name` is left out"), "{err}");
    let add = fake.chat_requests()[0].body["tools"]
        .as_array()
        .and_then(|tools| tools.iter().find(|t| t["function"]["name"] == "add"))
        .cloned()
        .expect("add offered");
    assert_eq!(
        add["function"]["parameters"]["required"],
        serde_json::json!(["a", "b"])
    );

    let got = results(&r);
    assert_eq!(got[0], (true, "5".into()));
    assert_eq!(got[1], (true, "test".into()), "the policy's env");
    // Only the variables the policy names reach the server.
    assert_eq!(got[2], (true, "<unset>".into()));
    assert!(
        !serde_json::to_string(&r.events)
            .expect("json")
            .contains("sk-must-not-leak")
    );
    let work = dir.path().join("work").canonicalize().expect("work");
    assert_eq!(
        got[3],
        (true, work.display().to_string()),
        "cwd from the policy"
    );
    assert!(
        !got[4].0 && got[4].1.contains("no such city"),
        "{:?}",
        got[4]
    );
    assert!(!got[5].0 || got[5].1.len() < 5000, "cut: {:?}", got[5]);
    assert!(
        got[5]
            .1
            .contains("the result was 5000 bytes; only the first 1024 are shown")
            && got[5].1.contains("[mcp.demo]"),
        "{:?}",
        got[5]
    );
    assert!(
        got[6].0 && got[6].1.starts_with("[image: image/png,"),
        "{:?}",
        got[6]
    );
    // A denied tool is not there to call.
    assert!(
        !got[7].0 && got[7].1.contains("unknown tool `die`"),
        "{:?}",
        got[7]
    );
    // 65 MiB on stderr (a pipe holds 64 KiB): read and dropped as it comes, so the server
    // never blocks on it and the host keeps only a bounded tail.
    assert_eq!(got[8], (true, "done shouting".into()));
}

#[test]
fn inspect_shows_a_servers_tools_and_policy_and_refuses_an_unnamed_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    policy(
        dir.path(),
        "deny_tools = [\"die\"]\ninherit_env = [\"MCP_TEST_SECRET\"]",
    );
    let env = [("MCP_TEST_SECRET", "sk-must-not-leak")];
    let out = crate::support::wasmhost_env(&["inspect", "--mcp", "demo"], dir.path(), &env);
    let text = crate::support::stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("mcp server  demo"), "{text}");
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("add ")),
        "{text}"
    );
    assert!(text.contains("left out    die: not allowed"), "{text}");
    assert!(
        text.contains("env         MCP_TEST_SECRET, MODE"),
        "names only: {text}"
    );
    assert!(!text.contains("sk-must-not-leak"), "{text}");
    let out =
        crate::support::wasmhost_env(&["inspect", "--mcp", "demo", "--json"], dir.path(), &env);
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["name"], "demo");
    assert_eq!(report["timeout_secs"], 60.0);
    assert_eq!(report["result_kib"], 256);
    let names: Vec<&str> = report["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"add") && !names.contains(&"die"),
        "{names:?}"
    );
    assert_eq!(
        report["left_out"].as_array().map(Vec::len),
        Some(2),
        "die and bad.name: {report}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("sk-must-not-leak"));
    let out = crate::support::wasmhost_env(&["inspect", "--mcp", "nope"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no [mcp.nope] section"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_hung_or_dying_server_is_a_tool_error_and_the_conversation_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path(), "timeout_secs = 2");
    let fake = FakeOpenAi::start(vec![
        Reply::chat("").with_tool_call("c1", "sleep", r#"{"seconds": 600}"#),
        Reply::chat("")
            .with_tool_call("c2", "add", r#"{"a": 1, "b": 1}"#)
            .with_tool_call("c2b", "ask", "{}"),
        Reply::chat("").with_tool_call("c3", "die", "{}"),
        Reply::chat("").with_tool_call("c4", "add", r#"{"a": 1, "b": 2}"#),
        Reply::chat("The server is gone."),
    ]);
    let url = fake.base_url();
    let r = run_in(
        &dir,
        &[
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--mcp",
            "demo",
            "go",
        ],
        &[OPENAI_KEY],
    );
    let err = stderr(&r.output);
    assert_eq!(r.code(), Some(0), "{err}");
    fake.assert_no_violations();
    assert_eq!(r.final_text(), "The server is gone.");
    let got = results(&r);
    assert!(!got[0].0, "{:?}", got[0]);
    assert!(
        got[0]
            .1
            .contains("did not answer `sleep` within 2 s (timeout_secs in [mcp.demo])"),
        "{:?}",
        got[0]
    );
    let timed_out: &Value = r.of_type("tool_result")[0];
    assert_eq!(timed_out["error_kind"], "budget_exceeded", "{timed_out}");
    // The server was told to cancel and serves the next call.
    assert_eq!(got[1], (true, "2".into()));
    // What the host cannot do for a server is refused, and the call goes on to its
    // answer: an elicitation is declined (rmcp's answer for a client that asks no one),
    // sampling is a JSON-RPC error (the host lends no model).
    assert!(
        got[2].0
            && got[2]
                .1
                .starts_with("elicited: decline; sampling refused: MCPError"),
        "{:?}",
        got[2]
    );
    // It dies mid-call: a tool error naming the server, with its last stderr lines
    // (control codes made harmless); later calls fail the same way.
    assert!(!got[3].0, "{:?}", got[3]);
    assert!(got[3].1.contains("MCP server `demo`"), "{:?}", got[3]);
    assert!(
        !got[4].0 && got[4].1.contains("is not reachable"),
        "{:?}",
        got[4]
    );
    assert!(got[4].1.contains("dying now"), "{:?}", got[4]);
    assert!(!got[4].1.contains('\u{1b}'), "{:?}", got[4]);
}

#[test]
fn a_server_the_policy_does_not_name_is_refused_and_a_broken_one_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, &str, &[&str]); 3] = [
        // Not in the policy: nothing starts, and the message says what to add.
        (
            "[mcp.demo]\ncommand = [\"x\"]\n",
            "github",
            &[
                "--mcp github: no [mcp.github] section in",
                "(it names: demo)",
            ],
        ),
        (
            "[mcp.broken]\ncommand = [\"/no/such/server\"]\n",
            "broken",
            &["MCP server `broken`: cannot start `/no/such/server`"],
        ),
        // A program that is not an MCP server: the handshake fails, with its stderr.
        (
            "[mcp.mute]\ncommand = [\"/bin/sh\", \"-c\", \"echo not an mcp server >&2; exit 4\"]\n",
            "mute",
            &[
                "MCP server `mute` failed to complete the MCP handshake",
                "not an mcp server",
            ],
        ),
    ];
    for (policy, server, says) in cases {
        std::fs::write(dir.path().join("wasmhost.toml"), policy).expect("policy");
        let r = run_in(
            &dir,
            &["--plugin", "openai", "--mcp", server, "hi"],
            &[OPENAI_KEY],
        );
        let err = stderr(&r.output);
        // Not in the policy is a usage error (2); a broken server a failure (1).
        let expected = if server == "github" { 2 } else { 1 };
        assert_eq!(r.code(), Some(expected), "{server}: {err}");
        for text in says {
            assert!(err.contains(text), "{server}: {text:?} in {err}");
        }
    }
}

#[test]
fn the_server_dies_with_the_host_even_when_the_host_is_killed() {
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path(), "");
    let fake = FakeOpenAi::start(vec![
        Reply::chat("").with_tool_call("c1", "block", r#"{"seconds": 600}"#),
        Reply::chat("unreachable"),
    ]);
    let url = fake.base_url();
    let mut host = crate::support::wasmhost_command(
        &[
            "run",
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--api-key-env",
            OPENAI_KEY.0,
            "--mcp",
            "demo",
            "go",
        ],
        dir.path(),
        &[OPENAI_KEY],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("wasmhost runs");
    let pid_file = dir.path().join("work/server.pid");
    let started = std::time::Instant::now();
    // The model has asked for the call and the server is stuck in it.
    while !dir.path().join("work/blocking").is_file() || !pid_file.is_file() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "no server"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("pid")
        .trim()
        .parse()
        .expect("a pid");
    // Running, or at least not yet a zombie (whoever reaps orphans here may be slow).
    let alive = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                let state = stat.rsplit_once(") ")?.1.chars().next()?;
                Some(state != 'Z' && state != 'X')
            })
            .unwrap_or(false)
    };
    assert!(alive(pid));
    host.kill().expect("SIGKILL the host");
    host.wait().expect("reaped");
    let started = std::time::Instant::now();
    while alive(pid) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the MCP server outlived a killed host"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn chat_keeps_one_server_for_the_whole_conversation() {
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path(), "");
    let fake = FakeOpenAi::start(vec![
        Reply::chat("").with_tool_call("c1", "add", r#"{"a": 2, "b": 3}"#),
        Reply::chat("five"),
        Reply::chat("").with_tool_call("c2", "add", r#"{"a": 5, "b": 5}"#),
        Reply::chat("ten"),
    ]);
    let url = fake.base_url();
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
        "--mcp",
        "demo",
    ];
    let mut child = crate::support::wasmhost_command(&args, dir.path(), &[OPENAI_KEY])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("chat starts");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"add 2 and 3\nnow 5 and 5\n/exit\n")
            .expect("type");
    }
    let out = child.wait_with_output().expect("chat ends");
    assert!(out.status.success(), "{}", stderr(&out));
    let said = crate::support::stdout(&out);
    assert!(said.contains("five") && said.contains("ten"), "{said}");
    fake.assert_no_violations();
    let requests = fake.chat_requests();
    let tool_result = |request: usize, id: &str| {
        requests[request].body["messages"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["tool_call_id"] == id).cloned())
            .map(|m| m["content"].clone())
    };
    assert_eq!(tool_result(1, "c1"), Some(Value::from("5")));
    assert_eq!(tool_result(3, "c2"), Some(Value::from("10")));
    // One server process served both turns (it started once), and it is gone now.
    let pids = std::fs::read_to_string(dir.path().join("work/server.pids")).expect("pids");
    assert_eq!(pids.lines().count(), 1, "{pids}");
    let pid: i32 = pids.trim().parse().expect("a pid");
    let started = std::time::Instant::now();
    while std::path::Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z"))
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the server outlived the chat"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_server_that_offers_too_much_is_cut_to_the_limits_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 2,000 more tools and one whose description alone is 100 KiB.
    policy(dir.path(), "");
    let text = std::fs::read_to_string(dir.path().join("wasmhost.toml")).expect("policy");
    std::fs::write(
        dir.path().join("wasmhost.toml"),
        text.replace(
            "env = { MODE = \"test\" }",
            "env = { MODE = \"test\", DEMO_MANY = \"2000\", DEMO_HUGE_KIB = \"100\" }",
        ),
    )
    .expect("policy");
    let out =
        crate::support::wasmhost_env(&["inspect", "--mcp", "demo", "--json"], dir.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let tools = report["tools"].as_array().expect("tools");
    assert_eq!(
        tools.len(),
        256,
        "the first 256 a session takes from one server"
    );
    let left = report["left_out"].as_array().expect("left out");
    assert!(
        left.len() <= 51,
        "named one by one up to 50, then counted: {}",
        left.len()
    );
    let reasons = serde_json::to_string(left).expect("json");
    assert!(reasons.contains("more than the 256 tools"), "{reasons}");
    let last = left.last().expect("a count");
    assert!(
        last["tool"].as_str().is_some_and(|t| t.ends_with(" more")),
        "{last}"
    );
    assert!(!tools.iter().any(|t| t["name"] == "huge"));

    // Alone, the 100 KiB tool is left out for its size, and named.
    std::fs::write(
        dir.path().join("wasmhost.toml"),
        text.replace(
            "env = { MODE = \"test\" }",
            "env = { MODE = \"test\", DEMO_HUGE_KIB = \"100\" }",
        ),
    )
    .expect("policy");
    let out =
        crate::support::wasmhost_env(&["inspect", "--mcp", "demo", "--json"], dir.path(), &[]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let huge = report["left_out"]
        .as_array()
        .and_then(|l| l.iter().find(|t| t["tool"] == "huge").cloned())
        .expect("huge is left out");
    assert!(
        huge["reason"]
            .as_str()
            .is_some_and(|r| r.contains("over the 65536 one tool may take")),
        "{huge}"
    );
}
