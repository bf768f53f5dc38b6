//! The `wasmhost` binary: exit codes, inspect and call on the shipped plugins.

use serde_json::Value;
use wasmhost_e2e::guests;

use crate::support::{repo_root, stderr, stdout, wasmhost};

fn skills_dir() -> String {
    repo_root().join("skills").display().to_string()
}

#[test]
fn version_and_help() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = wasmhost(&["--version"], dir.path());
    assert!(out.status.success());
    assert!(stdout(&out).starts_with("wasmhost "), "{}", stdout(&out));
    let out = wasmhost(&["--help"], dir.path());
    for command in ["inspect", "call"] {
        assert!(stdout(&out).contains(command), "{}", stdout(&out));
    }
    let out = wasmhost(&["frobnicate"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn inspect_the_shipped_skills_plugin_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = wasmhost(
        &["inspect", "skills", "--skills", &skills_dir(), "--json"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(report["world"], "tool");
    assert_eq!(report["api_version"], "wasmhost:plugin@0.2.0");
    let tools: Vec<&str> = report["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    for name in ["list_skills", "get_skill", "read_file_in_skill"] {
        assert!(tools.contains(&name), "{tools:?}");
    }
    assert_eq!(report["policy"]["folders"][0]["guest"], "/skills");
    assert_eq!(report["policy"]["folders"][0]["access"], "ro");
    assert!(
        report["policy"]["allowed_hosts"]
            .as_array()
            .expect("hosts")
            .is_empty()
    );

    let text = wasmhost(&["inspect", "skills"], dir.path());
    assert!(text.status.success(), "{}", stderr(&text));
    for line in [
        "world     tool-plugin",
        "allowed hosts  none",
        "list_skills",
    ] {
        assert!(stdout(&text).contains(line), "{}", stdout(&text));
    }
}

#[test]
fn inspect_a_provider_shows_its_info() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = wasmhost(&["inspect", guests::ECHO_PROVIDER, "--json"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(report["world"], "provider");
    assert_eq!(report["provider"]["name"], "echo-provider");
    assert_eq!(report["provider"]["default_model"], "echo-1");
}

#[test]
fn call_a_tool_of_the_skills_plugin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = wasmhost(
        &["call", "skills", "list_skills", "--skills", &skills_dir()],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let listing: Value = serde_json::from_str(&stdout(&out)).expect("json listing");
    let names: Vec<&str> = listing["skills"]
        .as_array()
        .expect("skills")
        .iter()
        .map(|s| s["name"].as_str().expect("name"))
        .collect();
    assert!(names.len() >= 3, "{names:?}");

    let out = wasmhost(
        &[
            "call",
            "skills",
            "get_skill",
            r#"{"name": "no-such-skill"}"#,
            "--skills",
            &skills_dir(),
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let answer: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(answer["ok"], false);
    assert_eq!(answer["error"]["kind"], "not-found");
}

#[test]
fn usage_errors_exit_2_and_runtime_errors_exit_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad_json = wasmhost(&["call", "skills", "list_skills", "{not json"], dir.path());
    assert_eq!(bad_json.status.code(), Some(2), "{}", stderr(&bad_json));
    assert!(stderr(&bad_json).contains("not valid JSON"));

    let missing = wasmhost(&["inspect", "no-such-plugin"], dir.path());
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("no plugin named `no-such-plugin`"),
        "{}",
        stderr(&missing)
    );

    let not_plugin = wasmhost(&["inspect", guests::NOT_A_PLUGIN], dir.path());
    assert_eq!(not_plugin.status.code(), Some(1));
    assert!(
        stderr(&not_plugin).contains("is not a wasmhost plugin"),
        "{}",
        stderr(&not_plugin)
    );
    assert!(
        !stderr(&not_plugin).contains("panicked"),
        "{}",
        stderr(&not_plugin)
    );
}

#[test]
fn policy_file_limits_apply_and_the_error_names_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("wasmhost.toml"),
        "[plugins.hostile]\nfuel = 10000000\n",
    )
    .expect("policy");
    let out = wasmhost(&["call", guests::HOSTILE, "spin"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("budget-exceeded") && err.contains("fuel budget (10000000 units)"),
        "{err}"
    );

    std::fs::write(
        dir.path().join("wasmhost.toml"),
        "[plugins.hostile]\nfule = 1\n",
    )
    .expect("policy");
    let out = wasmhost(&["call", guests::HOSTILE, "ok"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("fule"), "{}", stderr(&out));
}

#[test]
fn second_run_loads_from_the_compile_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let run = || {
        std::process::Command::new(crate::support::wasmhost_bin())
            .args(["inspect", guests::HOSTILE, "--json"])
            .current_dir(dir.path())
            .env("WASMHOST_CACHE_DIR", &cache)
            .output()
            .expect("runs")
    };
    let first: Value = serde_json::from_str(&stdout(&run())).expect("json");
    let second: Value = serde_json::from_str(&stdout(&run())).expect("json");
    assert_eq!(first["compiled"], "compiled");
    assert_eq!(second["compiled"], "hit");
}

#[test]
fn inspect_every_shipped_provider_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, header, env_var) in [
        ("openai", "authorization", "OPENAI_API_KEY"),
        ("anthropic", "x-api-key", "ANTHROPIC_API_KEY"),
    ] {
        let out = wasmhost(&["inspect", name, "--json"], dir.path());
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let report: Value = serde_json::from_str(&stdout(&out)).expect("json");
        assert_eq!(report["world"], "provider");
        assert_eq!(report["provider"]["name"], name);
        assert_eq!(report["provider"]["credential"]["header"], header);
        assert_eq!(report["provider"]["credential"]["env_var"], env_var);
        let imports: Vec<&str> = report["imports"]
            .as_array()
            .expect("imports")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            imports
                .iter()
                .any(|i| i.starts_with("wasi:http/outgoing-handler")),
            "{imports:?}"
        );
        assert!(
            !imports.iter().any(|i| i.starts_with("wasi:filesystem")),
            "{name} needs no files: {imports:?}"
        );
    }
}

#[test]
fn the_just_wrapper_needs_nothing_but_python_on_the_path() {
    // A PATH with the system tools and cargo, but no `just`: the wrapper finds the one it
    // installed under target/tools/, or installs it there, and runs the recipe.
    let root = crate::support::repo_root();
    let cargo_bin = std::env::var("CARGO_HOME")
        .map(|h| format!("{h}/bin"))
        .unwrap_or_else(|_| format!("{}/.cargo/bin", std::env::var("HOME").unwrap_or_default()));
    let python = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, os; print(os.path.dirname(sys.executable))",
        ])
        .output()
        .expect("python3");
    let python_dir = String::from_utf8_lossy(&python.stdout).trim().to_string();
    let path = format!("/usr/bin:/bin:{cargo_bin}:{python_dir}");
    let out = std::process::Command::new(root.join("just"))
        .arg("--list")
        .env("PATH", &path)
        .current_dir(&root)
        .output()
        .expect("./just runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("demo") && listed.contains("test"),
        "{listed}"
    );
}

#[test]
fn completions_are_scripts_the_shell_accepts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bash = wasmhost(&["completions", "bash"], dir.path());
    assert!(bash.status.success(), "{}", stderr(&bash));
    let script = stdout(&bash);
    assert!(script.contains("complete -F _wasmhost"), "{script}");
    for subcommand in ["run", "chat", "precompile", "skills"] {
        assert!(script.contains(subcommand), "{subcommand} missing");
    }
    assert!(
        !script.contains("__compile"),
        "the internal subcommand stays hidden"
    );
    // bash itself parses it.
    let path = dir.path().join("wasmhost.bash");
    std::fs::write(&path, &script).expect("write");
    let parsed = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash runs");
    assert!(parsed.status.success(), "{}", stderr(&parsed));
    let fish = wasmhost(&["completions", "fish"], dir.path());
    assert!(
        stdout(&fish).contains("complete -c wasmhost"),
        "{}",
        stdout(&fish)
    );
    let bad = wasmhost(&["completions", "tcsh"], dir.path());
    assert_eq!(bad.status.code(), Some(2));
}
