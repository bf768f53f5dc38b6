//! Setting up a conversation from flags: providers with their credentials, tools, the
//! system prompt, the transcript and the first messages. Shared by `run` and `chat`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use base64::Engine as _;
use wasmhost::agent::{
    Agent, AgentConfig, Cassette, ChatProvider, PluginProvider, PluginToolBox, RecordingProvider,
    RetryPolicy, ToolBox, Transcript,
};
use wasmhost::chat::{ContentPart, ImageSource, Message, RequestOptions, Role};
use wasmhost::plugin::{self, ToolPlugin};
use wasmhost::policy::credentials::{
    CredentialNeed, Declared, ProviderFlags, SecretSources, grant_provider,
};
use wasmhost::policy::{Access, DEFAULT_PROVIDER_TIMEOUT, FolderGrant, PluginPolicy};

use super::UsageError;
use super::config::Environment;

/// What both `run` and `chat` take.
#[derive(Debug, clap::Args)]
pub struct SessionArgs {
    /// The provider plugin: a shipped name (openai, anthropic) or a .wasm path.
    #[arg(long, value_name = "NAME|PATH")]
    pub plugin: String,
    /// The model (default: the provider's).
    #[arg(long)]
    pub model: Option<String>,
    /// The API root, as the provider documents it (e.g. http://127.0.0.1:11434/v1).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// The environment variable (or .env entry) holding the key for this destination: needed
    /// for a provider wasmhost has no preset for, or a preset pointed elsewhere with
    /// --base-url (unless wasmhost.toml grants one).
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// A tool plugin to offer the model (repeatable).
    #[arg(long = "tool", value_name = "NAME|PATH")]
    pub tools: Vec<String>,
    /// A skills folder: loads the skills plugin with it, read-only.
    #[arg(long, value_name = "DIR")]
    pub skills: Option<PathBuf>,
    /// An image to attach to the prompt (repeatable).
    #[arg(long = "image", value_name = "FILE")]
    pub images: Vec<PathBuf>,
    /// Extra system instructions.
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// Provider calls per prompt before giving up on a final answer.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub max_turns: u32,
    /// A provider to switch to when the main one keeps failing (repeatable, in order).
    #[arg(long = "fallback", value_name = "NAME|PATH")]
    pub fallbacks: Vec<String>,
    /// Retries of a failed provider call (rate limits, 5xx, timeouts, dropped streams)
    /// before falling back or giving up.
    #[arg(long, default_value_t = RetryPolicy::default().max_retries, value_name = "N")]
    pub max_retries: u32,
    /// The longest one provider response may take, in seconds.
    #[arg(long, default_value_t = 600.0, value_name = "SECS")]
    pub request_timeout: f64,
    #[arg(long)]
    pub temperature: Option<f32>,
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u32>,
    /// Wait for whole responses instead of streaming them.
    #[arg(long)]
    pub no_stream: bool,
    /// JSON Lines events on stdout (one per line, each with a `type`).
    #[arg(long)]
    pub json: bool,
    /// Where to write the conversation as JSON Lines (default: a new file in the data folder).
    #[arg(long, value_name = "FILE")]
    pub transcript: Option<PathBuf>,
    /// Continue the conversation in this transcript (and append to it).
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Save every provider exchange (requests, streamed events, responses; never
    /// credentials) to this cassette, for `--plugin replay --cassette FILE`.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// The cassette the `replay` provider answers from (granted to it read-only).
    #[arg(long, value_name = "FILE")]
    pub cassette: Option<PathBuf>,
}

pub struct Session {
    pub agent: Agent,
    pub transcript: Transcript,
    pub transcript_path: PathBuf,
}

const BASE_SYSTEM_PROMPT: &str = "You are a helpful assistant running inside wasmhost. \
Use the tools you are given when they help; every tool call is shown to the user.";

impl Session {
    pub async fn open(env: &Environment, args: &SessionArgs) -> Result<Self> {
        let sources = &env.sources;
        let mut providers: Vec<Arc<dyn ChatProvider>> = Vec::new();
        let primary = ProviderFlags {
            base_url: args.base_url.as_deref(),
            key_env: args.api_key_env.as_deref(),
        };
        let specs = std::iter::once((&args.plugin, primary))
            .chain(args.fallbacks.iter().map(|f| (f, ProviderFlags::default())));
        for (i, (spec, flags)) in specs.enumerate() {
            let cassette = if i == 0 {
                args.cassette.as_deref()
            } else {
                None
            };
            let loaded = provider_with(env, spec, flags, sources, cassette, true).await?;
            providers.push(Arc::new(loaded));
        }
        if let Some(path) = &args.record {
            let cassette = Arc::new(Cassette::create(path, providers[0].name())?);
            providers = providers
                .into_iter()
                .map(|p| -> Arc<dyn ChatProvider> {
                    Arc::new(RecordingProvider::new(p, cassette.clone()))
                })
                .collect();
        }
        let tools = tool_box(env, args).await?;
        let system = system_prompt(args, &tools).await;
        let (transcript, transcript_path) = transcript(args, system)?;
        let config = AgentConfig {
            max_turns: args.max_turns,
            stream: !args.no_stream,
            retry: RetryPolicy {
                max_retries: args.max_retries,
                ..RetryPolicy::default()
            },
            parallel_tools: env.policy.host.parallel_tools,
            request_timeout: std::time::Duration::try_from_secs_f64(args.request_timeout)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    UsageError("--request-timeout takes a positive number of seconds".into())
                })?,
            options: RequestOptions {
                model: args.model.clone(),
                temperature: args.temperature,
                max_tokens: args.max_tokens,
                stop: Vec::new(),
            },
        };
        let tools: Arc<dyn ToolBox> = Arc::new(tools);
        Ok(Self {
            agent: Agent::new(providers, tools, config),
            transcript,
            transcript_path,
        })
    }
}

/// Loads a provider plugin and grants it its destination and credential.
pub async fn provider(
    env: &Environment,
    spec: &str,
    flags: ProviderFlags<'_>,
) -> Result<PluginProvider> {
    provider_with(env, spec, flags, &env.sources, None, false).await
}

/// [`provider`], with `cassette` granted when given, or asked for when `conversing` with
/// the `replay` provider (which has nothing to say without one).
async fn provider_with(
    env: &Environment,
    spec: &str,
    flags: ProviderFlags<'_>,
    sources: &SecretSources,
    cassette: Option<&Path>,
    conversing: bool,
) -> Result<PluginProvider> {
    let mut provider = env.load(spec, None).await?.into_provider()?;
    let name = provider.plugin().name().to_string();
    let info = provider
        .info()
        .await
        .with_context(|| format!("cannot ask provider `{name}` about itself"))?;
    let mut policy = (*provider.plugin().policy).clone();
    if !env.policy.sets_timeout(&name) {
        policy.limits.timeout = DEFAULT_PROVIDER_TIMEOUT;
    }
    let declared = Declared {
        default_base_url: info.default_base_url.clone(),
        credential: info.credential.as_ref().map(|c| CredentialNeed {
            header: c.header.clone(),
            prefix: c.prefix.clone(),
            env_var: c.env_var.clone(),
            required: c.required,
        }),
    };
    grant_provider(&mut policy, flags, &declared, sources)?;
    if cassette.is_some() || (conversing && info.name == REPLAY_PROVIDER) {
        grant_cassette(&mut policy, cassette)?;
    }
    provider.set_policy(policy);
    Ok(PluginProvider::new(provider, info.default_model))
}

/// The provider that answers from a cassette instead of an API.
const REPLAY_PROVIDER: &str = "replay";
/// Where the cassette's folder appears inside the provider.
const CASSETTE_GUEST_DIR: &str = "/cassette";

/// Grants the cassette's folder read-only at [`CASSETTE_GUEST_DIR`] and tells the provider
/// the file's guest path in its `cassette` config.
fn grant_cassette(policy: &mut PluginPolicy, cassette: Option<&Path>) -> Result<()> {
    let Some(path) = cassette else {
        anyhow::bail!(UsageError(format!(
            "provider `{}` answers from a recording: give it one with --cassette FILE",
            policy.name
        )));
    };
    if !path.is_file() {
        anyhow::bail!(UsageError(format!(
            "--cassette {}: no such file",
            path.display()
        )));
    }
    let path = path
        .canonicalize()
        .with_context(|| format!("--cassette {}", path.display()))?;
    let (Some(dir), Some(file)) = (path.parent(), path.file_name()) else {
        anyhow::bail!(UsageError(format!(
            "--cassette {}: not a file",
            path.display()
        )));
    };
    policy.folders.retain(|f| f.guest != CASSETTE_GUEST_DIR);
    policy.folders.push(FolderGrant {
        host: dir.to_path_buf(),
        guest: CASSETTE_GUEST_DIR.to_string(),
        access: Access::Ro,
    });
    policy.config.insert(
        "cassette".to_string(),
        format!("{CASSETTE_GUEST_DIR}/{}", file.to_string_lossy()),
    );
    Ok(())
}

/// The tool plugins of the session. `--skills DIR` is a grant to the skills plugin only:
/// another `--tool` never sees the folder.
async fn tool_box(env: &Environment, args: &SessionArgs) -> Result<PluginToolBox> {
    let mut plugins: Vec<ToolPlugin> = Vec::new();
    for spec in &args.tools {
        let is_skills = plugin::locate(spec).is_ok_and(|s| s.name == SKILLS_PLUGIN);
        let skills = args.skills.as_deref().filter(|_| is_skills);
        plugins.push(env.load(spec, skills).await?.into_tool()?);
    }
    let has_skills = plugins.iter().any(|p| p.plugin().name() == SKILLS_PLUGIN);
    if let (Some(dir), false) = (&args.skills, has_skills) {
        plugins.push(env.load(SKILLS_PLUGIN, Some(dir)).await?.into_tool()?);
    }
    Ok(PluginToolBox::new(plugins).await?)
}

/// The plugin `--skills DIR` is granted to.
const SKILLS_PLUGIN: &str = "skills";

/// Most skills text the system prompt carries (~1,000 tokens): the model reads a whole
/// SKILL.md only when it needs it.
const SKILLS_CATALOG_BUDGET: usize = 4_000;

async fn system_prompt(args: &SessionArgs, tools: &PluginToolBox) -> String {
    let mut prompt = BASE_SYSTEM_PROMPT.to_string();
    if let Some(extra) = &args.system {
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

fn transcript(args: &SessionArgs, system: String) -> Result<(Transcript, PathBuf)> {
    let history = match &args.resume {
        Some(path) => {
            let resumed = Transcript::read(path)?;
            if resumed.repaired > 0 {
                eprintln!(
                    "note: {} tool call{} in {} had no result (the run was interrupted or \
                     killed mid-turn); {} answered as cancelled",
                    resumed.repaired,
                    if resumed.repaired == 1 { "" } else { "s" },
                    path.display(),
                    if resumed.repaired == 1 {
                        "it is"
                    } else {
                        "they are"
                    },
                );
            }
            resumed.messages
        }
        None => Vec::new(),
    };
    let path = match (&args.transcript, &args.resume) {
        (Some(path), _) => path.clone(),
        (None, Some(resumed)) => resumed.clone(),
        (None, None) => default_transcript_path()?,
    };
    if args.resume.is_none() && path.metadata().is_ok_and(|m| m.len() > 0) {
        anyhow::bail!(UsageError(format!(
            "transcript {} already holds a conversation: continue it with --resume {}",
            path.display(),
            path.display()
        )));
    }
    let fresh = history.is_empty();
    let mut transcript = Transcript::append_to(&path, history)?;
    if fresh {
        transcript.push(Message::text(Role::System, system))?;
    }
    Ok((transcript, path))
}

fn default_transcript_path() -> Result<PathBuf> {
    let dir = directories::ProjectDirs::from("", "", "wasmhost")
        .map(|d| d.data_dir().join("transcripts"))
        .unwrap_or_else(|| PathBuf::from(".wasmhost-transcripts"));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Ok(dir.join(format!("{stamp}-{}.jsonl", std::process::id())))
}

/// The user's message: the prompt and any images.
pub fn user_message(prompt: &str, images: &[PathBuf]) -> Result<Message> {
    let mut message = Message::text(Role::User, prompt);
    for path in images {
        message.content.push(image_part(path)?);
    }
    Ok(message)
}

fn image_part(path: &Path) -> Result<ContentPart> {
    let media_type = match path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .as_deref()
    {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        _ => anyhow::bail!(UsageError(format!(
            "--image {}: use a .png, .jpg, .gif or .webp file",
            path.display()
        ))),
    };
    let bytes = std::fs::read(path).with_context(|| format!("--image {}", path.display()))?;
    Ok(ContentPart::Image {
        media_type: media_type.to_string(),
        source: ImageSource::Base64(base64::engine::general_purpose::STANDARD.encode(bytes)),
    })
}
