//! A conversation set up from a [`SessionSpec`]: providers with their destinations and
//! credentials (fallbacks, recording, the replay cassette), tools (the skills plugin for a
//! skills folder, granted to it alone), the system prompt with the skills catalog, and the
//! transcript (new, or resumed and repaired). Every frontend builds its conversations
//! here; the CLI only turns flags into a spec and renders events.

mod load;
mod prompt;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;

use crate::agent::{
    Agent, AgentConfig, AgentTask, Cassette, ChatProvider, RecordError, RecordingProvider,
    RetryPolicy, ToolBox, Transcript, TranscriptError,
};
use crate::chat::{ContentPart, ImageSource, Message, RequestOptions, Role};
use crate::plugin::{PluginError, ToolBoxError};
use crate::policy::PolicyError;
use crate::policy::credentials::{CredentialError, ProviderFlags};

pub use load::HostEnv;

/// What a conversation is made of. Every field has the meaning of the `run`/`chat` flag
/// of the same name.
#[derive(Debug, Clone)]
pub struct SessionSpec {
    /// The provider plugin: a shipped name or a `.wasm` path.
    pub plugin: String,
    pub model: Option<String>,
    pub base_url: Option<String>,
    pub api_key_env: Option<String>,
    pub tools: Vec<String>,
    /// MCP servers whose tools the model may use, each named by a `[mcp.NAME]` section.
    pub mcp: Vec<String>,
    pub skills: Option<PathBuf>,
    /// Extra system instructions.
    pub system: Option<String>,
    pub max_turns: u32,
    pub fallbacks: Vec<String>,
    pub max_retries: u32,
    pub request_timeout: Duration,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub stream: bool,
    /// Where to write the transcript (default: a new file in the user's data folder).
    pub transcript: Option<PathBuf>,
    /// A transcript to continue (and append to, unless `transcript` names another).
    pub resume: Option<PathBuf>,
    /// A cassette to record every provider exchange into.
    pub record: Option<PathBuf>,
    /// The cassette the `replay` provider answers from.
    pub cassette: Option<PathBuf>,
}

impl SessionSpec {
    /// A spec for `plugin` with the defaults of `run`.
    pub fn new(plugin: impl Into<String>) -> Self {
        Self {
            plugin: plugin.into(),
            model: None,
            base_url: None,
            api_key_env: None,
            tools: Vec::new(),
            mcp: Vec::new(),
            skills: None,
            system: None,
            max_turns: AgentConfig::default().max_turns,
            fallbacks: Vec::new(),
            max_retries: RetryPolicy::default().max_retries,
            request_timeout: AgentConfig::default().request_timeout,
            temperature: None,
            max_tokens: None,
            stream: true,
            transcript: None,
            resume: None,
            record: None,
            cassette: None,
        }
    }
}

/// Why a conversation could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The spec asks for something that cannot be (a missing file, a bad combination);
    /// the message says what to give instead.
    #[error("{0}")]
    Usage(String),
    #[error("cannot load plugin `{spec}`")]
    Load {
        spec: String,
        #[source]
        source: PluginError,
    },
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error("cannot ask provider `{provider}` about itself")]
    Info {
        provider: String,
        #[source]
        source: PluginError,
    },
    #[error(transparent)]
    Tools(#[from] ToolBoxError),
    #[error(transparent)]
    Mcp(#[from] crate::mcp_client::McpClientError),
    #[error(transparent)]
    ToolNames(#[from] crate::agent::ToolSetError),
    #[error(transparent)]
    Transcript(#[from] TranscriptError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// A conversation ready to go.
pub struct Session {
    pub agent: Agent,
    pub transcript: Transcript,
    pub transcript_path: PathBuf,
    /// Tool calls of a resumed transcript that had no result (a run interrupted or killed
    /// mid-turn), now answered as cancelled; a frontend tells the user.
    pub repaired: usize,
    /// What the user should know about the tools: a name offered with a prefix, an MCP
    /// server's tool the policy left out. A frontend shows them.
    pub notices: Vec<String>,
}

impl Session {
    /// Starts the conversation as a task: user turns, interrupts and a shutdown go in,
    /// events come out (see [`AgentTask`]).
    pub fn spawn(self) -> AgentTask {
        AgentTask::spawn(Arc::new(self.agent), self.transcript)
    }
}

impl Session {
    pub async fn open(host: &HostEnv, spec: &SessionSpec) -> Result<Self, SessionError> {
        let mut providers: Vec<Arc<dyn ChatProvider>> = Vec::new();
        let primary = ProviderFlags {
            base_url: spec.base_url.as_deref(),
            key_env: spec.api_key_env.as_deref(),
        };
        let specs = std::iter::once((&spec.plugin, primary))
            .chain(spec.fallbacks.iter().map(|f| (f, ProviderFlags::default())));
        for (i, (plugin, flags)) in specs.enumerate() {
            let cassette = if i == 0 {
                spec.cassette.as_deref()
            } else {
                None
            };
            let loaded = host.provider_with(plugin, flags, cassette, true).await?;
            providers.push(Arc::new(loaded));
        }
        if let Some(path) = &spec.record {
            let cassette = Arc::new(Cassette::create(path, providers[0].name())?);
            providers = providers
                .into_iter()
                .map(|p| -> Arc<dyn ChatProvider> {
                    Arc::new(RecordingProvider::new(p, cassette.clone()))
                })
                .collect();
        }
        let plugins = host.tool_box(&spec.tools, spec.skills.as_deref()).await?;
        let system = prompt::system_prompt(spec.system.as_deref(), &plugins).await;
        let (tools, notices) = with_mcp_servers(host, plugins, &spec.mcp).await?;
        let (transcript, transcript_path, repaired) = transcript(spec, system)?;
        if spec.request_timeout.is_zero() {
            return Err(SessionError::Usage(
                "the request timeout must be a positive number of seconds".into(),
            ));
        }
        let config = AgentConfig {
            max_turns: spec.max_turns,
            stream: spec.stream,
            retry: RetryPolicy {
                max_retries: spec.max_retries,
                ..RetryPolicy::default()
            },
            parallel_tools: host.policy.host.parallel_tools,
            request_timeout: spec.request_timeout,
            options: RequestOptions {
                model: spec.model.clone(),
                temperature: spec.temperature,
                max_tokens: spec.max_tokens,
                stop: Vec::new(),
            },
        };
        Ok(Self {
            agent: Agent::new(providers, tools, config),
            transcript,
            transcript_path,
            repaired,
            notices,
        })
    }
}

/// The plugin tools and those of each MCP server the spec names (started here, under its
/// `[mcp.NAME]` policy), as one tool box; and what the user should be told about them.
async fn with_mcp_servers(
    host: &HostEnv,
    plugins: crate::plugin::PluginToolBox,
    servers: &[String],
) -> Result<(Arc<dyn ToolBox>, Vec<String>), SessionError> {
    let mut notices: Vec<String> = plugins
        .renamed()
        .iter()
        .map(|r| {
            format!(
                "plugins both offer `{}`; `{}`'s is offered as `{}`",
                r.tool, r.plugin, r.offered_as
            )
        })
        .collect();
    if servers.is_empty() {
        return Ok((Arc::new(plugins), notices));
    }
    let mut sources: Vec<(String, Arc<dyn ToolBox>)> = vec![("plugins".into(), Arc::new(plugins))];
    for name in servers {
        if sources.iter().any(|(n, _)| n == name) {
            return Err(SessionError::Usage(format!("--mcp {name} is given twice")));
        }
        let policy = host.policy.mcp_server(name).map_err(|e| match e {
            PolicyError::UnknownMcp(message) => SessionError::Usage(message),
            other => other.into(),
        })?;
        let server = crate::mcp_client::McpServerTools::start(policy).await?;
        for left in server.left_out() {
            notices.push(format!(
                "MCP server `{name}`: tool `{}` is left out: {}",
                left.tool, left.reason
            ));
        }
        sources.push((name.clone(), Arc::new(server)));
    }
    let set = crate::agent::ToolSet::new(sources)?;
    for offered in set.renamed() {
        notices.push(format!(
            "`{}` is offered by more than one source; `{}`'s is offered as `{}`",
            offered.tool, offered.source, offered.offered_as
        ));
    }
    Ok((Arc::new(set), notices))
}

/// The transcript: resumed (repaired) or new with the system prompt, and where it goes.
fn transcript(
    spec: &SessionSpec,
    system: String,
) -> Result<(Transcript, PathBuf, usize), SessionError> {
    let (history, repaired) = match &spec.resume {
        Some(path) => {
            let resumed = Transcript::read(path)?;
            (resumed.messages, resumed.repaired)
        }
        None => (Vec::new(), 0),
    };
    let path = match (&spec.transcript, &spec.resume) {
        (Some(path), _) => path.clone(),
        (None, Some(resumed)) => resumed.clone(),
        (None, None) => default_transcript_path()?,
    };
    if spec.resume.is_none() && path.metadata().is_ok_and(|m| m.len() > 0) {
        return Err(SessionError::Usage(format!(
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
    Ok((transcript, path, repaired))
}

fn default_transcript_path() -> Result<PathBuf, SessionError> {
    let dir = directories::ProjectDirs::from("", "", "wasmhost")
        .map(|d| d.data_dir().join("transcripts"))
        .unwrap_or_else(|| PathBuf::from(".wasmhost-transcripts"));
    std::fs::create_dir_all(&dir).map_err(|source| SessionError::Io {
        what: format!("cannot create {}", dir.display()),
        source,
    })?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Ok(dir.join(format!("{stamp}-{}.jsonl", std::process::id())))
}

/// The user's message: the prompt and any images (`.png`, `.jpg`, `.gif`, `.webp`).
pub fn user_message(prompt: &str, images: &[PathBuf]) -> Result<Message, SessionError> {
    let mut message = Message::text(Role::User, prompt);
    for path in images {
        message.content.push(image_part(path)?);
    }
    Ok(message)
}

fn image_part(path: &Path) -> Result<ContentPart, SessionError> {
    let media_type = match path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .as_deref()
    {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        _ => {
            return Err(SessionError::Usage(format!(
                "--image {}: use a .png, .jpg, .gif or .webp file",
                path.display()
            )));
        }
    };
    let bytes = std::fs::read(path).map_err(|source| SessionError::Io {
        what: format!("--image {}", path.display()),
        source,
    })?;
    Ok(ContentPart::Image {
        media_type: media_type.to_string(),
        source: ImageSource::Base64(base64::engine::general_purpose::STANDARD.encode(bytes)),
    })
}
