//! `just bench` (part four): `wasmhost mcp` over stdio, driven by rmcp's client, beside a
//! floor measured in the same run: the smallest rmcp stdio server (this benchmark binary
//! re-run as one, with an `echo` tool answered natively). The difference is what serving
//! sandboxed tools costs over the SDK itself: a fresh component instance per call, the
//! policy, the budget.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ContentBlock, ListToolsResult, PaginatedRequestParams,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ErrorData, RoleClient, RoleServer, ServerHandler, ServiceExt};
use serde_json::json;
use wasmhost_e2e::guests;

const FLOOR_ARG: &str = "--mcp-floor-server";
const CALLS: usize = 1_000;

fn median(v: Vec<Duration>) -> Duration {
    percentile(v, 50)
}

fn percentile(mut v: Vec<Duration>, p: usize) -> Duration {
    v.sort();
    v[(v.len() * p / 100).min(v.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn ratio(a: f64, b: f64) -> String {
    format!("{:.2}×", a / b)
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The release binary next to this benchmark (built here, so the figures are optimised).
fn wasmhost() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "wasmhost",
            "--bin",
            "wasmhost",
        ])
        .current_dir(repo())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building wasmhost failed");
    let exe = std::env::current_exe().expect("bench exe");
    let dir = exe.parent().and_then(Path::parent).expect("target/release");
    dir.join("wasmhost")
}

/// The floor: one `echo` tool, answered without any sandbox.
#[derive(Clone)]
struct Floor {
    tools: Arc<Vec<Tool>>,
}

impl ServerHandler for Floor {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CallToolResponse, ErrorData> {
        let text = request
            .arguments
            .as_ref()
            .and_then(|a| a.get("text"))
            .and_then(|t| t.as_str())
            .unwrap_or_default()
            .to_string();
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]).into())
    }
}

async fn serve_floor() {
    let schema = json!({"type": "object", "properties": {"text": {"type": "string"}}});
    let schema = schema.as_object().cloned().unwrap_or_default();
    let floor = Floor {
        tools: Arc::new(vec![Tool::new("echo", "Echo the text.", Arc::new(schema))]),
    };
    let running = floor
        .serve(rmcp::transport::stdio())
        .await
        .expect("floor handshake");
    let _ = running.waiting().await;
}

type Client = RunningService<RoleClient, ()>;

/// Spawns `command` and completes the MCP handshake: the client and the time it took.
async fn connect(command: Command) -> (Client, Duration, u32) {
    let started = Instant::now();
    let (transport, _) = TokioChildProcess::builder(tokio::process::Command::from(command))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = transport.id().expect("pid");
    let client = ().serve(transport).await.expect("handshake");
    (client, started.elapsed(), pid)
}

fn echo(text: &str) -> CallToolRequestParams {
    CallToolRequestParams::new("echo").with_arguments(
        json!({ "text": text })
            .as_object()
            .cloned()
            .unwrap_or_default(),
    )
}

/// Peak resident memory of a live process, from /proc.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

struct Figures {
    ready: Duration,
    call: Duration,
    call_p95: Duration,
    list: Duration,
    rss_kib: u64,
}

async fn measure(make: impl Fn() -> Command) -> Figures {
    let mut ready = Vec::new();
    for _ in 0..7 {
        let (client, took, _) = connect(make()).await;
        ready.push(took);
        let _ = client.cancel().await;
    }
    let (client, _, pid) = connect(make()).await;
    for _ in 0..50 {
        client.call_tool(echo("warm")).await.expect("call");
    }
    let mut calls = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let started = Instant::now();
        let out = client.call_tool(echo("hi")).await.expect("call");
        calls.push(started.elapsed());
        assert_eq!(out.is_error, Some(false));
    }
    let rss_kib = peak_rss_kib(pid);
    let mut lists = Vec::new();
    for _ in 0..201 {
        let started = Instant::now();
        client.list_all_tools().await.expect("list");
        lists.push(started.elapsed());
    }
    let _ = client.cancel().await;
    Figures {
        ready: median(ready),
        call_p95: percentile(calls.clone(), 95),
        call: median(calls),
        list: median(lists),
        rss_kib,
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if std::env::args().any(|a| a == FLOOR_ARG) {
        runtime.block_on(serve_floor());
        return;
    }
    let bin = wasmhost();
    let scratch = tempfile::tempdir().expect("tempdir");
    let cache = repo().join("target/bench-cache");
    let empty_cache = scratch.path().join("empty-cache");
    let served_with = |cache: &Path, extra: &[&str]| {
        let mut command = Command::new(&bin);
        command
            .args(["mcp", "--tool", guests::HOSTILE])
            .args(extra)
            .current_dir(scratch.path())
            .env("WASMHOST_CACHE_DIR", cache)
            .env("WASMHOST_PLUGIN_PATH", guests::PLUGIN_DIR)
            .env_remove("WASMHOST_CONFIG");
        command
    };
    let served = |extra: &[&str]| served_with(&cache, extra);
    let floor = || {
        let mut command = Command::new(std::env::current_exe().expect("exe"));
        command.arg(FLOOR_ARG);
        command
    };
    runtime.block_on(async {
        // The very first start compiles the plugin into an empty cache; later ones load it.
        let (client, first, _) = connect(served_with(&empty_cache, &[])).await;
        let _ = client.cancel().await;
        let (client, _, _) = connect(served(&[])).await;
        let _ = client.cancel().await;
        let ours = measure(|| served(&[])).await;
        let skills = repo().join("skills");
        let skills = skills.to_string_lossy();
        let with_skills = measure(|| served(&["--skills", &skills])).await;
        let base = measure(floor).await;
        let mut rows: Vec<[String; 4]> = vec![
            [
                "start → ready (spawn + initialize)".into(),
                ms(ours.ready),
                format!("rmcp floor {}", ms(base.ready)),
                ratio(ours.ready.as_secs_f64(), base.ready.as_secs_f64()),
            ],
            [
                "start → ready, with --skills (3 skills)".into(),
                ms(with_skills.ready),
                format!("rmcp floor {}", ms(base.ready)),
                ratio(with_skills.ready.as_secs_f64(), base.ready.as_secs_f64()),
            ],
            [
                "first start, empty compile cache (compiles hostile.wasm)".into(),
                ms(first),
                format!("warm start {}", ms(ours.ready)),
                ratio(first.as_secs_f64(), ours.ready.as_secs_f64()),
            ],
            [
                format!("tools/call echo, median of {CALLS}"),
                ms(ours.call),
                format!(
                    "rmcp floor {} (+{})",
                    ms(base.call),
                    ms(ours.call.saturating_sub(base.call))
                ),
                ratio(ours.call.as_secs_f64(), base.call.as_secs_f64()),
            ],
            [
                format!("tools/call echo, p95 of {CALLS}"),
                ms(ours.call_p95),
                format!(
                    "rmcp floor {} (+{})",
                    ms(base.call_p95),
                    ms(ours.call_p95.saturating_sub(base.call_p95))
                ),
                ratio(ours.call_p95.as_secs_f64(), base.call_p95.as_secs_f64()),
            ],
            [
                "tools/list".into(),
                ms(ours.list),
                format!("rmcp floor {}", ms(base.list)),
                ratio(ours.list.as_secs_f64(), base.list.as_secs_f64()),
            ],
        ];
        rows.push([
            format!("peak RSS after {CALLS} calls"),
            format!("{:.1} MiB", ours.rss_kib as f64 / 1024.0),
            format!("rmcp floor {:.1} MiB", base.rss_kib as f64 / 1024.0),
            ratio(ours.rss_kib as f64, base.rss_kib as f64),
        ]);
        println!("| wasmhost mcp (stdio) | wasmhost | baseline (same run) | ratio |");
        println!("|---|---|---|---|");
        for [a, b, c, d] in rows {
            println!("| {a} | {b} | {c} | {d} |");
        }
    });
}
