//! Class 8: escape sequences from a model's answer, tool calls, tool results, plugin log
//! lines and plugin descriptions are shown, never obeyed; `--json` stays exact.

use super::{hostile_run, printed};
use crate::support::{policy_dir, stderr, stdout, wasmhost_env};

/// Characters a terminal acts on (other than a line break), raw.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| {
            (c.is_control() && *c != '\n' && *c != '\t') || ('\u{80}'..='\u{9f}').contains(c)
        })
        .collect()
}

#[test]
fn an_answer_a_tool_result_and_a_log_line_reach_the_terminal_escaped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = hostile_run(dir.path(), &["escape"]);
    assert!(out.status.success(), "{}", printed(&out));
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(
        raw_controls(&o).is_empty(),
        "stdout: {:?}",
        raw_controls(&o)
    );
    assert!(
        raw_controls(&e).is_empty(),
        "stderr: {:?}",
        raw_controls(&e)
    );
    assert!(o.contains("\\x1b]52;c;ZXZpbA==\\x07"), "{o}");
    assert!(o.contains("visible\\x0d\\x9b31mred"), "{o}");
    // The log line stays one line: no forged line for another plugin.
    assert!(
        e.contains(
            "[hostile-provider warn] line one\\n[openai warn] forged line \\x1b]0;title\\x07"
        ),
        "{e}"
    );
    assert!(!e.lines().any(|l| l.starts_with("[openai")), "{e}");

    let out = hostile_run(dir.path(), &["--tool", "hostile", "escape-tool escape"]);
    assert!(out.status.success(), "{}", printed(&out));
    let e = stderr(&out);
    assert!(
        raw_controls(&e).is_empty(),
        "stderr: {:?}",
        raw_controls(&e)
    );
    assert!(e.contains("→ escape"), "{e}");
    assert!(e.contains("\\x1b]52;c;"), "{e}");
}

#[test]
fn json_output_keeps_the_exact_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = hostile_run(dir.path(), &["--json", "escape"]);
    assert!(out.status.success(), "{}", printed(&out));
    let o = stdout(&out);
    // Valid JSON, with C0 controls (ESC, BEL, CR) escaped by JSON itself; the text is
    // exact, so a C1 character stays as it was sent.
    assert!(!o.chars().any(|c| c < ' ' && c != '\n'), "{o}");
    let text: String = o
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "text")
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect();
    assert!(
        text.starts_with("\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J"),
        "{text:?}"
    );
}

#[test]
fn a_plugin_description_is_shown_escaped() {
    let dir = policy_dir("[plugins.hostile]\nconfig = { spec = \"escape-name\" }\n");
    let out = wasmhost_env(&["inspect", "hostile"], dir.path(), &[]);
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    assert!(raw_controls(&e).is_empty(), "{e:?}");
    assert!(e.contains("evil\\u{1b}]0;x\\u{7}"), "{e}");
}
