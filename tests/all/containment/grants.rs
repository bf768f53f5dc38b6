//! Class 9 and 10: a grant goes to the plugin it names (`--skills` to the skills plugin,
//! not to every `--tool`), and a plugin creates no symbolic links in its folders.

use super::{hostile_run, printed};
use crate::support::{policy_dir, stderr, stdout, wasmhost_env};

fn skills_dir(root: &std::path::Path) -> std::path::PathBuf {
    let skills = root.join("skills");
    let skill = skills.join("private-skill");
    std::fs::create_dir_all(&skill).expect("mkdir");
    std::fs::write(
        skill.join("SKILL.md"),
        "---\nname: private-skill\ndescription: Only for the skills plugin.\n---\nSecret steps.\n",
    )
    .expect("write");
    skills
}

#[test]
fn the_skills_folder_goes_to_the_skills_plugin_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let skills = skills_dir(dir.path());
    let transcript = dir.path().join("t.jsonl");
    let out = hostile_run(
        dir.path(),
        &[
            "--tool",
            "hostile",
            "--skills",
            skills.to_str().expect("utf-8"),
            "--transcript",
            transcript.to_str().expect("utf-8"),
            r#"call list_dir {"path": "/skills"}"#,
        ],
    );
    assert!(out.status.success(), "{}", printed(&out));
    let text = std::fs::read_to_string(&transcript).expect("transcript");
    let result = text
        .lines()
        .find(|l| l.contains("\"tool_result\""))
        .expect("a tool result");
    assert!(result.contains("\"is_error\":true"), "{result}");
    assert!(
        !result.contains("private-skill"),
        "the hostile tool listed /skills: {result}"
    );

    // `call` names its one plugin, and --skills is granted to it: the control.
    let out = wasmhost_env(
        &[
            "call",
            "hostile",
            "list_dir",
            r#"{"path": "/skills"}"#,
            "--skills",
            "skills",
        ],
        dir.path(),
        &[],
    );
    assert!(out.status.success(), "{}", printed(&out));
    assert_eq!(stdout(&out).trim(), "private-skill");
}

#[test]
fn no_symbolic_link_can_be_planted_in_a_read_write_folder() {
    let dir = policy_dir(
        "[plugins.hostile]\nfolders = [{ host = \"out\", guest = \"/out\", access = \"rw\" }]\n",
    );
    std::fs::create_dir(dir.path().join("out")).expect("mkdir");
    for target in ["../../..", "/etc/passwd", "inside.txt"] {
        let args = serde_json::json!({ "dir": "/out", "target": target, "name": "link" });
        let out = wasmhost_env(
            &["call", "hostile", "symlink", &args.to_string()],
            dir.path(),
            &[],
        );
        assert_eq!(out.status.code(), Some(1), "{target}: {}", printed(&out));
        assert!(
            stderr(&out).contains("may not create symbolic links"),
            "{target}: {}",
            printed(&out)
        );
        assert!(
            std::fs::symlink_metadata(dir.path().join("out").join("link")).is_err(),
            "a link was created for {target}"
        );
    }
    // Files are still written there.
    let out = wasmhost_env(
        &[
            "call",
            "hostile",
            "write_file",
            r#"{"path": "/out/inside.txt", "content": "x"}"#,
        ],
        dir.path(),
        &[],
    );
    assert!(out.status.success(), "{}", printed(&out));
}
