//! The first sandboxed Python call on an empty compile cache: compiling the runtime is the
//! host's work, shown as progress and not charged to the calling tool's clock; `wasmhost
//! precompile` does it ahead of time.

use serde_json::Value;

use crate::support::{repo_root, stderr, stdout, wasmhost_env};
use wasmhost_e2e::guests;

#[test]
fn the_first_python_call_on_an_empty_cache_is_not_charged_to_the_tool() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Far less than the runtime's compile takes (12 s on 2 idle cores): before, the first
    // call failed at this limit.
    std::fs::write(
        dir.path().join("wasmhost.toml"),
        "[plugins.skills]\ntimeout_secs = 1\n",
    )
    .expect("policy");
    let cache = dir.path().join("empty-cache");
    let cache = cache.to_string_lossy();
    let skills = repo_root().join("skills");
    let skills = skills.to_string_lossy();
    let call = || {
        wasmhost_env(
            &[
                "call",
                "skills",
                "run_python_script",
                r#"{"name":"unit-converter","code":"print(6 * 7)"}"#,
                "--skills",
                &skills,
            ],
            dir.path(),
            &[("WASMHOST_CACHE_DIR", &cache)],
        )
    };
    let first = call();
    assert!(first.status.success(), "{}", stderr(&first));
    let result: Value = serde_json::from_str(&stdout(&first)).expect("json result");
    assert_eq!(result["stdout"], "42\n", "{result}");
    let progress = stderr(&first);
    assert!(
        progress.contains("compiling the Python runtime (") && progress.contains("once"),
        "the compile is announced: {progress}"
    );
    assert!(
        progress.contains("compiled the Python runtime in"),
        "{progress}"
    );
    // The compiled runtime is cached: the next call starts at once, silently.
    let second = call();
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        !stderr(&second).contains("compiling"),
        "{}",
        stderr(&second)
    );
}

#[test]
fn precompile_fills_the_cache_for_every_installed_plugin_and_the_runtime() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).expect("mkdir");
    std::fs::copy(guests::HOSTILE, plugins.join("hostile.wasm")).expect("copy");
    std::fs::write(plugins.join("broken.wasm"), b"not wasm").expect("write");
    let cache = dir.path().join("cache");
    let env = [
        ("WASMHOST_PLUGIN_PATH", plugins.to_str().expect("utf-8")),
        ("WASMHOST_CACHE_DIR", cache.to_str().expect("utf-8")),
        // A small component stands in for the runtime: what matters is that it is found.
        ("WASMHOST_PYTHON_RUNNER", guests::ECHO_PROVIDER),
    ];
    let rows = |out: &std::process::Output| -> Vec<Value> {
        serde_json::from_str(&stdout(out)).expect("json rows")
    };
    let find = |rows: &[Value], name: &str| -> Value {
        rows.iter()
            .find(|row| row["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no row for {name}: {rows:?}"))
    };

    let first = wasmhost_env(&["precompile", "--json"], dir.path(), &env);
    // The broken file is reported and fails the command; the others are compiled anyway.
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let first = rows(&first);
    assert_eq!(find(&first, "hostile")["outcome"], "compiled");
    assert_eq!(find(&first, "python")["outcome"], "compiled");
    let broken = find(&first, "broken");
    assert!(broken["outcome"].is_null(), "{broken}");
    assert!(broken["error"].is_string(), "{broken}");

    // Named plugins only; they are in the cache now.
    let again = wasmhost_env(&["precompile", "hostile", "--json"], dir.path(), &env);
    assert!(again.status.success(), "{}", stderr(&again));
    let again = rows(&again);
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0]["outcome"], "hit");

    let text = wasmhost_env(&["precompile", "hostile"], dir.path(), &env);
    assert!(text.status.success());
    assert!(
        stdout(&text).contains("already in the cache"),
        "{}",
        stdout(&text)
    );
    let missing = wasmhost_env(&["precompile", "no-such-plugin"], dir.path(), &env);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("no-such-plugin"),
        "{}",
        stderr(&missing)
    );
}
