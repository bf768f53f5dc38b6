//! `wasmhost mcp` driven by clients written by others: the official MCP Python SDK (`mcp`
//! from PyPI; `just mcp-sdk` installs it into target/tools/mcp) over stdio and Streamable
//! HTTP, rmcp's own client from Rust, and raw bytes where a client would not misbehave.
//!
//! [`stdio`] and [`http`] hold the transport tests, [`skills`] the resources, prompts and
//! Skills-extension tests, [`rust_client`] the rmcp client; this file the harness.

mod http;
mod rust_client;
mod skills;
mod stdio;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::{repo_root, test_environment, wasmhost_bin};

/// The SDK's interpreter: `$MCP_PYTHON`, else what `just mcp-sdk` installs.
pub fn sdk_python() -> PathBuf {
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
pub fn session(dir: &Path, server_args: &[&str], calls: Value) -> (Value, String) {
    let mut command = sdk_client("stdio");
    command.arg(wasmhost_bin()).arg("mcp").args(server_args);
    test_environment(&mut command, dir, &[]);
    sdk_report(command, &calls, String::new)
}

/// `client.py MODE …`: the caller adds its arguments.
pub fn sdk_client(mode: &str) -> Command {
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
pub fn sdk_report(
    mut command: Command,
    steps: &Value,
    server: impl Fn() -> String,
) -> (Value, String) {
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

pub fn skills_dir() -> String {
    repo_root().join("skills").to_string_lossy().into_owned()
}

pub struct HttpServer {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_on("127.0.0.1:0", dir, args, env)
    }

    pub fn start_on(listen: &str, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
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
        let reader = std::thread::spawn(move || {
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
            reader: Some(reader),
        }
    }

    pub fn url(&self) -> String {
        format!("{}/mcp", self.base)
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("lock").clone()
    }

    /// Runs the SDK's Streamable HTTP client against this server.
    pub fn session(&self, dir: &Path, steps: Value, token: Option<&str>) -> Value {
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
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String) {
        raw_request(&self.base, method, path, headers, body)
    }

    pub fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).expect("pid");
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    /// Waits for the server to exit (at most `limit`, then it is killed and the test
    /// fails): its status and everything it wrote to stderr.
    pub fn wait(mut self, limit: std::time::Duration) -> (std::process::ExitStatus, String) {
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("server state") {
                break status;
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!(
                    "the server did not exit within {limit:?}:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        // The reader ends with the pipe: every line is in.
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        (status, self.stderr())
    }

    /// `GET /healthz` as JSON.
    pub fn health(&self) -> Value {
        let (_, body) = self.request("GET", "/healthz", &[], b"");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
    }

    /// Polls `/healthz` until `ready` holds for it (at most a minute).
    pub fn await_health(&self, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let started = std::time::Instant::now();
        loop {
            let health = self.health();
            if ready(&health) {
                return health;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "waited a minute for {what}; last health {health}\n{}",
                self.stderr()
            );
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
    }

    /// Polls stderr until it contains `text` (at most a minute).
    pub fn await_stderr(&self, text: &str) {
        let started = std::time::Instant::now();
        while !self.stderr().contains(text) {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "waited a minute for {text:?} on stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn raw_request(
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
pub fn open_request(
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
pub fn call_body(tool: &str, arguments: Value) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
           "params": {"name": tool, "arguments": arguments}})
    .to_string()
    .into_bytes()
}

pub const POST_HEADERS: [(&str, &str); 3] = [
    ("Content-Type", "application/json"),
    ("Accept", "application/json, text/event-stream"),
    ("MCP-Protocol-Version", "2025-11-25"),
];

/// The hostile guest with a budget that lets `spin` run for `secs` seconds of wall clock.
pub fn spin_policy(dir: &Path, secs: u32) {
    std::fs::write(
        dir.join("wasmhost.toml"),
        format!("[plugins.hostile]\nfuel = 9000000000000000000\ntimeout_secs = {secs}\n"),
    )
    .expect("policy");
}
