//! Programs that cross a limit or reach for what they are not granted: each is stopped or
//! refused, says why, and the next run is healthy.

use std::time::{Duration, Instant};

use wasmhost::scripts::{ScriptFailure, ScriptRun};

use super::{assert_healthy, code, demo, policy, run, run_with, scratch_skills, try_run};

/// Stopped by the host: exit code -1 and the limit named in stderr.
fn assert_stopped(r: &ScriptRun, limit: &str) {
    assert_eq!(r.exit_code, -1, "{r:?}");
    assert!(r.stderr.contains("budget-exceeded"), "{r:?}");
    assert!(r.stderr.contains(limit), "{r:?}");
}

#[tokio::test]
async fn a_busy_loop_runs_out_of_fuel() {
    let mut policy = policy();
    policy.python.limits.fuel = 500_000_000;
    let r = run_with(&policy, code("print('started')\nwhile True: pass")).await;
    assert_stopped(&r, "fuel budget (500000000 units)");
    // The message names the section that raises the limit.
    assert!(
        r.stderr.contains("`fuel` in [plugins.skills.python]"),
        "{r:?}"
    );
    assert!(!r.timed_out, "{r:?}");
    assert_eq!(r.stdout, "started\n", "the partial output is kept: {r:?}");
    assert_healthy().await;
}

#[tokio::test]
async fn a_busy_loop_hits_the_time_limit_with_its_partial_output() {
    let mut policy = policy();
    policy.python.limits.fuel = u64::MAX / 2;
    policy.python.limits.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let r = run_with(
        &policy,
        code("import sys\nprint('started')\nprint('warning', file=sys.stderr)\nwhile True: pass"),
    )
    .await;
    assert!(r.timed_out, "{r:?}");
    assert_stopped(&r, "time limit (1.000 s)");
    assert_eq!(r.stdout, "started\n", "{r:?}");
    assert!(r.stderr.starts_with("warning\n"), "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_healthy().await;
}

#[tokio::test]
async fn sleeping_does_not_outlive_the_time_limit() {
    let mut policy = policy();
    policy.python.limits.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let r = run_with(
        &policy,
        code("import time\nprint('zz')\ntime.sleep(30)\nprint('woke')"),
    )
    .await;
    let elapsed = started.elapsed();
    assert!(r.timed_out, "{r:?}");
    assert_eq!(r.stdout, "zz\n", "{r:?}");
    assert!(elapsed < Duration::from_secs(5), "slept for {elapsed:?}");
    assert!(r.duration >= Duration::from_millis(900), "{r:?}");
    assert_healthy().await;
}

#[tokio::test]
async fn allocating_without_end_is_stopped() {
    // A gigabyte under the default 256 MiB: Python's own MemoryError. (`10**10` bytes is
    // an OverflowError here: it does not fit wasm32's 32-bit sizes.)
    let r = run("bytearray(10**9)").await;
    assert_eq!(r.exit_code, 1, "{r:?}");
    assert!(r.stderr.contains("MemoryError"), "{r:?}");
    assert_healthy().await;

    let mut policy = policy();
    policy.python.limits.memory_bytes = 64 << 20;
    for source in [
        "chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 20))",
        // Many small objects, held by a function's frame: the traceback still prints.
        "def grow():\n    x = []\n    while True:\n        x.append(list(range(1000)))\ngrow()",
    ] {
        let r = run_with(&policy, code(source)).await;
        let clean = r.exit_code == 1
            && r.stderr.contains("Traceback")
            && r.stderr.ends_with("MemoryError\n");
        let stopped = r.exit_code == -1 && r.stderr.contains("memory limit (64 MiB)");
        assert!(clean || stopped, "{r:?}");
        assert_healthy().await;
    }
}

#[tokio::test]
async fn output_is_cut_at_the_cap() {
    let mut policy = policy();
    // Room for the gigabyte string itself; the output cap is what must cut it.
    policy.python.limits.memory_bytes = 2 << 30;
    policy.python.limits.output_bytes = 64 << 10;
    let r = run_with(&policy, code("print('x' * 10**9)\nprint('done')")).await;
    assert!(r.truncated, "{:?}", (r.exit_code, &r.stderr));
    assert_eq!(r.exit_code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.len(), 64 << 10);
    assert!(r.stdout.bytes().all(|b| b == b'x'));
    // A character is never split at the cut: 65,536 bytes hold 21,845 three-byte `€`.
    let r = run_with(&policy, code("print('€' * 10**6)")).await;
    assert!(r.truncated, "{}", r.stdout.len());
    assert_eq!(r.stdout.len(), 65_535);
    assert!(r.stdout.chars().all(|c| c == '€'));
    assert_healthy().await;
}

#[tokio::test]
async fn there_is_no_network() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let r = run(&format!(
        "import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('connected')"
    ))
    .await;
    assert_eq!(r.exit_code, 1, "{r:?}");
    assert!(!r.stdout.contains("connected"), "{r:?}");
    // Name lookups and connections are refused: `socket.gaierror`.
    assert!(r.stderr.contains("socket.gaierror"), "{r:?}");
    assert!(
        listener.accept().is_err(),
        "the script reached the listener"
    );
    let r = run("import urllib.request\nurllib.request.urlopen('http://127.0.0.1:9/')").await;
    assert_eq!(r.exit_code, 1, "{r:?}");
    assert!(r.stderr.contains("urllib.error.URLError"), "{r:?}");
    assert_healthy().await;
}

#[tokio::test]
async fn files_outside_the_grants_are_out_of_reach() {
    let (dir, policy) = scratch_skills();
    let r = run_with(&policy, demo("open('/etc/passwd').read()")).await;
    assert_eq!(r.exit_code, 1, "{r:?}");
    assert!(r.stderr.contains("FileNotFoundError"), "{r:?}");

    let r = run_with(
        &policy,
        demo("print(open('/skill/scripts/helper.py').read()[:3])\nopen('/skill/x', 'w')"),
    )
    .await;
    assert_eq!(r.stdout, "def\n", "the skill is readable: {r:?}");
    assert!(r.stderr.contains("PermissionError"), "{r:?}");
    assert!(!dir.path().join("demo/x").exists());

    let escape = format!("wasmhost-escape-{}", std::process::id());
    for target in [
        "/tmp/x".to_string(),
        format!("../{escape}"),
        format!("/scratch/../{escape}"),
    ] {
        let r = run_with(
            &policy,
            demo(&format!("open({target:?}, 'w').write('out')")),
        )
        .await;
        assert_eq!(r.exit_code, 1, "{target}: {r:?}");
        assert!(
            r.stderr.contains("PermissionError") || r.stderr.contains("FileNotFoundError"),
            "{target}: {r:?}"
        );
    }
    assert!(!std::env::temp_dir().join(&escape).exists());
    assert_healthy().await;
}

#[tokio::test]
async fn imports_the_sandbox_lacks_need_native_mode() {
    for (source, expected) in [
        ("import lxml", "needs native mode: imports lxml"),
        (
            "import subprocess\nsubprocess.run(['ls'])",
            "needs native mode: imports subprocess",
        ),
        (
            "import json\nfrom lxml import etree\nimport numpy as np, subprocess",
            "needs native mode: imports lxml, numpy, subprocess",
        ),
        (
            "def f():\n    import multiprocessing\nprint('x')",
            "needs native mode: imports multiprocessing",
        ),
        (
            "from concurrent.futures.process import ProcessPoolExecutor",
            "imports concurrent.futures.process",
        ),
        ("import ssl", "imports ssl"),
    ] {
        match try_run(&policy(), code(&format!("print('ran')\n{source}"))).await {
            Err(ScriptFailure::Denied(message)) => {
                assert!(message.contains(expected), "{source}: {message}");
                assert!(message.contains("mode = \"native\""), "{message}");
            }
            other => panic!("{source}: expected a denial, got {other:?}"),
        }
    }
    // An import with a fallback runs, and falls back.
    let r = run("try:\n    import lxml\nexcept ImportError:\n    lxml = None\nprint(lxml)").await;
    assert_eq!(r.stdout, "None\n", "{r:?}");
    assert_healthy().await;
}

#[tokio::test]
async fn unbounded_recursion_is_stopped() {
    // Python-level recursion: CPython's own RecursionError.
    let r = run("def f(n):\n    return f(n + 1)\nf(0)").await;
    assert_eq!(r.exit_code, 1, "{r:?}");
    assert!(
        r.stderr
            .ends_with("RecursionError: maximum recursion depth exceeded\n"),
        "{r:?}"
    );
    // C-level recursion with the guard lifted: the wasm stack overflows.
    let r = run(
        "import sys\nsys.setrecursionlimit(10**9)\nprint('deep')\nx = []\n\
         for _ in range(10**6):\n    x = [x]\nrepr(x)",
    )
    .await;
    assert_stopped(&r, "stack limit");
    assert_eq!(r.stdout, "deep\n", "{r:?}");
    assert_healthy().await;
}
