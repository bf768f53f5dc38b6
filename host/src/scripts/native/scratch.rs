//! `scratch_copy = true`: the script runs in a fresh copy of its skill folder, so whatever it
//! writes never touches the skill.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::Path;

use tempfile::TempDir;

use crate::scripts::ScriptFailure;

/// The most bytes of files copied into one scratch folder. Skills are instructions, scripts
/// and small data; a bigger folder is a sign the copy is the wrong tool (run in place).
pub const MAX_SCRATCH_BYTES: u64 = 64 << 20;

/// The most entries (files, folders, links) copied into one scratch folder.
pub const MAX_SCRATCH_ENTRIES: usize = 10_000;

/// Copies `skill_dir` into a new temporary folder, deleted when the result is dropped.
///
/// Symlinks are recreated as links, never followed (a link copies no data, and a script in
/// native mode could open its target anyway). Virtualenvs (folders with a `pyvenv.cfg`),
/// `__pycache__` and `.git` are left out: the interpreter runs from the original skill folder,
/// and copying them would only cost time. FIFOs, sockets and devices are left out too: opening
/// one to copy it could block or read without end.
pub async fn copy(skill_dir: &Path) -> Result<TempDir, ScriptFailure> {
    let from = skill_dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::Builder::new()
            .prefix("wasmhost-skill-")
            .tempdir()
            .map_err(|e| {
                ScriptFailure::Unavailable(format!("cannot create a scratch folder: {e}"))
            })?;
        let mut budget = Budget {
            bytes: MAX_SCRATCH_BYTES,
            entries: MAX_SCRATCH_ENTRIES,
        };
        match copy_tree(&from, dir.path(), &mut budget) {
            Ok(()) => Ok(dir),
            Err(Stop::TooBig) => Err(ScriptFailure::Denied(format!(
                "the skill folder {} is over the scratch copy's limit of {} MiB or {} entries; \
                 set scratch_copy = false to run it in place",
                from.display(),
                MAX_SCRATCH_BYTES >> 20,
                MAX_SCRATCH_ENTRIES,
            ))),
            Err(Stop::Io(e)) => Err(ScriptFailure::Unavailable(format!(
                "cannot copy the skill folder {} to a scratch folder: {e}",
                from.display()
            ))),
        }
    })
    .await
    .unwrap_or_else(|e| {
        Err(ScriptFailure::Unavailable(format!(
            "the scratch copy failed: {e}"
        )))
    })
}

struct Budget {
    bytes: u64,
    entries: usize,
}

enum Stop {
    TooBig,
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

fn copy_tree(from: &Path, to: &Path, budget: &mut Budget) -> Result<(), Stop> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        // The type of the entry itself: a symlink is reported as a symlink, not followed.
        let kind = entry.file_type()?;
        let (source, target) = (entry.path(), to.join(&name));
        budget.entries = budget.entries.checked_sub(1).ok_or(Stop::TooBig)?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&source)?, &target)?;
        } else if kind.is_dir() {
            if skipped(&name, &source) {
                continue;
            }
            fs::create_dir(&target)?;
            copy_tree(&source, &target, budget)?;
        } else if kind.is_file() {
            let size = entry.metadata()?.len();
            budget.bytes = budget.bytes.checked_sub(size).ok_or(Stop::TooBig)?;
            fs::copy(&source, &target)?;
        }
    }
    Ok(())
}

fn skipped(name: &OsStr, dir: &Path) -> bool {
    name == "__pycache__" || name == ".git" || dir.join("pyvenv.cfg").exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn copies_files_and_links_but_not_venvs_or_caches() {
        let skill = tempfile::tempdir().expect("tempdir");
        let s = skill.path();
        for dir in ["scripts", ".venv/bin", "__pycache__", "data/deep"] {
            fs::create_dir_all(s.join(dir)).expect("mkdir");
        }
        fs::write(s.join("SKILL.md"), "skill").expect("write");
        fs::write(s.join("data/deep/x.csv"), "a,b").expect("write");
        fs::write(s.join(".venv/pyvenv.cfg"), "home = /usr/bin").expect("write");
        fs::write(s.join("__pycache__/x.pyc"), "pyc").expect("write");
        std::os::unix::fs::symlink("/etc/passwd", s.join("link")).expect("link");

        let copy = copy(s).await.expect("copy");
        let c = copy.path();
        assert_eq!(
            fs::read_to_string(c.join("data/deep/x.csv")).ok(),
            Some("a,b".into())
        );
        assert!(c.join("scripts").is_dir());
        assert!(!c.join(".venv").exists() && !c.join("__pycache__").exists());
        assert_eq!(
            fs::read_link(c.join("link")).ok(),
            Some("/etc/passwd".into())
        );
        assert!(
            fs::symlink_metadata(c.join("link"))
                .expect("link")
                .is_symlink()
        );
        let path = c.to_path_buf();
        drop(copy);
        assert!(!path.exists(), "the scratch folder is removed");
    }

    #[tokio::test]
    async fn a_folder_over_the_byte_limit_is_refused() {
        let skill = tempfile::tempdir().expect("tempdir");
        // Sparse: the limit is checked from the size before anything is copied.
        let big = fs::File::create(skill.path().join("big.bin")).expect("create");
        big.set_len(MAX_SCRATCH_BYTES + 1).expect("set_len");
        let denied = copy(skill.path()).await.expect_err("too big");
        assert!(
            matches!(&denied, ScriptFailure::Denied(m) if m.contains("64 MiB")),
            "{denied:?}"
        );
    }

    #[tokio::test]
    async fn a_folder_over_the_entry_limit_is_refused() {
        let skill = tempfile::tempdir().expect("tempdir");
        for i in 0..MAX_SCRATCH_ENTRIES {
            fs::write(skill.path().join(i.to_string()), "").expect("write");
        }
        let at_limit = copy(skill.path()).await.expect("at the limit");
        drop(at_limit);
        fs::write(skill.path().join("one-more"), "").expect("write");
        let denied = copy(skill.path()).await.expect_err("too many");
        assert!(
            matches!(&denied, ScriptFailure::Denied(m) if m.contains("10000 entries")),
            "{denied:?}"
        );
    }
}
