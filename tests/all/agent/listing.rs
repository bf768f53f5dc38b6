//! `wasmhost models` and `wasmhost providers`.

use serde_json::Value;
use wasmhost_e2e::fake::anthropic::FakeAnthropic;

use super::*;
use crate::support::{stderr, stdout, wasmhost_env};

#[test]
fn models_are_listed() {
    let fake = FakeAnthropic::start(vec![]).with_models(&["claude-a", "claude-b"]);
    let url = fake.base_url();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = wasmhost_env(
        &[
            "models",
            "--plugin",
            "anthropic",
            "--base-url",
            &url,
            "--api-key-env",
            "ANTHROPIC_API_KEY",
            "--refresh",
            "--json",
        ],
        dir.path(),
        &[ANTHROPIC_KEY],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let models: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(models[0]["id"], "claude-a");
    assert_eq!(models[1]["id"], "claude-b");
}

#[test]
fn providers_lists_the_shipped_ones_with_their_credentials() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = wasmhost_env(&["providers", "--json"], dir.path(), &[OPENAI_KEY]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Value = serde_json::from_str(&stdout(&out)).expect("json");
    let row = |name: &str| {
        rows.as_array()
            .expect("rows")
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} listed: {rows:#}"))
            .clone()
    };
    assert_eq!(row("openai")["credential"], "set (OPENAI_API_KEY)");
    assert_eq!(
        row("anthropic")["credential"],
        "missing: set ANTHROPIC_API_KEY"
    );
    assert_eq!(row("openai")["base_url"], "https://api.openai.com/v1");
}
