//! Checks a script request against the plugin's grants before anything runs: the skill
//! must be a folder inside the plugin's granted skills folder, and a script file must be a
//! regular file inside that skill, reached without `..`, absolute paths or symlinks.

use std::path::{Component, Path, PathBuf};

use super::{ScriptFailure, ScriptJob};
use crate::policy::PluginPolicy;

/// Largest inline program or script file accepted.
pub const MAX_SCRIPT_BYTES: u64 = 1 << 20;

/// A request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedJob {
    pub skill: String,
    /// The skill's folder on the host (canonical).
    pub skill_dir: PathBuf,
    pub source: ScriptSource,
    pub args: Vec<String>,
    pub stdin: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptSource {
    Code(String),
    /// Relative to the skill folder, checked to stay inside it.
    File(PathBuf),
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
    let source = match (job.code, job.script) {
        (Some(code), None) => {
            if code.len() as u64 > MAX_SCRIPT_BYTES {
                return Err(invalid(format!(
                    "the code is over {MAX_SCRIPT_BYTES} bytes"
                )));
            }
            ScriptSource::Code(code)
        }
        (None, Some(script)) => ScriptSource::File(script_path(&skill_dir, name, &script)?),
        (Some(_), Some(_)) => {
            return Err(invalid("give either `code` or `script`, not both".into()));
        }
        (None, None) => {
            return Err(invalid(
                "give `code` to run or a `script` of the skill".into(),
            ));
        }
    };
    Ok(ResolvedJob {
        skill: name.to_string(),
        skill_dir,
        source,
        args: job.args,
        stdin: job.stdin,
    })
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
