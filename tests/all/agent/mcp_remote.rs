//! `--mcp NAME` with `url = ...`: a remote MCP server (tests/mcp/demo_server.py written with
//! the official Python SDK, serving Streamable HTTP on loopback behind a gate that logs
//! every request and checks its token), reached through the egress gate with the token the
//! host adds; in full conversations with the fake OpenAI server.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use wasmhost_e2e::fake::Reply;
use wasmhost_e2e::fake::openai::FakeOpenAi;

use super::{OPENAI_KEY, run_in};
use crate::mcp::sdk_python;
use crate::support::{repo_root, stderr, stdout};

const TOKEN: &str = "mcp-tok-7f3a9c2e5b1d4f60";

/// The demo server over HTTP, killed when dropped.
struct RemoteServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl RemoteServer {
    fn start(token: Option<&str>, redirect: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let mut command = Command::new(sdk_python());
        command
            .arg(repo_root().join("tests/mcp/demo_server.py"))
            .args(["--http", "port"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("server.err")).expect("err file"));
        if let Some(token) = token {
            command.env("DEMO_TOKEN", token);
        }
        if let Some(redirect) = redirect {
            command.env("DEMO_REDIRECT", redirect);
        }
        let child = command.spawn().expect("demo server");
        let deadline = Instant::now() + Duration::from_secs(60);
        let port = loop {
            if let Ok(text) = std::fs::read_to_string(dir.join("port")) {
                break text.trim().parse().expect("port");
            }
            assert!(Instant::now() < deadline, "the demo server did not start");
            std::thread::sleep(Duration::from_millis(50));
        };
        Self { child, port, dir }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `METHOD PATH auth=ok|missing|wrong`, one per request the server got.
    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("requests.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for RemoteServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port that counts the connections made to it and answers none.
fn counting_port() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            let mut stream = stream;
            let mut buf = [0u8; 1024];
            let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = stream.read(&mut buf);
        }
    });
    (port, count)
}

fn policy(dir: &Path, section: &str) {
    std::fs::write(dir.join("wasmhost.toml"), section).expect("policy");
}

fn with_token(url: &str, extra: &str) -> String {
    format!(
        "[mcp.remote]\nurl = \"{url}\"\ntimeout_secs = 2\n{extra}\n[mcp.remote.secret]\nenv = \"DEMO_MCP_TOKEN\"\n"
    )
}

#[test]
fn a_remote_servers_tools_get_the_token_the_host_adds_and_it_never_shows() {
    let server = RemoteServer::start(Some(TOKEN), None);
    let dir = tempfile::tempdir().expect("tempdir");
    policy(
        dir.path(),
        &with_token(&server.url("/mcp"), "deny_tools = [\"die\"]"),
    );
    let fake = FakeOpenAi::start(vec![
        Reply::chat("")
            .with_tool_call("c1", "add", r#"{"a": 2, "b": 3}"#)
            .with_tool_call("c2", "whoami", "{}")
            .with_tool_call("c3", "sleep", r#"{"seconds": 8}"#)
            .with_tool_call("c4", "fail", r#"{"message": "no such city"}"#),
        Reply::chat("2 + 3 = 5."),
    ]);
    let url = fake.base_url();
    let cassette = dir.path().join("cassette.jsonl");
    let cassette = cassette.display().to_string();
    let r = run_in(
        &dir,
        &[
            "--plugin",
            "openai",
            "--base-url",
            &url,
            "--mcp",
            "remote",
            "--record",
            &cassette,
            "add 2 and 3",
        ],
        &[OPENAI_KEY, ("DEMO_MCP_TOKEN", TOKEN)],
    );
    let err = stderr(&r.output);
    assert_eq!(r.code(), Some(0), "{err}");
    fake.assert_no_violations();
    assert_eq!(r.final_text(), "2 + 3 = 5.");
    let results: Vec<(bool, String)> = r
        .of_type("tool_result")
        .iter()
        .map(|t| {
            (
                t["ok"] == true,
                t["output"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(results[0], (true, "5".into()), "{results:?}");
    // The server echoed the header it got: the model sees the token replaced.
    assert_eq!(results[1], (true, "you sent: Bearer [REDACTED]".into()));
    assert!(
        !results[2].0 && results[2].1.contains("within 2 s"),
        "{:?}",
        results[2]
    );
    assert!(
        !results[3].0 && results[3].1.ends_with("no such city"),
        "{:?}",
        results[3]
    );
    // Every request carried the token, and the denied tool was never offered.
    let requests = server.requests();
    assert!(requests.len() >= 4, "{requests:?}");
    assert!(
        requests.iter().all(|l| l.ends_with("auth=ok")),
        "{requests:?}"
    );
    let offered: Vec<String> = fake.chat_requests()[0].body["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["function"]["name"].as_str().map(str::to_string))
        .collect();
    assert!(offered.contains(&"whoami".to_string()) && !offered.contains(&"die".to_string()));
    // Not in --json output, stderr, the transcript, the cassette, or what the model got.
    let transcript = std::fs::read_to_string(dir.path().join("transcript.jsonl")).expect("t");
    let recorded = std::fs::read_to_string(&cassette).expect("cassette");
    let sent: String = fake
        .chat_requests()
        .iter()
        .map(|r| r.body.to_string())
        .collect();
    for (place, text) in [
        ("stdout", stdout(&r.output)),
        ("stderr", err),
        ("transcript", transcript),
        ("cassette", recorded),
        ("model requests", sent),
    ] {
        assert!(!text.contains(TOKEN), "the token is in the {place}");
    }

    // inspect names where the token comes from, never the token.
    let out = crate::support::wasmhost_env(
        &["inspect", "--mcp", "remote", "--json"],
        dir.path(),
        &[("DEMO_MCP_TOKEN", TOKEN)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["kind"], "remote");
    assert_eq!(report["credential"]["env"], "DEMO_MCP_TOKEN");
    assert_eq!(report["credential"]["header"], "authorization");
    assert!(report.get("command").is_none(), "{report}");
    assert!(!stdout(&out).contains(TOKEN));
    let out = crate::support::wasmhost_env(
        &["inspect", "--mcp", "remote"],
        dir.path(),
        &[("DEMO_MCP_TOKEN", TOKEN)],
    );
    let text = stdout(&out);
    assert!(
        text.contains("token       from DEMO_MCP_TOKEN, in the authorization header"),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "{text}");
}

#[test]
fn a_missing_or_wrong_token_or_a_dead_server_is_a_clear_error() {
    let server = RemoteServer::start(Some(TOKEN), None);
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeOpenAi::start(vec![]);
    let url = fake.base_url();
    let args = [
        "--plugin",
        "openai",
        "--base-url",
        &url,
        "--mcp",
        "remote",
        "hi",
    ];
    policy(dir.path(), &with_token(&server.url("/mcp"), ""));

    let r = run_in(&dir, &args, &[OPENAI_KEY]);
    let err = stderr(&r.output);
    assert_ne!(r.code(), Some(0));
    assert!(
        err.contains("DEMO_MCP_TOKEN") && err.contains("not set"),
        "{err}"
    );
    assert!(
        server.requests().is_empty(),
        "nothing is sent without the token"
    );

    let wrong = "wrong-token-0123456789";
    let r = run_in(&dir, &args, &[OPENAI_KEY, ("DEMO_MCP_TOKEN", wrong)]);
    let err = stderr(&r.output);
    assert_ne!(r.code(), Some(0));
    assert!(
        err.contains("MCP server `remote`") && err.contains("DEMO_MCP_TOKEN"),
        "{err}"
    );
    assert!(!err.contains(wrong), "{err}");
    assert!(server.requests().iter().all(|l| l.ends_with("auth=wrong")));

    // Without a secret section: the server's 401 says which section to add.
    policy(
        dir.path(),
        &format!("[mcp.remote]\nurl = \"{}\"\n", server.url("/mcp")),
    );
    let r = run_in(&dir, &args, &[OPENAI_KEY]);
    let err = stderr(&r.output);
    assert_ne!(r.code(), Some(0));
    assert!(err.contains("[mcp.remote.secret]"), "{err}");

    let (dead, _) = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        (l.local_addr().expect("addr").port(), ())
    };
    policy(
        dir.path(),
        &format!("[mcp.remote]\nurl = \"http://127.0.0.1:{dead}/mcp\"\n"),
    );
    let r = run_in(&dir, &args, &[OPENAI_KEY]);
    let err = stderr(&r.output);
    assert_ne!(r.code(), Some(0));
    assert!(
        err.contains("MCP server `remote`") && err.contains(&dead.to_string()),
        "{err}"
    );
    assert!(
        fake.chat_requests().is_empty(),
        "no turn runs without the tools"
    );
}

#[test]
fn redirects_are_followed_only_where_the_policy_allows() {
    let (other, connections) = counting_port();
    let target = format!("http://127.0.0.1:{other}/mcp");
    let server = RemoteServer::start(None, Some(&target));
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeOpenAi::start(vec![
        Reply::chat("").with_tool_call("c1", "add", r#"{"a": 1, "b": 1}"#),
        Reply::chat("2."),
    ]);
    let url = fake.base_url();
    let args = [
        "--plugin",
        "openai",
        "--base-url",
        &url,
        "--mcp",
        "remote",
        "1+1",
    ];

    // On the same origin, followed.
    policy(
        dir.path(),
        &format!("[mcp.remote]\nurl = \"{}\"\n", server.url("/same")),
    );
    let r = run_in(&dir, &args, &[OPENAI_KEY]);
    assert_eq!(r.code(), Some(0), "{}", stderr(&r.output));
    assert_eq!(r.final_text(), "2.");
    assert!(server.requests().iter().any(|l| l.starts_with("POST /mcp")));

    // To another origin not allowed: refused, named, and never reached.
    policy(
        dir.path(),
        &format!("[mcp.remote]\nurl = \"{}\"\n", server.url("/moved")),
    );
    let r = run_in(&dir, &args, &[OPENAI_KEY]);
    let err = stderr(&r.output);
    assert_ne!(r.code(), Some(0));
    assert!(
        err.contains(&format!(
            "redirected the client to http://127.0.0.1:{other}/mcp"
        )) && err.contains("allowed_hosts"),
        "{err}"
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the other port was reached"
    );

    // With a token, even an allowed host is not given it.
    policy(
        dir.path(),
        &with_token(
            &server.url("/moved"),
            &format!("allowed_hosts = [\"127.0.0.1:{other}\"]"),
        ),
    );
    let r = run_in(&dir, &args, &[OPENAI_KEY, ("DEMO_MCP_TOKEN", TOKEN)]);
    let err = stderr(&r.output);
    assert_ne!(r.code(), Some(0));
    assert!(err.contains("only to the url's origin"), "{err}");
    assert!(!err.contains(TOKEN));
    assert_eq!(connections.load(Ordering::SeqCst), 0);

    // Allowed, and no token: followed (the port answers nothing, so the start fails there).
    policy(
        dir.path(),
        &format!(
            "[mcp.remote]\nurl = \"{}\"\nallowed_hosts = [\"127.0.0.1:{other}\"]\nstartup_secs = 2\n",
            server.url("/moved")
        ),
    );
    let r = run_in(&dir, &args, &[OPENAI_KEY]);
    assert_ne!(r.code(), Some(0));
    assert!(
        connections.load(Ordering::SeqCst) >= 1,
        "{}",
        stderr(&r.output)
    );
}
