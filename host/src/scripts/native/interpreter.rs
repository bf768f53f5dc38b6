//! Which interpreter runs a skill's script in native mode.

use std::path::{Path, PathBuf};

use crate::policy::PluginPolicy;
use crate::scripts::ScriptFailure;

/// Where a skill keeps its own virtualenv, in the order looked at.
pub const VENV_DIRS: [&str; 2] = [".venv", "venv"];

/// The answer when neither the skill nor the policy names an interpreter.
pub const NO_INTERPRETER: &str = "native mode needs an interpreter: create .venv in the skill \
                                  folder or set interpreter in [plugins.NAME.python]";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// The program to start.
    pub path: PathBuf,
    /// The skill virtualenv's `bin` folder, when that is where the interpreter comes from.
    pub venv_bin: Option<PathBuf>,
}

/// The skill's virtualenv interpreter, else the policy's, else `unavailable`.
///
/// A virtualenv's `bin` folder must resolve inside the skill folder: `.venv` may not be a
/// link to somewhere else. Its `python` is run by that in-skill path and *not* resolved,
/// because it is normally a symlink to the base interpreter and Python finds its
/// virtualenv (`pyvenv.cfg`) from the path it was started by.
pub fn find(policy: &PluginPolicy, skill_dir: &Path) -> Result<Interpreter, ScriptFailure> {
    let skill_dir = skill_dir.canonicalize().map_err(|e| {
        ScriptFailure::Unavailable(format!("the skill folder {}: {e}", skill_dir.display()))
    })?;
    for venv in VENV_DIRS {
        let bin = skill_dir.join(venv).join("bin");
        if std::fs::symlink_metadata(bin.join("python")).is_err() {
            continue;
        }
        let real_bin = bin.canonicalize().map_err(|e| {
            ScriptFailure::Unavailable(format!("the virtualenv {}: {e}", bin.display()))
        })?;
        if !real_bin.starts_with(&skill_dir) {
            return Err(ScriptFailure::Denied(format!(
                "the virtualenv `{venv}` of skill folder {} resolves to {}, outside the skill \
                 folder; put the virtualenv inside it or set interpreter in \
                 [plugins.{}.python]",
                skill_dir.display(),
                real_bin.display(),
                policy.name,
            )));
        }
        return Ok(Interpreter {
            path: real_bin.join("python"),
            venv_bin: Some(real_bin),
        });
    }
    match &policy.python.interpreter {
        Some(path) => Ok(Interpreter {
            path: path.clone(),
            venv_bin: None,
        }),
        None => Err(ScriptFailure::Unavailable(
            NO_INTERPRETER.replace("NAME", &policy.name),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(interpreter: Option<&str>) -> PluginPolicy {
        let mut policy = PluginPolicy::deny_all("skills");
        policy.python.interpreter = interpreter.map(PathBuf::from);
        policy
    }

    fn fake_python(dir: &Path) {
        std::fs::create_dir_all(dir).expect("mkdir");
        std::fs::write(dir.join("python"), "").expect("write");
    }

    #[test]
    fn skill_venv_first_then_policy_then_unavailable() {
        let skill = tempfile::tempdir().expect("tempdir");
        let dir = skill.path().canonicalize().expect("canonical");
        let from_policy = find(&policy(Some("/opt/py/bin/python3")), &dir).expect("policy");
        assert_eq!(from_policy.path, Path::new("/opt/py/bin/python3"));
        assert_eq!(from_policy.venv_bin, None);
        let none = find(&policy(None), &dir).expect_err("nothing");
        assert_eq!(
            none,
            ScriptFailure::Unavailable(
                "native mode needs an interpreter: create .venv in the skill folder or set \
                 interpreter in [plugins.skills.python]"
                    .into()
            )
        );
        fake_python(&dir.join("venv/bin"));
        assert_eq!(
            find(&policy(Some("/x")), &dir).expect("venv").path,
            dir.join("venv/bin/python")
        );
        fake_python(&dir.join(".venv/bin"));
        let found = find(&policy(Some("/x")), &dir).expect(".venv");
        assert_eq!(found.path, dir.join(".venv/bin/python"));
        assert_eq!(found.venv_bin, Some(dir.join(".venv/bin")));
    }

    #[test]
    fn a_venv_outside_the_skill_is_refused() {
        let root = tempfile::tempdir().expect("tempdir");
        let root = root.path().canonicalize().expect("canonical");
        fake_python(&root.join("shared/bin"));
        std::fs::create_dir(root.join("skill")).expect("mkdir");
        std::os::unix::fs::symlink(root.join("shared"), root.join("skill/.venv")).expect("link");
        let denied = find(&policy(Some("/x")), &root.join("skill")).expect_err("outside");
        assert!(
            matches!(&denied, ScriptFailure::Denied(m) if m.contains("outside the skill")),
            "{denied:?}"
        );
    }
}
