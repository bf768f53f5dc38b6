use super::{Fixture, failure};
use crate::error::Failure;
use crate::files::{MAX_FILE_BYTES, relative_components};
use crate::tools::READ_FILE_IN_SKILL;

fn read(f: &Fixture, name: &str, path: &str) -> Result<String, Failure> {
    let arguments = serde_json::json!({ "name": name, "path": path }).to_string();
    f.call(READ_FILE_IN_SKILL, &arguments)
}

fn with_skill() -> Fixture {
    let f = Fixture::new();
    f.skill("tool", "d");
    f.write("tool/scripts/run.py", "print('hi')\n");
    f.write("tool/references/notes.md", "# Notes\r\nCRLF kept\r\n");
    f
}

#[test]
fn reads_text_exactly() {
    let f = with_skill();
    assert_eq!(
        read(&f, "tool", "scripts/run.py"),
        Ok("print('hi')\n".to_string())
    );
    assert_eq!(
        read(&f, "tool", "./references//notes.md"),
        Ok("# Notes\r\nCRLF kept\r\n".to_string())
    );
    let skill_md = read(&f, "tool", "SKILL.md").expect("SKILL.md");
    assert!(skill_md.starts_with("---\nname: tool\n"), "{skill_md}");
}

#[test]
fn path_rules() {
    assert_eq!(relative_components("a/./b//c"), Ok(vec!["a", "b", "c"]));
    let f = with_skill();
    for (path, why) in [
        ("", "empty"),
        ("/etc/passwd", "relative"),
        ("../tool/SKILL.md", "`..`"),
        ("scripts/../../x", "`..`"),
        ("scripts\\run.py", "`/`"),
        ("a\0b", "NUL"),
        (".", "skill folder itself"),
        ("./", "skill folder itself"),
    ] {
        match failure(read(&f, "tool", path)) {
            Failure::InvalidArguments(m) => {
                assert!(m.contains("in skill `tool`"), "{m}");
                assert!(m.contains(why), "{path:?}: {m}");
            }
            other => panic!("{path:?}: {other:?}"),
        }
    }
}

#[test]
fn missing_files_and_folders() {
    let f = with_skill();
    assert_eq!(
        failure(read(&f, "tool", "scripts/nope.py")),
        Failure::NotFound("skill `tool` has no file `scripts/nope.py`".to_string())
    );
    assert_eq!(
        failure(read(&f, "tool", "scripts/run.py/deeper")),
        Failure::NotFound(
            "skill `tool` has no file `scripts/run.py/deeper`: `scripts/run.py` is not a folder"
                .to_string()
        )
    );
    let Failure::InvalidArguments(m) = failure(read(&f, "tool", "scripts")) else {
        panic!("a folder is not a file");
    };
    assert!(m.contains("`tool/scripts` is a folder"), "{m}");
    let Failure::NotFound(m) = failure(read(&f, "ghost", "SKILL.md")) else {
        panic!("no such skill");
    };
    assert!(m.contains("`ghost`"), "{m}");
}

#[cfg(unix)]
#[test]
fn symlinks_are_refused_anywhere_in_the_path() {
    let f = with_skill();
    let outside = f.write("outside.txt", "secret");
    super::symlink(&outside, f.root().join("tool/link.txt"));
    super::symlink(
        f.root().join("tool/scripts"),
        f.root().join("tool/linked-dir"),
    );
    // Even a link that stays inside the skill is refused: no link is ever followed.
    super::symlink("run.py", f.root().join("tool/scripts/alias.py"));
    for (path, shown) in [
        ("link.txt", "tool/link.txt"),
        ("linked-dir/run.py", "tool/linked-dir"),
        ("scripts/alias.py", "tool/scripts/alias.py"),
    ] {
        assert_eq!(
            failure(read(&f, "tool", path)),
            Failure::Denied(format!("symlinks are not followed: {shown}"))
        );
    }
}

#[test]
fn size_limit() {
    let f = with_skill();
    f.write("tool/at-limit.txt", vec![b'a'; MAX_FILE_BYTES as usize]);
    assert_eq!(
        read(&f, "tool", "at-limit.txt").map(|t| t.len()),
        Ok(MAX_FILE_BYTES as usize)
    );

    f.write("tool/big.txt", vec![b'a'; MAX_FILE_BYTES as usize + 1]);
    let Failure::Denied(m) = failure(read(&f, "tool", "big.txt")) else {
        panic!("too big");
    };
    assert!(m.contains("`tool/big.txt`"), "{m}");
    assert!(m.contains(&format!("{} bytes", MAX_FILE_BYTES + 1)), "{m}");
    assert!(
        m.contains(&format!("{MAX_FILE_BYTES} bytes (2 MiB)")),
        "{m}"
    );
}

#[test]
fn binary_files_are_refused() {
    let f = with_skill();
    f.write("tool/image.png", [0x89, b'P', b'N', b'G', 0, 0, 1]);
    assert_eq!(
        failure(read(&f, "tool", "image.png")),
        Failure::Failed(
            "tool/image.png: binary file (7 bytes): read_file_in_skill returns text only"
                .to_string()
        )
    );
    f.write("tool/latin1.txt", b"caf\xe9\n");
    let Failure::Failed(m) = failure(read(&f, "tool", "latin1.txt")) else {
        panic!("invalid UTF-8 is binary");
    };
    assert!(m.contains("binary file (5 bytes)"), "{m}");
}

#[test]
fn unusable_skill_serves_no_files() {
    let f = Fixture::new();
    f.write("bad/SKILL.md", "---\nname: Bad\ndescription: d\n---\nb\n");
    f.write("bad/notes.md", "text");
    let Failure::Failed(m) = failure(read(&f, "bad", "notes.md")) else {
        panic!("broken skill");
    };
    assert!(m.contains("skill `bad` cannot be used"), "{m}");
}
