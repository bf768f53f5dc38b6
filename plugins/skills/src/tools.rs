//! The tools this plugin offers: their specs (what the model reads) and argument parsing.

use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::catalog;
use crate::error::{Failure, Outcome};
use crate::python::{self, RUN_PYTHON_SCRIPT};
use crate::wasmhost::plugin::script_bridge::{ScriptError, ScriptOutput, ScriptRequest};

pub const LIST_SKILLS: &str = "list_skills";
pub const GET_SKILL: &str = "get_skill";
pub const READ_FILE_IN_SKILL: &str = "read_file_in_skill";

/// What the tools need from the host: the component passes its WIT imports, the native unit
/// tests a fake.
pub trait Host {
    /// A line for the user's log (the model does not see it).
    fn warn(&mut self, message: &str);
    /// The `script-bridge` import: run Python under this plugin's policy.
    fn run_python(&mut self, request: &ScriptRequest) -> Result<ScriptOutput, ScriptError>;
}

/// One tool as the model sees it.
#[derive(Debug)]
pub struct Spec {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON Schema of the arguments object.
    pub schema: Value,
}

const LIST_SKILLS_DESCRIPTION: &str = "\
List the skills available to you. A skill is a folder of expert instructions (SKILL.md), \
often with scripts and reference files, for one kind of task. Call this when a task might \
match a skill, then call get_skill with the best match's name. Returns JSON: \
{\"skills\": [{\"name\", \"description\", \"path\"}], \"total\", \"offset\", \
\"next_offset\" (when more follow), \"note\" (what was left out and how to get it), \
\"problems\": [{\"skill\", \"message\"}]}, skills sorted by name, 500 a page by default. \
`query` keeps the skills whose name or description contains it. A skill without a \
description is an older-style skill: judge it by its name. `problems` lists skills that \
could not be loaded and why; tell the user about them if they matter.";

const GET_SKILL_DESCRIPTION: &str = "\
Load one skill's instructions before doing a task it covers. Returns JSON: {\"name\", \
\"description\", \"license\" (if set), \"compatibility\" (if set), \"allowed_tools\" (if set), \
\"path\" (the skill's folder in the sandbox), \"body\" (the Markdown instructions of SKILL.md, \
without its frontmatter), \"files\" (the skill's files, relative to its folder, e.g. \
\"scripts/convert.py\"; at most 200, hidden files skipped), \"files_truncated\" (true when \
there were more)}. Follow the body's instructions; read the files it mentions with \
read_file_in_skill.";

const READ_FILE_IN_SKILL_DESCRIPTION: &str = "\
Read a text file inside a skill's folder, such as a reference document or script that the \
skill's instructions mention or that get_skill lists under `files`. Returns the file's text \
exactly as stored. `path` is relative to the skill's folder (e.g. \"references/units.md\"); \
absolute paths, `..` and symlinks are refused, as are binary files and files over 2 MiB.";

/// The four tools, in the order a model would use them.
pub fn specs() -> Vec<Spec> {
    let name = json!({
        "type": "string",
        "description": "The skill's name, exactly as list_skills shows it, e.g. \"unit-converter\".",
        "minLength": 1
    });
    vec![
        Spec {
            name: LIST_SKILLS,
            description: LIST_SKILLS_DESCRIPTION,
            schema: json!({
                "type": "object",
                "properties": {
                    "query": {
                        "type": "string",
                        "description": "Only skills whose name or description contains this (case-insensitive)."
                    },
                    "offset": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "Where the page starts in the sorted list (next_offset of the previous page)."
                    },
                    "limit": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": catalog::MAX_PAGE,
                        "description": "Skills per page (default 500)."
                    }
                },
                "additionalProperties": false
            }),
        },
        Spec {
            name: GET_SKILL,
            description: GET_SKILL_DESCRIPTION,
            schema: json!({
                "type": "object",
                "properties": { "name": name },
                "required": ["name"],
                "additionalProperties": false
            }),
        },
        Spec {
            name: READ_FILE_IN_SKILL,
            description: READ_FILE_IN_SKILL_DESCRIPTION,
            schema: json!({
                "type": "object",
                "properties": {
                    "name": name,
                    "path": {
                        "type": "string",
                        "description": "The file's path relative to the skill's folder, with `/` \
                                        between folders, e.g. \"references/units.md\".",
                        "minLength": 1
                    }
                },
                "required": ["name", "path"],
                "additionalProperties": false
            }),
        },
        Spec {
            name: RUN_PYTHON_SCRIPT,
            description: python::DESCRIPTION,
            schema: python::schema(name),
        },
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListArgs {
    query: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SkillArgs {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileArgs {
    name: String,
    path: String,
}

/// Parse a tool's arguments object, with messages a model can act on.
///
/// The text is parsed as a `Value` first so that "not JSON" and "not an object" get their
/// own messages; field errors then come from serde without a confusing line/column. An
/// empty string counts as `{}`: some models send it for tools without parameters.
fn parse<T: DeserializeOwned>(tool: &str, arguments: &str) -> Outcome<T> {
    let invalid = |why: String| Failure::InvalidArguments(format!("{tool}: {why}"));
    let value: Value = if arguments.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_str(arguments)
            .map_err(|e| invalid(format!("the arguments are not valid JSON: {e}")))?
    };
    if !value.is_object() {
        return Err(invalid(
            "expected a JSON object with the arguments, e.g. {\"name\": \"...\"}".to_string(),
        ));
    }
    serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
}

fn to_json(value: &impl serde::Serialize) -> Outcome<String> {
    serde_json::to_string(value)
        .map_err(|e| Failure::Failed(format!("cannot encode the result as JSON: {e}")))
}

/// Run tool `name` against the skills folder at `root`. `host.warn` receives each problem
/// `list_skills` finds, so the user sees broken skills in the host log even when the model
/// does not mention them.
pub fn call(root: &Path, name: &str, arguments: &str, host: &mut dyn Host) -> Outcome<String> {
    match name {
        LIST_SKILLS => {
            let args: ListArgs = parse(name, arguments)?;
            let limit = args.limit.unwrap_or(catalog::DEFAULT_PAGE);
            if limit == 0 || limit > catalog::MAX_PAGE {
                return Err(Failure::InvalidArguments(format!(
                    "{name}: `limit` must be from 1 to {}",
                    catalog::MAX_PAGE
                )));
            }
            let page = catalog::Page {
                query: args.query.filter(|q| !q.trim().is_empty()),
                offset: args.offset.unwrap_or(0),
                limit,
            };
            let listing = catalog::list(root, &page)?;
            for problem in &listing.problems {
                host.warn(&format!("skill `{}`: {}", problem.skill, problem.message));
            }
            to_json(&listing)
        }
        GET_SKILL => {
            let args: SkillArgs = parse(name, arguments)?;
            to_json(&catalog::get(root, &args.name)?)
        }
        READ_FILE_IN_SKILL => {
            let args: FileArgs = parse(name, arguments)?;
            catalog::read_file(root, &args.name, &args.path)
        }
        RUN_PYTHON_SCRIPT => python::run(root, parse(name, arguments)?, host),
        other => Err(Failure::UnknownTool(format!(
            "no tool named `{other}` in the skills plugin; its tools are {LIST_SKILLS}, \
             {GET_SKILL}, {READ_FILE_IN_SKILL} and {RUN_PYTHON_SCRIPT}"
        ))),
    }
}
