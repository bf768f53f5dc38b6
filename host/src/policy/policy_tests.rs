use std::time::Duration;

use super::*;

fn parse(text: &str) -> Result<Policy, PolicyError> {
    Policy::parse(text, Path::new("/etc/wasmhost/wasmhost.toml"))
}

#[test]
fn unknown_plugin_gets_nothing() {
    let p = parse("").expect("empty policy").for_plugin("x").expect("x");
    assert!(p.allowed_hosts.is_empty() && p.folders.is_empty() && p.env.is_empty());
    assert_eq!(p.limits, Limits::default());
}

#[test]
fn section_overrides_fields_and_resolves_folders() {
    let p = parse(
        r#"
        [plugins.demo]
        allowed_hosts = ["127.0.0.1:8080"]
        env = { LANG = "C" }
        config = { base-url = "http://127.0.0.1:8080/v1" }
        fuel = 1000
        memory_mib = 64
        timeout_secs = 1.5
        folders = [{ host = "data", guest = "/data" }, { host = "/tmp/out", guest = "/out", access = "rw" }]
        "#,
    )
    .expect("valid")
    .for_plugin("demo")
    .expect("demo");
    assert_eq!(p.limits.fuel, 1000);
    assert_eq!(p.limits.memory_bytes, 64 << 20);
    assert_eq!(p.limits.timeout, Duration::from_millis(1500));
    assert_eq!(p.folders[0].host, Path::new("/etc/wasmhost/data"));
    assert_eq!(p.folders[0].access, Access::Ro);
    assert_eq!(p.folders[1].access, Access::Rw);
    assert_eq!(p.env["LANG"], "C");
    assert_eq!(p.config["base-url"], "http://127.0.0.1:8080/v1");
}

#[test]
fn typos_are_errors_with_location() {
    let err = parse("[plugins.demo]\nallowed_host = [\"x\"]\n").expect_err("typo");
    let text = err.to_string();
    assert!(text.contains("allowed_host"), "{text}");
    assert!(text.contains("line 2"), "{text}");
}

#[test]
fn bad_values_name_the_plugin() {
    for bad in [
        "[plugins.demo]\nallowed_hosts = [\"https://x/v1\"]",
        "[plugins.demo]\nbase_url = \"api.x.com\"",
        "[plugins.demo]\nresult_kib = 0",
        "[plugins.demo]\nstall_secs = -1",
        "[plugins.demo.secret]\nenv = \"K\"\nheader = \"cookie\"",
        "[plugins.demo.secret]\nenv = \"K\"\nhost = \"ftp://x\"",
        "[plugins.demo.secret]\nenv = \"K\"\nprefix = \"a\\nb\"",
        "[plugins.demo]\nmemory_mib = 999999",
        "[plugins.demo]\ntimeout_secs = 0",
        "[plugins.demo]\nfolders = [{ host = \"a\", guest = \"rel\" }]",
    ] {
        let text = parse(bad).expect_err(bad).to_string();
        assert!(text.contains("plugin `demo`"), "{text}");
    }
}

#[test]
fn content_and_host_limits_are_read() {
    let policy = parse(
        "[host]\nmemory_mib = 512\nparallel_tools = 2\nconcurrent_calls = 8\n[host.compile]\ntimeout_secs = 5\nloops = 7\n\
         [plugins.demo]\nresult_kib = 4\nresponse_kib = 8\nstream_events = 9\n\
         stall_secs = 1.5\ntool_spec_kib = 2\nmax_tools = 3\nhost_resources = 64\n\
         base_url = \"https://api.x.com/v1/\"\n\
         [plugins.demo.secret]\nenv = \"X_KEY\"\n",
    )
    .expect("valid");
    assert_eq!(policy.host.total_memory_bytes, 512 << 20);
    assert_eq!(policy.host.parallel_tools, 2);
    assert_eq!(policy.host.concurrent_calls, 8);
    assert_eq!(policy.host.compile.timeout, Duration::from_secs(5));
    assert_eq!(policy.host.compile.loops, 7);
    let p = policy.for_plugin("demo").expect("demo");
    assert_eq!(p.content.tool_result_bytes, 4096);
    assert_eq!(p.content.response_bytes, 8192);
    assert_eq!(p.content.stream_events, 9);
    assert_eq!(p.content.stall, Duration::from_millis(1500));
    assert_eq!(p.content.tool_spec_bytes, 2048);
    assert_eq!(p.content.max_tools, 3);
    assert_eq!(p.limits.host_resources, 64);
    assert_eq!(p.base_url.as_deref(), Some("https://api.x.com/v1"));
    let request = p.secret_request.expect("request");
    assert_eq!(request.env, "X_KEY");
    // Read only when granted, never at parse time.
    assert!(p.secret.is_none());
    let bad = parse("[host]\nmemory_mib = 0\n").expect_err("zero");
    assert!(bad.to_string().contains("[host]"), "{bad}");
    let bad = parse("[host]\nconcurrent_calls = 1001\n").expect_err("too many");
    assert!(bad.to_string().contains("ceiling of 1000"), "{bad}");
    assert_eq!(
        parse("").expect("empty").host.concurrent_calls,
        crate::policy::DEFAULT_CONCURRENT_CALLS
    );
}

#[test]
fn python_section_sets_mode_interpreter_and_script_limits() {
    let p = parse(
        "[plugins.skills.python]\nmode = \"native\"\ninterpreter = \"venv/bin/python\"\ntimeout_secs = 5\n",
    )
    .expect("valid")
    .for_plugin("skills")
    .expect("skills");
    assert_eq!(p.python.mode, PythonMode::Native);
    assert_eq!(
        p.python.interpreter.as_deref(),
        Some(Path::new("/etc/wasmhost/venv/bin/python"))
    );
    assert_eq!(p.python.limits.timeout, Duration::from_secs(5));
    assert_eq!(p.python.limits.fuel, DEFAULT_SCRIPT_FUEL);
    let d = parse("")
        .expect("empty")
        .for_plugin("skills")
        .expect("skills");
    assert_eq!(d.python.mode, PythonMode::Sandboxed);
    let bad = parse("[plugins.skills.python]\nmode = \"docker\"\n").expect_err("unknown mode");
    assert!(bad.to_string().contains("docker"), "{bad}");
}

#[test]
fn secrets_never_print() {
    let s = Secret::new("sk-very-secret");
    assert!(!format!("{s:?}").contains("sk-"));
    assert!(!serde_json::to_string(&s).expect("json").contains("sk-"));
}
