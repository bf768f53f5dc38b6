//! What a request hands a script besides its source: a module to run as `python -m`, and
//! input files written into its working folder; and every way either is refused.

use wasmhost::scripts::{ScriptFailure, ScriptJob};

use super::{demo, run_with, skill_with_a_package, try_run};

fn file(path: &str, content: &str) -> wasmhost::scripts::ScriptFile {
    wasmhost::scripts::ScriptFile {
        path: path.into(),
        content: content.into(),
    }
}

#[tokio::test]
async fn a_module_runs_as_python_m_with_the_skill_first_on_the_path() {
    let (_dir, policy) = skill_with_a_package();
    // A module imports through the package path from the skill's folder, and sees
    // `sys.argv[0]` as its file and `__name__` as `__main__`.
    std::fs::write(
        _dir.path().join("demo/scripts/report.py"),
        "import sys\nfrom scripts.office import pack\nprint(__name__, sys.argv[0], pack(sys.argv[1]))\n",
    )
    .expect("write");
    let r = run_with(
        &policy,
        ScriptJob {
            skill: "demo".into(),
            module: Some("scripts.report".into()),
            args: vec!["q3".into()],
            ..ScriptJob::default()
        },
    )
    .await;
    assert_eq!(
        (r.stdout.as_str(), r.exit_code),
        ("__main__ /skill/scripts/report.py q3.zip\n", 0),
        "{r:?}"
    );
    // A module whose imports the sandbox lacks is refused up front, as a script is.
    std::fs::write(
        _dir.path().join("demo/scripts/to_docx.py"),
        "from scripts.office import docx\n",
    )
    .expect("write");
    let refused = try_run(
        &policy,
        ScriptJob {
            skill: "demo".into(),
            module: Some("scripts.to_docx".into()),
            ..ScriptJob::default()
        },
    )
    .await
    .expect_err("needs native mode");
    assert!(
        matches!(&refused, ScriptFailure::Denied(m) if m.contains("lxml")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn input_files_are_in_the_working_folder_before_the_script_runs() {
    let (_dir, policy) = skill_with_a_package();
    let r = run_with(
        &policy,
        ScriptJob {
            skill: "demo".into(),
            script: Some("scripts/cat.py".into()),
            args: vec!["in/notes.txt".into()],
            files: vec![file("in/notes.txt", "first line\n"), file("b.csv", "x\n")],
            ..ScriptJob::default()
        },
    )
    .await;
    assert_eq!(
        (r.stdout.as_str(), r.exit_code),
        ("FIRST LINE\n", 0),
        "{r:?}"
    );
    // Inline code sees them too, relative to its working folder.
    let r = run_with(
        &policy,
        ScriptJob {
            files: vec![file("data.json", "[1, 2, 3]")],
            ..demo("import json\nprint(sum(json.load(open('data.json'))))")
        },
    )
    .await;
    assert_eq!((r.stdout.as_str(), r.exit_code), ("6\n", 0), "{r:?}");
}

#[tokio::test]
async fn bad_modules_and_input_files_are_refused_with_the_reason() {
    let (dir, policy) = skill_with_a_package();
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join("demo/scripts/link.py"))
        .expect("symlink");
    let module = |name: &str| ScriptJob {
        skill: "demo".into(),
        module: Some(name.into()),
        ..ScriptJob::default()
    };
    let with_files = |files: Vec<wasmhost::scripts::ScriptFile>| ScriptJob {
        files,
        ..demo("print(1)")
    };
    let many: Vec<_> = (0..65).map(|i| file(&format!("f{i}"), "x")).collect();
    let big = vec![
        file("a", &"x".repeat(9 << 20)),
        file("b", &"y".repeat(8 << 20)),
    ];
    let cases: Vec<(ScriptJob, &str)> = vec![
        (module("scripts.nope"), "has no module `scripts.nope`"),
        (module("../etc"), "is not a module name"),
        (module("scripts..x"), "is not a module name"),
        (module("scripts.link"), "symlink"),
        (
            ScriptJob {
                code: Some("1".into()),
                ..module("scripts.pack_it")
            },
            "only one of",
        ),
        (
            with_files(vec![file("../escape.txt", "x")]),
            "not a relative path",
        ),
        (with_files(vec![file("/etc/x", "x")]), "not a relative path"),
        (with_files(vec![file("./a", "x")]), "not a relative path"),
        (with_files(vec![file("", "x")]), "not a relative path"),
        (with_files(vec![file("a/", "x")]), "not a relative path"),
        (with_files(vec![file("a//b", "x")]), "not a relative path"),
        (
            with_files(vec![file("d/".repeat(33).trim_end_matches('/'), "x")]),
            "32 levels",
        ),
        (with_files(vec![file(&"n".repeat(1025), "x")]), "1024 bytes"),
        (module("scripts.é"), "is not a module name"),
        (
            with_files(vec![file("a", "1"), file("a", "2")]),
            "given twice",
        ),
        (
            with_files(vec![file("a", "1"), file("a/b", "2")]),
            "a folder of the other",
        ),
        (with_files(many), "over the limit of 64"),
        (with_files(big), "over the limit of 16777216"),
    ];
    for (job, expected) in cases {
        let what = format!("{:?}", (&job.module, job.files.len()));
        let failure = try_run(&policy, job).await.expect_err(&what);
        assert!(failure.to_string().contains(expected), "{what}: {failure}");
    }
    assert!(
        !dir.path().join("escape.txt").exists() && !dir.path().join("demo/escape.txt").exists(),
        "nothing was written outside"
    );
}
