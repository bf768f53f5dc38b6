//! The plugin author kit: a tool plugin written in Python (`examples/python-tool`, built by
//! `just python-tool`) loaded by the same host; the crates `wasmhost new` writes, built
//! for wasm32-wasip2 with a plain `cargo build` and then inspected and called; and a tool
//! on the `wasmhost-plugin` SDK (its `sdk_hello` example).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{repo_root, stderr, stdout, wasmhost};

/// The Python example plugin; it is built outside cargo (componentize-py), by the Justfile.
fn text_tools() -> String {
    let path = repo_root().join("target/examples/text_tools.wasm");
    assert!(
        path.is_file(),
        "{} is missing: run `just python-tool` (or `just test`)",
        path.display()
    );
    path.display().to_string()
}

fn tool_names(report: &Value) -> Vec<String> {
    report["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_string())
        .collect()
}

#[test]
fn a_python_tool_plugin_loads_and_answers() {
    let plugin = text_tools();
    let dir = tempfile::tempdir().expect("tempdir");

    let out = wasmhost(&["inspect", &plugin, "--json"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(report["world"], "tool");
    assert_eq!(report["api_version"], "wasmhost:plugin@0.2.0");
    assert_eq!(tool_names(&report), ["word_count", "slugify", "reverse"]);
    let schema: Value = serde_json::from_str(
        report["tools"][0]["parameters_schema"]
            .as_str()
            .expect("schema"),
    )
    .expect("the schema is JSON");
    assert_eq!(schema["required"], serde_json::json!(["text"]));

    let out = wasmhost(
        &["call", &plugin, "word_count", r#"{"text":"a b c"}"#],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "3");

    let out = wasmhost(
        &["call", &plugin, "slugify", r#"{"text":"Héllo, World!"}"#],
        dir.path(),
    );
    assert_eq!(stdout(&out).trim(), "hello-world", "{}", stderr(&out));

    // The host import works from Python too: `-vv` shows the plugin's debug line.
    let out = wasmhost(
        &["-vv", "call", &plugin, "reverse", r#"{"text":"abc"}"#],
        dir.path(),
    );
    assert_eq!(stdout(&out).trim(), "cba", "{}", stderr(&out));
    assert!(
        stderr(&out).contains("[text-tools debug] reverse called"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_python_tool_plugins_errors_are_tool_errors() {
    let plugin = text_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    for (tool, args, message) in [
        (
            "word_count",
            "{}",
            "invalid arguments: missing field `text`",
        ),
        (
            "word_count",
            r#"{"text": 3}"#,
            "field `text` must be a string",
        ),
        ("reverse", r#"{"txt": "a"}"#, "unknown field `txt`"),
        ("shout", "{}", "no tool `shout`"),
    ] {
        let out = wasmhost(&["call", &plugin, tool, args], dir.path());
        assert_eq!(
            out.status.code(),
            Some(1),
            "{tool} {args}: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains(message),
            "{tool} {args}: {}",
            stderr(&out)
        );
    }
    let out = wasmhost(&["call", &plugin, "word_count", "{}", "--json"], dir.path());
    let answer: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(answer["ok"], false, "{answer}");
}

/// The target folder the generated crates and the SDK example share, so later builds and
/// the next test run reuse the first's dependencies.
fn shared_target() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugin-templates")
}

/// `cargo ARGS` in `crate_dir`, building into [`shared_target`].
fn cargo(crate_dir: &Path, args: &[&str]) {
    let target = shared_target();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .current_dir(crate_dir)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo {args:?} in {}: {}",
        crate_dir.display(),
        stderr(&out)
    );
}

fn component(crate_name: &str) -> String {
    shared_target()
        .join("wasm32-wasip2/release")
        .join(format!("{crate_name}.wasm"))
        .display()
        .to_string()
}

#[test]
fn new_writes_crates_that_build_load_and_test() {
    // Outside the repository, as a user's crate would be: no workspace above it.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for (kind, name) in [("tool", "hello-tool"), ("provider", "echo-llm")] {
        let out = wasmhost(&["new", kind, name], root);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains("cargo build --release --target wasm32-wasip2"));
        let crate_dir = root.join(name);
        for file in [
            "Cargo.toml",
            "src/lib.rs",
            "README.md",
            "wit/v0.2.0/worlds.wit",
        ] {
            assert!(crate_dir.join(file).is_file(), "{name}: {file}");
        }
        cargo(
            &crate_dir,
            &["build", "--release", "--target", "wasm32-wasip2"],
        );
        cargo(&crate_dir, &["test", "--quiet"]);
    }

    let tool = component("hello_tool");
    let out = wasmhost(&["inspect", &tool, "--json"], root);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(report["world"], "tool");
    assert_eq!(report["api_version"], "wasmhost:plugin@0.2.0");
    assert_eq!(tool_names(&report), ["hello"]);
    let out = wasmhost(&["call", &tool, "hello", r#"{"name":"Ada"}"#], root);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "Hello, Ada!");
    let out = wasmhost(&["call", &tool, "hello", "{}"], root);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("missing string field `name`"));

    let provider = component("echo_llm");
    let out = wasmhost(&["inspect", &provider, "--json"], root);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(report["world"], "provider");
    assert_eq!(report["provider"]["name"], "echo-llm");
    let out = wasmhost(&["run", "--plugin", &provider, "hi there"], root);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "echo: hi there");
}

#[test]
fn new_refuses_bad_names_and_non_empty_folders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = wasmhost(&["new", "tool", "9lives"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("must start with a letter"),
        "{}",
        stderr(&out)
    );
    let out = wasmhost(&["new", "tool", "my.tool"], dir.path());
    assert_eq!(out.status.code(), Some(2));

    std::fs::create_dir(dir.path().join("taken")).expect("mkdir");
    std::fs::write(dir.path().join("taken/keep.txt"), "mine").expect("write");
    let out = wasmhost(&["new", "provider", "p", "--dir", "taken"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not an empty folder"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("taken/keep.txt")).expect("read"),
        "mine"
    );

    // An empty folder is fine.
    std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
    let out = wasmhost(&["new", "provider", "p", "--dir", "empty"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("empty/Cargo.toml").is_file());
}

#[test]
fn a_tool_on_the_sdk_is_a_working_component() {
    let sdk = repo_root().join("plugins/sdk");
    cargo(
        &sdk,
        &[
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "-p",
            "wasmhost-plugin",
            "--example",
            "sdk_hello",
        ],
    );
    let plugin = component("examples/sdk_hello");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = wasmhost(&["inspect", &plugin, "--json"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(report["world"], "tool");
    assert_eq!(tool_names(&report), ["hello"]);

    let out = wasmhost(
        &["-vv", "call", &plugin, "hello", r#"{"name":"Ada"}"#],
        dir.path(),
    );
    assert_eq!(stdout(&out).trim(), "Hello, Ada!", "{}", stderr(&out));
    assert!(
        stderr(&out).contains("[sdk-hello debug] hello called"),
        "{}",
        stderr(&out)
    );
    // The SDK's argument errors, as the model would read them.
    let out = wasmhost(&["call", &plugin, "hello", r#"{"name": 3}"#], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid arguments: invalid type: integer `3`, expected a string"),
        "{}",
        stderr(&out)
    );
}
