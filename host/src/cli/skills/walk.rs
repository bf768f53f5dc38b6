//! The folder-level checks of one skill: files under `scripts/` are regular files, no
//! symlink leaves the skill (and none is relied on: the plugin follows none), no file is
//! too big for the plugin to read.

use std::path::{Path, PathBuf};

use skill_manifest::{SKILL_FILES, Severity};

use super::{Diagnostic, MAX_FILE_BYTES, sorted_entries};

/// How deep the check looks under a skill folder.
const MAX_DEPTH: usize = 16;

/// The most entries examined per skill, so a huge data folder costs bounded time.
const MAX_ENTRIES: usize = 20_000;

/// Where a skill's runnable scripts live, by the convention.
const SCRIPTS: &str = "scripts";

pub fn check_files(dir: &Path, problems: &mut Vec<Diagnostic>) {
    let Ok(root) = dir.canonicalize() else {
        return;
    };
    let scripts = dir.join(SCRIPTS);
    if let Ok(meta) = std::fs::symlink_metadata(&scripts)
        && !meta.is_dir()
        && !meta.file_type().is_symlink()
    {
        problems.push(Diagnostic::new(
            &scripts,
            Severity::Error,
            "`scripts` must be a folder of script files",
        ));
    }
    let mut walk = Walk {
        root,
        dir: dir.to_path_buf(),
        budget: MAX_ENTRIES,
        problems,
    };
    walk.visit(dir, false, 0);
}

struct Walk<'a> {
    /// The skill folder, canonical: where symlinks must stay.
    root: PathBuf,
    /// The skill folder as the user spelled it.
    dir: PathBuf,
    budget: usize,
    problems: &'a mut Vec<Diagnostic>,
}

impl Walk<'_> {
    fn visit(&mut self, dir: &Path, in_scripts: bool, depth: usize) {
        let entries = match sorted_entries(dir) {
            Ok(entries) => entries,
            Err(e) => return self.report(dir, Severity::Error, format!("cannot list: {e}")),
        };
        for (name, path) in entries {
            if depth == 0 && SKILL_FILES.contains(&name.as_str()) {
                continue; // checked with the manifest rules
            }
            if self.budget == 0 {
                let message = format!("more than {MAX_ENTRIES} entries; the rest were not checked");
                let skill = self.dir.clone();
                return self.report(&skill, Severity::Warning, message);
            }
            self.budget -= 1;
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let in_scripts = in_scripts || (depth == 0 && name == SCRIPTS);
            let kind = meta.file_type();
            if kind.is_symlink() {
                self.symlink(&path, in_scripts);
            } else if kind.is_dir() {
                if skipped(&name, &path) {
                    continue;
                }
                if depth + 1 >= MAX_DEPTH {
                    let message = format!("nested more than {MAX_DEPTH} folders deep; not checked");
                    self.report(&path, Severity::Warning, message);
                    continue;
                }
                self.visit(&path, in_scripts, depth + 1);
            } else if kind.is_file() {
                if meta.len() > MAX_FILE_BYTES {
                    let message = format!(
                        "{} bytes; the skills plugin reads files up to {MAX_FILE_BYTES} bytes \
                         (2 MiB)",
                        meta.len()
                    );
                    self.report(&path, Severity::Warning, message);
                }
            } else {
                let severity = if in_scripts {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                let message = "not a regular file (a FIFO, socket or device)";
                self.report(&path, severity, message.into());
            }
        }
    }

    fn symlink(&mut self, path: &Path, in_scripts: bool) {
        let (severity, message) = match path.canonicalize() {
            Err(_) => (
                Severity::Error,
                "a symlink whose target does not exist".to_string(),
            ),
            Ok(target) if !target.starts_with(&self.root) => (
                Severity::Error,
                format!("a symlink leaving the skill (to {})", target.display()),
            ),
            Ok(_) if in_scripts => (
                Severity::Error,
                "a symlink; scripts must be regular files (no script is run through a symlink)"
                    .to_string(),
            ),
            Ok(_) => (
                Severity::Warning,
                "a symlink; the skills plugin follows no symlink, so it cannot read this"
                    .to_string(),
            ),
        };
        self.report(path, severity, message);
    }

    fn report(&mut self, path: &Path, severity: Severity, message: String) {
        self.problems.push(Diagnostic::new(path, severity, message));
    }
}

/// Folders that are not part of a skill's content: caches, version control, virtualenvs
/// (a folder with `pyvenv.cfg`, full of links to the base interpreter by design).
fn skipped(name: &str, dir: &Path) -> bool {
    name == "__pycache__" || name == ".git" || dir.join("pyvenv.cfg").is_file()
}
