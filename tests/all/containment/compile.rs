//! Class 7: host CPU outside every budget. Compilation is bounded (checked on the bytes,
//! then a deadline) and stream assembly is linear.

use super::{hostile_run, printed};
use crate::support::{policy_dir, stderr, wasmhost_env};

/// A component holding one core module with one function `body`.
fn bomb(dir: &std::path::Path, name: &str, body: &str) -> String {
    let wat = format!("(component (core module (type $t (func)) (table 1 funcref) (func {body})))");
    let bytes = wat::parse_str(&wat).expect("bomb wat");
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).expect("write bomb");
    path.to_str().expect("utf-8").to_string()
}

#[test]
fn compile_bombs_are_refused_before_the_compiler_runs() {
    // Shapes measured to keep Cranelift busy for a minute or more (docs/security.md):
    // 14 KB of loops nested 2,000 deep (21 s; 3,000 deep: 71 s), 350 KB of indirect calls
    // (41 s), 4,000
    // locals live across 4,000 loops (40 s).
    let dir = tempfile::tempdir().expect("tempdir");
    let nested = format!("{}{}", "(loop ".repeat(2000), ")".repeat(2000));
    let indirect = "(call_indirect (type $t) (i32.const 0)) ".repeat(50_000);
    let locals = format!("(local {}) {}", "i64 ".repeat(4000), "(loop) ".repeat(4000));
    for (name, body, expected, key) in [
        (
            "nested",
            nested.as_str(),
            "has 2000 levels of nested loops",
            "loop_nesting",
        ),
        (
            "indirect",
            indirect.as_str(),
            "has 50000 indirect calls",
            "call_indirect",
        ),
        ("locals", locals.as_str(), "has 4000 locals", "locals"),
    ] {
        let path = bomb(dir.path(), name, body);
        let out = wasmhost_env(&["--no-cache", "inspect", &path], dir.path(), &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", printed(&out));
        assert!(
            err.contains(&format!("function 0 of core module 0 {expected}")),
            "{err}"
        );
        assert!(
            err.contains(&format!("raise `{key}` in [host.compile]")),
            "{err}"
        );
    }
}

#[test]
fn compilation_has_a_deadline_that_kills_the_compiler() {
    // Within every shape limit, and seconds to compile: the compiler process is killed at
    // the one-second deadline.
    let dir = policy_dir("[host.compile]\ntimeout_secs = 1\n");
    let path = dir.path().join("slow.wasm");
    std::fs::write(&path, crate::limits::slow_to_compile()).expect("write");
    let path = path.to_str().expect("utf-8");
    let out = wasmhost_env(&["--no-cache", "inspect", path], dir.path(), &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    assert!(err.contains("compiling it took longer than 1 s"), "{err}");
    assert!(
        err.contains("raise `timeout_secs` in [host.compile]"),
        "{err}"
    );
    // The same component within a roomy deadline compiles (so the limit is what stopped it).
    let dir = policy_dir("[host.compile]\ntimeout_secs = 300\n");
    let out = wasmhost_env(&["--no-cache", "inspect", path], dir.path(), &[]);
    assert!(
        stderr(&out).contains("is not a wasmhost plugin"),
        "{}",
        printed(&out)
    );
}

#[test]
fn tool_calls_per_response_are_capped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = hostile_run(dir.path(), &["quadratic 30000"]);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    let err = stderr(&out);
    assert!(err.contains("asked for more than 1024 tool calls"), "{err}");
    assert!(
        err.contains("raise `max_tool_calls` in [plugins.hostile-provider]"),
        "{err}"
    );
}

#[test]
fn many_tool_call_fragments_assemble_in_linear_time() {
    // 30,000 tool-call starts, then 30,000 fragments for the first: the quadratic
    // assembly took 14 s of host CPU here; the stream now costs what its size does. The
    // loop then reports 30,000 calls of an unknown tool, and stops at --max-turns 1.
    let dir = policy_dir("[plugins.hostile-provider]\nmax_tool_calls = 40000\n");
    let transcript = dir.path().join("t.jsonl");
    let out = hostile_run(
        dir.path(),
        &[
            "--max-turns",
            "1",
            "--json",
            "--transcript",
            transcript.to_str().expect("utf-8"),
            "quadratic 30000",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    let text = std::fs::read_to_string(&transcript).expect("transcript");
    let first = text
        .lines()
        .find(|l| l.contains("\"tool_calls\""))
        .expect("the assistant message");
    let line: serde_json::Value = serde_json::from_str(first).expect("json line");
    let calls = line["message"]["tool_calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 30_000);
    assert_eq!(calls[0]["arguments"].as_str().map(str::len), Some(30_000));
    assert_eq!(calls[1]["arguments"].as_str(), Some(""));
}
