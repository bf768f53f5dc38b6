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

/// The bytes of `file`, whose size was `expected` when it was examined: read in as few
/// calls as it takes (each read through WASI costs microseconds, and a catalog reads
/// thousands of files), up to one byte past [`MAX_FILE_BYTES`] so that a file that grew
/// since is still caught.
fn read_expecting(file: &mut fs::File, expected: u64) -> std::io::Result<Vec<u8>> {
    let expected = usize::try_from(expected.min(MAX_FILE_BYTES)).unwrap_or(0);
    // One byte of room past the expected size: a file that grew shows it.
    let mut bytes = vec![0; expected + 1];
    let mut filled = 0;
    loop {
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        // The size it had: done, without another call to learn that the end is there.
        if filled == expected {
            break;
        }
        if filled == bytes.len() {
            // It grew since the stat: read on, as far as the limit allows.
            bytes.truncate(filled);
            file.take(MAX_FILE_BYTES + 1 - filled as u64)
                .read_to_end(&mut bytes)?;
            return Ok(bytes);
        }
    }
    bytes.truncate(filled);
    Ok(bytes)
}

/// Opens `name` in `dir` without following a symlink (a symlink is refused by the open
/// itself: one call where a check and an open would be two, which counts when a catalog
/// opens thousands of files through WASI).
fn open_no_follow(path: &Path) -> std::io::Result<fs::File> {
    #[cfg(target_os = "wasi")]
    {
        use std::os::fd::FromRawFd;
        // Paths here are built from UTF-8 names (a folder that is not is reported as such).
        let text = path
            .to_str()
            .ok_or_else(|| std::io::Error::other("the path is not UTF-8"))?;
        let c_path = std::ffi::CString::new(text)?;
        // SAFETY: `c_path` is a NUL-terminated string that outlives the call.
        let fd = unsafe { libc::open(c_path.as_ptr(), libc::O_RDONLY | libc::O_NOFOLLOW) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        Ok(unsafe { fs::File::from_raw_fd(fd) })
    }
    #[cfg(not(target_os = "wasi"))]
    {
        use std::os::unix::fs::OpenOptionsExt;
        fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
    }
}

/// Reads file `name` of the skill `skill` in `dir` (a folder already known not to be a
/// symlink) as text; `Ok(None)` when there is no such file.
pub fn read_in_folder(dir: &Path, skill: &str, name: &str) -> Outcome<Option<String>> {
    let path = dir.join(name);
    let shown = format!("{skill}/{name}");
    let file = match open_no_follow(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // ELOOP: the last component is a symlink.
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Failure::Denied(format!(
                "symlinks are not followed: {shown}"
            )));
        }
        Err(e) => return Err(Failure::Failed(format!("cannot open `{shown}`: {e}"))),
    };
    let metadata = file
        .metadata()
        .map_err(|e| Failure::Failed(format!("cannot examine `{shown}`: {e}")))?;
    readable(&metadata, &shown)?;
    read_body(file, &metadata, &shown).map(Some)
}

/// Read a located regular file as UTF-8 text, within [`MAX_FILE_BYTES`].
pub fn read_text(file: &Located<'_>) -> Outcome<String> {
    let shown = file.display();
    // Refused with the reason before it is opened.
    readable(&file.metadata, &shown)?;
    let opened = fs::File::open(&file.full)
        .map_err(|e| Failure::Failed(format!("cannot open `{shown}`: {e}")))?;
    read_body(opened, &file.metadata, &shown)
}

/// Why a file with `metadata` is not read, if it is not.
fn readable(metadata: &Metadata, shown: &str) -> Outcome<()> {
    if metadata.is_dir() {
        return Err(Failure::InvalidArguments(format!(
            "`{shown}` is a folder; give the path of a file (get_skill lists them)"
        )));
    }
    if !metadata.is_file() {
        return Err(Failure::Denied(format!(
            "`{shown}` is not a regular file; only regular files are read"
        )));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_big(shown, metadata.len()));
    }
    Ok(())
}

fn too_big(shown: &str, size: u64) -> Failure {
    Failure::Denied(format!(
        "`{shown}` is {size} bytes; files larger than {MAX_FILE_BYTES} bytes (2 MiB) are not \
         read"
    ))
}

/// The text of the open file `opened`, whose metadata passed [`readable`].
fn read_body(mut opened: fs::File, metadata: &Metadata, shown: &str) -> Outcome<String> {
    let bytes = read_expecting(&mut opened, metadata.len())
        .map_err(|e| Failure::Failed(format!("cannot read `{shown}`: {e}")))?;
    let size = bytes.len() as u64;
    if size > MAX_FILE_BYTES {
        return Err(too_big(shown, size));
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
