//! Native unit tests: the tools run against temporary skills folders, with the same code
//! the component runs against `/skills`.

mod args;
mod catalog;
mod files;
mod python;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tempfile::TempDir;

use crate::error::{Failure, Outcome};
use crate::wasmhost::plugin::script_bridge::{ScriptError, ScriptOutput, ScriptRequest};

/// The host as the tools see it: records warnings and script requests, answers scripts with
/// `answer` (a successful empty run when unset).
#[derive(Default)]
struct FakeHost {
    warnings: Vec<String>,
    requests: Vec<ScriptRequest>,
    answer: Option<Result<ScriptOutput, ScriptError>>,
}

impl crate::tools::Host for FakeHost {
    fn warn(&mut self, message: &str) {
        self.warnings.push(message.to_string());
    }

    fn run_python(&mut self, request: &ScriptRequest) -> Result<ScriptOutput, ScriptError> {
        self.requests.push(request.clone());
        self.answer.clone().unwrap_or(Ok(ScriptOutput {
            stdout: String::new(),
            stderr: String::new(),
            exit_code: 0,
            timed_out: false,
            truncated: false,
            duration_ms: 0,
        }))
    }
}

/// A temporary skills folder.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Write `relative` (creating folders) with `contents`.
    fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root().join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create folders");
        }
        fs::write(&path, contents).expect("write file");
        path
    }

    /// A valid skill `name` with a one-line body.
    fn skill(&self, name: &str, description: &str) {
        self.write(
            &format!("{name}/SKILL.md"),
            format!("---\nname: {name}\ndescription: {description}\n---\n# {name}\n\nDo it.\n"),
        );
    }

    fn call(&self, tool: &str, arguments: &str) -> Outcome<String> {
        crate::tools::call(self.root(), tool, arguments, &mut FakeHost::default())
    }

    fn json(&self, tool: &str, arguments: &str) -> Value {
        let text = self
            .call(tool, arguments)
            .unwrap_or_else(|f| panic!("{tool} {arguments} failed: {f:?}"));
        serde_json::from_str(&text).expect("tool output is JSON")
    }
}

/// The failure of a call that must fail.
fn failure(outcome: Outcome<String>) -> Failure {
    match outcome {
        Ok(text) => panic!("expected a failure, got {text:?}"),
        Err(failure) => failure,
    }
}

#[cfg(unix)]
fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}
