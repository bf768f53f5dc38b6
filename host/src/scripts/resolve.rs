//! Checks a script request against the plugin's grants before anything runs: the skill
//! must be a folder inside the plugin's granted skills folder, and a script file (or a
//! module's file) must be a regular file inside that skill, reached without `..`, absolute
//! paths or symlinks. Input files must name places inside the working folder.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use super::{ScriptFailure, ScriptFile, ScriptJob};
use crate::policy::PluginPolicy;

/// Largest inline program or script file accepted.
pub const MAX_SCRIPT_BYTES: u64 = 1 << 20;

/// Input files one request may hand a script.
pub const MAX_INPUT_FILES: usize = 64;

/// Bytes of all input files of one request together.
pub const MAX_INPUT_BYTES: usize = 16 << 20;

/// Longest path of one input file, in bytes.
pub const MAX_INPUT_PATH_BYTES: usize = 1024;

/// Most folders deep an input file may be.
pub const MAX_INPUT_PATH_DEPTH: usize = 32;

/// Longest dotted module name accepted (`scripts.office.unpack`).
const MAX_MODULE_CHARS: usize = 256;

/// A request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedJob {
    pub skill: String,
    /// The skill's folder on the host (canonical).
    pub skill_dir: PathBuf,
    pub source: ScriptSource,
    pub args: Vec<String>,
    pub stdin: Option<String>,
    /// Checked: relative paths inside the working folder, none twice.
    pub files: Vec<ScriptFile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptSource {
    Code(String),
    /// Relative to the skill folder, checked to stay inside it.
    File(PathBuf),
    /// A module of the skill (`scripts.office.unpack`), checked to be a file inside it
    /// (`scripts/office/unpack/__main__.py` or `scripts/office/unpack.py`).
    Module {
        name: String,
    },
}

pub fn resolve(policy: &PluginPolicy, job: ScriptJob) -> Result<ResolvedJob, ScriptFailure> {
    let invalid = |m: String| ScriptFailure::InvalidRequest(m);
    let root = policy.skills_folder().ok_or_else(|| {
        ScriptFailure::Denied(format!(
            "plugin `{}` has no skills folder granted: run with --skills DIR",
            policy.name
        ))
    })?;
    let name = job.skill.as_str();
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\', '\0']) {
        return Err(invalid(format!("`{name}` is not a skill name")));
    }
    let root = root.canonicalize().map_err(|e| {
        ScriptFailure::Unavailable(format!("the skills folder {}: {e}", root.display()))
    })?;
    let skill_dir = root.join(name);
    let meta = std::fs::symlink_metadata(&skill_dir)
        .map_err(|_| ScriptFailure::InvalidRequest(format!("no skill named `{name}`")))?;
    if meta.file_type().is_symlink() || !meta.is_dir() {
        return Err(ScriptFailure::Denied(format!(
            "skill `{name}` is not a plain folder inside the skills folder"
        )));
    }
    let source = match (job.code, job.script, job.module) {
        (Some(code), None, None) => {
            if code.len() as u64 > MAX_SCRIPT_BYTES {
                return Err(invalid(format!(
                    "the code is over {MAX_SCRIPT_BYTES} bytes"
                )));
            }
            ScriptSource::Code(code)
        }
        (None, Some(script), None) => ScriptSource::File(script_path(&skill_dir, name, &script)?),
        (None, None, Some(module)) => module_source(&skill_dir, name, module)?,
        (None, None, None) => {
            return Err(invalid(
                "give `code` to run, a `script` of the skill, or a `module` of it".into(),
            ));
        }
        _ => {
            return Err(invalid(
                "give only one of `code`, `script` and `module`".into(),
            ));
        }
    };
    check_files(&job.files)?;
    Ok(ResolvedJob {
        skill: name.to_string(),
        skill_dir,
        source,
        args: job.args,
        stdin: job.stdin,
        files: job.files,
    })
}

/// A dotted module name of the skill, checked to name a file inside it that `python -m`
/// would run: a package's `__main__.py` (a package wins over a module of the same name,
/// as in CPython's import system), else the module's own `.py`.
fn module_source(
    skill_dir: &Path,
    skill: &str,
    module: String,
) -> Result<ScriptSource, ScriptFailure> {
    // ASCII identifiers only: what every skill uses, and a name that needs no escaping in
    // the sandboxed runner's generated code nor any care on a command line.
    let identifier = |part: &str| {
        part.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if module.len() > MAX_MODULE_CHARS || !module.split('.').all(identifier) {
        return Err(ScriptFailure::InvalidRequest(format!(
            "`{}` is not a module name (dotted ASCII identifiers, as in `scripts.convert`)",
            shown(&module)
        )));
    }
    let base = module.replace('.', "/");
    let candidates = [format!("{base}/__main__.py"), format!("{base}.py")];
    for candidate in &candidates {
        if std::fs::symlink_metadata(skill_dir.join(candidate)).is_ok() {
            script_path(skill_dir, skill, candidate)?;
            return Ok(ScriptSource::Module { name: module });
        }
    }
    Err(ScriptFailure::InvalidRequest(format!(
        "skill `{skill}` has no module `{module}` (looked for {} and {})",
        candidates[1], candidates[0]
    )))
}

/// `text` as an error message quotes it: at most [`QUOTED_CHARS`] characters.
fn shown(text: &str) -> String {
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Characters of a path or name an error message quotes.
const QUOTED_CHARS: usize = 120;

/// Input files name distinct places inside the working folder and fit the limits.
fn check_files(files: &[ScriptFile]) -> Result<(), ScriptFailure> {
    let invalid = |m: String| Err(ScriptFailure::InvalidRequest(m));
    if files.len() > MAX_INPUT_FILES {
        return invalid(format!(
            "{} input files, over the limit of {MAX_INPUT_FILES} per run",
            files.len()
        ));
    }
    let bytes: usize = files.iter().map(|f| f.content.len() + f.path.len()).sum();
    if bytes > MAX_INPUT_BYTES {
        return invalid(format!(
            "the input files hold {bytes} bytes, over the limit of {MAX_INPUT_BYTES} per run"
        ));
    }
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    for file in files {
        let path = Path::new(&file.path);
        let clean = path.components().all(|c| matches!(c, Component::Normal(_)));
        if file.path.is_empty()
            || !clean
            || file.path.contains(['\0', '\\'])
            || file.path.ends_with('/')
            || file.path.contains("//")
        {
            return invalid(format!(
                "input file `{}` is not a relative path inside the working folder (no \
                 absolute paths, `.`, `..`, empty parts or a trailing `/`)",
                shown(&file.path)
            ));
        }
        let depth = path.components().count();
        if file.path.len() > MAX_INPUT_PATH_BYTES || depth > MAX_INPUT_PATH_DEPTH {
            return invalid(format!(
                "input file `{}` has a path of {} bytes and {depth} levels; the limits are \
                 {MAX_INPUT_PATH_BYTES} bytes and {MAX_INPUT_PATH_DEPTH} levels",
                shown(&file.path),
                file.path.len()
            ));
        }
        let normal = path.to_path_buf();
        if seen.contains(&normal) {
            return invalid(format!("input file `{}` is given twice", shown(&file.path)));
        }
        let nested = seen
            .iter()
            .find(|other| normal.starts_with(other) || other.starts_with(&normal));
        if let Some(other) = nested {
            return invalid(format!(
                "input file `{}` and `{}` cannot both be: one would be a folder of the other",
                shown(&file.path),
                shown(&other.to_string_lossy())
            ));
        }
        seen.insert(normal);
    }
    Ok(())
}

/// Writes the checked input `files` under `dir`, creating their folders. Nothing is
/// written through a symbolic link (a scratch copy of a skill keeps the skill's links, and
/// one could point anywhere), and nothing already there is replaced.
pub async fn write_files(dir: &Path, files: &[ScriptFile]) -> Result<(), ScriptFailure> {
    if files.is_empty() {
        return Ok(());
    }
    let (dir, files) = (dir.to_path_buf(), files.to_vec());
    tokio::task::spawn_blocking(move || files.iter().try_for_each(|f| write_file(&dir, f)))
        .await
        .map_err(|e| ScriptFailure::Unavailable(format!("cannot write the input files: {e}")))?
}

fn write_file(dir: &Path, file: &ScriptFile) -> Result<(), ScriptFailure> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;

    let name = shown(&file.path);
    let unavailable = |e: std::io::Error| {
        ScriptFailure::Unavailable(format!("cannot write input file `{name}`: {e}"))
    };
    let parts: Vec<Component> = Path::new(&file.path).components().collect();
    let Some((last, folders)) = parts.split_last() else {
        return Err(ScriptFailure::InvalidRequest(format!(
            "input file `{name}` has no name"
        )));
    };
    let mut at = dir.to_path_buf();
    for folder in folders {
        at.push(folder);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(ScriptFailure::InvalidRequest(format!(
                    "input file `{name}` would go through the symbolic link `{}` of the \
                     skill; links are not followed",
                    shown(&folder.as_os_str().to_string_lossy())
                )));
            }
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(ScriptFailure::InvalidRequest(format!(
                    "input file `{name}` needs `{}` to be a folder, and it is a file",
                    shown(&folder.as_os_str().to_string_lossy())
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(&at).map_err(unavailable)?;
            }
            Err(e) => return Err(unavailable(e)),
        }
    }
    at.push(last);
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&at);
    let mut out = match opened {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(ScriptFailure::InvalidRequest(format!(
                "input file `{name}` would replace what is already in the working folder \
                 (a file of the skill's copy, or another input file on a case-insensitive \
                 file system)"
            )));
        }
        Err(e) => return Err(unavailable(e)),
    };
    out.write_all(file.content.as_bytes()).map_err(unavailable)
}

fn script_path(skill_dir: &Path, skill: &str, script: &str) -> Result<PathBuf, ScriptFailure> {
    let relative = Path::new(script);
    let clean = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if script.is_empty() || !clean || script.contains('\0') {
        return Err(ScriptFailure::Denied(format!(
            "`{script}` is not a path inside skill `{skill}` (no absolute paths or `..`)"
        )));
    }
    // Walk the path so that no component is a symlink: one could point out of the skill.
    let mut at = skill_dir.to_path_buf();
    for part in relative.components() {
        at.push(part);
        let meta = std::fs::symlink_metadata(&at).map_err(|_| {
            ScriptFailure::InvalidRequest(format!("skill `{skill}` has no file `{script}`"))
        })?;
        if meta.file_type().is_symlink() {
            return Err(ScriptFailure::Denied(format!(
                "`{script}` in skill `{skill}` goes through a symlink; symlinks are not followed"
            )));
        }
    }
    let meta = std::fs::metadata(&at)
        .map_err(|e| ScriptFailure::InvalidRequest(format!("{script}: {e}")))?;
    if !meta.is_file() {
        return Err(ScriptFailure::InvalidRequest(format!(
            "`{script}` in skill `{skill}` is not a file"
        )));
    }
    if meta.len() > MAX_SCRIPT_BYTES {
        return Err(ScriptFailure::InvalidRequest(format!(
            "`{script}` is {} bytes, over the {MAX_SCRIPT_BYTES}-byte limit",
            meta.len()
        )));
    }
    Ok(relative.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PluginPolicy;

    fn setup() -> (tempfile::TempDir, PluginPolicy) {
        let dir = tempfile::tempdir().expect("tempdir");
        let skill = dir.path().join("demo");
        std::fs::create_dir_all(skill.join("scripts")).expect("mkdir");
        std::fs::write(skill.join("scripts/run.py"), "print(1)").expect("write");
        std::fs::write(dir.path().join("secret.py"), "print('secret')").expect("write");
        std::os::unix::fs::symlink("../../secret.py", skill.join("scripts/link.py"))
            .expect("symlink");
        std::os::unix::fs::symlink(dir.path().join("demo"), dir.path().join("alias"))
            .expect("symlink");
        let mut policy = PluginPolicy::deny_all("skills");
        policy.grant_skills_folder(dir.path().to_path_buf());
        (dir, policy)
    }

    fn job(skill: &str, code: Option<&str>, script: Option<&str>) -> ScriptJob {
        ScriptJob {
            skill: skill.into(),
            code: code.map(Into::into),
            script: script.map(Into::into),
            args: Vec::new(),
            stdin: None,
            ..ScriptJob::default()
        }
    }

    #[test]
    fn accepts_code_and_scripts_inside_the_skill() {
        let (_d, policy) = setup();
        assert!(matches!(
            resolve(&policy, job("demo", Some("print(1)"), None))
                .expect("code")
                .source,
            ScriptSource::Code(_)
        ));
        let r = resolve(&policy, job("demo", None, Some("scripts/run.py"))).expect("script");
        assert_eq!(r.source, ScriptSource::File("scripts/run.py".into()));
    }

    #[test]
    fn refuses_escapes_and_bad_requests() {
        let (_d, policy) = setup();
        for (skill, script) in [
            ("demo", "../secret.py"),
            ("demo", "/etc/passwd"),
            ("demo", "scripts/link.py"),
            ("demo", "scripts/missing.py"),
            ("demo", "scripts"),
        ] {
            assert!(
                resolve(&policy, job(skill, None, Some(script))).is_err(),
                "{script}"
            );
        }
        for skill in ["../demo", "alias", ".hidden", "nope", ""] {
            assert!(
                resolve(&policy, job(skill, Some("1"), None)).is_err(),
                "{skill}"
            );
        }
        assert!(resolve(&policy, job("demo", Some("1"), Some("scripts/run.py"))).is_err());
        assert!(resolve(&policy, job("demo", None, None)).is_err());
        let denied = resolve(&PluginPolicy::deny_all("x"), job("demo", Some("1"), None))
            .expect_err("no grant");
        assert!(matches!(denied, ScriptFailure::Denied(_)));
    }
}
