//! Loading: what is not a plugin, or not one this host supports, gets a clear error.

use wasmhost::plugin::{Plugin, PluginError, PluginSource, World};
use wasmhost::policy::PluginPolicy;
use wasmhost_e2e::guests;

use crate::support::{sandbox, source};

fn load(src: PluginSource) -> Result<Plugin, PluginError> {
    let policy = PluginPolicy::deny_all(&src.name);
    Plugin::load(&sandbox(), src, policy)
}

fn load_bytes(bytes: &[u8]) -> (tempfile::TempDir, Result<Plugin, PluginError>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("thing.wasm");
    std::fs::write(&path, bytes).expect("write");
    let result = load(PluginSource {
        name: "thing".into(),
        path,
    });
    (dir, result)
}

#[test]
fn shipped_and_test_plugins_load_with_their_world() {
    assert_eq!(
        load(source(guests::SKILLS)).expect("skills").world,
        World::Tool
    );
    assert_eq!(
        load(source(guests::HOSTILE)).expect("hostile").world,
        World::Tool
    );
    let provider = load(source(guests::ECHO_PROVIDER)).expect("echo provider");
    assert_eq!(provider.world, World::Provider);
    assert_eq!(provider.version.to_string(), "0.1.0");
}

#[test]
fn a_core_module_is_told_to_become_a_component() {
    // The smallest valid core module: magic and version 1.
    let (_dir, result) = load_bytes(b"\0asm\x01\0\0\0");
    let text = result.err().expect("refused").to_string();
    assert!(
        text.contains("core WebAssembly module, not a component"),
        "{text}"
    );
    assert!(text.contains("wasm32-wasip2"), "{text}");
}

#[test]
fn garbage_is_not_wasm() {
    let (_dir, result) = load_bytes(b"#!/bin/sh\necho hi\n");
    assert!(matches!(result, Err(PluginError::NotWasm { .. })));
    let (_dir, result) = load_bytes(b"\0asm\x0d\0\x01\0garbage");
    let text = result.err().expect("refused").to_string();
    assert!(text.contains("cannot compile plugin"), "{text}");
}

#[test]
fn a_missing_file_says_which() {
    let result = load(PluginSource {
        name: "nope".into(),
        path: "/definitely/not/here.wasm".into(),
    });
    let text = result.err().expect("refused").to_string();
    assert!(text.contains("/definitely/not/here.wasm"), "{text}");
}

#[test]
fn a_component_of_another_world_is_not_a_plugin() {
    let text = load(source(guests::NOT_A_PLUGIN))
        .err()
        .expect("refused")
        .to_string();
    assert!(text.contains("is not a wasmhost plugin"), "{text}");
    assert!(text.contains("wasi:cli/run"), "{text}");
}

#[test]
fn a_newer_api_version_asks_for_a_newer_host() {
    match load(source(guests::FUTURE_API)) {
        Err(PluginError::UnsupportedVersion { found, advice, .. }) => {
            assert_eq!(found, "0.3.0");
            assert!(advice.contains("upgrade wasmhost"));
        }
        Err(other) => panic!("expected unsupported version, got {other}"),
        Ok(_) => panic!("a 0.3 plugin loaded on a 0.2 host"),
    }
}

#[test]
fn asking_a_provider_for_tools_names_both_worlds() {
    let plugin = load(source(guests::ECHO_PROVIDER)).expect("loads");
    let text = plugin.into_tool().err().expect("not a tool").to_string();
    assert!(
        text.contains("provider-plugin plugin") && text.contains("needs a tool plugin"),
        "{text}"
    );
}

#[tokio::test]
async fn provider_info_is_read() {
    let provider = load(source(guests::ECHO_PROVIDER))
        .expect("loads")
        .into_provider()
        .expect("provider");
    let info = provider.info().await.expect("info");
    assert_eq!(info.name, "echo-provider");
    assert_eq!(info.default_model, "echo-1");
    assert!(info.capabilities.contains(&"streaming"));
    assert!(info.credential.is_none());
}
