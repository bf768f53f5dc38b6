use serde_json::{Value, json};

use super::{FakeHost, Fixture};
use crate::error::{Failure, Outcome};
use crate::python::RUN_PYTHON_SCRIPT;
use crate::wasmhost::plugin::script_bridge::{ScriptError, ScriptOutput};

fn with_skill() -> Fixture {
    let f = Fixture::new();
    f.skill("conv", "d");
    f.write("conv/scripts/run.py", "print('hi')\n");
    f
}

fn run(f: &Fixture, host: &mut FakeHost, arguments: Value) -> Outcome<String> {
    crate::tools::call(f.root(), RUN_PYTHON_SCRIPT, &arguments.to_string(), host)
}

/// A call the plugin must refuse before asking the host.
fn refused(f: &Fixture, arguments: Value) -> Failure {
    let mut host = FakeHost::default();
    let failure = run(f, &mut host, arguments.clone()).expect_err("refused");
    assert!(host.requests.is_empty(), "{arguments} reached the host");
    failure
}

#[test]
fn a_script_request_reaches_the_host_normalized_and_the_output_is_json() {
    let f = with_skill();
    let mut host = FakeHost {
        answer: Some(Ok(ScriptOutput {
            stdout: "10 km = 6.213711922 mi\n".into(),
            stderr: String::new(),
            exit_code: 0,
            timed_out: false,
            truncated: false,
            duration_ms: 42,
        })),
        ..FakeHost::default()
    };
    let text = run(
        &f,
        &mut host,
        json!({"name": "conv", "script": "./scripts//run.py", "args": ["10", "km", "mi"]}),
    )
    .expect("runs");
    let request = &host.requests[0];
    assert_eq!(request.skill, "conv");
    assert_eq!(request.script.as_deref(), Some("scripts/run.py"));
    assert_eq!(request.code, None);
    assert_eq!(request.args, ["10", "km", "mi"]);
    assert_eq!(request.stdin, None);
    let output: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        output,
        json!({"stdout": "10 km = 6.213711922 mi\n", "stderr": "", "exit_code": 0,
               "timed_out": false, "truncated": false, "duration_ms": 42})
    );
}

#[test]
fn a_module_with_input_files_reaches_the_host_in_path_order() {
    let f = with_skill();
    let mut host = FakeHost {
        answer: Some(Ok(ScriptOutput {
            stdout: "ok\n".into(),
            stderr: String::new(),
            exit_code: 0,
            timed_out: false,
            truncated: false,
            duration_ms: 5,
        })),
        ..FakeHost::default()
    };
    run(
        &f,
        &mut host,
        json!({"name": "conv", "module": "scripts.run", "args": ["in/b.csv"],
               "files": {"in/b.csv": "x,y\n", "a.txt": "hello"}}),
    )
    .expect("runs");
    let request = &host.requests[0];
    assert_eq!(request.module.as_deref(), Some("scripts.run"));
    assert_eq!(
        (request.script.as_deref(), request.code.as_deref()),
        (None, None)
    );
    let files: Vec<(&str, &str)> = request
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.content.as_str()))
        .collect();
    assert_eq!(files, [("a.txt", "hello"), ("in/b.csv", "x,y\n")]);
}

#[test]
fn inline_code_with_stdin_and_a_failed_run_is_still_a_result() {
    let f = with_skill();
    let mut host = FakeHost {
        answer: Some(Ok(ScriptOutput {
            stdout: "partial".into(),
            stderr: "Traceback ...".into(),
            exit_code: -9,
            timed_out: true,
            truncated: true,
            duration_ms: 20_000,
        })),
        ..FakeHost::default()
    };
    let text = run(
        &f,
        &mut host,
        json!({"name": "conv", "code": "import sys; print(sys.stdin.read())", "stdin": "hello"}),
    )
    .expect("a run that failed is reported, not an error");
    let request = &host.requests[0];
    assert_eq!(
        request.code.as_deref(),
        Some("import sys; print(sys.stdin.read())")
    );
    assert_eq!(request.script, None);
    assert!(request.args.is_empty());
    assert_eq!(request.stdin.as_deref(), Some("hello"));
    let output: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(output["exit_code"], -9);
    assert_eq!(output["timed_out"], true);
    assert_eq!(output["truncated"], true);
}

#[test]
fn argument_errors() {
    let f = with_skill();
    for (arguments, expected) in [
        (
            json!({"name": "conv", "code": "1", "script": "scripts/run.py"}),
            "only one of",
        ),
        (
            json!({"name": "conv", "module": "scripts.run", "code": "1"}),
            "only one of",
        ),
        (
            json!({"name": "conv", "code": "1", "files": ["a.txt"]}),
            "expected a map",
        ),
        (
            json!({"name": "conv", "code": "1", "files": {"a.txt": 3}}),
            "expected a string",
        ),
        (json!({"name": "conv"}), "give `script`"),
        (json!({"script": "scripts/run.py"}), "missing field `name`"),
        (
            json!({"name": "conv", "code": "1", "cwd": "/"}),
            "unknown field `cwd`",
        ),
        (
            json!({"name": "conv", "code": "1", "args": "10 km"}),
            "expected a sequence",
        ),
        (
            json!({"name": "conv", "code": "1", "args": [10]}),
            "expected a string",
        ),
        (
            json!({"name": "../conv", "code": "1"}),
            "invalid skill name",
        ),
        (json!({"name": "conv", "script": "../conv/x.py"}), "`..`"),
        (json!({"name": "conv", "script": "/etc/passwd"}), "relative"),
        (json!({"name": "conv", "script": "scripts"}), "is a folder"),
    ] {
        match refused(&f, arguments.clone()) {
            Failure::InvalidArguments(m) => assert!(m.contains(expected), "{arguments}: {m}"),
            other => panic!("{arguments}: {other:?}"),
        }
    }
}

#[test]
fn missing_broken_and_symlinked_targets() {
    let f = with_skill();
    f.write("bad/SKILL.md", "---\nname: bad\n---\nbody\n");
    assert!(matches!(
        refused(&f, json!({"name": "ghost", "code": "1"})),
        Failure::NotFound(m) if m.contains("`ghost`")
    ));
    assert!(matches!(
        refused(&f, json!({"name": "conv", "script": "scripts/nope.py"})),
        Failure::NotFound(m) if m.contains("scripts/nope.py")
    ));
    assert!(matches!(
        refused(&f, json!({"name": "bad", "code": "1"})),
        Failure::Failed(m) if m.contains("skill `bad` cannot be used")
    ));
    #[cfg(unix)]
    {
        let outside = f.write("outside.py", "print('secret')");
        super::symlink(&outside, f.root().join("conv/scripts/link.py"));
        assert_eq!(
            refused(&f, json!({"name": "conv", "script": "scripts/link.py"})),
            Failure::Denied("symlinks are not followed: conv/scripts/link.py".into())
        );
    }
}

#[test]
fn bridge_errors_become_tool_errors_with_the_message() {
    let f = with_skill();
    for (error, expected) in [
        (
            ScriptError::InvalidRequest("bad path".into()),
            Failure::InvalidArguments("bad path".into()),
        ),
        (
            ScriptError::Denied("no skills folder".into()),
            Failure::Denied("no skills folder".into()),
        ),
        (
            ScriptError::Unavailable("native mode needs an interpreter".into()),
            Failure::Failed("native mode needs an interpreter".into()),
        ),
    ] {
        let mut host = FakeHost {
            answer: Some(Err(error)),
            ..FakeHost::default()
        };
        let got = run(&f, &mut host, json!({"name": "conv", "code": "print(1)"}));
        assert_eq!(got, Err(expected));
    }
}
