//! Every per-call limit holds against a guest that crosses it, names itself, and leaves
//! the host able to run the next call.

use std::time::{Duration, Instant};

use serde_json::json;
use wasmhost::plugin::PluginError;
use wasmhost::sandbox::Limit;

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
    let message = PluginError::BudgetExceeded(wasmhost::sandbox::BudgetExceeded {
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
