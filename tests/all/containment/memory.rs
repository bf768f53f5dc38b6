//! Class 4: memory is capped per instance across all its memories and tables, host-side
//! resources a guest creates are capped per call, and the calls alive at once share one
//! ceiling. Peak RSS is the kernel's figure for the `wasmhost` process.

use super::{LOCAL, printed};
use crate::support::{policy_dir, stderr, stdout, wasmhost_measured};
use wasmhost_e2e::guests;

const MIB: u64 = 1 << 20;

/// What `wasmhost call` itself holds (engine, binary, one small component): far below
/// every ceiling here.
const BASELINE_RSS: u64 = 120 * MIB;

#[test]
fn several_memories_count_as_one_instance() {
    // Four core instances, each asking for 200 MiB at instantiation: 800 MiB, refused
    // against the default 256 MiB per instance.
    let dir = tempfile::tempdir().expect("tempdir");
    let run = wasmhost_measured(&["call", guests::MULTI_MEMORY, "anything"], dir.path(), &[]);
    let err = stderr(&run.output);
    assert_eq!(
        run.output.status.code(),
        Some(1),
        "{}",
        printed(&run.output)
    );
    assert!(
        err.contains("memory limit (256 MiB across all its memories and tables)"),
        "{err}"
    );
    assert!(
        err.contains("raise `memory_mib` in [plugins.multi-memory]"),
        "{err}"
    );
    assert!(
        run.peak_rss < BASELINE_RSS + 64 * MIB,
        "peak RSS {} MiB",
        run.peak_rss / MIB
    );

    // The control: granted 1 GiB, the same component instantiates and answers.
    let dir = policy_dir("[plugins.multi-memory]\nmemory_mib = 1024\n");
    let run = wasmhost_measured(&["call", guests::MULTI_MEMORY, "anything"], dir.path(), &[]);
    assert!(run.output.status.success(), "{}", printed(&run.output));
    assert_eq!(stdout(&run.output).trim(), "ok");
}

#[test]
fn host_resources_a_guest_never_drops_are_capped() {
    // 100,000 header sets of 20 KB each would hold 2 GB of host memory.
    let dir = tempfile::tempdir().expect("tempdir");
    let args = r#"{"count": 100000, "bytes": 20000}"#;
    let run = wasmhost_measured(&["call", "hostile", "fields_leak", args], dir.path(), &[]);
    let err = stderr(&run.output);
    assert_eq!(
        run.output.status.code(),
        Some(1),
        "{}",
        printed(&run.output)
    );
    assert!(err.contains("host resource limit (1024 live"), "{err}");
    assert!(
        err.contains("raise `host_resources` in [plugins.hostile]"),
        "{err}"
    );
    assert!(
        run.peak_rss < BASELINE_RSS + 128 * MIB,
        "peak RSS {} MiB",
        run.peak_rss / MIB
    );

    // Within the limit, the same guest runs to the end.
    let run = wasmhost_measured(
        &[
            "call",
            "hostile",
            "fields_leak",
            r#"{"count": 500, "bytes": 20000}"#,
        ],
        dir.path(),
        &[],
    );
    assert!(run.output.status.success(), "{}", printed(&run.output));
    assert_eq!(stdout(&run.output).trim(), "leaked 500");
}

#[test]
fn a_header_set_past_its_byte_limit_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = wasmhost_measured(
        &[
            "call",
            "hostile",
            "fields_leak",
            r#"{"count": 1, "bytes": 1000000}"#,
        ],
        dir.path(),
        &[],
    );
    assert_eq!(
        run.output.status.code(),
        Some(1),
        "{}",
        printed(&run.output)
    );
    assert!(
        stderr(&run.output).contains("exceeded its header set limit (32768 bytes"),
        "{}",
        printed(&run.output)
    );
}

#[test]
fn parallel_calls_share_the_host_ceiling() {
    // Twelve parallel calls of a tool that takes 150 MiB and holds it: 1.8 GiB without a
    // ceiling. With 600 MiB for everything, some run, the rest are refused, and the host
    // stays under the ceiling.
    let dir = policy_dir("[host]\nmemory_mib = 600\nparallel_tools = 12\n");
    let transcript = dir.path().join("t.jsonl");
    let run = wasmhost_measured(
        &[
            "run",
            "--plugin",
            "hostile-provider",
            "--base-url",
            LOCAL,
            "--tool",
            "hostile",
            "--transcript",
            transcript.to_str().expect("utf-8"),
            r#"parallel 12 alloc_mb {"mb": 150, "hold_ms": 1500}"#,
        ],
        dir.path(),
        &[],
    );
    assert!(run.output.status.success(), "{}", printed(&run.output));
    let text = std::fs::read_to_string(&transcript).expect("transcript");
    let refused = text.matches("share of the host's memory").count();
    let done = text.matches("allocated 150").count();
    assert!(
        refused >= 1 && done >= 1,
        "refused {refused}, done {done}:\n{text}"
    );
    assert!(text.contains("raise `memory_mib` in [host]"), "{text}");
    assert!(
        run.peak_rss < BASELINE_RSS + 600 * MIB,
        "peak RSS {} MiB",
        run.peak_rss / MIB
    );
}
