//! Skills over MCP: the files of the user's skills folder as resources, each skill as a
//! prompt, and the MCP Skills extension (SEP-2640, `io.modelcontextprotocol/skills`:
//! `skills/list`, `skills/get`, `resources/directory/read`).
//!
//! rmcp's [`SkillCatalog`] (the SDK's implementation of the extension) reads the folder the
//! user granted with `--skills` once, at start, into memory: every skill is served at
//! `skill://NAME/SKILL.md` and its other files at `skill://NAME/PATH`, text as text and
//! anything else as base64. Its rules are at least as strict as the skills plugin's: it
//! opens nothing through a symlink (a skill holding one is left out), skips hidden entries,
//! and leaves out a skill over [`SKILL_FILE_LIMIT`] files or [`SKILL_BYTE_LIMIT`] bytes; a
//! skill left out is named on stderr with the reason. What is served is a snapshot: a skill
//! changed on disk shows after a restart.
//!
//! A prompt per skill (named by the skill) returns its `SKILL.md` as a user message, with
//! the optional `task` argument appended, so a client can start a conversation from it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rmcp::ErrorData;
use rmcp::handler::server::skill_catalog::SkillCatalog;
pub use rmcp::handler::server::skill_catalog::{SKILL_BYTE_LIMIT, SKILL_FILE_LIMIT};
use rmcp::model::{
    GetPromptResult, GetSkillResult, ListSkillsResult, Prompt, PromptArgument, PromptMessage,
    ReadResourceDirectoryResult, ReadResourceResult, Resource, ResourceContents, Role, Skill,
};

/// The prompt argument that says what to do with the skill.
pub const TASK_ARGUMENT: &str = "task";

/// The skills folder could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot serve the skills in {folder}: {reason}")]
pub struct SkillsError {
    pub folder: PathBuf,
    pub reason: String,
}

/// The skills of one folder, as MCP serves them.
#[derive(Debug)]
pub struct SkillFiles {
    catalog: SkillCatalog,
    /// One per skill, in the catalog's order; the prompt's name is the skill's name,
    /// or its folder path where two nested skills share a name.
    prompts: Vec<(Prompt, String)>,
}

impl SkillFiles {
    /// Read the folder (blocking I/O, on a blocking thread).
    pub async fn load(folder: &Path) -> Result<Self, SkillsError> {
        let owned = folder.to_path_buf();
        let loaded = tokio::task::spawn_blocking(move || SkillCatalog::from_dir(owned))
            .await
            .map_err(|e| SkillsError {
                folder: folder.to_path_buf(),
                reason: e.to_string(),
            })?
            .map_err(|e| SkillsError {
                folder: folder.to_path_buf(),
                reason: e.to_string(),
            })?;
        Ok(Self::from_catalog(loaded))
    }

    fn from_catalog(catalog: SkillCatalog) -> Self {
        let skills = catalog.skills();
        let mut prompts: Vec<(Prompt, String)> = Vec::with_capacity(skills.len());
        for skill in &skills {
            let shared = skills.iter().filter(|s| s.name() == skill.name()).count() > 1;
            let name = if shared {
                folder_of(skill).to_string()
            } else {
                skill.name().to_string()
            };
            let argument = PromptArgument::new(TASK_ARGUMENT)
                .with_description("What to do with the skill; added after its instructions.")
                .with_required(false);
            let prompt = Prompt::new(
                name,
                Some(skill.frontmatter.description.clone()),
                Some(vec![argument]),
            );
            prompts.push((prompt, skill.uri.clone()));
        }
        Self { catalog, prompts }
    }

    pub fn skills(&self) -> Vec<Skill> {
        self.catalog.skills()
    }

    pub fn list_skills(&self) -> ListSkillsResult {
        self.catalog.list_skills()
    }

    pub fn get_skill(&self, uri: &str) -> Result<GetSkillResult, ErrorData> {
        self.catalog.get_skill(uri)
    }

    /// Each skill's `SKILL.md`; the other files are listed by `skills/get` (with digests)
    /// and `resources/directory/read`, and read with `resources/read`.
    pub fn resources(&self) -> Vec<Resource> {
        self.catalog.resources()
    }

    /// `None` when no skill has a file at `uri`.
    pub fn read(&self, uri: &str) -> Option<ReadResourceResult> {
        self.catalog.read_resource(uri)
    }

    pub fn read_directory(&self, uri: &str) -> Result<ReadResourceDirectoryResult, ErrorData> {
        self.catalog.read_resource_directory(uri)
    }

    pub fn prompts(&self) -> Vec<Prompt> {
        self.prompts
            .iter()
            .map(|(prompt, _)| prompt.clone())
            .collect()
    }

    /// The skill's instructions as a message, then the task if one is given.
    pub fn prompt(&self, name: &str, task: Option<&str>) -> Result<GetPromptResult, ErrorData> {
        let Some((prompt, uri)) = self.prompts.iter().find(|(p, _)| p.name == name) else {
            let known: Vec<&str> = self.prompts.iter().map(|(p, _)| p.name.as_str()).collect();
            return Err(ErrorData::invalid_params(
                format!(
                    "no skill prompt `{name}`; available: {}",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
                None,
            ));
        };
        let instructions = self
            .read(uri)
            .and_then(|read| {
                read.contents.into_iter().find_map(|c| match c {
                    ResourceContents::TextResourceContents { text, .. } => Some(text),
                    _ => None,
                })
            })
            .ok_or_else(|| {
                ErrorData::internal_error(format!("{uri} is not readable as text"), None)
            })?;
        let mut text = format!(
            "Use the skill `{name}`. Its instructions ({uri}) follow; its other files are \
             resources under skill://{}/.\n\n{instructions}",
            folder_of_uri(uri)
        );
        if let Some(task) = task.filter(|t| !t.trim().is_empty()) {
            text.push_str("\n\n---\n\nTask: ");
            text.push_str(task);
        }
        let mut result = GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]);
        if let Some(description) = &prompt.description {
            result = result.with_description(description.clone());
        }
        Ok(result)
    }
}

/// `group/name` of `skill://group/name/SKILL.md`.
fn folder_of(skill: &Skill) -> &str {
    folder_of_uri(&skill.uri)
}

fn folder_of_uri(uri: &str) -> &str {
    let path = uri.strip_prefix("skill://").unwrap_or(uri);
    path.strip_suffix("/SKILL.md").unwrap_or(path)
}

/// Shared by the server's clones.
pub type Shared = Arc<SkillFiles>;
