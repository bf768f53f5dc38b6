//! `run_python_script`: run one of a skill's scripts, one of its modules (`python -m`), or
//! inline Python, through the host's `script-bridge`, with input files if the call gives
//! any. The plugin checks the skill and a script's path as `read_file_in_skill` checks a path (a
//! usable skill, a regular file reached without `..` or symlinks); the host checks it again
//! against the policy, checks a module and the input files itself (it is the one that
//! finds the module and writes the files), and decides where it runs (sandboxed or native).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::catalog;
use crate::error::{Failure, Outcome};
use crate::tools::Host;
use crate::wasmhost::plugin::script_bridge::{
    ScriptError, ScriptFile, ScriptOutput, ScriptRequest,
};

pub const RUN_PYTHON_SCRIPT: &str = "run_python_script";

pub const DESCRIPTION: &str = "\
Run Python for a skill: one of the skill's own scripts (`script`, its path relative to the \
skill's folder as the instructions name it, e.g. \"scripts/convert.py\"), one of its modules \
(`module`, as with `python -m`, e.g. \"scripts.office.unpack\") or a short inline program \
(`code`, as with `python3 -c`). Give exactly one of `script`, `module` and `code`. `args` are \
the command-line arguments (sys.argv[1:]), each its own string; `stdin` is the text on \
standard input, also readable as the file /dev/stdin for scripts that take a path; `files` \
maps relative paths to text written into the working directory before the run, for scripts \
that read input files. So `python3 scripts/convert.py 10 km mi` in a skill's instructions \
becomes {\"name\": \"unit-converter\", \"script\": \"scripts/convert.py\", \"args\": [\"10\", \
\"km\", \"mi\"]}, and `python -m scripts.report data.csv` with a file becomes {\"name\": \"...\", \
\"module\": \"scripts.report\", \"args\": [\"data.csv\"], \"files\": {\"data.csv\": \"a,b\\n1,2\\n\"}}. Where it runs is the user's choice: sandboxed (the default), the skill's folder is \
read-only at /skill, the working directory is an empty scratch folder you may write to, there \
is no network and only the standard library; native, the working directory is the skill's \
folder (or a scratch copy of it) and the skill's own virtualenv, if it has one, provides \
packages. Either way a run has a time limit and its output is capped. Returns JSON: \
{\"stdout\", \"stderr\", \"exit_code\" (0 is success; otherwise the script failed: read \
stderr), \"timed_out\" (stopped at the time limit; the output is what it printed until \
then), \"truncated\" (the output was cut at the cap), \"duration_ms\"}.";

/// The arguments schema. Which of `script`, `module` and `code` is required is said in words, not
/// with a top-level `oneOf`: the Anthropic API refuses combinators at the top of a tool's
/// schema, and the plugin enforces the rule itself.
pub fn schema(name: Value) -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": name,
            "script": {
                "type": "string",
                "description": "A Python file of the skill, relative to its folder, with `/` \
                                between folders, e.g. \"scripts/convert.py\". Give only one \
                                of `script`, `module` and `code`.",
                "minLength": 1
            },
            "module": {
                "type": "string",
                "description": "A module of the skill, dotted, as `python -m` takes it, e.g. \
                                \"scripts.office.unpack\"; it runs with the skill's folder \
                                first on sys.path. Give only one of `script`, `module` and \
                                `code`.",
                "minLength": 1
            },
            "code": {
                "type": "string",
                "description": "Inline Python to run, e.g. \"print(2 ** 10)\". Give only \
                                one of `script`, `module` and `code`.",
                "minLength": 1
            },
            "args": {
                "type": "array",
                "items": { "type": "string" },
                "description": "Command-line arguments, one string each, e.g. [\"10\", \"km\", \
                                \"mi\"]. Default: none."
            },
            "stdin": {
                "type": "string",
                "description": "Text for the program's standard input. Default: empty."
            },
            "files": {
                "type": "object",
                "additionalProperties": { "type": "string" },
                "description": "Input files: relative path → text, written into the working \
                                directory before the run, e.g. {\"data.csv\": \"a,b\\n1,2\\n\"}. \
                                Default: none."
            }
        },
        "required": ["name"],
        "additionalProperties": false
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunArgs {
    name: String,
    #[serde(default)]
    script: Option<String>,
    #[serde(default)]
    module: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    stdin: Option<String>,
    /// Sorted by path, so a request is the same whatever order the model wrote.
    #[serde(default)]
    files: BTreeMap<String, String>,
}

/// Checks `args` against the skills folder at `root` and builds the bridge request.
pub fn request(root: &Path, args: RunArgs) -> Outcome<ScriptRequest> {
    let RunArgs {
        name,
        script,
        module,
        code,
        args,
        stdin,
        files,
    } = args;
    catalog::check_name(&name)?;
    let invalid = |why: &str| Failure::InvalidArguments(format!("{RUN_PYTHON_SCRIPT}: {why}"));
    match [&script, &module, &code]
        .iter()
        .filter(|s| s.is_some())
        .count()
    {
        1 => {}
        0 => {
            return Err(invalid(
                "give `script` (a Python file of the skill, e.g. \"scripts/convert.py\"), \
                 `module` (one of its modules, e.g. \"scripts.convert\") or `code` (inline \
                 Python)",
            ));
        }
        _ => return Err(invalid("give only one of `script`, `module` and `code`")),
    }
    let script = catalog::check_script(root, &name, script.as_deref())?;
    Ok(ScriptRequest {
        skill: name,
        code,
        script,
        // The host checks the module against the skill's folder and the file paths
        // against the working folder: it is the one that writes them.
        module,
        args,
        stdin,
        files: files
            .into_iter()
            .map(|(path, content)| ScriptFile { path, content })
            .collect(),
    })
}

/// Runs the request through the host and renders the result for the model.
pub fn run(root: &Path, args: RunArgs, host: &mut dyn Host) -> Outcome<String> {
    let request = request(root, args)?;
    let output = host.run_python(&request).map_err(|error| match error {
        ScriptError::InvalidRequest(m) => Failure::InvalidArguments(m),
        ScriptError::Denied(m) => Failure::Denied(m),
        ScriptError::Unavailable(m) => Failure::Failed(m),
    })?;
    Ok(render(&output))
}

fn render(output: &ScriptOutput) -> String {
    json!({
        "stdout": output.stdout,
        "stderr": output.stderr,
        "exit_code": output.exit_code,
        "timed_out": output.timed_out,
        "truncated": output.truncated,
        "duration_ms": output.duration_ms,
    })
    .to_string()
}
