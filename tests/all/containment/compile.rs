//! Class 7: host CPU outside every budget. Compilation is bounded (checked on the bytes,
//! then a deadline) and stream assembly is linear.

use super::{LOCAL, printed};
use crate::support::{policy_dir, stderr, wasmhost_env};
use wasmhost_e2e::guests;

/// A component whose one function is `body` repeated `times` (inside a core module), the
/// shape that makes Cranelift slow: one huge function.
fn bomb(dir: &std::path::Path, body: &str, times: usize) -> std::path::PathBuf {
    let wat = format!(
        "(component (core module (func (local i64 i64 i64 i64) {})))",
        body.repeat(times)
    );
    let bytes = wat::parse_str(&wat).expect("bomb wat");
    let path = dir.join("bomb.wasm");
    std::fs::write(&path, bytes).expect("write bomb");
    path
}

#[test]
fn a_compile_bomb_is_refused_before_the_compiler_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = bomb(
        dir.path(),
        "(local.set 0 (i64.add (local.get 1) (i64.mul (local.get 2) (local.get 3)))) ",
        200_000,
    );
    let out = wasmhost_env(&["inspect", path.to_str().expect("utf-8")], dir.path(), &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    assert!(err.contains("function 0 of core module 0 is"), "{err}");
    assert!(
        err.contains("raise `compile_function_kib` in [host]"),
        "{err}"
    );
}

#[test]
fn compilation_has_a_deadline() {
    // Any real compile takes longer than a millisecond: the deadline must fire and say so.
    let dir = policy_dir("[host]\ncompile_timeout_secs = 0.001\n");
    let out = wasmhost_env(&["--no-cache", "inspect", guests::HOSTILE], dir.path(), &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    assert!(
        err.contains("compiling it took longer than 0.001 s"),
        "{err}"
    );
    assert!(
        err.contains("raise `compile_timeout_secs` in [host]"),
        "{err}"
    );
}

#[test]
fn many_tool_call_fragments_assemble_in_linear_time() {
    // 30,000 tool-call starts, then 30,000 fragments for the first: the quadratic
    // assembly took 14 s of host CPU here; the stream now costs what its size does. The
    // loop then reports 30,000 calls of an unknown tool, and stops at --max-turns 1.
    let dir = tempfile::tempdir().expect("tempdir");
    let transcript = dir.path().join("t.jsonl");
    let out = wasmhost_env(
        &[
            "run",
            "--plugin",
            "hostile-provider",
            "--base-url",
            LOCAL,
            "--max-turns",
            "1",
            "--json",
            "--transcript",
            transcript.to_str().expect("utf-8"),
            "quadratic 30000",
        ],
        dir.path(),
        &[],
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
