//! `just bench` (part three): the skills plugin and the script bridge, each beside a native
//! baseline measured in the same run. Needs the Python runner (`just python-runner`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmhost::plugin::{Plugin, PluginSource, ToolPlugin};
use wasmhost::policy::{PluginPolicy, PythonMode};
use wasmhost::runtime::ComponentCache;
use wasmhost::sandbox::{Sandbox, SandboxOptions};
use wasmhost::scripts::{PYTHON_RUNNER_ENV, python_sandbox};
use wasmhost_e2e::guests;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64())
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn runner() -> Option<PathBuf> {
    std::env::var_os(PYTHON_RUNNER_ENV)
        .map(PathBuf::from)
        .or_else(|| Some(repo().join("target/runtimes/python.wasm")).filter(|p| p.is_file()))
}

/// The real interpreter behind `python3` (a pyenv shim is a shell script: spawning it
/// would measure bash, not Python).
fn python3() -> PathBuf {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 on PATH");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn skills_plugin(sandbox: &Arc<Sandbox>, folder: &Path, mode: PythonMode) -> ToolPlugin {
    let mut policy = PluginPolicy::deny_all("skills");
    policy.grant_skills_folder(folder.to_path_buf());
    policy.python.mode = mode;
    policy.python.interpreter = Some(python3());
    let source = PluginSource {
        name: "skills".into(),
        path: guests::SKILLS.into(),
    };
    Plugin::load(sandbox, source, policy)
        .expect("skills loads")
        .into_tool()
        .expect("tool")
}

async fn timed(n: usize, tool: &ToolPlugin, name: &str, args: &str) -> Duration {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let out = tool.call(name, args).await.expect("host ok");
        samples.push(started.elapsed());
        if let Err(e) = out {
            panic!("{name}: {e}");
        }
    }
    median(samples)
}

fn native(n: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..n)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed()
            })
            .collect(),
    )
}

/// A folder of `count` small skills, one of which has a 1 MiB SKILL.md and a 1 MiB file.
/// What `list_skills` does, natively: read and parse every SKILL.md.
fn walk_and_parse(root: &Path) {
    let mut n = 0;
    for entry in std::fs::read_dir(root).expect("dir").flatten() {
        let folder = entry.file_name().to_string_lossy().into_owned();
        if let Ok(text) = std::fs::read_to_string(entry.path().join("SKILL.md")) {
            let parsed = skill_manifest::parse_skill_md(&folder, &text);
            n += usize::from(parsed.frontmatter.is_some());
        }
    }
    std::hint::black_box(n);
}

fn skills_tree(root: &Path, count: usize) {
    for i in 0..count {
        let dir = root.join(format!("skill-{i:04}"));
        std::fs::create_dir_all(dir.join("references")).expect("mkdir");
        std::fs::write(
            dir.join("SKILL.md"),
            format!("---\nname: skill-{i:04}\ndescription: Does task number {i} well.\n---\n# Skill {i}\n\nSteps.\n"),
        )
        .expect("write");
    }
    let big = root.join("big-skill");
    std::fs::create_dir_all(big.join("references")).expect("mkdir");
    let body = "A line of instructions that goes on for a while, as long ones do.\n"
        .repeat((1 << 20) / 66);
    std::fs::write(
        big.join("SKILL.md"),
        format!("---\nname: big-skill\ndescription: A large skill.\n---\n{body}"),
    )
    .expect("write");
    std::fs::write(big.join("references/big.md"), &body).expect("write");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let tree = scratch.path().join("skills");
    skills_tree(&tree, 1000);
    let sandbox = python_sandbox(
        SandboxOptions {
            cache: ComponentCache::new(repo().join("target/bench-cache")),
            ..SandboxOptions::default()
        },
        runner(),
    )
    .expect("sandbox");
    let mut rows: Vec<(String, String, String, String)> = Vec::new();

    // The catalog and file tools over 1,000 skills, vs the same work natively (walk,
    // read, parse with the same manifest crate).
    let tool = skills_plugin(&sandbox, &tree, PythonMode::Sandboxed);
    timed(3, &tool, "list_skills", "{}").await;
    let list = timed(21, &tool, "list_skills", "{}").await;
    let list_native = native(21, || walk_and_parse(&tree));
    rows.push((
        "list_skills, 1,000 skills".into(),
        ms(list),
        format!("native walk+parse {}", ms(list_native)),
        ratio(list, list_native),
    ));

    // Every one of 10,000 skills is read, parsed and sorted (the first page returned).
    let many = scratch.path().join("skills-10k");
    skills_tree(&many, 10_000);
    let many_tool = skills_plugin(&sandbox, &many, PythonMode::Sandboxed);
    let first = many_tool
        .call("list_skills", "{}")
        .await
        .expect("host")
        .expect("tool");
    let total = serde_json::from_str::<serde_json::Value>(&first).expect("json")["total"].clone();
    assert_eq!(total, 10_001, "every skill is counted");
    let list_many = timed(5, &many_tool, "list_skills", "{}").await;
    let many_native = native(5, || walk_and_parse(&many));
    rows.push((
        "list_skills, 10,000 skills".into(),
        ms(list_many),
        format!("native walk+parse {}", ms(many_native)),
        ratio(list_many, many_native),
    ));

    let get = timed(21, &tool, "get_skill", r#"{"name":"big-skill"}"#).await;
    let get_native = native(21, || {
        let text = std::fs::read_to_string(tree.join("big-skill/SKILL.md")).expect("read");
        std::hint::black_box(
            skill_manifest::parse_skill_md("big-skill", &text)
                .body
                .len(),
        );
    });
    rows.push((
        "get_skill, 1 MiB SKILL.md".into(),
        ms(get),
        format!("native read+parse {}", ms(get_native)),
        ratio(get, get_native),
    ));

    let read = timed(
        21,
        &tool,
        "read_file_in_skill",
        r#"{"name":"big-skill","path":"references/big.md"}"#,
    )
    .await;
    let read_native = native(21, || {
        std::hint::black_box(
            std::fs::read_to_string(tree.join("big-skill/references/big.md")).expect("read"),
        );
    });
    rows.push((
        "read_file_in_skill, 1 MiB".into(),
        ms(read),
        format!("native read {}", ms(read_native)),
        ratio(read, read_native),
    ));

    // Scripts through the bridge (a whole tool call: plugin instance + script), vs spawning
    // the real interpreter on the same code.
    let py = python3();
    let stats_code = "import json, csv, io, statistics\nrows = list(csv.reader(io.StringIO('a,b\\n1,2\\n3,4\\n5,6\\n')))\nvals = [float(r[0]) for r in rows[1:]]\nprint(json.dumps({'mean': statistics.mean(vals), 'stdev': statistics.stdev(vals)}))";
    let cases = [
        ("print(1+1)", "print(1+1)"),
        ("json/csv/statistics script", stats_code),
    ];
    let repo_skills = repo().join("skills");
    if runner().is_some() {
        // The first call on an empty compile cache: the runtime's compile (host work,
        // outside the tool's clock) and then the run, vs a warm call in this run.
        let empty = tempfile::tempdir().expect("tempdir");
        let cold_sandbox = python_sandbox(
            SandboxOptions {
                cache: ComponentCache::new(empty.path().join("cache")),
                ..SandboxOptions::default()
            },
            runner(),
        )
        .expect("sandbox");
        let cold = skills_plugin(&cold_sandbox, &repo_skills, PythonMode::Sandboxed);
        let args = serde_json::json!({ "name": "csv-stats", "code": "print(1+1)" }).to_string();
        let first = timed(1, &cold, "run_python_script", &args).await;
        let warm = timed(11, &cold, "run_python_script", &args).await;
        rows.push((
            "first sandboxed print(1+1), empty cache".into(),
            ms(first),
            format!("the next calls {}", ms(warm)),
            ratio(first, warm),
        ));
        let sandboxed = skills_plugin(&sandbox, &repo_skills, PythonMode::Sandboxed);
        for (label, code) in cases {
            let args = serde_json::json!({ "name": "csv-stats", "code": code }).to_string();
            timed(3, &sandboxed, "run_python_script", &args).await;
            let t = timed(21, &sandboxed, "run_python_script", &args).await;
            let spawn = native(21, || {
                let out = Command::new(&py)
                    .args(["-c", code])
                    .output()
                    .expect("python3");
                assert!(out.status.success());
            });
            rows.push((
                format!("sandboxed {label}"),
                ms(t),
                format!("spawn python3 -c {}", ms(spawn)),
                ratio(t, spawn),
            ));
        }
    } else {
        rows.push((
            "sandboxed Python".into(),
            "runner not built: run `just python-runner`".into(),
            "-".into(),
            "-".into(),
        ));
    }
    let native_mode = skills_plugin(&sandbox, &repo_skills, PythonMode::Native);
    let args = serde_json::json!({ "name": "csv-stats", "code": "print(1+1)" }).to_string();
    timed(3, &native_mode, "run_python_script", &args).await;
    let t = timed(21, &native_mode, "run_python_script", &args).await;
    let spawn = native(21, || {
        Command::new(&py)
            .args(["-c", "print(1+1)"])
            .output()
            .expect("python3");
    });
    rows.push((
        "native mode print(1+1)".into(),
        format!("{} (+{} over bare)", ms(t), ms(t.saturating_sub(spawn))),
        format!("spawn python3 -c {}", ms(spawn)),
        ratio(t, spawn),
    ));

    println!("| what | wasmhost | baseline (same run) | ratio |");
    println!("|---|---|---|---|");
    for (a, b, c, d) in rows {
        println!("| {a} | {b} | {c} | {d} |");
    }
}
