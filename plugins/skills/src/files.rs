//! Path safety and text reading inside one skill's folder.
//!
//! The host preopens the skills folder read-only, so WASI already stops any escape from it.
//! These checks are the plugin's own, on top: a model-written path must be plainly relative,
//! may not climb with `..`, and may not pass through a symlink, so what a skill serves is
//! exactly what sits in its folder. Every component is examined with `symlink_metadata`
//! (which never follows links); the remaining window between that check and the open is
//! bounded by the preopen.

use std::fs::{self, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Failure, Outcome};

/// The largest file `read_file_in_skill` (and `get_skill`, for SKILL.md) will read. Skills
/// are instructions and small scripts; anything larger would flood the model's context.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// How much of a file is searched for a NUL byte to call it binary (as git and grep do).
const BINARY_SNIFF_BYTES: usize = 8 * 1024;

/// Split a model-supplied path into its components, or say what is wrong with it.
///
/// Splits on `/` itself rather than using `Path::components`, so the rules are the same on
/// every platform the tests run on. Empty and `.` components are dropped (`./a//b` is `a/b`).
pub fn relative_components(path: &str) -> Result<Vec<&str>, String> {
    if path.is_empty() {
        return Err("the path is empty".to_string());
    }
    if path.contains('\0') {
        return Err("the path contains a NUL character".to_string());
    }
    if path.contains('\\') {
        return Err("use `/` to separate folders, not `\\`".to_string());
    }
    if path.starts_with('/') {
        return Err("the path must be relative to the skill folder, not absolute".to_string());
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("`..` is not allowed in a path".to_string()),
            part => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err("the path names the skill folder itself, not a file".to_string());
    }
    Ok(parts)
}

/// Where a file sits: its skill (for messages) and its path relative to the skill folder.
pub struct Located<'a> {
    pub skill: &'a str,
    pub relative: String,
    pub full: PathBuf,
    pub metadata: Metadata,
}

impl Located<'_> {
    /// `skill/relative/path`, the form every message uses.
    pub fn display(&self) -> String {
        format!("{}/{}", self.skill, self.relative)
    }
}

/// Walk from `skill_dir` down `parts`, refusing a symlink at every step. Returns the
/// final entry's metadata, not followed.
pub fn locate<'a>(skill_dir: &Path, skill: &'a str, parts: &[&str]) -> Outcome<Located<'a>> {
    let mut full = skill_dir.to_path_buf();
    let mut relative = String::new();
    let mut metadata = None;
    for (index, part) in parts.iter().enumerate() {
        if index > 0 {
            relative.push('/');
            // The previous component must be a folder to go on.
            if !metadata.as_ref().is_some_and(Metadata::is_dir) {
                return Err(Failure::NotFound(format!(
                    "skill `{skill}` has no file `{}`: `{relative}` is not a folder",
                    parts.join("/"),
                    relative = relative.trim_end_matches('/'),
                )));
            }
        }
        relative.push_str(part);
        full.push(part);
        let here = match fs::symlink_metadata(&full) {
            Ok(here) => here,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Failure::NotFound(format!(
                    "skill `{skill}` has no file `{}`",
                    parts.join("/")
                )));
            }
            Err(e) => {
                return Err(Failure::Failed(format!(
                    "cannot examine `{skill}/{relative}`: {e}"
                )));
            }
        };
        if here.file_type().is_symlink() {
            return Err(Failure::Denied(format!(
                "symlinks are not followed: {skill}/{relative}"
            )));
        }
        metadata = Some(here);
    }
    let metadata = metadata.ok_or_else(|| {
        Failure::InvalidArguments(format!("an empty path was given for skill `{skill}`"))
    })?;
    Ok(Located {
        skill,
        relative,
        full,
        metadata,
    })
}

/// Read a located regular file as UTF-8 text, within [`MAX_FILE_BYTES`].
pub fn read_text(file: &Located<'_>) -> Outcome<String> {
    let shown = file.display();
    if file.metadata.is_dir() {
        return Err(Failure::InvalidArguments(format!(
            "`{shown}` is a folder; give the path of a file (get_skill lists them)"
        )));
    }
    if !file.metadata.is_file() {
        return Err(Failure::Denied(format!(
            "`{shown}` is not a regular file; only regular files are read"
        )));
    }
    let too_big = |size: u64| {
        Failure::Denied(format!(
            "`{shown}` is {size} bytes; files larger than {MAX_FILE_BYTES} bytes (2 MiB) are \
             not read"
        ))
    };
    if file.metadata.len() > MAX_FILE_BYTES {
        return Err(too_big(file.metadata.len()));
    }
    let opened = fs::File::open(&file.full)
        .map_err(|e| Failure::Failed(format!("cannot open `{shown}`: {e}")))?;
    // Read one byte past the limit so a file that grew since the stat is still caught.
    let mut bytes = Vec::new();
    opened
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::Failed(format!("cannot read `{shown}`: {e}")))?;
    let size = bytes.len() as u64;
    if size > MAX_FILE_BYTES {
        return Err(too_big(size));
    }
    let sniff = &bytes[..bytes.len().min(BINARY_SNIFF_BYTES)];
    let binary = || {
        Failure::Failed(format!(
            "{shown}: binary file ({size} bytes): read_file_in_skill returns text only"
        ))
    };
    if sniff.contains(&0) {
        return Err(binary());
    }
    String::from_utf8(bytes).map_err(|_| binary())
}
