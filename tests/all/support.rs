//! Shared set-up: one sandbox for the library-level tests, plugin loading with a given
//! policy, the `wasmhost` binary, and a loopback HTTP server that records what it got.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};

use wasmhost::plugin::{Plugin, PluginSource, ToolPlugin};
use wasmhost::policy::PluginPolicy;
use wasmhost::runtime::ComponentCache;
use wasmhost::sandbox::{Sandbox, SandboxOptions};
use wasmhost_e2e::guests;

/// The compile cache the tests share, so each component compiles once per test run.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("component-cache")
}

pub fn sandbox() -> Arc<Sandbox> {
    static SANDBOX: OnceLock<Arc<Sandbox>> = OnceLock::new();
    SANDBOX
        .get_or_init(|| {
            Sandbox::new(SandboxOptions {
                cache: ComponentCache::new(cache_dir()),
                ..SandboxOptions::default()
            })
            .expect("sandbox starts")
        })
        .clone()
}

pub fn source(path: &str) -> PluginSource {
    let path = PathBuf::from(path);
    let name = path
        .file_stem()
        .expect("file name")
        .to_string_lossy()
        .replace('_', "-");
    PluginSource { name, path }
}

/// The hostile guest under `policy` (whose name is replaced by the plugin's).
pub fn hostile(mut policy: PluginPolicy) -> ToolPlugin {
    policy.name = "hostile".into();
    Plugin::load(&sandbox(), source(guests::HOSTILE), policy)
        .expect("hostile loads")
        .into_tool()
        .expect("hostile is a tool plugin")
}

pub fn deny_all() -> PluginPolicy {
    PluginPolicy::deny_all("hostile")
}

/// Calls a tool and expects the host to come back with the tool's own answer.
pub async fn call(
    tool: &ToolPlugin,
    name: &str,
    args: serde_json::Value,
) -> Result<String, wasmhost::plugin::ToolError> {
    tool.call(name, &args.to_string())
        .await
        .unwrap_or_else(|e| panic!("{name}: host-side failure: {e}"))
}

/// After any failure, a fresh instance of the same plugin still works.
pub async fn assert_healthy(tool: &ToolPlugin) {
    assert_eq!(
        call(tool, "ok", serde_json::json!({})).await.as_deref(),
        Ok("ok")
    );
}

/// The `wasmhost` binary, rebuilt once per test run: cargo builds a workspace's binaries
/// for `cargo test` at the root, but not for `cargo test -p wasmhost-e2e`, and a stale
/// binary would test old code.
pub fn wasmhost_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "--quiet", "-p", "wasmhost", "--bin", "wasmhost"])
                .current_dir(repo_root())
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building the wasmhost binary failed");
            let exe = std::env::current_exe().expect("test exe");
            let dir = exe.parent().and_then(Path::parent).expect("target/debug");
            dir.join(format!("wasmhost{}", std::env::consts::EXE_SUFFIX))
        })
        .clone()
}

/// Runs `wasmhost ARGS` with the shipped plugins on its search path and the test cache.
pub fn wasmhost(args: &[&str], cwd: &Path) -> Output {
    wasmhost_env(args, cwd, &[])
}

/// Like [`wasmhost`], with extra environment variables. No API key of the developer's
/// environment leaks into a test.
pub fn wasmhost_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    wasmhost_command(args, cwd, env)
        .output()
        .expect("wasmhost runs")
}

/// The `wasmhost` command a test runs: the shipped plugins on its search path, the test
/// cache, no key or config from the developer's environment, caches, data and config
/// inside the test's folder.
pub fn wasmhost_command(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(wasmhost_bin());
    command.args(args);
    test_environment(&mut command, cwd, env);
    command
}

/// The environment [`wasmhost_command`] gives the host, for a command that starts it
/// itself (an MCP client).
pub fn test_environment(command: &mut Command, cwd: &Path, env: &[(&str, &str)]) {
    command
        .current_dir(cwd)
        .env("WASMHOST_PLUGIN_PATH", guests::PLUGIN_DIR)
        .env("WASMHOST_CACHE_DIR", cache_dir())
        .env_remove("WASMHOST_CONFIG")
        .env_remove("RUST_BACKTRACE")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("ANTHROPIC_BASE_URL")
        .env("XDG_CACHE_HOME", cwd.join(".cache"))
        .env("XDG_DATA_HOME", cwd.join(".data"))
        .env("XDG_CONFIG_HOME", cwd.join(".config"));
    for (k, v) in env {
        command.env(k, v);
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

/// A request as the loopback server saw it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub request_line: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl SeenRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A plain HTTP/1.1 server on 127.0.0.1 that answers every request `200 hello` (or, from
/// [`RecordingServer::echoing`], the request's own header lines) and records it. It serves
/// until the test process ends.
pub struct RecordingServer {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<SeenRequest>>>,
}

impl RecordingServer {
    pub fn start() -> Self {
        Self::serve(false)
    }

    /// A server that echoes the request headers back in the body: what a hostile plugin
    /// uses to read the key the host added.
    pub fn echoing() -> Self {
        Self::serve(true)
    }

    fn serve(echo: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut headers = Vec::new();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.trim_end().split_once(':') {
                        let k = k.trim().to_ascii_lowercase();
                        let v = v.trim().to_string();
                        if k == "content-length" {
                            length = v.parse().unwrap_or(0);
                        }
                        headers.push((k, v));
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let body = if echo {
                    headers
                        .iter()
                        .map(|(k, v)| format!("{k}: {v}\n"))
                        .collect::<String>()
                } else {
                    "hello".to_string()
                };
                log.lock().expect("lock").push(SeenRequest {
                    request_line: request_line.trim_end().to_string(),
                    headers,
                });
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            }
        });
        Self { port, seen }
    }

    pub fn requests(&self) -> Vec<SeenRequest> {
        self.seen.lock().expect("lock").clone()
    }
}

/// What a `wasmhost` run printed, and the most memory it held at once.
pub struct Measured {
    pub output: Output,
    /// Peak resident set size of the process, in bytes.
    pub peak_rss: u64,
}

/// Runs `wasmhost ARGS` like [`wasmhost_env`] and measures its peak RSS (from the kernel's
/// accounting of the exact child, via `wait4`).
pub fn wasmhost_measured(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Measured {
    use std::os::unix::process::ExitStatusExt as _;
    use std::process::Stdio;
    let mut command = wasmhost_command(args, cwd, env);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    // Reaped below by wait4, which also reports its peak RSS.
    #[allow(clippy::zombie_processes)]
    let mut child = command.spawn().expect("wasmhost runs");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be overwritten.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, with valid pointers to locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    Measured {
        output: Output {
            status: std::process::ExitStatus::from_raw(status),
            stdout: out.join().expect("stdout reader"),
            stderr: err.join().expect("stderr reader"),
        },
        // Linux reports ru_maxrss in KiB.
        peak_rss: u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024,
    }
}

/// A folder with `wasmhost.toml` holding `policy`, for runs of the binary.
pub fn policy_dir(policy: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("wasmhost.toml"), policy).expect("write policy");
    dir
}
