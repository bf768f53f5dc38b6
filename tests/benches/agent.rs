//! `just bench` (part two): what the host adds to a conversation turn, against a local fake
//! API that answers instantly, and how long a streamed token takes from the fake server
//! to the screen. Baselines are native HTTP round trips to the same fake in the same run.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmhost::agent::{Agent, AgentConfig, AgentEvent, PluginProvider, PluginToolBox, Transcript};
use wasmhost::chat::{Message, Role};
use wasmhost::plugin::{Plugin, PluginSource};
use wasmhost::policy::PluginPolicy;
use wasmhost::policy::credentials::{
    CredentialNeed, Declared, ProviderFlags, SecretSources, grant_provider,
};
use wasmhost::sandbox::{ComponentCache, Sandbox, SandboxOptions};
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

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let scratch = tempfile::tempdir().expect("tempdir");
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

    println!("| what | wasmhost | baseline (same run) |");
    println!("|---|---|---|");
    for (a, b, c) in rows {
        println!("| {a} | {b} | {c} |");
    }
}
