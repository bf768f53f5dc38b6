//! The system prompt: wasmhost's, the user's extra instructions, and the skills catalog.

use crate::plugin::PluginToolBox;

const BASE_SYSTEM_PROMPT: &str = "You are a helpful assistant running inside wasmhost. \
Use the tools you are given when they help; every tool call is shown to the user.";

/// Most skills text the system prompt carries (~1,000 tokens): the model reads a whole
/// SKILL.md only when it needs it.
const SKILLS_CATALOG_BUDGET: usize = 4_000;

pub(super) async fn system_prompt(extra: Option<&str>, tools: &PluginToolBox) -> String {
    let mut prompt = BASE_SYSTEM_PROMPT.to_string();
    if let Some(extra) = extra {
        prompt = format!("{prompt}\n\n{extra}");
    }
    if let Some(catalog) = skills_catalog(tools).await {
        prompt = format!("{prompt}\n\n{catalog}");
    }
    prompt
}

/// The skills' names and descriptions, within the budget, for progressive disclosure: in
/// name order, as many as fit whole, then how many more there are and how to see them.
async fn skills_catalog(tools: &PluginToolBox) -> Option<String> {
    let plugin = tools.plugin_for("list_skills")?;
    let listing = plugin.call("list_skills", "{}").await.ok()?.ok()?;
    let parsed: serde_json::Value = serde_json::from_str(&listing).ok()?;
    let skills = parsed["skills"].as_array()?;
    if skills.is_empty() {
        return None;
    }
    let total = parsed["total"]
        .as_u64()
        .and_then(|t| usize::try_from(t).ok())
        .unwrap_or(skills.len());
    let mut text = String::from(
        "Skills are available. Each is a folder of instructions for one kind of task. When a \
         task matches one, call get_skill with its name and follow its instructions.\n",
    );
    let mut shown = 0;
    for skill in skills {
        let line = format!(
            "- {}: {}\n",
            skill["name"].as_str().unwrap_or("?"),
            skill["description"].as_str().unwrap_or("")
        );
        if text.len() + line.len() > SKILLS_CATALOG_BUDGET {
            break;
        }
        text.push_str(&line);
        shown += 1;
    }
    if shown < total {
        text.push_str(&format!(
            "- … and {} more: call list_skills (with a query to search them) to see them.\n",
            total - shown
        ));
    }
    Some(text)
}
