//! `just bench` (part two): what the host adds to a conversation turn, against a local fake
//! API that answers instantly, and how long a streamed token takes from the fake server
//! to the screen. Baselines are native HTTP round trips to the same fake in the same run.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmhost::agent::{Agent, AgentConfig, AgentEvent, Transcript};
use wasmhost::chat::{Message, Role};
use wasmhost::plugin::{Plugin, PluginSource};
use wasmhost::plugin::{PluginProvider, PluginToolBox};
use wasmhost::policy::PluginPolicy;
use wasmhost::policy::credentials::{
    CredentialNeed, Declared, ProviderFlags, SecretSources, grant_provider,
};
use wasmhost::runtime::ComponentCache;
use wasmhost::sandbox::{Sandbox, SandboxOptions};
use wasmhost_e2e::fake::Reply;
use wasmhost_e2e::fake::openai::FakeOpenAi;
use wasmhost_e2e::guests;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

async fn provider(sandbox: &Arc<Sandbox>, base_url: &str) -> PluginProvider {
    let source = PluginSource {
        name: "openai".into(),
        path: guests::OPENAI.into(),
    };
    let mut plugin = Plugin::load(sandbox, source, PluginPolicy::deny_all("openai"))
        .expect("load openai")
        .into_provider()
        .expect("provider");
    let info = plugin.info().await.expect("info");
    let mut policy = (*plugin.plugin().policy).clone();
    let declared = Declared {
        default_base_url: info.default_base_url,
        credential: info.credential.map(|c| CredentialNeed {
            header: c.header,
            prefix: c.prefix,
            env_var: c.env_var,
            required: c.required,
        }),
    };
    let sources = SecretSources {
        use_process_env: false,
        environment: Some([("OPENAI_API_KEY".to_string(), FakeOpenAi::KEY.to_string())].into()),
        dotenv: Default::default(),
    };
    // The fake stands in for the API: the key is named for it, as for any other server.
    let flags = ProviderFlags {
        base_url: Some(base_url),
        key_env: Some("OPENAI_API_KEY"),
    };
    grant_provider(&mut policy, flags, &declared, &sources).expect("grant");
    plugin.set_policy(policy);
    PluginProvider::new(plugin, info.default_model)
}

fn conversation() -> Transcript {
    let mut t = Transcript::in_memory();
    t.push(Message::text(Role::System, "You are terse."))
        .expect("push");
    t.push(Message::text(Role::User, "Say hi.")).expect("push");
    t
}

/// Peak resident memory of this process so far (`VmHWM`), in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// `n` conversations, each a tool call (the hostile plugin's `ok`) and an answer, on one
/// fake; all at once, or one after another. Returns how long they took.
async fn conversations(sandbox: &Arc<Sandbox>, n: usize, at_once: bool) -> Duration {
    // The fake answers in script order, whoever asks: a tool call, an answer, n times.
    // One after another, each conversation draws exactly that; at once, one may draw an
    // answer first and another two tool calls, and the total work is the same: 2n
    // provider calls and n tool calls.
    let script = (0..n).flat_map(|i| {
        [
            Reply::chat("").with_tool_call(&format!("call_{i}"), "ok", "{}"),
            Reply::chat("done"),
        ]
    });
    let fake = FakeOpenAi::start(script);
    let mut policy = PluginPolicy::deny_all("hostile");
    policy.name = "hostile".into();
    let tool = Plugin::load(
        sandbox,
        PluginSource {
            name: "hostile".into(),
            path: guests::HOSTILE.into(),
        },
        policy,
    )
    .expect("load hostile")
    .into_tool()
    .expect("tool");
    let tools = Arc::new(PluginToolBox::new(vec![tool]).await.expect("tools"));
    let agent = Arc::new(Agent::new(
        vec![Arc::new(provider(sandbox, &fake.base_url()).await)],
        tools,
        AgentConfig::default(),
    ));
    let started = Instant::now();
    if at_once {
        let runs: Vec<_> = (0..n)
            .map(|_| {
                let agent = agent.clone();
                tokio::spawn(async move {
                    let mut t = conversation();
                    let mut quiet = |_: AgentEvent| {};
                    agent.run(&mut t, &mut quiet).await.expect("conversation");
                })
            })
            .collect();
        for run in runs {
            run.await.expect("task");
        }
    } else {
        for _ in 0..n {
            let mut t = conversation();
            agent.run(&mut t, &mut |_| {}).await.expect("conversation");
        }
    }
    started.elapsed()
}

/// 50 conversations at once in one process (a multi-threaded runtime, as the CLI and
/// servers use), against the same 50 one after another; and the process's peak memory.
fn concurrent_conversations(cache: &std::path::Path) -> (String, String, String) {
    const N: usize = 50;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let sandbox = Sandbox::new(SandboxOptions {
            cache: ComponentCache::new(cache.to_path_buf()),
            ..SandboxOptions::default()
        })
        .expect("sandbox");
        // Warm: compile and cache both plugins.
        conversations(&sandbox, 2, false).await;
        let together = conversations(&sandbox, N, true).await;
        let peak = peak_rss_mib();
        let apart = conversations(&sandbox, N, false).await;
        let rate = |d: Duration| N as f64 / d.as_secs_f64();
        (
            format!("{N} conversations at once, each with a tool call"),
            format!(
                "{:.0} conversations/s ({:.2}× one at a time), peak RSS {peak:.0} MiB",
                rate(together),
                apart.as_secs_f64() / together.as_secs_f64()
            ),
            format!("one at a time {:.0} conversations/s", rate(apart)),
        )
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let scratch = tempfile::tempdir().expect("tempdir");
    // First, so that its peak memory is its own.
    let cache = scratch.path().join("cache");
    let concurrent = tokio::task::spawn_blocking(move || concurrent_conversations(&cache))
        .await
        .expect("concurrent conversations");
    let sandbox = Sandbox::new(SandboxOptions {
        cache: ComponentCache::new(scratch.path().join("cache")),
        ..SandboxOptions::default()
    })
    .expect("sandbox");
    let mut rows: Vec<(String, String, String)> = Vec::new();

    // 1. A whole turn (fresh provider instance, request JSON built in the guest, loopback
    // HTTP through wasi-http, response parsed, transcript updated) vs a native client
    // sending the same request to the same fake.
    const TURNS: usize = 300;
    for stream in [false, true] {
        let fake = FakeOpenAi::start((0..TURNS + 20).map(|_| Reply::chat("hi")));
        let agent = Agent::new(
            vec![Arc::new(provider(&sandbox, &fake.base_url()).await)],
            Arc::new(PluginToolBox::empty()),
            AgentConfig {
                stream,
                ..AgentConfig::default()
            },
        );
        let mut samples = Vec::new();
        for i in 0..TURNS + 20 {
            let mut t = conversation();
            let started = Instant::now();
            agent.run(&mut t, &mut |_| {}).await.expect("turn");
            if i >= 20 {
                samples.push(started.elapsed());
            }
        }
        let body = fake.chat_requests()[0].raw_body.clone();
        let fake = FakeOpenAi::start((0..TURNS + 20).map(|_| Reply::chat("hi")));
        let url = format!("{}/chat/completions", fake.base_url());
        let native = tokio::task::spawn_blocking(move || {
            let agent = ureq::Agent::new_with_defaults();
            let mut samples = Vec::new();
            for i in 0..TURNS + 20 {
                let started = Instant::now();
                let mut response = agent
                    .post(&url)
                    .header("authorization", &format!("Bearer {}", FakeOpenAi::KEY))
                    .header("content-type", "application/json")
                    .send(body.as_str())
                    .expect("native request");
                let text = response.body_mut().read_to_string().expect("body");
                let _: serde_json::Value = serde_json::from_str(
                    text.lines()
                        .next()
                        .unwrap_or("{}")
                        .trim_start_matches("data: "),
                )
                .unwrap_or_default();
                if i >= 20 {
                    samples.push(started.elapsed());
                }
            }
            samples
        })
        .await
        .expect("native");
        let (t, n) = (median(samples), median(native));
        rows.push((
            format!(
                "turn, {}",
                if stream { "streamed" } else { "whole response" }
            ),
            format!("{} (overhead {})", us(t), us(t.saturating_sub(n))),
            format!("native HTTP round trip {}", us(n)),
        ));
    }

    // 2. Token latency: the fake sends 5-character tokens 5 ms apart; each is timed from
    // the moment the server hands it to its socket to the moment the host emits it.
    let tokens: Vec<String> = (0..200).map(|i| format!("t{i:03} ")).collect();
    let fake = FakeOpenAi::start([Reply::paced(
        Duration::from_millis(5),
        Reply::chat(tokens.concat()),
    )]);
    let agent = Agent::new(
        vec![Arc::new(provider(&sandbox, &fake.base_url()).await)],
        Arc::new(PluginToolBox::empty()),
        AgentConfig::default(),
    );
    let arrivals: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let seen = arrivals.clone();
    let mut t = conversation();
    agent
        .run(&mut t, &mut move |e| {
            if let AgentEvent::Text { text } = e {
                // What the CLI does with a token: write it out and flush.
                use std::io::Write;
                let mut sink = std::io::sink();
                let _ = sink.write_all(text.as_bytes());
                let _ = sink.flush();
                if let Ok(mut v) = seen.lock() {
                    v.push((Instant::now(), text));
                }
            }
        })
        .await
        .expect("stream");
    let sent = fake.sent_pieces();
    let arrivals = arrivals.lock().expect("lock").clone();
    let delays: Vec<Duration> = arrivals
        .iter()
        .filter_map(|(at, token)| {
            let needle = format!("\"content\":\"{token}\"");
            sent.iter()
                .find(|(_, piece)| piece.contains(&needle))
                .map(|(sent_at, _)| at.saturating_duration_since(*sent_at))
        })
        .collect();
    if delays.is_empty() {
        rows.push((
            "streamed token, server → emitted".into(),
            "no tokens matched".into(),
            "-".into(),
        ));
    } else {
        let mut sorted = delays.clone();
        sorted.sort();
        rows.push((
            format!("streamed token, server → emitted ({} tokens)", delays.len()),
            format!(
                "median {} / p95 {}",
                us(median(delays)),
                us(sorted[sorted.len() * 95 / 100])
            ),
            "target ≤ 1 ms".into(),
        ));
    }

    rows.push(concurrent);
    println!("| what | wasmhost | baseline (same run) |");
    println!("|---|---|---|");
    for (a, b, c) in rows {
        println!("| {a} | {b} | {c} |");
    }
}
