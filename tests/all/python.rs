//! Sandboxed Python: the `python-runner` component (built by `just python-runner`) run
//! through the host's script runner, on the example skills and on ordinary programs;
//! `hostile` has the programs that cross limits or reach for what they are not granted.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use wasmhost::policy::PluginPolicy;
use wasmhost::runtime::ComponentCache;
use wasmhost::sandbox::{Sandbox, SandboxOptions};
use wasmhost::scripts::{
    PYTHON_RUNNER_ENV, SandboxedPython, ScriptFailure, ScriptHost, ScriptJob, ScriptRun,
    ScriptRunner,
};

use crate::support::{cache_dir, repo_root};

mod first_use;
mod hostile;
mod inputs;

struct Python {
    scripts: ScriptHost,
}

/// One sandbox and runner for every test here, so the runner compiles (or loads from the
/// test cache) once per test run.
fn python() -> &'static Python {
    static PYTHON: OnceLock<Python> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let sandbox = Sandbox::new(SandboxOptions {
            cache: ComponentCache::new(cache_dir()),
            ..SandboxOptions::default()
        })
        .expect("sandbox starts");
        let scripts = ScriptHost::new(SandboxedPython::new(runner_path(), sandbox));
        Python { scripts }
    })
}

/// `$WASMHOST_PYTHON_RUNNER`, else what `just python-runner` just built, else where an
/// installed host looks.
fn runner_path() -> Option<PathBuf> {
    if std::env::var_os(PYTHON_RUNNER_ENV).is_some() {
        return SandboxedPython::locate();
    }
    let built = repo_root().join("target/runtimes/python.wasm");
    if built.is_file() {
        return Some(built);
    }
    SandboxedPython::locate()
}

/// A policy for plugin `skills` with the repository's skills folder and the default
/// script limits, but a 10 s clock so that a hang fails the test fast.
fn policy() -> PluginPolicy {
    let mut policy = PluginPolicy::deny_all("skills");
    policy.grant_skills_folder(repo_root().join("skills"));
    policy.python.limits.timeout = Duration::from_secs(10);
    policy
}

fn code(code: &str) -> ScriptJob {
    ScriptJob {
        skill: "unit-converter".into(),
        code: Some(code.into()),
        script: None,
        args: Vec::new(),
        stdin: None,
        ..ScriptJob::default()
    }
}

fn script(skill: &str, path: &str, args: &[&str], stdin: Option<&str>) -> ScriptJob {
    ScriptJob {
        skill: skill.into(),
        code: None,
        script: Some(path.into()),
        args: args.iter().map(|a| a.to_string()).collect(),
        stdin: stdin.map(Into::into),
        ..ScriptJob::default()
    }
}

async fn try_run(policy: &PluginPolicy, job: ScriptJob) -> Result<ScriptRun, ScriptFailure> {
    let python = python();
    python.scripts.run(policy, job).await
}

/// Runs `job`, which must run (whatever its exit code).
async fn run_with(policy: &PluginPolicy, job: ScriptJob) -> ScriptRun {
    try_run(policy, job)
        .await
        .unwrap_or_else(|e| panic!("the script did not run: {e}"))
}

async fn run(source: &str) -> ScriptRun {
    run_with(&policy(), code(source)).await
}

/// A skills folder of its own, for programs that try to write to or escape from it.
fn scratch_skills() -> (tempfile::TempDir, PluginPolicy) {
    let dir = tempfile::tempdir().expect("tempdir");
    let scripts = dir.path().join("demo/scripts");
    std::fs::create_dir_all(&scripts).expect("mkdir");
    std::fs::write(
        scripts.join("helper.py"),
        "def shout(s):\n    return s.upper()\n",
    )
    .expect("write");
    std::fs::write(
        scripts.join("main.py"),
        "import sys\nfrom helper import shout\nprint(shout(' '.join(sys.argv[1:])))\n",
    )
    .expect("write");
    let mut policy = policy();
    policy.grant_skills_folder(dir.path().to_path_buf());
    (dir, policy)
}

fn demo(source: &str) -> ScriptJob {
    ScriptJob {
        skill: "demo".into(),
        ..code(source)
    }
}

/// After any failure, a fresh instance still runs Python.
async fn assert_healthy() {
    let r = run("print(1)").await;
    assert_eq!((r.stdout.as_str(), r.exit_code), ("1\n", 0), "{r:?}");
}

#[tokio::test]
async fn prints_and_exits_zero() {
    let r = run("print(1+1)").await;
    assert_eq!(r.stdout, "2\n");
    assert_eq!(r.stderr, "");
    assert_eq!(r.exit_code, 0);
    assert!(!r.timed_out && !r.truncated);
}

#[tokio::test]
async fn args_stdin_and_env_reach_the_script() {
    let mut policy = policy();
    policy.env.insert("GREETING".into(), "hello".into());
    let job = ScriptJob {
        args: vec!["a".into(), "b c".into()],
        stdin: Some("line one\nline two\n".into()),
        ..code(
            "import os, sys\nprint(sys.argv)\nprint(sys.stdin.read().upper(), end='')\n\
             print(sorted(os.environ.items()))\nprint(input.__name__)",
        )
    };
    let r = run_with(&policy, job).await;
    assert_eq!(
        r.stdout, "['-c', 'a', 'b c']\nLINE ONE\nLINE TWO\n[('GREETING', 'hello')]\ninput\n",
        "{r:?}"
    );
    // Nothing of the host's environment gets in.
    let r = run("import os\nprint(dict(os.environ))").await;
    assert_eq!(r.stdout, "{}\n");
}

/// The example skills' scripts print exactly what CPython on this machine prints.
#[tokio::test]
async fn skill_scripts_match_native_python() {
    let csv = "city,population,area\nOslo,709037,454\nBergen,291940,465\nTromsø,77544,2521\n";
    let text = "The quick brown fox jumps over the lazy dog. It was not amused!\n\n\
                A second paragraph, with don't and well-known words.\n";
    for (skill, path, args, stdin) in [
        (
            "unit-converter",
            "scripts/convert.py",
            &["10", "km", "mi"][..],
            None,
        ),
        (
            "unit-converter",
            "scripts/convert.py",
            &["98.6", "F", "C"],
            None,
        ),
        (
            "unit-converter",
            "scripts/convert.py",
            &["1", "kg", "km"],
            None,
        ),
        (
            "unit-converter",
            "scripts/convert.py",
            &[],
            Some("5 lb kg\n2 gal l\n"),
        ),
        ("csv-stats", "scripts/stats.py", &[], Some(csv)),
        ("csv-stats", "scripts/stats.py", &["--json"], Some(csv)),
        ("text-stats", "scripts/text_stats.py", &[], Some(text)),
        (
            "text-stats",
            "scripts/text_stats.py",
            &["--json", "--top", "3"],
            Some(text),
        ),
    ] {
        let sandboxed = run_with(&policy(), script(skill, path, args, stdin)).await;
        let native = native_python(skill, path, args, stdin);
        assert_eq!(
            (
                sandboxed.stdout.as_str(),
                sandboxed.stderr.as_str(),
                sandboxed.exit_code
            ),
            (native.0.as_str(), native.1.as_str(), native.2),
            "{skill} {path} {args:?}"
        );
    }
}

/// `python3 PATH ARGS` in the skill's folder: (stdout, stderr, exit code).
fn native_python(
    skill: &str,
    path: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> (String, String, i32) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("python3")
        .arg(path)
        .args(args)
        .current_dir(repo_root().join("skills").join(skill))
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.unwrap_or("").as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("python3 ends");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().expect("exit code"),
    )
}

#[tokio::test]
async fn the_standard_library_is_there() {
    let r = run(r##"
import argparse, csv, datetime, decimal, fractions, io, json, re, sqlite3, statistics, zlib
from collections import Counter
rows = list(csv.DictReader(io.StringIO("a,b\n1,2\n3,5\n")))
print(json.dumps(rows, sort_keys=True))
print(statistics.mean(int(r["b"]) for r in rows), statistics.median([1, 5, 2]))
print(datetime.datetime.strptime("2024-02-29", "%Y-%m-%d").date().isoformat())
print(decimal.Decimal("0.1") + decimal.Decimal("0.2"), fractions.Fraction(3, 6))
print(Counter("hello").most_common(1), re.sub(r"\d+", "#", "a1b22"))
db = sqlite3.connect(":memory:")
print(db.execute("select 6 * 7").fetchone()[0])
print(len(zlib.compress(b"x" * 1000)) < 100)
parser = argparse.ArgumentParser()
parser.add_argument("--n", type=int)
print(parser.parse_args(["--n", "3"]).n)
"##)
    .await;
    assert_eq!(
        r.stdout,
        "[{\"a\": \"1\", \"b\": \"2\"}, {\"a\": \"3\", \"b\": \"5\"}]\n3.5 2\n2024-02-29\n\
         0.3 1/2\n[('l', 2)] a#b#\n42\nTrue\n3\n",
        "{r:?}"
    );
    assert_eq!(r.exit_code, 0);
}

#[tokio::test]
async fn exit_codes_and_tracebacks_are_cpythons() {
    let r = run("import sys\nprint('before')\nsys.exit(3)\nprint('after')").await;
    assert_eq!((r.stdout.as_str(), r.exit_code), ("before\n", 3), "{r:?}");
    let r = run("import sys\nsys.exit('bye')").await;
    assert_eq!((r.stderr.as_str(), r.exit_code), ("bye\n", 1), "{r:?}");
    let r = run("import sys\nsys.exit()").await;
    assert_eq!(r.exit_code, 0, "{r:?}");
    let r = run("def f():\n    raise ValueError('boom')\nf()").await;
    assert_eq!(r.exit_code, 1, "{r:?}");
    assert!(
        r.stderr.starts_with("Traceback (most recent call last):\n"),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("File \"<string>\", line 3, in <module>"),
        "{r:?}"
    );
    assert!(r.stderr.contains("raise ValueError('boom')"), "{r:?}");
    assert!(r.stderr.ends_with("ValueError: boom\n"), "{r:?}");
    assert!(
        !r.stderr.contains("app.py"),
        "the runner's frames show: {r:?}"
    );
    // A program that does not compile runs nothing.
    for source in ["print('never')\nprint(", "print('never')\nreturn 5"] {
        let r = run(source).await;
        assert_eq!((r.stdout.as_str(), r.exit_code), ("", 1), "{r:?}");
        assert!(r.stderr.contains("SyntaxError"), "{r:?}");
        assert!(!r.stderr.contains("runner"), "{r:?}");
    }
}

#[tokio::test]
async fn a_skill_script_imports_its_own_modules_and_works_in_scratch() {
    let (_dir, policy) = scratch_skills();
    let r = run_with(
        &policy,
        script("demo", "scripts/main.py", &["hi", "there"], None),
    )
    .await;
    assert_eq!((r.stdout.as_str(), r.exit_code), ("HI THERE\n", 0), "{r:?}");
    let r = run_with(
        &policy,
        demo("import os\nopen('out.txt', 'w').write('kept')\nprint(os.getcwd(), open('out.txt').read(), os.listdir('.'))"),
    )
    .await;
    assert_eq!(r.stdout, "/scratch kept ['out.txt']\n", "{r:?}");
    // Each run gets a fresh scratch folder.
    let r = run_with(&policy, demo("import os\nprint(os.listdir('.'))")).await;
    assert_eq!(r.stdout, "[]\n", "{r:?}");
}

#[tokio::test]
async fn each_run_draws_fresh_random_numbers() {
    let a = run("import random\nprint(random.random())").await;
    let b = run("import random\nprint(random.random())").await;
    assert_eq!(a.exit_code, 0, "{a:?}");
    assert_ne!(a.stdout, b.stdout, "the build's PRNG state was reused");
}

#[tokio::test]
async fn descriptor_writes_and_os_exit_keep_their_output() {
    // The runner's capture and what the script wrote to fd 1 itself, in order.
    let r = run("import os\nprint('a')\nos.write(1, b'raw\\n')\nprint('b', end='')").await;
    assert_eq!((r.stdout.as_str(), r.exit_code), ("a\nraw\nb", 0), "{r:?}");
    // `os._exit` ends the instance, and the runner's return value with it.
    let r = run("import os\nprint('a')\nos._exit(0)").await;
    assert_eq!((r.stdout.as_str(), r.exit_code), ("a\n", 0), "{r:?}");
    let r = run("import os\nprint('a')\nos._exit(5)").await;
    // WASI's exit carries success or failure only: any failure arrives as 1.
    assert_eq!((r.stdout.as_str(), r.exit_code), ("a\n", 1), "{r:?}");
    assert_healthy().await;
}

#[tokio::test]
async fn asyncio_runs_without_sockets() {
    let r = run(
        "import asyncio\nasync def m(n):\n    await asyncio.sleep(0.05)\n    return n\n\
         async def main():\n    return await asyncio.gather(m(1), m(2))\nprint(asyncio.run(main()))",
    )
    .await;
    assert_eq!((r.stdout.as_str(), r.exit_code), ("[1, 2]\n", 0), "{r:?}");
}

/// A skill with a package of its own, as the official document skills have
/// (`scripts/office/…`): its modules import what the sandbox may lack.
fn skill_with_a_package() -> (tempfile::TempDir, PluginPolicy) {
    let (dir, policy) = scratch_skills();
    let scripts = dir.path().join("demo/scripts");
    std::fs::create_dir_all(scripts.join("office")).expect("mkdir");
    for (file, text) in [
        ("office/__init__.py", "from .pack import pack\n"),
        (
            "office/pack.py",
            "import zipfile\n\ndef pack(name):\n    return name + '.zip'\n",
        ),
        ("office/docx.py", "from . import pack\nimport lxml.etree\n"),
        (
            "pack_it.py",
            "import sys\nfrom office import pack\nprint(pack(sys.argv[1]))\n",
        ),
        (
            "read_docx.py",
            "from office import docx\nprint('unreachable')\n",
        ),
        (
            "cat.py",
            "import sys\nprint(open(sys.argv[1]).read().upper(), end='')\n",
        ),
    ] {
        std::fs::write(scripts.join(file), text).expect("write");
    }
    (dir, policy)
}

#[tokio::test]
async fn preflight_follows_the_skill_s_own_modules() {
    let (_dir, policy) = skill_with_a_package();
    // The package's own imports are all in the sandbox: it runs.
    let r = run_with(
        &policy,
        script("demo", "scripts/pack_it.py", &["report"], None),
    )
    .await;
    assert_eq!(
        (r.stdout.as_str(), r.exit_code),
        ("report.zip\n", 0),
        "{r:?}"
    );
    // A module of the package needs lxml: refused before anything runs, naming the file.
    match try_run(&policy, script("demo", "scripts/read_docx.py", &[], None)).await {
        Err(ScriptFailure::Denied(message)) => assert!(
            message.contains("needs native mode: imports lxml (scripts/office/docx.py)"),
            "{message}"
        ),
        other => panic!("expected a denial, got {other:?}"),
    }
    // Inline code that puts the skill's scripts on sys.path imports them like a script.
    let r = run_with(
        &policy,
        demo("import sys\nsys.path.insert(0, '/skill/scripts')\nfrom helper import shout\nfrom office import pack\nprint(shout(pack('a')))"),
    )
    .await;
    assert_eq!((r.stdout.as_str(), r.exit_code), ("A.ZIP\n", 0), "{r:?}");
    match try_run(
        &policy,
        demo("import os, sys\nsys.path.append(os.path.join('/skill', 'scripts'))\nimport office.docx"),
    )
    .await
    {
        Err(ScriptFailure::Denied(message)) => {
            assert!(message.contains("imports lxml (scripts/office/docx.py)"), "{message}")
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    // `runpy` with a literal module runs it, and is checked like an import.
    let r = run_with(
        &policy,
        ScriptJob {
            args: vec!["x".into()],
            ..demo("import runpy, sys\nsys.path.insert(0, '/skill/scripts')\nrunpy.run_module('pack_it', run_name='__main__')")
        },
    )
    .await;
    assert_eq!((r.stdout.as_str(), r.exit_code), ("x.zip\n", 0), "{r:?}");
    assert_healthy().await;
}

#[tokio::test]
async fn a_script_reads_its_input_from_dev_stdin() {
    let (_dir, policy) = skill_with_a_package();
    let r = run_with(
        &policy,
        script(
            "demo",
            "scripts/cat.py",
            &["/dev/stdin"],
            Some("line one\nline two\n"),
        ),
    )
    .await;
    assert_eq!(
        (r.stdout.as_str(), r.exit_code),
        ("LINE ONE\nLINE TWO\n", 0),
        "{r:?}"
    );
    // Without input it is empty; it cannot be written, and nothing else is in /dev.
    let r = run_with(
        &policy,
        demo("import os\nprint(repr(open('/dev/stdin').read()), os.listdir('/dev'))\ntry:\n    open('/dev/stdin', 'w')\nexcept OSError as e:\n    print(type(e).__name__)"),
    )
    .await;
    assert_eq!(r.stdout, "'' ['stdin']\nPermissionError\n", "{r:?}");
}

#[tokio::test]
async fn the_preflight_says_when_it_stops_following_a_skill_s_files() {
    let (dir, policy) = scratch_skills();
    let scripts = dir.path().join("demo/scripts");
    // More modules than the preflight follows; the last one needs what the sandbox lacks.
    let count = 520;
    let mut main = String::new();
    for i in 0..count {
        std::fs::write(scripts.join(format!("m{i:03}.py")), "import json\n").expect("write");
        main.push_str(&format!("import m{i:03}\n"));
    }
    std::fs::write(scripts.join("m999.py"), "import lxml\n").expect("write");
    main.push_str("import m999\n");
    std::fs::write(scripts.join("many.py"), main).expect("write");
    let r = run_with(&policy, script("demo", "scripts/many.py", &[], None)).await;
    assert!(
        r.stderr
            .contains("the preflight did not follow 9 of the skill's files (past 512 files"),
        "{r:?}"
    );
    // It ran, and failed where CPython would.
    assert!(r.stderr.contains("ModuleNotFoundError"), "{r:?}");
    assert_eq!(r.exit_code, 1, "{r:?}");
}
