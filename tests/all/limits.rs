//! Every per-call limit holds against a guest that crosses it, names itself, and leaves
//! the host able to run the next call.

use std::time::{Duration, Instant};

use serde_json::json;
use wasmhost::plugin::PluginError;
use wasmhost::runtime::Limit;

use crate::support::{assert_healthy, call, deny_all, hostile};

fn expect_limit(result: Result<Result<String, wasmhost::plugin::ToolError>, PluginError>) -> Limit {
    match result {
        Err(PluginError::BudgetExceeded(e)) => {
            let text = e.to_string();
            assert!(text.contains("budget-exceeded"), "{text}");
            assert!(text.contains("plugin `hostile`"), "{text}");
            e.limit
        }
        other => panic!("expected budget-exceeded, got {other:?}"),
    }
}

#[tokio::test]
async fn infinite_loop_runs_out_of_fuel() {
    let mut policy = deny_all();
    policy.limits.fuel = 20_000_000;
    let tool = hostile(policy);
    let limit = expect_limit(tool.call("spin", "{}").await);
    assert_eq!(limit, Limit::Fuel(20_000_000));
    let message = PluginError::BudgetExceeded(wasmhost::runtime::BudgetExceeded {
        plugin: "hostile".into(),
        limit,
    })
    .to_string();
    assert!(
        message.contains("20000000") && message.contains("`fuel`"),
        "{message}"
    );
    assert_healthy(&tool).await;
}

#[tokio::test]
async fn infinite_loop_hits_the_wall_clock() {
    let mut policy = deny_all();
    policy.limits.fuel = u64::MAX / 2;
    policy.limits.timeout = Duration::from_millis(300);
    let tool = hostile(policy);
    let started = Instant::now();
    let limit = expect_limit(tool.call("spin", "{}").await);
    assert_eq!(limit, Limit::WallClock(Duration::from_millis(300)));
    // Not a timing assertion on the limit's precision: only that it did not run on for
    // anything like the fuel it had.
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_healthy(&tool).await;
}

#[tokio::test]
async fn endless_allocation_hits_the_memory_cap() {
    let mut policy = deny_all();
    policy.limits.memory_bytes = 32 << 20;
    let tool = hostile(policy);
    assert_eq!(
        expect_limit(tool.call("alloc", "{}").await),
        Limit::Memory(32 << 20)
    );
    assert_healthy(&tool).await;
}

#[tokio::test]
async fn unbounded_recursion_overflows_the_stack_cleanly() {
    let tool = hostile(deny_all());
    assert_eq!(expect_limit(tool.call("recurse", "{}").await), Limit::Stack);
    assert_healthy(&tool).await;
}

#[tokio::test]
async fn printing_a_gigabyte_is_cut_at_the_output_cap() {
    let mut policy = deny_all();
    policy.limits.output_bytes = 64 << 10;
    let tool = hostile(policy);
    // A guest that handles the failed write gets an error back and stops.
    let answer = call(&tool, "print", json!({ "bytes": 1u64 << 30 })).await;
    let err = answer.expect_err("the write fails once the cap is reached");
    assert!(
        err.to_string().to_lowercase().contains("fail") || err.to_string().contains("closed"),
        "{err}"
    );
    // A guest that panics on it is reported as crossing the output limit.
    let limit = expect_limit(
        tool.call("print_panic", &json!({ "bytes": 1u64 << 30 }).to_string())
            .await,
    );
    assert_eq!(limit, Limit::Output(64 << 10));
    assert_healthy(&tool).await;
}

#[tokio::test]
async fn a_trap_is_a_crash_report_not_a_host_crash() {
    let tool = hostile(deny_all());
    match tool.call("trap", "{}").await {
        Err(PluginError::Trap { plugin, message }) => {
            assert_eq!(plugin, "hostile");
            assert!(message.contains("unreachable"), "{message}");
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    match tool.call("panic", "{}").await {
        Err(PluginError::Trap { message, .. }) => {
            assert!(
                message.contains("hostile guest panicked on purpose"),
                "{message}"
            );
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    assert_healthy(&tool).await;
}

#[tokio::test]
async fn environment_and_arguments_are_empty_unless_granted() {
    let tool = hostile(deny_all());
    assert_eq!(call(&tool, "env_all", json!({})).await.as_deref(), Ok(""));
    assert!(call(&tool, "env", json!({ "name": "PATH" })).await.is_err());
    assert!(call(&tool, "env", json!({ "name": "HOME" })).await.is_err());
    assert_eq!(call(&tool, "args", json!({})).await.as_deref(), Ok(""));

    let mut policy = deny_all();
    policy.env.insert("GREETING".into(), "hello".into());
    let tool = hostile(policy);
    assert_eq!(
        call(&tool, "env_all", json!({})).await.as_deref(),
        Ok("GREETING=hello")
    );
}

#[tokio::test]
async fn config_reaches_the_plugin_and_nothing_else_does() {
    let mut policy = deny_all();
    policy.config.insert("model".into(), "m-1".into());
    let tool = hostile(policy);
    assert_eq!(
        call(&tool, "config", json!({ "key": "model" }))
            .await
            .as_deref(),
        Ok("m-1")
    );
    assert!(
        call(&tool, "config", json!({ "key": "api-key" }))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn script_bridge_without_a_runner_says_so() {
    let tool = hostile(deny_all());
    let err = call(
        &tool,
        "run_python",
        json!({ "skill": "x", "code": "print(1)" }),
    )
    .await
    .expect_err("no runner");
    assert!(err.to_string().contains("no Python runner"), "{err}");
}

#[tokio::test]
async fn live_host_resources_are_capped_per_call() {
    let mut policy = deny_all();
    policy.limits.host_resources = 64;
    let tool = hostile(policy);
    let args = json!({ "count": 1000, "bytes": 10 }).to_string();
    assert_eq!(
        expect_limit(tool.call("fields_leak", &args).await),
        Limit::HostResources(64)
    );
    assert_healthy(&tool).await;
    // Within the cap, the same leak is the guest's own business.
    assert_eq!(
        call(&tool, "fields_leak", json!({ "count": 40, "bytes": 10 }))
            .await
            .as_deref(),
        Ok("leaked 40")
    );
}

#[tokio::test]
async fn a_header_set_is_capped_in_bytes() {
    let tool = hostile(deny_all());
    let args = json!({ "count": 1, "bytes": 1_000_000 }).to_string();
    assert_eq!(
        expect_limit(tool.call("fields_leak", &args).await),
        Limit::HeaderSet(wasmhost::policy::HTTP_FIELDS_BYTES)
    );
    assert_healthy(&tool).await;
}

/// A sandbox of its own, with `pool_mib` for all live calls together.
fn sandbox_with_pool(pool_mib: u64) -> std::sync::Arc<wasmhost::sandbox::Sandbox> {
    wasmhost::sandbox::Sandbox::new(wasmhost::sandbox::SandboxOptions {
        cache: wasmhost::runtime::ComponentCache::new(crate::support::cache_dir()),
        limits: wasmhost::policy::HostLimits {
            total_memory_bytes: pool_mib << 20,
            ..Default::default()
        },
        ..Default::default()
    })
    .expect("sandbox")
}

fn load_in(
    sandbox: &std::sync::Arc<wasmhost::sandbox::Sandbox>,
    path: &str,
    policy: wasmhost::policy::PluginPolicy,
) -> wasmhost::plugin::ToolPlugin {
    wasmhost::plugin::Plugin::load(sandbox, crate::support::source(path), policy)
        .expect("loads")
        .into_tool()
        .expect("tool")
}

#[tokio::test]
async fn the_host_pool_is_shared_and_given_back() {
    let sandbox = sandbox_with_pool(96);
    let mut policy = deny_all();
    policy.name = "hostile".into();
    let tool = load_in(&sandbox, wasmhost_e2e::guests::HOSTILE, policy);
    // 128 MiB fits the instance's 256 MiB but not the host's 96.
    let args = json!({ "mb": 128 }).to_string();
    assert_eq!(
        expect_limit(tool.call("alloc_mb", &args).await),
        Limit::HostMemory(96 << 20)
    );
    assert_eq!(
        sandbox.runtime().memory().used(),
        0,
        "a failed call gave its memory back"
    );
    let args = json!({ "mb": 32 }).to_string();
    for _ in 0..5 {
        assert_eq!(
            tool.call("alloc_mb", &args).await.expect("host").as_deref(),
            Ok("allocated 32")
        );
    }
    assert_eq!(
        sandbox.runtime().memory().used(),
        0,
        "every call gave its memory back"
    );
}

#[tokio::test]
async fn a_components_memories_count_together() {
    let sandbox = crate::support::sandbox();
    let path = wasmhost_e2e::guests::MULTI_MEMORY;
    let tool = load_in(
        &sandbox,
        path,
        wasmhost::policy::PluginPolicy::deny_all("multi-memory"),
    );
    match tool.call("anything", "{}").await {
        Err(PluginError::BudgetExceeded(e)) => assert_eq!(e.limit, Limit::Memory(256 << 20)),
        other => panic!("expected the memory limit, got {other:?}"),
    }
    let mut policy = wasmhost::policy::PluginPolicy::deny_all("multi-memory");
    policy.limits.memory_bytes = 1 << 30;
    let roomy = load_in(&sandbox, path, policy);
    for _ in 0..3 {
        assert_eq!(
            roomy.call("anything", "{}").await.expect("host").as_deref(),
            Ok("ok")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_stopped_at_its_deadline_gives_its_memory_back() {
    let sandbox = sandbox_with_pool(512);
    let mut policy = deny_all();
    policy.limits.timeout = Duration::from_millis(300);
    let tool = load_in(&sandbox, wasmhost_e2e::guests::HOSTILE, policy);
    // Takes 64 MiB, then sleeps past its deadline in a host import.
    let args = json!({ "mb": 64, "hold_ms": 60_000 }).to_string();
    assert_eq!(
        expect_limit(tool.call("alloc_mb", &args).await),
        Limit::WallClock(Duration::from_millis(300))
    );
    // The stopped call's task is aborted and its store dropped right after.
    let started = Instant::now();
    while sandbox.runtime().memory().used() != 0 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sandbox.runtime().memory().used(), 0);
    assert_healthy(&tool).await;
}

/// A component within every compile limit that still takes seconds to compile (~5 s on
/// the reference machine): 23 functions of 4,096 branches each, just under the cap on
/// branches squared summed over the component.
pub fn slow_to_compile() -> Vec<u8> {
    let function = format!(
        "(func (param i32) {})",
        "(if (local.get 0) (then unreachable)) ".repeat(4096)
    );
    wat::parse_str(format!("(component (core module {}))", function.repeat(23))).expect("wat")
}

#[test]
fn an_in_process_compile_stops_waiting_at_its_deadline() {
    let sandbox = wasmhost::sandbox::Sandbox::new(wasmhost::sandbox::SandboxOptions {
        cache: wasmhost::runtime::ComponentCache::disabled(),
        limits: wasmhost::policy::HostLimits {
            compile: wasmhost::policy::CompileLimits {
                timeout: Duration::from_millis(200),
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    })
    .expect("sandbox");
    match sandbox.compile(&slow_to_compile(), "slow") {
        Err(wasmhost::runtime::CompileError::Timeout(t)) => {
            assert_eq!(t, Duration::from_millis(200));
        }
        Err(e) => panic!("expected the deadline, got {e}"),
        Ok(_) => panic!("expected the deadline, it compiled"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_past_concurrent_calls_wait_their_turn_and_all_answer() {
    let sandbox = wasmhost::sandbox::Sandbox::new(wasmhost::sandbox::SandboxOptions {
        cache: wasmhost::runtime::ComponentCache::new(crate::support::cache_dir()),
        limits: wasmhost::policy::HostLimits {
            concurrent_calls: 2,
            ..Default::default()
        },
        ..Default::default()
    })
    .expect("sandbox");
    let mut policy = deny_all();
    policy.name = "hostile".into();
    let tool = std::sync::Arc::new(load_in(&sandbox, wasmhost_e2e::guests::HOSTILE, policy));
    // Watch how many calls are alive while eight of them, 200 ms each, are asked at once.
    let watching = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let watcher = {
        let (sandbox, watching) = (sandbox.clone(), watching.clone());
        tokio::spawn(async move {
            let mut most = 0;
            while watching.load(std::sync::atomic::Ordering::Relaxed) {
                most = most.max(sandbox.runtime().calls_in_flight());
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            most
        })
    };
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let tool = tool.clone();
            tokio::spawn(async move { tool.call("sleep", r#"{"ms": 200}"#).await })
        })
        .collect();
    for call in calls {
        let answer = call.await.expect("task");
        assert_eq!(
            answer.expect("no host failure").as_deref(),
            Ok("slept"),
            "every call answers"
        );
    }
    watching.store(false, std::sync::atomic::Ordering::Relaxed);
    let most = watcher.await.expect("watcher");
    assert_eq!(most, 2, "never more than concurrent_calls alive at once");
    assert_eq!(
        sandbox.runtime().calls_in_flight(),
        0,
        "every slot given back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_caller_stops_waiting_stops_too() {
    // An interrupted turn or a cancelled MCP call drops the call's future: the guest must
    // stop then, not run on to its deadline holding its slot and memory.
    let sandbox = sandbox_with_pool(1024);
    let mut policy = deny_all();
    policy.name = "hostile".into();
    policy.limits.fuel = u64::MAX / 4;
    policy.limits.timeout = Duration::from_secs(60);
    let tool = std::sync::Arc::new(load_in(&sandbox, wasmhost_e2e::guests::HOSTILE, policy));
    let spinning = {
        let tool = tool.clone();
        tokio::spawn(async move { tool.call("spin", "{}").await })
    };
    let started = std::time::Instant::now();
    while sandbox.runtime().calls_in_flight() == 0 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        sandbox.runtime().calls_in_flight(),
        1,
        "the call is spinning"
    );
    spinning.abort();
    let stopped = std::time::Instant::now();
    while sandbox.runtime().calls_in_flight() != 0 && stopped.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sandbox.runtime().calls_in_flight(), 0, "the call stopped");
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "it stopped when its caller left, not at its 60 s deadline: {:?}",
        stopped.elapsed()
    );
    assert_eq!(
        sandbox.runtime().memory().used(),
        0,
        "its memory is given back"
    );
}
