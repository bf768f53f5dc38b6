//! `wasmhost skills check` against the Agent Skills reference validator (`skills-ref` from
//! PyPI, its `agentskills validate` command; `just skills-ref` installs it into
//! `target/tools/`): both judge the same skill folders, and any case where they disagree
//! fails the test, listed with both outputs.
//!
//! The reference takes one skill folder; each case is one. Where wasmhost is stricter on
//! purpose (the spec says more than the reference checks), the case is in
//! [`STRICTER`] with the reason, and the test checks that the difference is exactly that.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{repo_root, stderr, stdout, wasmhost};

/// The reference validator's command: `$SKILLS_REF`, else what `just skills-ref` installs.
fn agentskills() -> PathBuf {
    if let Some(path) = std::env::var_os("SKILLS_REF") {
        return PathBuf::from(path);
    }
    let installed = repo_root().join("target/tools/skills-ref/bin/agentskills");
    assert!(
        installed.is_file(),
        "the reference validator is not installed: run `just skills-ref` (or `./just test`, \
         which does), or set SKILLS_REF to an `agentskills` command"
    );
    installed
}

/// A skill folder: its name, and its files (`None` content: no such file).
struct Case {
    folder: String,
    files: Vec<(&'static str, String)>,
}

fn skill(folder: &str, frontmatter: &str) -> Case {
    Case {
        folder: folder.to_string(),
        files: vec![(
            "SKILL.md",
            format!("---\n{frontmatter}---\n# Instructions\nDo it.\n"),
        )],
    }
}

fn named(name: &str) -> Case {
    skill(name, &format!("name: {name}\ndescription: d\n"))
}

fn raw(folder: &str, file: &'static str, text: &str) -> Case {
    Case {
        folder: folder.to_string(),
        files: vec![(file, text.to_string())],
    }
}

/// Cases both must agree on: every rule the reference checks, at and past each limit.
fn agreed() -> Vec<Case> {
    let d = |n: usize| "d".repeat(n);
    let c = |n: usize| "c".repeat(n);
    vec![
        named("good"),
        named("a1-b2-c3"),
        // Names: lowercase letters of any script, NFKC-normalized, hyphens inside only.
        named("навык"),
        named("мой-навык"),
        named("技能"),
        named("ไทย"),
        named("caf\u{e9}"),
        skill("cafe\u{301}", "name: caf\u{e9}\ndescription: d\n"),
        skill("caf\u{e9}", "name: cafe\u{301}\ndescription: d\n"),
        skill("a2", "name: a\u{b2}\ndescription: d\n"),
        named("Caf\u{e9}"),
        named("Upper"),
        named("\u{1c5}-title"),
        named("istanbul-\u{130}"),
        named("-lead"),
        named("trail-"),
        named("dou--ble"),
        named("under_score"),
        named("dot.name"),
        named("half-\u{bd}"),
        named("\u{939}\u{93f}\u{902}\u{926}\u{940}"),
        named(&"a".repeat(64)),
        named(&"a".repeat(65)),
        named(&"я".repeat(64)),
        named(&"я".repeat(65)),
        skill("mismatch", "name: other-name\ndescription: d\n"),
        skill("padded", "name: '  padded  '\ndescription: d\n"),
        skill("123", "name: 123\ndescription: d\n"),
        skill("empty-name", "name: ''\ndescription: d\n"),
        skill("list-name", "name:\n  - a\ndescription: d\n"),
        skill("no-name", "description: d\n"),
        // Description: required, non-blank, at most 1,024 characters as written.
        skill("no-description", "name: no-description\n"),
        skill("blank", "name: blank\ndescription: '   '\n"),
        skill(
            "empty-description",
            "name: empty-description\ndescription:\n",
        ),
        skill("d1024", &format!("name: d1024\ndescription: {}\n", d(1024))),
        skill("d1025", &format!("name: d1025\ndescription: {}\n", d(1025))),
        skill(
            "d1024-block",
            &format!("name: d1024-block\ndescription: |\n  {}\n", d(1024)),
        ),
        skill(
            "d1023-block",
            &format!("name: d1023-block\ndescription: |\n  {}\n", d(1023)),
        ),
        skill(
            "d1024-spaced",
            &format!("name: d1024-spaced\ndescription: '{} '\n", d(1024)),
        ),
        skill("null-text", "name: null-text\ndescription: null\n"),
        // Compatibility: optional, at most 500 characters, may be empty.
        skill(
            "c500",
            &format!("name: c500\ndescription: d\ncompatibility: {}\n", c(500)),
        ),
        skill(
            "c501",
            &format!("name: c501\ndescription: d\ncompatibility: {}\n", c(501)),
        ),
        skill(
            "c-empty",
            "name: c-empty\ndescription: d\ncompatibility: ''\n",
        ),
        skill(
            "c-list",
            "name: c-list\ndescription: d\ncompatibility:\n  - a\n",
        ),
        // Only the convention's fields.
        skill(
            "all-fields",
            "name: all-fields\ndescription: d\nlicense: MIT\ncompatibility: any\nmetadata:\n  \
             author: me\n  version: '1.0'\nallowed-tools: Bash(git:*) Read\n",
        ),
        skill("unknown", "name: unknown\ndescription: d\nauthor: me\n"),
        skill("upper-key", "name: upper-key\ndescription: d\nName: x\n"),
        // The file and its frontmatter.
        raw(
            "no-frontmatter",
            "SKILL.md",
            "# Old style\nNo frontmatter.\n",
        ),
        raw(
            "bom",
            "SKILL.md",
            "\u{feff}---\nname: bom\ndescription: d\n---\nbody\n",
        ),
        raw(
            "unclosed",
            "SKILL.md",
            "---\nname: unclosed\ndescription: d\nbody\n",
        ),
        raw("empty-file", "SKILL.md", ""),
        raw(
            "crlf",
            "SKILL.md",
            "---\r\nname: crlf\r\ndescription: d\r\n---\r\nbody\r\n",
        ),
        raw(
            "lowercase-file",
            "skill.md",
            "---\nname: lowercase-file\ndescription: d\n---\nbody\n",
        ),
        raw(
            "no-body",
            "SKILL.md",
            "---\nname: no-body\ndescription: d\n---\n",
        ),
        raw("list-frontmatter", "SKILL.md", "---\n- a\n- b\n---\nbody\n"),
        raw("empty-frontmatter", "SKILL.md", "---\n---\nbody\n"),
        skill("bad-yaml", "name: bad-yaml\ndescription: Use when: foo\n"),
        skill("dup-key", "name: dup-key\nname: dup-key\ndescription: d\n"),
        skill(
            "flow",
            "name: flow\ndescription: d\nallowed-tools: [Read, Bash]\n",
        ),
        skill("anchor", "name: anchor\ndescription: &d d\nlicense: *d\n"),
        skill("tag", "name: tag\ndescription: !!str d\n"),
        skill(
            "block-list-tools",
            "name: block-list-tools\ndescription: d\nallowed-tools:\n  - Read\n  - Bash\n",
        ),
        Case {
            folder: "not-a-skill".to_string(),
            files: vec![("README.md", "no skill here\n".to_string())],
        },
    ]
}

/// Where wasmhost fails a folder the reference passes, and why.
const STRICTER: &[(&str, &str, &str)] = &[
    (
        "metadata-nested",
        "name: metadata-nested\ndescription: d\nmetadata:\n  a:\n    b: c\n",
        "the spec: `metadata` maps string keys to string values",
    ),
    (
        "metadata-text",
        "name: metadata-text\ndescription: d\nmetadata: just text\n",
        "the spec: `metadata` is a mapping",
    ),
    (
        "license-list",
        "name: license-list\ndescription: d\nlicense:\n  - MIT\n",
        "the spec: `license` is a string (a name or a file)",
    ),
];

struct Verdict {
    ok: bool,
    said: String,
}

fn reference(folder: &Path) -> Verdict {
    let out: Output = Command::new(agentskills())
        .arg("validate")
        .arg(folder)
        .output()
        .expect("agentskills runs");
    // Exit 2 is a usage error of the reference's own: never a verdict.
    assert_ne!(
        out.status.code(),
        Some(2),
        "agentskills could not take {}: {}",
        folder.display(),
        stderr(&out)
    );
    Verdict {
        ok: out.status.success(),
        said: format!("{}{}", stdout(&out), stderr(&out)),
    }
}

fn ours(folder: &Path) -> Verdict {
    let path = folder.to_string_lossy();
    let out = wasmhost(
        &["skills", "check", &path],
        folder.parent().expect("parent"),
    );
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
    Verdict {
        ok: out.status.success(),
        said: format!("{}{}", stdout(&out), stderr(&out)),
    }
}

fn create(root: &Path, case: &Case) -> PathBuf {
    let folder = root.join(&case.folder);
    std::fs::create_dir_all(&folder).expect("mkdir");
    for (file, text) in &case.files {
        std::fs::write(folder.join(file), text).expect("write");
    }
    folder
}

#[test]
fn skills_check_agrees_with_the_reference_validator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = agreed();
    let mut disagreements = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    for (index, case) in cases.iter().enumerate() {
        // One parent per case: the reference judges exactly the folder it is given.
        let parent = dir.path().join(index.to_string());
        let folder = create(&parent, case);
        let (theirs, mine) = (reference(&folder), ours(&folder));
        if theirs.ok {
            passed += 1;
        } else {
            failed += 1;
        }
        if theirs.ok != mine.ok {
            disagreements.push(format!(
                "{:?}: reference {}, wasmhost {}\n--- reference:\n{}--- wasmhost:\n{}",
                case.folder,
                if theirs.ok { "passes" } else { "fails" },
                if mine.ok { "passes" } else { "fails" },
                theirs.said,
                mine.said
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} cases disagree:\n\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
    // The cases cover both verdicts, plenty of each.
    assert!(passed >= 20 && failed >= 30, "{passed} pass, {failed} fail");
}

#[test]
fn skills_check_is_stricter_than_the_reference_only_where_the_spec_says_more() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (index, (folder, frontmatter, why)) in STRICTER.iter().enumerate() {
        let folder = create(
            &dir.path().join(index.to_string()),
            &skill(folder, frontmatter),
        );
        let (theirs, mine) = (reference(&folder), ours(&folder));
        assert!(
            theirs.ok,
            "the reference now fails {folder:?}: {}",
            theirs.said
        );
        assert!(!mine.ok, "{folder:?} ({why}): {}", mine.said);
    }
}
