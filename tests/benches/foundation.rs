//! `just bench`: the sandbox's costs, each beside a native baseline measured in the same
//! run (the machine is noisy, so ratios mean more than absolute figures).
//!
//! Prints a Markdown table. Not a test: nothing here asserts a time.

use std::path::Path;
use std::time::{Duration, Instant};

use wasmhost::plugin::{Plugin, PluginSource, ToolPlugin};
use wasmhost::policy::{Access, FolderGrant, PluginPolicy};
use wasmhost::runtime::ComponentCache;
use wasmhost::sandbox::{Sandbox, SandboxOptions};
use wasmhost_e2e::guests;

const RSS_PROBE: &str = "--rss-probe";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if args.iter().any(|a| a == RSS_PROBE) {
        runtime.block_on(rss_probe(&args[args.len() - 1]));
        return;
    }
    // `cargo bench` passes `--bench`; ignore it and any filter.
    runtime.block_on(run());
}

struct Row {
    what: &'static str,
    figure: String,
    baseline: String,
    ratio: String,
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64())
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

async fn time_async<T>(f: impl AsyncFnOnce() -> T) -> Duration {
    let start = Instant::now();
    std::hint::black_box(f().await);
    start.elapsed()
}

fn sandbox(cache: ComponentCache, metered: bool) -> std::sync::Arc<Sandbox> {
    Sandbox::new(SandboxOptions {
        cache,
        unmetered_for_benchmarks: !metered,
        ..SandboxOptions::default()
    })
    .expect("sandbox")
}

fn source(path: &str, name: &str) -> PluginSource {
    PluginSource {
        name: name.into(),
        path: path.into(),
    }
}

fn hostile(sandbox: &std::sync::Arc<Sandbox>, data: &Path) -> ToolPlugin {
    let mut policy = PluginPolicy::deny_all("hostile");
    policy.folders.push(FolderGrant {
        host: data.to_path_buf(),
        guest: "/data".into(),
        access: Access::Ro,
    });
    Plugin::load(sandbox, source(guests::HOSTILE, "hostile"), policy)
        .expect("load")
        .into_tool()
        .expect("tool")
}

async fn samples(n: usize, tool: &ToolPlugin, name: &str, args: &str) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(
            time_async(async || {
                tool.call(name, args)
                    .await
                    .expect("host ok")
                    .expect("tool ok")
            })
            .await,
        );
    }
    out
}

async fn run() {
    let mut rows = Vec::new();
    let scratch = tempfile::tempdir().expect("tempdir");
    let data = scratch.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    let mib: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    std::fs::write(data.join("1mib.bin"), &mib).expect("write");
    std::fs::write(data.join("empty.bin"), b"").expect("write");

    // 1. Cranelift compile vs a cache hit, for each shipped/test component.
    let cache_dir = scratch.path().join("cache");
    let metered = sandbox(ComponentCache::new(cache_dir.clone()), true);
    for (what, path) in [
        ("load skills plugin", guests::SKILLS),
        ("load hostile guest", guests::HOSTILE),
    ] {
        let wasm = std::fs::read(path).expect("wasm");
        let compile = median(
            (0..5)
                .map(|_| {
                    time(|| {
                        ComponentCache::disabled()
                            .load(metered.engine(), &wasm, |w| {
                                metered.engine().precompile_component(w)
                            })
                            .expect("compile")
                    })
                    .1
                })
                .collect(),
        );
        let cache = ComponentCache::new(cache_dir.clone());
        cache
            .load(metered.engine(), &wasm, |w| {
                metered.engine().precompile_component(w)
            })
            .expect("fill cache");
        let hit = median(
            (0..50)
                .map(|_| {
                    time(|| {
                        cache
                            .load(metered.engine(), &wasm, |w| {
                                metered.engine().precompile_component(w)
                            })
                            .expect("hit")
                    })
                    .1
                })
                .collect(),
        );
        rows.push(Row {
            what,
            figure: format!("cached {}", millis(hit)),
            baseline: format!("compile {}", millis(compile)),
            ratio: ratio(hit, compile),
        });
    }

    let tool = hostile(&metered, &data);
    // Warm up the pool slots and the allocator.
    samples(200, &tool, "ok", "{}").await;

    // 2. A fresh instance plus a trivial call, against a native function call doing the
    // same (returning "ok").
    let fresh = median(samples(2000, &tool, "ok", "{}").await);
    let native_call = median(
        (0..2000)
            .map(|_| time(|| std::hint::black_box(String::from("ok"))).1)
            .collect(),
    );
    rows.push(Row {
        what: "fresh instance + trivial call",
        figure: micros(fresh),
        baseline: format!("native fn {}", micros(native_call)),
        ratio: "—".into(),
    });

    // 3. Round trips of 100 B and 1 MiB through `echo` (arguments in, result out), beyond
    // the trivial call: the cost of moving the bytes.
    for (what, size, n) in [
        ("echo 100 B round trip", 100usize, 2000),
        ("echo 1 MiB round trip", 1 << 20, 200),
    ] {
        let text = "x".repeat(size);
        let args = serde_json::json!({ "text": text }).to_string();
        let t = median(samples(n, &tool, "echo", &args).await);
        let native = median(
            (0..n)
                .map(|_| {
                    time(|| {
                        let parsed: serde_json::Value = serde_json::from_str(&args).expect("json");
                        std::hint::black_box(parsed["text"].as_str().map(str::to_owned))
                    })
                    .1
                })
                .collect(),
        );
        rows.push(Row {
            what,
            figure: micros(t),
            baseline: format!("native parse+copy {}", micros(native)),
            ratio: ratio(t, native),
        });
    }

    // 4. A 1 MiB file read in the guest through WASI vs `std::fs::read` natively: timed
    // by the guest's own clock around the read (the WASI calls, the copies into guest
    // memory, the guest's allocation), and end to end (read of 1 MiB minus read of an empty
    // file, so instance and call costs cancel, but page faults and memory reset do not).
    let mut in_guest = Vec::new();
    for _ in 0..300 {
        let ns = tool
            .call("time_read", r#"{"path":"/data/1mib.bin"}"#)
            .await
            .expect("host ok")
            .expect("tool ok");
        in_guest.push(Duration::from_nanos(ns.parse().expect("nanoseconds")));
    }
    let in_guest = median(in_guest);
    let read_1mib = median(samples(300, &tool, "read_len", r#"{"path":"/data/1mib.bin"}"#).await);
    let read_empty = median(samples(300, &tool, "read_len", r#"{"path":"/data/empty.bin"}"#).await);
    let end_to_end = read_1mib.saturating_sub(read_empty);
    let native_read = median(
        (0..300)
            .map(|_| time(|| std::fs::read(data.join("1mib.bin")).expect("read")).1)
            .collect(),
    );
    rows.push(Row {
        what: "1 MiB file read via WASI (guest clock)",
        figure: micros(in_guest),
        baseline: format!("native std::fs::read {}", micros(native_read)),
        ratio: ratio(in_guest, native_read),
    });
    rows.push(Row {
        what: "1 MiB file read via WASI (end to end)",
        figure: micros(end_to_end),
        baseline: format!("native std::fs::read {}", micros(native_read)),
        ratio: ratio(end_to_end, native_read),
    });

    // 5. Guest compute with the default budget (fuel + epoch) vs the same guest unmetered.
    let unmetered = sandbox(ComponentCache::new(cache_dir.clone()), false);
    let free_tool = hostile(&unmetered, &data);
    let work = r#"{"n": 20000}"#;
    samples(3, &tool, "compute", work).await;
    samples(3, &free_tool, "compute", work).await;
    let with_budget = median(samples(21, &tool, "compute", work).await);
    let without = median(samples(21, &free_tool, "compute", work).await);
    rows.push(Row {
        what: "guest JSON compute, default budget",
        figure: millis(with_budget),
        baseline: format!("no fuel/epoch {}", millis(without)),
        ratio: ratio(with_budget, without),
    });

    // 6. How long the default fuel budget lasts against the tightest loop a guest can run
    // (the documented wall time of `fuel`), with the wall clock out of the way.
    let mut policy = PluginPolicy::deny_all("hostile");
    policy.limits.timeout = std::time::Duration::from_secs(600);
    let spinner = Plugin::load(&metered, source(guests::HOSTILE, "hostile"), policy)
        .expect("load")
        .into_tool()
        .expect("tool");
    let started = Instant::now();
    let stopped = spinner.call("spin", "{}").await;
    let burned = started.elapsed();
    assert!(
        matches!(
            &stopped,
            Err(wasmhost::plugin::PluginError::BudgetExceeded(_))
        ),
        "{stopped:?}"
    );
    rows.push(Row {
        what: "default fuel (5e9) spent by a tight loop",
        figure: format!("{:.1} s", burned.as_secs_f64()),
        baseline: "—".into(),
        ratio: "—".into(),
    });

    // 7. Peak RSS of a fresh process: engine + cached load + 1,000 calls.
    let exe = std::env::current_exe().expect("exe");
    let out = std::process::Command::new(exe)
        .args([RSS_PROBE, cache_dir.to_str().expect("utf-8")])
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("probe");
    let probe = String::from_utf8_lossy(&out.stdout);
    let (peak, baseline) = probe.trim().split_once(' ').unwrap_or(("?", "?"));
    rows.push(Row {
        what: "peak RSS: load + 1,000 calls",
        figure: format!("{peak} KiB"),
        baseline: format!("process before load {baseline} KiB"),
        ratio: "—".into(),
    });

    println!("| what | wasmhost | baseline (same run) | ratio |");
    println!("|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} |",
            r.what, r.figure, r.baseline, r.ratio
        );
    }
}

/// Runs in a fresh process so its peak RSS is its own: prints `peak_kib before_kib`.
async fn rss_probe(cache_dir: &str) {
    let before = vm_hwm_kib();
    let sandbox = sandbox(ComponentCache::new(cache_dir.into()), true);
    let scratch = tempfile::tempdir().expect("tempdir");
    let tool = hostile(&sandbox, scratch.path());
    for _ in 0..1000 {
        tool.call("ok", "{}").await.expect("host").expect("tool");
    }
    println!("{} {before}", vm_hwm_kib());
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}
