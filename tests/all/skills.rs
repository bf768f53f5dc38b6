//! `wasmhost skills check`, and the skills plugin's `run_python_script` through the real
//! binary in native mode.

use std::path::Path;

use serde_json::Value;

use crate::native_python::python3;
use crate::support::{self, stderr, stdout, wasmhost};

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

#[test]
fn check_accepts_the_example_skills() {
    let dir = tempfile::tempdir().expect("tempdir");
    let skills = support::repo_root().join("skills");
    let out = wasmhost(&["skills", "check", &skills.to_string_lossy()], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.starts_with("checked "), "only the summary: {text}");
    assert!(
        text.ends_with(" skill folders: 0 errors, 0 warnings\n"),
        "{text}"
    );
    let one = wasmhost(
        &[
            "skills",
            "check",
            &skills.join("unit-converter").to_string_lossy(),
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
    let report: Value = serde_json::from_str(&stdout(&one)).expect("json");
    assert_eq!(report["skills"], 1);
    assert_eq!(report["problems"], serde_json::json!([]));
}

/// A skills folder with one good skill and one of each mistake.
fn broken_skills(root: &Path) {
    write(
        root,
        "skills/good/SKILL.md",
        "---\nname: good\ndescription: Fine.\n---\nDo it.\n",
    );
    write(root, "skills/good/scripts/run.py", "print(1)\n");
    write(
        root,
        "skills/bad-yaml/SKILL.md",
        "---\nname: bad-yaml\ndescription: [oops\n---\nbody\n",
    );
    write(
        root,
        "skills/mismatch/SKILL.md",
        "---\nname: other-name\ndescription: d\n---\nbody\n",
    );
    write(
        root,
        "skills/no-description/SKILL.md",
        "---\nname: no-description\n---\nbody\n",
    );
    write(
        root,
        "skills/unknown-key/SKILL.md",
        "---\nname: unknown-key\ndescription: d\nextra: 1\n---\nb\n",
    );
    write(
        root,
        "skills/warned/SKILL.md",
        "---\nname: warned\ndescription: d\n---\n",
    );
    std::os::unix::fs::symlink("/etc/passwd", root.join("skills/good/scripts/leak.py"))
        .expect("symlink");
}

#[test]
fn check_reports_each_problem_at_its_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    broken_skills(dir.path());
    let out = wasmhost(&["skills", "check", "skills"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let expected_starts = [
        "skills/bad-yaml/SKILL.md:4: error: invalid YAML in the frontmatter",
        "skills/good/scripts/leak.py: error: a symlink leaving the skill (to /etc/passwd)",
        "skills/mismatch/SKILL.md:2: error: the name `other-name` differs from the folder name \
         `mismatch`",
        "skills/no-description/SKILL.md:1: error: the required key `description` is missing",
        "skills/unknown-key/SKILL.md:4: error: unknown key `extra`: the convention allows only \
         name, description, license, compatibility, metadata, allowed-tools",
        "skills/warned/SKILL.md:4: warning: no instructions after the frontmatter",
        "checked 6 skill folders: 5 errors, 1 warning",
    ];
    assert_eq!(lines.len(), expected_starts.len(), "{text}");
    for (line, start) in lines.iter().zip(expected_starts) {
        assert!(
            line.starts_with(start),
            "{line:?} should start with {start:?}"
        );
    }

    let json = wasmhost(&["skills", "check", "skills", "--json"], dir.path());
    assert_eq!(json.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&json)).expect("json");
    assert_eq!(
        (report["skills"].as_u64(), report["errors"].as_u64()),
        (Some(6), Some(5))
    );
    assert_eq!(report["problems"][0]["path"], "skills/bad-yaml/SKILL.md");
    assert_eq!(report["problems"][0]["line"], 4);
    assert_eq!(report["problems"][0]["severity"], "error");
    assert_eq!(report["problems"][1]["line"], Value::Null);
}

#[test]
fn check_warnings_alone_pass_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "terse/SKILL.md",
        "---\nname: terse\ndescription: d\n---\n",
    );
    let out = wasmhost(&["skills", "check", "terse"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("terse/SKILL.md:4: warning: no instructions"),
        "{}",
        stdout(&out)
    );
    // What the reference validator fails, `skills check` fails: a legacy file without
    // frontmatter (which the plugin still serves) and a folder that is no skill at all.
    write(
        dir.path(),
        "legacy/SKILL.md",
        "# Old style\nNo frontmatter.\n",
    );
    let out = wasmhost(&["skills", "check", "legacy"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("legacy/SKILL.md:1: error: no YAML frontmatter"),
        "{}",
        stdout(&out)
    );
    std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
    let out = wasmhost(&["skills", "check", "empty"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("empty: error: no SKILL.md here, and no folder in it has one"),
        "{}",
        stdout(&out)
    );
    let missing = wasmhost(&["skills", "check", "nope"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("nope: not a folder"),
        "{}",
        stderr(&missing)
    );
    assert_eq!(
        wasmhost(&["skills", "check"], dir.path()).status.code(),
        Some(2)
    );
}

/// `wasmhost call skills run_python_script ARGS` on the repo's skills, under a policy file
/// with `python` set; returns the call's output.
fn call_script(python_section: &str, arguments: &str) -> std::process::Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("wasmhost.toml");
    std::fs::write(
        &config,
        format!("[plugins.skills.python]\n{python_section}"),
    )
    .expect("write");
    let skills = support::repo_root().join("skills");
    wasmhost(
        &[
            "call",
            "skills",
            "run_python_script",
            arguments,
            "--skills",
            &skills.to_string_lossy(),
            "--config",
            &config.to_string_lossy(),
            "--json",
        ],
        dir.path(),
    )
}

fn native_section() -> String {
    format!(
        "mode = \"native\"\ninterpreter = {:?}\n",
        python3().display().to_string()
    )
}

/// The tool's result as JSON (the output of `call --json` holds it as text).
fn result(out: &std::process::Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(out), stderr(out));
    let call: Value = serde_json::from_str(&stdout(out)).expect("call --json");
    serde_json::from_str(call["output"].as_str().expect("output")).expect("tool output is JSON")
}

#[test]
fn run_python_script_runs_a_skill_script_natively() {
    let out = call_script(
        &native_section(),
        r#"{"name":"unit-converter","script":"scripts/convert.py","args":["10","km","mi"]}"#,
    );
    let run = result(&out);
    assert_eq!(run["stdout"], "10 km = 6.213711922 mi\n");
    assert_eq!(run["exit_code"], 0);
    assert_eq!(run["timed_out"], false);
    assert!(run["duration_ms"].is_u64());
}

#[test]
fn run_python_script_inline_code_may_use_subprocess_natively() {
    let code = "import subprocess; print(subprocess.run(['echo', 'from a child'], \
                capture_output=True, text=True).stdout.strip())";
    let arguments = serde_json::json!({"name": "unit-converter", "code": code}).to_string();
    let run = result(&call_script(&native_section(), &arguments));
    assert_eq!(run["stdout"], "from a child\n", "{run}");
}

#[test]
fn run_python_script_errors_reach_the_caller_as_tool_errors() {
    let out = call_script(
        "mode = \"native\"\n",
        r#"{"name":"unit-converter","code":"print(1)"}"#,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let call: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(
        call["error"]["kind"], "failed",
        "unavailable maps to failed"
    );
    let message = call["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("native mode needs an interpreter"),
        "{message}"
    );

    let out = call_script(
        &native_section(),
        r#"{"name":"unit-converter","script":"../csv-stats/scripts/stats.py"}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    let call: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(call["error"]["kind"], "invalid-arguments");
    let message = call["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("`..`"), "{message}");
}

#[test]
fn a_large_catalog_is_listed_whole_in_order_and_paged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("skills");
    // Created in reverse so directory order is not name order.
    for i in (0..1_200).rev() {
        write(
            &root,
            &format!("s{i:04}/SKILL.md"),
            &format!("---\nname: s{i:04}\ndescription: Skill number {i}.\n---\nSteps.\n"),
        );
    }
    // One official-style skill whose description is over the 1,024 limit.
    let long = "Use this skill when working with documents. ".repeat(24);
    write(
        &root,
        "zz-verbose/SKILL.md",
        &format!(
            "---\nname: zz-verbose\ndescription: {}\n---\nSteps.\n",
            long.trim()
        ),
    );
    let skills = root.to_string_lossy().into_owned();
    let list = |args: &str| -> Value {
        let out = wasmhost(
            &["call", "skills", "list_skills", args, "--skills", &skills],
            dir.path(),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).expect("json")
    };
    let first = list("{}");
    assert_eq!(first["total"], 1_201, "every skill counted, none dropped");
    assert_eq!(first["skills"][0]["name"], "s0000");
    assert_eq!(first["next_offset"], 500);
    assert!(
        first["note"]
            .as_str()
            .is_some_and(|n| n.contains("offset 500"))
    );
    let last = list(r#"{"offset": 1000, "limit": 500}"#);
    assert_eq!(last["skills"].as_array().map(Vec::len), Some(201));
    assert_eq!(last["skills"][200]["name"], "zz-verbose");
    // Served despite the long description, with the problem reported.
    let out = wasmhost(
        &[
            "call",
            "skills",
            "get_skill",
            r#"{"name": "zz-verbose"}"#,
            "--skills",
            &skills,
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // `skills check` stays strict about it.
    let check = wasmhost(&["skills", "check", &skills], dir.path());
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    assert!(
        stdout(&check).contains("`description` is 1055 characters long"),
        "{}",
        stdout(&check)
    );
}

#[test]
fn a_symlinked_skill_md_is_refused_by_the_open_itself() {
    // The plugin opens SKILL.md without following links (one WASI call, O_NOFOLLOW): a
    // link is reported, not read, whether listed or asked for; a lowercase `skill.md` is
    // read like SKILL.md.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("skills");
    write(
        &root,
        "real/SKILL.md",
        "---\nname: real\ndescription: The real one.\n---\nDo.\n",
    );
    write(
        &root,
        "lower/skill.md",
        "---\nname: lower\ndescription: Lowercase file.\n---\nDo.\n",
    );
    std::fs::create_dir(root.join("linked")).expect("mkdir");
    std::os::unix::fs::symlink("../real/SKILL.md", root.join("linked/SKILL.md")).expect("symlink");
    let skills = root.to_string_lossy().into_owned();
    let out = wasmhost(
        &["call", "skills", "list_skills", "{}", "--skills", &skills],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let listing: Value = serde_json::from_str(&stdout(&out)).expect("json");
    let names: Vec<&str> = listing["skills"]
        .as_array()
        .expect("skills")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["lower", "real"], "{listing}");
    assert_eq!(
        listing["problems"],
        serde_json::json!([{"skill": "linked", "message": "symlinks are not followed: linked/SKILL.md"}])
    );
    let out = wasmhost(
        &[
            "call",
            "skills",
            "get_skill",
            r#"{"name":"linked"}"#,
            "--skills",
            &skills,
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("symlinks are not followed: linked/SKILL.md"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn run_python_script_runs_a_module_and_hands_it_input_files_in_the_sandbox() {
    // Through the shipped skills plugin (contract 0.2) and the real sandboxed runtime.
    let run = result(&call_script(
        "",
        r#"{"name":"unit-converter","module":"scripts.convert","args":["10","km","mi"]}"#,
    ));
    assert_eq!(run["stdout"], "10 km = 6.213711922 mi\n", "{run}");
    let arguments = serde_json::json!({
        "name": "unit-converter",
        "code": "import sys\nprint(open(sys.argv[1]).read().strip()[::-1])",
        "args": ["notes/in.txt"],
        "files": {"notes/in.txt": "stressed\n"},
    })
    .to_string();
    let run = result(&call_script("", &arguments));
    assert_eq!(run["stdout"], "desserts\n", "{run}");
    // A file outside the working folder is the caller's mistake, said as such.
    let arguments = serde_json::json!({
        "name": "unit-converter", "code": "print(1)", "files": {"../x": "no"},
    })
    .to_string();
    let out = call_script("", &arguments);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let call: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(call["error"]["kind"], "invalid-arguments", "{call}");
    assert!(
        call["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not a relative path inside the working folder")),
        "{call}"
    );
}
