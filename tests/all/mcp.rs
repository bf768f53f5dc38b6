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
    let mut command = sdk_client("stdio");
    command.arg(wasmhost_bin()).arg("mcp").args(server_args);
    test_environment(&mut command, dir, &[]);
    sdk_report(command, &calls, String::new)
}

/// `client.py MODE …`: the caller adds its arguments.
fn sdk_client(mode: &str) -> Command {
    let mut command = Command::new(sdk_python());
    command
        .arg(repo_root().join("tests/mcp/client.py"))
        .arg(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs the client with `steps` on its stdin: its report, and its stderr (which holds the
/// stdio server's too).
fn sdk_report(mut command: Command, steps: &Value, server: impl Fn() -> String) -> (Value, String) {
    let mut child = command.spawn().expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(steps.to_string().as_bytes())
        .expect("write steps");
    let out = child.wait_with_output().expect("client ends");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "the client failed:\n{stderr}\nserver:\n{}",
        server()
    );
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

/// `wasmhost mcp --listen 127.0.0.1:0 ARGS`, killed when dropped; its stderr is collected.
struct HttpServer {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`
    base: String,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl HttpServer {
    fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_on("127.0.0.1:0", dir, args, env)
    }

    fn start_on(listen: &str, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        use std::io::BufRead;
        let mut command = Command::new(wasmhost_bin());
        command
            .args(["mcp", "--listen", listen])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        test_environment(&mut command, dir, env);
        let mut child = command.spawn().expect("wasmhost runs");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (ready, listening) = std::sync::mpsc::channel();
        let lines = std::io::BufReader::new(child.stderr.take().expect("stderr"));
        let collected = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                if let Some(at) = line.find("at http://") {
                    let url = &line[at + 3..];
                    let end = url.find("/mcp").map_or(url.len(), |i| i);
                    let _ = ready.send(url[..end].to_string());
                }
                let mut all = collected.lock().expect("lock");
                all.push_str(&line);
                all.push('\n');
            }
        });
        let base = listening
            .recv_timeout(std::time::Duration::from_secs(120))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!(
                    "the server did not start:\n{}",
                    stderr.lock().expect("lock")
                )
            });
        Self {
            child,
            base,
            stderr,
        }
    }

    fn url(&self) -> String {
        format!("{}/mcp", self.base)
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("lock").clone()
    }

    /// Runs the SDK's Streamable HTTP client against this server.
    fn session(&self, dir: &Path, steps: Value, token: Option<&str>) -> Value {
        let mut command = sdk_client("http");
        command
            .arg(self.url())
            .current_dir(dir)
            .env_remove("MCP_TOKEN");
        if let Some(token) = token {
            command.env("MCP_TOKEN", token);
        }
        sdk_report(command, &steps, || self.stderr()).0
    }

    /// One raw HTTP/1.1 exchange: the status and the body.
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String) {
        raw_request(&self.base, method, path, headers, body)
    }

    fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).expect("pid");
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    fn wait(mut self) -> (std::process::ExitStatus, String) {
        let status = self.child.wait().expect("server ends");
        // Let the reader thread take the last lines.
        std::thread::sleep(std::time::Duration::from_millis(100));
        (status, self.stderr())
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn raw_request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    use std::io::Read;
    let mut stream = open_request(base, method, path, headers, body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Connects to `base` and sends one request (`Connection: close`); the caller reads.
fn open_request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::net::TcpStream {
    let authority = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    // A server may answer (413) before it has read all of a large body.
    let _ = stream.write_all(body);
    stream
}

/// A JSON-RPC `tools/call` as a stateless POST carries it.
fn call_body(tool: &str, arguments: Value) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
           "params": {"name": tool, "arguments": arguments}})
    .to_string()
    .into_bytes()
}

const POST_HEADERS: [(&str, &str); 3] = [
    ("Content-Type", "application/json"),
    ("Accept", "application/json, text/event-stream"),
    ("MCP-Protocol-Version", "2025-11-25"),
];

/// The hostile guest with a budget that lets `spin` run for `secs` seconds of wall clock.
fn spin_policy(dir: &Path, secs: u32) {
    std::fs::write(
        dir.join("wasmhost.toml"),
        format!("[plugins.hostile]\nfuel = 9000000000000000000\ntimeout_secs = {secs}\n"),
    )
    .expect("policy");
}

#[test]
fn the_sdk_client_over_streamable_http_calls_tools_fifty_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = HttpServer::start(
        dir.path(),
        &["--skills", &skills_dir(), "--tool", guests::HOSTILE],
        &[],
    );
    let (status, health) = server.request("GET", "/healthz", &[], b"");
    assert_eq!(status, 200, "{health}");
    let health: Value = serde_json::from_str(&health).expect("json");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["max_calls"], 32);

    let steps = json!([
        ["list_skills", {}],
        ["run_python_script", {"name": "unit-converter", "script": "scripts/convert.py",
                               "args": ["10", "km", "mi"]}],
        ["get_skill", {"name": "nope"}],
        ["no_such_tool", {}],
        {"op": "concurrent", "tool": "echo", "args": {"text": "hi"}, "n": 50},
        ["ok", {}],
    ]);
    let report = server.session(dir.path(), steps, None);
    assert_eq!(report["server"]["name"], "wasmhost", "{report}");
    let calls = report["calls"].as_array().expect("calls");
    let listed: Value =
        serde_json::from_str(calls[0]["result"]["text"].as_str().unwrap_or_default())
            .expect("json");
    assert_eq!(listed["total"], 3, "{}", calls[0]);
    let run: Value = serde_json::from_str(calls[1]["result"]["text"].as_str().unwrap_or_default())
        .expect("json");
    assert_eq!(run["stdout"], "10 km = 6.213711922 mi\n", "{run}");
    assert_eq!(calls[2]["result"]["structured"]["error_kind"], "not_found");
    assert_eq!(calls[3]["error"]["code"], -32602, "{}", calls[3]);
    let all = calls[4]["results"].as_array().expect("results");
    assert_eq!(all.len(), 50);
    for one in all {
        assert_eq!(one["result"]["is_error"], false, "{one}");
        assert_eq!(one["result"]["text"], "hi", "{one}");
    }
    assert_eq!(calls[5]["result"]["text"], "ok");
}

#[test]
fn http_refuses_wrong_tokens_foreign_origins_and_oversized_bodies_and_stays_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Off loopback without a token: refused before anything listens.
    let out = crate::support::wasmhost(
        &["mcp", "--tool", guests::HOSTILE, "--listen", "0.0.0.0:0"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        crate::support::stderr(&out).contains("give a bearer token with --token-env VAR"),
        "{}",
        crate::support::stderr(&out)
    );
    let out = crate::support::wasmhost_env(
        &[
            "mcp",
            "--tool",
            guests::HOSTILE,
            "--listen",
            "0.0.0.0:0",
            "--token-env",
            "T",
        ],
        dir.path(),
        &[("T", "short")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(crate::support::stderr(&out).contains("use at least 16"));

    let token = "a-token-of-thirty-two-characters";
    let server = HttpServer::start_on(
        "0.0.0.0:0",
        dir.path(),
        &[
            "--tool",
            guests::HOSTILE,
            "--token-env",
            "MCP_TEST_TOKEN",
            "--max-body-bytes",
            "65536",
            "--stateless",
        ],
        &[("MCP_TEST_TOKEN", token)],
    );
    let body = call_body("ok", json!({}));
    let (status, text) = server.request("POST", "/mcp", &POST_HEADERS, &body);
    assert_eq!(status, 401, "no token: {text}");
    let mut wrong = POST_HEADERS.to_vec();
    wrong.push(("Authorization", "Bearer a-token-of-thirty-two-characterz"));
    assert_eq!(server.request("POST", "/mcp", &wrong, &body).0, 401);
    let bearer = format!("Bearer {token}");
    let mut good = POST_HEADERS.to_vec();
    good.push(("Authorization", &bearer));
    let (status, text) = server.request("POST", "/mcp", &good, &body);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(r#""text":"ok""#), "{text}");
    // A browser page on another origin (DNS rebinding): 403.
    let mut foreign = good.clone();
    foreign.push(("Origin", "http://evil.example"));
    assert_eq!(server.request("POST", "/mcp", &foreign, &body).0, 403);
    // A body over the limit: 413, and nothing else is hurt.
    let huge = call_body("echo", json!({"text": "x".repeat(100_000)}));
    assert_eq!(server.request("POST", "/mcp", &good, &huge).0, 413);
    // Not JSON, and a method nobody serves: JSON-RPC errors, the server stays up.
    let (status, text) = server.request("POST", "/mcp", &good, b"{not json");
    // rmcp answers 415 here (the spec only asks for an HTTP error status).
    assert!((400..500).contains(&status), "{status} {text}");
    assert!(text.contains("deserialize"), "{text}");
    let unknown = br#"{"jsonrpc":"2.0","id":3,"method":"no/such","params":{}}"#;
    let (_, text) = server.request("POST", "/mcp", &good, unknown);
    assert!(text.contains("-32601"), "{text}");
    // The SDK with the token does a whole session.
    let report = server.session(
        dir.path(),
        json!([["echo", {"text": "still here"}]]),
        Some(token),
    );
    assert_eq!(
        report["calls"][0]["result"]["text"], "still here",
        "{report}"
    );
    // /healthz needs no token.
    assert_eq!(server.request("GET", "/healthz", &[], b"").0, 200);
}

#[test]
fn a_long_call_reports_progress_and_a_cancelled_or_abandoned_call_frees_its_slot() {
    let dir = tempfile::tempdir().expect("tempdir");
    spin_policy(dir.path(), 3);
    // One slot: a call that was not really stopped would hold it for its whole budget.
    let server = HttpServer::start(
        dir.path(),
        &["--tool", guests::HOSTILE, "--max-calls", "1"],
        &[],
    );
    let report = server.session(
        dir.path(),
        json!([
            {"op": "call", "tool": "spin", "args": {}, "progress": true},
        ]),
        None,
    );
    let spun = &report["calls"][0];
    assert_eq!(spun["result"]["structured"]["limit"], "time", "{spun}");
    let progress = spun["progress"].as_array().expect("progress");
    assert!(!progress.is_empty(), "a 3 s call reports progress: {spun}");
    assert!(
        progress[0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("running for")),
        "{spun}"
    );

    std::fs::write(
        dir.path().join("wasmhost.toml"),
        "[plugins.hostile]\nfuel = 9000000000000000000\ntimeout_secs = 600\n",
    )
    .expect("policy");
    let server = HttpServer::start(
        dir.path(),
        &["--tool", guests::HOSTILE, "--max-calls", "1"],
        &[],
    );
    // The SDK cancels a call (notifications/cancelled in its session); then the one slot
    // serves the next call within its read timeout, not after the 600 s budget.
    let report = server.session(
        dir.path(),
        json!([
            {"op": "cancel", "tool": "spin", "args": {}, "after": 1.5},
            {"op": "call", "tool": "ok", "args": {}, "timeout": 60},
        ]),
        None,
    );
    assert_eq!(report["calls"][0]["cancelled"], true, "{report}");
    assert_eq!(report["calls"][1]["result"]["text"], "ok", "{report}");

    // Stateless: a client that drops its connection mid-call stops the call with it.
    let server = HttpServer::start(
        dir.path(),
        &["--tool", guests::HOSTILE, "--max-calls", "1", "--stateless"],
        &[],
    );
    {
        let _stream = open_request(
            &server.base,
            "POST",
            "/mcp",
            &POST_HEADERS,
            &call_body("spin", json!({})),
        );
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let (_, health) = server.request("GET", "/healthz", &[], b"");
        assert!(health.contains(r#""calls_running":1"#), "{health}");
    }
    let report = server.session(
        dir.path(),
        json!([{"op": "call", "tool": "ok", "args": {}, "timeout": 60}]),
        None,
    );
    assert_eq!(report["calls"][0]["result"]["text"], "ok", "{report}");
}

#[test]
fn sigterm_drains_calls_in_flight_and_turns_new_work_away() {
    let dir = tempfile::tempdir().expect("tempdir");
    spin_policy(dir.path(), 4);
    let server = HttpServer::start(dir.path(), &["--tool", guests::HOSTILE, "--stateless"], &[]);
    let base = server.base.clone();
    let in_flight = std::thread::spawn(move || {
        raw_request(
            &base,
            "POST",
            "/mcp",
            &POST_HEADERS,
            &call_body("spin", json!({})),
        )
    });
    std::thread::sleep(std::time::Duration::from_millis(1500));
    server.signal(libc::SIGTERM);
    std::thread::sleep(std::time::Duration::from_millis(500));
    // Draining: no new work here, whether the listener is closed or still answers.
    assert!(
        turned_away(&server.base),
        "a server that is draining takes no new request"
    );
    // The call in flight gets its real answer (here: its budget ran out at 4 s).
    let (status, text) = in_flight.join().expect("in flight");
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(r#""limit":"time""#), "{text}");
    let (exit, stderr) = server.wait();
    assert!(exit.success(), "{stderr}");
    assert!(
        stderr.contains("draining: finishing the calls in flight"),
        "{stderr}"
    );
    assert!(stderr.contains("every call in flight finished"), "{stderr}");
}

/// True when nothing listens at `base` any more, or it answers /healthz with 503.
fn turned_away(base: &str) -> bool {
    use std::io::Read;
    let authority = base.trim_start_matches("http://");
    let Ok(mut stream) = std::net::TcpStream::connect(authority) else {
        return true;
    };
    let head = format!("GET /healthz HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    if stream.write_all(head.as_bytes()).is_err() {
        return true;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.is_empty() || response.starts_with("HTTP/1.1 503")
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
        .stderr(Stdio::null());
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
    let status = child.wait().expect("ends");
    assert!(status.success(), "stdin closed: the server ends cleanly");
}
