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
    /// A module of the skill (`scripts.office.unpack`), found at `file` (relative to the
    /// skill folder: `scripts/office/unpack.py` or `…/unpack/__main__.py`).
    Module {
        name: String,
        file: PathBuf,
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

/// A dotted module name of the skill and the file `python -m` would run for it.
fn module_source(
    skill_dir: &Path,
    skill: &str,
    module: String,
) -> Result<ScriptSource, ScriptFailure> {
    let identifier = |part: &str| {
        part.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    if module.chars().count() > MAX_MODULE_CHARS || !module.split('.').all(identifier) {
        return Err(ScriptFailure::InvalidRequest(format!(
            "`{module}` is not a module name (dotted identifiers, as in `scripts.convert`)"
        )));
    }
    let base = module.replace('.', "/");
    let candidates = [format!("{base}.py"), format!("{base}/__main__.py")];
    for candidate in &candidates {
        if std::fs::symlink_metadata(skill_dir.join(candidate)).is_ok() {
            let file = script_path(skill_dir, skill, candidate)?;
            return Ok(ScriptSource::Module { name: module, file });
        }
    }
    Err(ScriptFailure::InvalidRequest(format!(
        "skill `{skill}` has no module `{module}` (looked for {} and {})",
        candidates[0], candidates[1]
    )))
}

/// Input files name distinct places inside the working folder and fit the limits.
fn check_files(files: &[ScriptFile]) -> Result<(), ScriptFailure> {
    let invalid = |m: String| Err(ScriptFailure::InvalidRequest(m));
    if files.len() > MAX_INPUT_FILES {
        return invalid(format!(
            "{} input files, over the limit of {MAX_INPUT_FILES} per run",
            files.len()
        ));
    }
    let bytes: usize = files.iter().map(|f| f.content.len()).sum();
    if bytes > MAX_INPUT_BYTES {
        return invalid(format!(
            "the input files hold {bytes} bytes, over the limit of {MAX_INPUT_BYTES} per run"
        ));
    }
    let mut seen = BTreeSet::new();
    for file in files {
        let path = Path::new(&file.path);
        let clean = path.components().all(|c| matches!(c, Component::Normal(_)));
        if file.path.is_empty() || !clean || file.path.contains(['\0', '\\']) {
            return invalid(format!(
                "input file `{}` is not a relative path inside the working folder (no \
                 absolute paths, `.` or `..`)",
                file.path
            ));
        }
        let normal: PathBuf = path.components().collect();
        // A file may not also be a folder of another (`a` and `a/b`).
        if normal.ancestors().skip(1).any(|a| seen.contains(a)) || seen.contains(&normal) {
            return invalid(format!(
                "input file `{}` is given twice, or is also a folder of another",
                file.path
            ));
        }
        if files
            .iter()
            .any(|other| Path::new(&other.path).starts_with(&normal) && other.path != file.path)
        {
            return invalid(format!(
                "input file `{}` is also a folder of another input file",
                file.path
            ));
        }
        seen.insert(normal);
    }
    Ok(())
}

/// Writes the checked input `files` under `dir`, creating their folders; refuses to
/// replace anything already there.
pub async fn write_files(dir: &Path, files: &[ScriptFile]) -> Result<(), ScriptFailure> {
    let unavailable = |path: &str, e: std::io::Error| {
        ScriptFailure::Unavailable(format!("cannot write input file `{path}`: {e}"))
    };
    for file in files {
        let target = dir.join(&file.path);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| unavailable(&file.path, e))?;
        }
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        let mut out = match options.open(&target).await {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(ScriptFailure::InvalidRequest(format!(
                    "input file `{}` would replace a file of the skill's working folder",
                    file.path
                )));
            }
            Err(e) => return Err(unavailable(&file.path, e)),
        };
        tokio::io::AsyncWriteExt::write_all(&mut out, file.content.as_bytes())
            .await
            .map_err(|e| unavailable(&file.path, e))?;
    }
    Ok(())
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
