//! `wasmhost mcp --listen`: the SDK's Streamable HTTP client, raw HTTP refusals, limits,
//! cancellation and draining.

use serde_json::{Value, json};
use wasmhost_e2e::guests;

use super::{
    HttpServer, POST_HEADERS, call_body, open_request, raw_request, skills_dir, spin_policy,
};

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
    // The scheme is case-insensitive (RFC 7235); the token is not.
    let lower = format!("bearer {token}");
    let mut lowercase = POST_HEADERS.to_vec();
    lowercase.push(("Authorization", &lower));
    assert_eq!(server.request("POST", "/mcp", &lowercase, &body).0, 200);
    let upper = format!("Bearer {}", token.to_uppercase());
    let mut shouted = POST_HEADERS.to_vec();
    shouted.push(("Authorization", &upper));
    assert_eq!(server.request("POST", "/mcp", &shouted, &body).0, 401);
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
    // The call was still running when the client cancelled it.
    assert_eq!(report["calls"][0]["was_running"], true, "{report}");
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
        server.await_health("the call to start", |h| h["calls_running"] == 1);
    }
    // The connection is gone: the call stops and gives its slot back.
    server.await_health("the slot to be free", |h| h["calls_running"] == 0);
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
    server.await_health("the call to start", |h| h["calls_running"] == 1);
    server.signal(libc::SIGTERM);
    server.await_stderr("draining: finishing the calls in flight");
    // Draining: the listener is closed, so new connections are refused (an orchestrator
    // or load balancer sends them elsewhere) while the call in flight goes on.
    let authority = server.base.trim_start_matches("http://").to_string();
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(&authority).is_ok() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "a draining server still accepts connections"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The call in flight gets its real answer (here: its budget ran out at 4 s).
    let (status, text) = in_flight.join().expect("in flight");
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(r#""limit":"time""#), "{text}");
    let (exit, stderr) = server.wait(std::time::Duration::from_secs(60));
    assert!(exit.success(), "{stderr}");
    assert!(stderr.contains("every call in flight finished"), "{stderr}");
}

#[test]
fn with_sessions_a_drain_ends_when_the_calls_do_not_when_the_streams_do() {
    // The SDK keeps a GET stream open for its session; the drain must not wait for it
    // (that would hold every shutdown for the whole --drain-secs).
    let dir = tempfile::tempdir().expect("tempdir");
    spin_policy(dir.path(), 3);
    let server = HttpServer::start(
        dir.path(),
        &["--tool", guests::HOSTILE, "--drain-secs", "600"],
        &[],
    );
    let url = server.url();
    let client_dir = dir.path().to_path_buf();
    let client = std::thread::spawn(move || {
        let mut command = super::sdk_client("http");
        command
            .arg(url)
            .current_dir(client_dir)
            .env_remove("MCP_TOKEN");
        super::sdk_report(
            command,
            &json!([{"op": "call", "tool": "spin", "args": {}}]),
            String::new,
        )
        .0
    });
    server.await_health("the call to start", |h| h["calls_running"] == 1);
    assert_eq!(server.health()["sessions"], 1);
    server.signal(libc::SIGTERM);
    // Far less than the 600 s drain: the server ends once its one call has.
    let (exit, stderr) = server.wait(std::time::Duration::from_secs(120));
    assert!(exit.success(), "{stderr}");
    assert!(stderr.contains("every call in flight finished"), "{stderr}");
    let report = client.join().expect("client");
    assert_eq!(
        report["calls"][0]["result"]["structured"]["limit"], "time",
        "the call in flight got its answer: {report}"
    );
}

#[test]
fn calls_beyond_the_waiting_room_and_sessions_beyond_the_limit_are_turned_away() {
    let dir = tempfile::tempdir().expect("tempdir");
    spin_policy(dir.path(), 600);
    let server = HttpServer::start(
        dir.path(),
        &[
            "--tool",
            guests::HOSTILE,
            "--max-calls",
            "1",
            "--max-waiting",
            "1",
            "--max-sessions",
            "1",
        ],
        &[],
    );
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"}}})
    .to_string();
    let (status, text) = server.request("POST", "/mcp", &POST_HEADERS, init.as_bytes());
    assert_eq!(status, 200, "{text}");
    // One session open, the limit: the next client is told to come back.
    let (status, text) = server.request("POST", "/mcp", &POST_HEADERS, init.as_bytes());
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("--max-sessions"), "{text}");
    assert_eq!(server.health()["sessions"], 1);
    drop(server);

    // One call runs, one waits, the third is refused at once as overloaded.
    let server = HttpServer::start(
        dir.path(),
        &[
            "--tool",
            guests::HOSTILE,
            "--max-calls",
            "1",
            "--max-waiting",
            "1",
            "--stateless",
        ],
        &[],
    );
    let _running = open_request(
        &server.base,
        "POST",
        "/mcp",
        &POST_HEADERS,
        &call_body("spin", json!({})),
    );
    server.await_health("the first call to run", |h| h["calls_running"] == 1);
    let _waiting = open_request(
        &server.base,
        "POST",
        "/mcp",
        &POST_HEADERS,
        &call_body("ok", json!({})),
    );
    server.await_health("the second call to wait", |h| h["calls_waiting"] == 1);
    let (status, text) = server.request("POST", "/mcp", &POST_HEADERS, &call_body("ok", json!({})));
    assert_eq!(status, 200, "{text}");
    // The body as sent (hyper may chunk it): the JSON inside.
    let json = text
        .find('{')
        .zip(text.rfind('}'))
        .map_or("", |(a, b)| &text[a..=b]);
    let answer: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(answer["error"]["code"], -32603, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("overloaded: 1 calls are running and 1 waiting"),
        "{message}"
    );
    assert_eq!(server.health()["requests_in_flight"], 2);
}
