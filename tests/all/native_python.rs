//! Native-mode skill scripts through the host's `ScriptRunner`: a real interpreter, the
//! repo's example skills and temporary ones.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use wasmhost::policy::{PluginPolicy, PythonMode};
use wasmhost::scripts::{
    SandboxedPython, ScriptFailure, ScriptHost, ScriptJob, ScriptRun, ScriptRunner,
};

use crate::support;

/// The real interpreter behind `python3` (a pyenv shim, say, is a shell script that needs
/// the environment native mode scrubs).
pub fn python3() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let out = std::process::Command::new("python3")
                .args(["-c", "import sys; print(sys.executable)"])
                .output()
                .expect("python3 is installed (the README lists it)");
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        })
        .clone()
}

/// Native mode with the real interpreter, `skills` granted.
fn native(skills: &Path) -> PluginPolicy {
    let mut policy = PluginPolicy::deny_all("skills");
    policy.grant_skills_folder(skills.to_path_buf());
    policy.python.mode = PythonMode::Native;
    policy.python.interpreter = Some(python3());
    policy
}

fn repo_skills() -> PathBuf {
    support::repo_root().join("skills")
}

fn code(skill: &str, code: &str) -> ScriptJob {
    ScriptJob {
        skill: skill.into(),
        code: Some(code.into()),
        script: None,
        args: Vec::new(),
        stdin: None,
        ..ScriptJob::default()
    }
}

async fn run(policy: &PluginPolicy, job: ScriptJob) -> Result<ScriptRun, ScriptFailure> {
    ScriptHost::new(SandboxedPython::new(None, support::sandbox()))
        .run(policy, job)
        .await
}

async fn ok(policy: &PluginPolicy, job: ScriptJob) -> ScriptRun {
    run(policy, job).await.expect("the script runs")
}

/// A temporary skills folder with one valid skill, `demo`.
fn temp_skill() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().expect("tempdir");
    let skill = root.path().join("demo");
    std::fs::create_dir_all(&skill).expect("mkdir");
    std::fs::write(
        skill.join("SKILL.md"),
        "---\nname: demo\ndescription: d\n---\nbody\n",
    )
    .expect("write");
    (root, skill)
}

/// Whether process `pid` is gone (a zombie waiting for a parent that will not reap it
/// counts as gone: it runs nothing).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

fn wait_gone(pid: u32) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        if gone(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The pid a script printed as `child PID`.
fn child_pid(stdout: &str) -> u32 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("child "))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no child pid in {stdout:?}"))
}

#[tokio::test]
async fn inline_code_runs_in_the_skill_folder() {
    let policy = native(&repo_skills());
    let run = ok(
        &policy,
        code(
            "unit-converter",
            "import os\nprint(1+1)\nprint(os.getcwd())",
        ),
    )
    .await;
    let folder = repo_skills()
        .join("unit-converter")
        .canonicalize()
        .expect("canonical");
    assert_eq!(run.stdout, format!("2\n{}\n", folder.display()));
    assert_eq!(
        (run.exit_code, run.timed_out, run.truncated),
        (0, false, false)
    );
    assert_eq!(run.stderr, "");
    let failed = ok(&policy, code("unit-converter", "import sys; sys.exit(7)")).await;
    assert_eq!(failed.exit_code, 7);
}

#[tokio::test]
async fn a_skill_script_gets_its_args_and_stdin() {
    let policy = native(&repo_skills());
    let script = |args: &[&str], stdin: Option<&str>| ScriptJob {
        skill: "unit-converter".into(),
        code: None,
        script: Some("scripts/convert.py".into()),
        args: args.iter().map(|a| a.to_string()).collect(),
        stdin: stdin.map(Into::into),
        ..ScriptJob::default()
    };
    let run = ok(&policy, script(&["10", "km", "mi"], None)).await;
    assert_eq!(run.stdout, "10 km = 6.213711922 mi\n");
    assert_eq!(run.exit_code, 0);
    let piped = ok(&policy, script(&[], Some("5 lb kg\n1 gal l\n"))).await;
    assert_eq!(
        piped.stdout,
        "5 lb = 2.26796185 kg\n1 gal = 3.785411784 l\n"
    );
    let bad = ok(&policy, script(&["1", "parsec", "m"], None)).await;
    assert_eq!(bad.exit_code, 2);
    assert!(
        bad.stderr.contains("unknown unit 'parsec'"),
        "{}",
        bad.stderr
    );
}

#[tokio::test]
async fn the_environment_is_scrubbed_to_the_allowlist_and_the_policy_env() {
    let mut policy = native(&repo_skills());
    policy.env.insert("GRANTED".into(), "yes".into());
    let run = ok(
        &policy,
        code(
            "csv-stats",
            "import json, os; print(json.dumps(dict(os.environ)))",
        ),
    )
    .await;
    let env: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(
        env,
        serde_json::json!({
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONIOENCODING": "utf-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "GRANTED": "yes",
        }),
        "this test process has HOME, CARGO_* and more; none may leak"
    );
}

#[tokio::test]
async fn a_timeout_kills_the_whole_group_and_keeps_the_output_so_far() {
    let mut policy = native(&repo_skills());
    policy.python.limits.timeout = Duration::from_secs(1);
    let program = "import subprocess, sys, time\n\
                   child = subprocess.Popen(['sleep', '30'])\n\
                   print('child', child.pid, flush=True)\n\
                   print('oops', file=sys.stderr, flush=True)\n\
                   time.sleep(30)\n\
                   print('never')\n";
    let started = Instant::now();
    let run = ok(&policy, code("unit-converter", program)).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(run.timed_out);
    assert_eq!(run.exit_code, -9, "killed by SIGKILL");
    assert!(!run.stdout.contains("never"));
    assert_eq!(run.stderr, "oops\n");
    assert!(run.duration >= Duration::from_secs(1), "{:?}", run.duration);
    let pid = child_pid(&run.stdout);
    assert!(
        wait_gone(pid),
        "the script's child `sleep 30` (pid {pid}) survived"
    );
}

#[tokio::test]
async fn what_a_script_leaves_running_ends_with_it() {
    let policy = native(&repo_skills());
    let program = "import subprocess\n\
                   child = subprocess.Popen(['sleep', '30'])\n\
                   print('child', child.pid, flush=True)\n";
    let started = Instant::now();
    let run = ok(&policy, code("unit-converter", program)).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((run.exit_code, run.timed_out), (0, false));
    let pid = child_pid(&run.stdout);
    assert!(
        wait_gone(pid),
        "the background `sleep 30` (pid {pid}) survived"
    );
}

#[tokio::test]
async fn a_process_that_leaves_the_group_does_not_hold_up_the_run() {
    let policy = native(&repo_skills());
    // `setsid` puts `sleep` in a session of its own, out of the group's reach, still
    // holding the stdout and stderr pipes open.
    let program = "import subprocess\n\
                   child = subprocess.Popen(['setsid', 'sleep', '30'])\n\
                   print('child', child.pid, flush=True)\n";
    let started = Instant::now();
    let run = ok(&policy, code("unit-converter", program)).await;
    let pid = child_pid(&run.stdout);
    let _ = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((run.exit_code, run.timed_out), (0, false));
}

#[tokio::test]
async fn output_is_capped_per_stream_and_the_host_stays_healthy() {
    let policy = native(&repo_skills());
    let big = ok(&policy, code("unit-converter", "print('x' * 10**8)")).await;
    assert!(big.truncated);
    assert_eq!(big.stdout.len(), policy.python.limits.output_bytes);
    assert!(big.stdout.bytes().all(|b| b == b'x'));
    assert_eq!(
        (big.exit_code, big.timed_out),
        (0, false),
        "read to the end, not blocked"
    );

    let mut small = native(&repo_skills());
    small.python.limits.output_bytes = 1000;
    let program = "import sys\nsys.stdout.write('o' * 999)\nsys.stderr.write('e' * 5000)\n";
    let run = ok(&small, code("unit-converter", program)).await;
    assert_eq!(run.stdout.len(), 999);
    assert_eq!(run.stderr, "e".repeat(1000));
    assert!(run.truncated);

    let after = ok(&policy, code("unit-converter", "print('still here')")).await;
    assert_eq!(after.stdout, "still here\n");
    assert!(!after.truncated);
}

#[tokio::test]
async fn memory_over_the_limit_fails_inside_the_script() {
    let mut policy = native(&repo_skills());
    policy.python.limits.memory_bytes = 128 << 20;
    let fits = ok(
        &policy,
        code("unit-converter", "b = bytearray(32 * 2**20); print(len(b))"),
    )
    .await;
    assert_eq!(fits.stdout, "33554432\n");
    let run = ok(
        &policy,
        code("unit-converter", "b = bytearray(512 * 2**20)"),
    )
    .await;
    assert_eq!(run.exit_code, 1);
    assert!(run.stderr.contains("MemoryError"), "{}", run.stderr);
}

#[tokio::test]
async fn the_skill_virtualenv_is_preferred_over_the_policy_interpreter() {
    let (root, skill) = temp_skill();
    let bin = skill.join(".venv/bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let wrapper = format!(
        "#!/bin/sh\necho venv-python >&2\nexec {} \"$@\"\n",
        python3().display()
    );
    std::fs::write(bin.join("python"), wrapper).expect("write");
    let mut permissions = std::fs::metadata(bin.join("python"))
        .expect("meta")
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(bin.join("python"), permissions).expect("chmod");

    let policy = native(root.path());
    let run = ok(
        &policy,
        code("demo", "import os; print(os.environ['PATH'])"),
    )
    .await;
    assert_eq!(run.stderr, "venv-python\n");
    let bin = bin.canonicalize().expect("canonical");
    assert_eq!(run.stdout, format!("{}:/usr/bin:/bin\n", bin.display()));

    // A virtualenv that is a link out of the skill is refused, not silently replaced.
    std::fs::rename(skill.join(".venv"), root.path().join("elsewhere")).expect("move");
    std::os::unix::fs::symlink(root.path().join("elsewhere"), skill.join(".venv")).expect("link");
    let denied = run_err(&policy, code("demo", "print(1)")).await;
    assert!(
        matches!(&denied, ScriptFailure::Denied(m) if m.contains("outside the skill folder")),
        "{denied:?}"
    );
}

async fn run_err(policy: &PluginPolicy, job: ScriptJob) -> ScriptFailure {
    run(policy, job).await.expect_err("the script must not run")
}

#[tokio::test]
async fn scratch_copy_keeps_the_skill_folder_untouched() {
    let (root, skill) = temp_skill();
    std::fs::write(skill.join("data.txt"), "input").expect("write");
    let program = "import os\nprint(open('data.txt').read())\nprint(os.getcwd())\n\
                   open('out.txt', 'w').write('written')\n";
    let mut policy = native(root.path());
    policy.python.scratch_copy = true;
    let run = ok(&policy, code("demo", program)).await;
    let mut lines = run.stdout.lines();
    assert_eq!(lines.next(), Some("input"), "{run:?}");
    let cwd = PathBuf::from(lines.next().expect("cwd"));
    assert_ne!(cwd, skill.canonicalize().expect("canonical"));
    assert!(
        !skill.join("out.txt").exists(),
        "the write reached the skill folder"
    );
    // The scratch folder is removed in the background after the run.
    let start = Instant::now();
    while cwd.exists() && start.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !cwd.exists(),
        "the scratch folder {} was left behind",
        cwd.display()
    );

    // Without the copy the same write lands in the skill folder.
    policy.python.scratch_copy = false;
    ok(&policy, code("demo", program)).await;
    assert_eq!(
        std::fs::read_to_string(skill.join("out.txt"))
            .ok()
            .as_deref(),
        Some("written")
    );
}

#[tokio::test]
async fn no_interpreter_is_unavailable_with_the_fix() {
    let mut policy = native(&repo_skills());
    policy.python.interpreter = None;
    assert_eq!(
        run_err(&policy, code("unit-converter", "print(1)")).await,
        ScriptFailure::Unavailable(
            "native mode needs an interpreter: create .venv in the skill folder or set \
             interpreter in [plugins.skills.python]"
                .into()
        )
    );
    policy.python.interpreter = Some("/nonexistent/python3".into());
    let failure = run_err(&policy, code("unit-converter", "print(1)")).await;
    assert!(
        matches!(&failure, ScriptFailure::Unavailable(m)
            if m.contains("cannot start the interpreter /nonexistent/python3")),
        "{failure:?}"
    );
}

#[tokio::test]
async fn a_module_runs_with_python_m_and_input_files_land_in_the_scratch_copy() {
    let (root, skill) = temp_skill();
    std::fs::create_dir_all(skill.join("scripts/tools")).expect("mkdir");
    std::fs::write(skill.join("scripts/__init__.py"), "").expect("write");
    std::fs::write(skill.join("scripts/tools/__init__.py"), "").expect("write");
    std::fs::write(
        skill.join("scripts/tools/upper.py"),
        "import sys\nprint(__name__, open(sys.argv[1]).read().upper(), end='')\n",
    )
    .expect("write");
    let mut policy = native(root.path());
    policy.python.scratch_copy = true;
    let job = ScriptJob {
        skill: "demo".into(),
        module: Some("scripts.tools.upper".into()),
        args: vec!["in/text.txt".into()],
        files: vec![wasmhost::scripts::ScriptFile {
            path: "in/text.txt".into(),
            content: "hello\n".into(),
        }],
        ..ScriptJob::default()
    };
    let run = ok(&policy, job.clone()).await;
    assert_eq!(
        (run.stdout.as_str(), run.exit_code),
        ("__main__ HELLO\n", 0),
        "{run:?}"
    );
    assert!(
        !skill.join("in").exists(),
        "the file went into the copy only"
    );
    // Without a scratch copy the files would land in the skill's own folder: refused.
    policy.python.scratch_copy = false;
    let refused = run_err(&policy, job).await;
    assert!(
        matches!(&refused, ScriptFailure::Denied(m) if m.contains("scratch_copy = true")),
        "{refused:?}"
    );
    assert!(!skill.join("in").exists());
    // A file that would replace one of the skill's own (in the copy) is refused too.
    policy.python.scratch_copy = true;
    let clash = ScriptJob {
        files: vec![wasmhost::scripts::ScriptFile {
            path: "scripts/__init__.py".into(),
            content: "raise SystemExit(9)".into(),
        }],
        ..code("demo", "print(1)")
    };
    let refused = run_err(&policy, clash).await;
    assert!(
        matches!(&refused, ScriptFailure::InvalidRequest(m) if m.contains("would replace")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn input_files_never_go_through_a_link_of_the_skill() {
    // The scratch copy keeps the skill's links; one pointing out of it must not carry an
    // input file anywhere.
    let (root, skill) = temp_skill();
    let outside = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(outside.path(), skill.join("data")).expect("symlink");
    std::os::unix::fs::symlink(outside.path().join("f.txt"), skill.join("f.txt")).expect("symlink");
    let mut policy = native(root.path());
    policy.python.scratch_copy = true;
    for path in ["data/new/x.csv", "data/x.csv", "f.txt"] {
        let job = ScriptJob {
            files: vec![wasmhost::scripts::ScriptFile {
                path: path.into(),
                content: "planted".into(),
            }],
            ..code("demo", "print(1)")
        };
        let refused = run_err(&policy, job).await;
        assert!(
            matches!(&refused, ScriptFailure::InvalidRequest(m)
                if m.contains("symbolic link") || m.contains("would replace")),
            "{path}: {refused:?}"
        );
    }
    let planted: Vec<_> = std::fs::read_dir(outside.path()).expect("read").collect();
    assert!(planted.is_empty(), "written outside: {planted:?}");
}
