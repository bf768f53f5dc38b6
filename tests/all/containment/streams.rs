//! Class 5: responses, streams, tool results and tool descriptions have named ceilings;
//! crossing one stops (or cuts) with a message naming the limit and its key, and a limit
//! is not retried.

use super::{LOCAL, hostile_run, printed};
use crate::support::{policy_dir, stderr, wasmhost_measured};

const MIB: u64 = 1 << 20;

fn run(policy: &str, args: &[&str]) -> std::process::Output {
    hostile_run(policy_dir(policy).path(), args)
}

#[test]
fn an_endless_flood_stops_at_the_response_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = wasmhost_measured(
        &[
            "run",
            "--plugin",
            "hostile-provider",
            "--base-url",
            LOCAL,
            "flood",
        ],
        dir.path(),
        &[],
    );
    let err = stderr(&run.output);
    assert_eq!(
        run.output.status.code(),
        Some(1),
        "{}",
        printed(&run.output)
    );
    assert!(err.contains("sent more than 16777216 bytes"), "{err}");
    assert!(
        err.contains("raise `response_kib` in [plugins.hostile-provider]"),
        "{err}"
    );
    assert!(!err.contains("retry"), "a limit is not retried: {err}");
    // The host keeps at most the 16 MiB response (and the screen's copy of it streams).
    assert!(
        run.peak_rss < 400 * MIB,
        "peak RSS {} MiB",
        run.peak_rss / MIB
    );

    let out = run_whole();
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    assert!(stderr(&out).contains("`response_kib`"), "{}", printed(&out));
}

fn run_whole() -> std::process::Output {
    run("", &["--no-stream", "flood"])
}

#[test]
fn a_stream_without_progress_stops_at_the_stall_limit() {
    let out = run("[plugins.hostile-provider]\nstall_secs = 1\n", &["trickle"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    assert!(err.contains("made no progress for 1 s"), "{err}");
    assert!(
        err.contains("raise `stall_secs` in [plugins.hostile-provider]"),
        "{err}"
    );
    assert!(!err.contains("retry"), "{err}");
}

#[test]
fn a_drip_stops_at_the_event_limit_or_the_request_timeout_without_retries() {
    let out = run(
        "[plugins.hostile-provider]\nstream_events = 500\n",
        &["drip"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    assert!(err.contains("more than 500 events"), "{err}");
    assert!(err.contains("`stream_events`"), "{err}");

    let out = run("", &["--request-timeout", "2", "drip"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    assert!(err.contains("still streaming after 2 s"), "{err}");
    assert!(err.contains("--request-timeout"), "{err}");
    assert!(!err.contains("retry"), "{err}");
}

#[test]
fn a_huge_tool_result_is_cut_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let transcript = dir.path().join("t.jsonl");
    let out = hostile_run(
        dir.path(),
        &[
            "--tool",
            "hostile",
            "--transcript",
            transcript.to_str().expect("utf-8"),
            r#"call big_result {"bytes": 60000000}"#,
        ],
    );
    assert!(out.status.success(), "{}", printed(&out));
    let text = std::fs::read_to_string(&transcript).expect("transcript");
    assert!(
        text.contains("[wasmhost: the result was 60000000 bytes; only the first 1048576 are shown. Raise `result_kib` in [plugins.hostile] of wasmhost.toml to see more.]"),
        "the cut is not announced"
    );
    assert!(
        text.len() < 3 * (1 << 20),
        "the transcript holds {} bytes",
        text.len()
    );
}

#[test]
fn bad_tool_descriptions_are_refused_with_the_fix() {
    for (spec, expected) in [
        ("huge", "tool `huge` describes itself in"),
        (
            "bad-schema",
            "tool `bad_schema`'s parameters schema is not JSON",
        ),
        (
            "many",
            "over the limit of 256 (raise `max_tools` in [plugins.hostile]",
        ),
        ("escape-name", "is not 1–64 letters, digits"),
    ] {
        let policy = format!("[plugins.hostile]\nconfig = {{ spec = \"{spec}\" }}\n");
        let out = run(&policy, &["--tool", "hostile", "hi"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{spec}: {}", printed(&out));
        assert!(
            err.contains("plugin `hostile` describes its tools badly"),
            "{spec}: {err}"
        );
        assert!(err.contains(expected), "{spec}: {err}");
    }
    let out = run(
        "[plugins.hostile]\nconfig = { spec = \"huge\" }\n",
        &["--tool", "hostile", "hi"],
    );
    assert!(stderr(&out).contains("raise `tool_spec_kib` in [plugins.hostile]"));
}
