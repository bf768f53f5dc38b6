//! `wasmhost mcp`: the host's tool plugins (and the skills plugin) served to any Model
//! Context Protocol client, with the official Rust SDK (`rmcp`) doing the protocol:
//! framing, version negotiation, cancellation.
//!
//! Each plugin tool is an MCP tool with its JSON Schema as `inputSchema`. Names that two
//! plugins both offer get a prefix (`PLUGIN__TOOL`; the frontend tells the user). Every
//! call runs on a fresh instance under the plugin's policy and budget, exactly as in
//! `run`. A tool's failure is a result with `isError: true`: its text is the failure's
//! message (which names its kind: `not found: …`, `budget-exceeded: …`), and
//! `structuredContent` has `error_kind`, `message` and, for a budget overrun, `limit`.
//! Requests that cannot be served at all (an unknown tool, arguments that are not a JSON
//! object) are JSON-RPC errors. A call the client cancels stops at once.
//!
//! At most [`McpServer::max_calls`] calls run at once and [`McpServer::max_waiting`] more
//! wait their turn; a call beyond those is refused at once (a JSON-RPC error that says the
//! server is overloaded), so a flooding client cannot pile up work. A call that runs longer
//! than [`PROGRESS_EVERY`] sends `notifications/progress` (when the client asked for it
//! with a progress token) every [`PROGRESS_EVERY`] until it ends.
//!
//! With a skills folder the server also offers its files as resources, each skill as a
//! prompt, and the MCP Skills extension ([`skills`]). [`http`] serves the same handler over
//! Streamable HTTP.

pub mod http;
pub mod skills;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock as Content,
    GetPromptRequestParams, GetPromptResponse, GetSkillRequestParams, GetSkillResult,
    Implementation, ListPromptsResult, ListResourcesResult, ListSkillsResult, ListToolsResult,
    PaginatedRequestParams, ProgressNotificationParam, ProgressToken, PromptsCapability,
    ReadResourceDirectoryRequestParams, ReadResourceDirectoryResult, ReadResourceRequestParams,
    ReadResourceResponse, ResourcesCapability, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::Peer;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};

use crate::agent::ToolBox;
use crate::chat::{ToolFailure, ToolSpec};

/// What the server says it is.
pub const SERVER_NAME: &str = "wasmhost";

/// Calls that run at once unless told otherwise; more wait for a free slot. Each runs on
/// its own instance, under the runtime's shared memory pool as well.
pub const DEFAULT_MAX_CALLS: usize = 32;

/// Calls that may wait for a slot unless told otherwise; one more is refused as overloaded.
pub const DEFAULT_MAX_WAITING: usize = 1024;

/// How long a call runs before it reports progress, and how often after that.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// The most calls a server can be told to run or keep waiting (tokio's semaphore limit).
pub const MAX_CALLS_LIMIT: usize = tokio::sync::Semaphore::MAX_PERMITS / 2;

/// Sandboxed tools as an MCP server.
#[derive(Clone)]
pub struct McpServer {
    tools: Arc<dyn ToolBox>,
    /// The tools as MCP lists them, built once.
    listed: Arc<Vec<Tool>>,
    /// One permit per call allowed to run at once.
    slots: Arc<tokio::sync::Semaphore>,
    max_calls: usize,
    /// One permit per call admitted (running or waiting for a slot).
    admitted: Arc<tokio::sync::Semaphore>,
    max_waiting: usize,
    /// The skills folder's files, prompts and manifests, when one is served.
    skills: Option<skills::Shared>,
}

/// A tool whose schema is not a JSON object cannot be offered over MCP.
#[derive(Debug, thiserror::Error)]
#[error("tool `{tool}` has a parameters schema that is not a JSON object: {reason}")]
pub struct SchemaError {
    pub tool: String,
    pub reason: String,
}

impl McpServer {
    pub fn new(tools: Arc<dyn ToolBox>) -> Result<Self, SchemaError> {
        let listed = tools
            .specs()
            .iter()
            .map(mcp_tool)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            tools,
            listed: Arc::new(listed),
            slots: Arc::new(tokio::sync::Semaphore::new(DEFAULT_MAX_CALLS)),
            max_calls: DEFAULT_MAX_CALLS,
            admitted: Arc::new(tokio::sync::Semaphore::new(
                DEFAULT_MAX_CALLS + DEFAULT_MAX_WAITING,
            )),
            max_waiting: DEFAULT_MAX_WAITING,
            skills: None,
        })
    }

    /// Run at most `max_calls` calls at once and keep at most `max_waiting` more waiting
    /// for a slot (`max_calls` at least one; both at most [`MAX_CALLS_LIMIT`]).
    pub fn with_limits(mut self, max_calls: usize, max_waiting: usize) -> Self {
        let max_calls = max_calls.clamp(1, MAX_CALLS_LIMIT);
        let max_waiting = max_waiting.min(MAX_CALLS_LIMIT);
        self.slots = Arc::new(tokio::sync::Semaphore::new(max_calls));
        self.max_calls = max_calls;
        self.admitted = Arc::new(tokio::sync::Semaphore::new(max_calls + max_waiting));
        self.max_waiting = max_waiting;
        self
    }

    /// Also serve a skills folder's files as resources and its skills as prompts.
    pub fn with_skills(mut self, skills: skills::SkillFiles) -> Self {
        self.skills = Some(Arc::new(skills));
        self
    }

    /// How many calls may run at once.
    pub fn max_calls(&self) -> usize {
        self.max_calls
    }

    /// How many calls may wait for a slot.
    pub fn max_waiting(&self) -> usize {
        self.max_waiting
    }

    /// Calls running now.
    pub fn calls_running(&self) -> usize {
        self.max_calls - self.slots.available_permits()
    }

    /// Calls running or waiting for a slot now.
    pub fn calls_in_flight(&self) -> usize {
        (self.max_calls + self.max_waiting) - self.admitted.available_permits()
    }

    /// The skills served besides the tools, if any.
    pub fn skills(&self) -> Option<&skills::SkillFiles> {
        self.skills.as_deref()
    }

    /// The tools as the server offers them.
    pub fn tools(&self) -> &[Tool] {
        &self.listed
    }
}

impl McpServer {
    fn served_skills(&self) -> Result<&skills::SkillFiles, ErrorData> {
        self.skills.as_deref().ok_or_else(|| {
            ErrorData::new(
                rmcp::model::ErrorCode::METHOD_NOT_FOUND,
                "this server has no skills folder (start it with --skills DIR)",
                None,
            )
        })
    }
}

fn mcp_tool(spec: &ToolSpec) -> Result<Tool, SchemaError> {
    let schema: Value = serde_json::from_str(&spec.parameters_schema).map_err(|e| SchemaError {
        tool: spec.name.clone(),
        reason: e.to_string(),
    })?;
    let Value::Object(schema) = schema else {
        return Err(SchemaError {
            tool: spec.name.clone(),
            reason: "it is not an object".into(),
        });
    };
    Ok(Tool::new(
        spec.name.clone(),
        spec.description.clone(),
        Arc::new(schema),
    ))
}

/// A tool's failure as an MCP tool result the client (and its model) can read.
pub fn failure_result(failure: &ToolFailure) -> CallToolResult {
    let kind = failure.kind.as_str();
    let mut structured = json!({ "error_kind": kind, "message": failure.message });
    if let Some(limit) = failure.limit {
        structured["limit"] = json!(limit);
    }
    let mut result = CallToolResult::error(vec![Content::text(failure.message.clone())]);
    result.structured_content = Some(structured);
    result
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let mut capabilities = if self.skills.is_some() {
            ServerCapabilities::builder()
                .enable_tools()
                .enable_skills_with_directory_read()
                .build()
        } else {
            ServerCapabilities::builder().enable_tools().build()
        };
        if self.skills.is_some() {
            capabilities.resources = Some(ResourcesCapability::default());
            capabilities.prompts = Some(PromptsCapability::default());
        }
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new(SERVER_NAME, env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Tools that run as sandboxed WebAssembly components under the user's policy.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.listed.to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.listed.iter().find(|t| t.name == name).cloned()
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let resources = self
            .skills
            .as_ref()
            .map(|s| s.resources())
            .unwrap_or_default();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        self.skills
            .as_ref()
            .and_then(|s| s.read(&request.uri))
            .map(Into::into)
            .ok_or_else(|| {
                let hint = format!(
                    "no resource {}: skill files are skill://NAME/SKILL.md and \
                     skill://NAME/PATH, as resources/list and skills/get show them",
                    request.uri
                );
                ErrorData::resource_not_found(hint, None)
            })
    }

    async fn read_resource_directory(
        &self,
        request: ReadResourceDirectoryRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceDirectoryResult, ErrorData> {
        self.served_skills()?.read_directory(&request.uri)
    }

    async fn list_skills(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListSkillsResult, ErrorData> {
        Ok(self.served_skills()?.list_skills())
    }

    async fn get_skill(
        &self,
        request: GetSkillRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetSkillResult, ErrorData> {
        self.served_skills()?.get_skill(&request.uri)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let prompts = self
            .skills
            .as_ref()
            .map(|s| s.prompts())
            .unwrap_or_default();
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let task = request
            .arguments
            .as_ref()
            .and_then(|args| args.get(skills::TASK_ARGUMENT))
            .and_then(Value::as_str);
        self.served_skills()?
            .prompt(&request.name, task)
            .map(Into::into)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.as_ref();
        if !self.listed.iter().any(|t| t.name == name) {
            let known: Vec<&str> = self.listed.iter().map(|t| t.name.as_ref()).collect();
            return Err(ErrorData::invalid_params(
                format!("unknown tool `{name}`; available: {}", known.join(", ")),
                None,
            ));
        }
        let arguments = Value::Object(request.arguments.unwrap_or_default()).to_string();
        let cancelled = || ErrorData::internal_error("the call was cancelled", None);
        let Ok(_admitted) = self.admitted.clone().try_acquire_owned() else {
            return Err(ErrorData::internal_error(
                format!(
                    "overloaded: {} calls are running and {} waiting, this server's limits \
                     (--max-calls, --max-waiting); retry shortly",
                    self.max_calls, self.max_waiting
                ),
                None,
            ));
        };
        // Wait for a slot; a client that gives up while waiting leaves the queue.
        let _slot = tokio::select! {
            slot = self.slots.acquire() => slot.map_err(|_| cancelled())?,
            () = context.ct.cancelled() => return Err(cancelled()),
        };
        let call = self.tools.call(name, &arguments);
        let progress = report_progress(context.peer.clone(), context.meta.get_progress_token());
        let outcome = tokio::select! {
            outcome = call => outcome,
            // The client gave up: stop the call (its instance goes with it).
            () = context.ct.cancelled() => return Err(cancelled()),
            // Never ends: it only sends notifications while the call runs.
            never = progress => match never {},
        };
        Ok(match outcome {
            Ok(output) => CallToolResult::success(vec![Content::text(output)]),
            Err(failure) => failure_result(&failure),
        }
        .into())
    }
}

/// Tell the client, every [`PROGRESS_EVERY`] after the first, that the call still runs.
/// Without a progress token (the client did not ask) it waits forever and says nothing;
/// the caller drops it when the call ends.
async fn report_progress(
    peer: Peer<RoleServer>,
    token: Option<ProgressToken>,
) -> std::convert::Infallible {
    let Some(token) = token else {
        return std::future::pending().await;
    };
    let started = Instant::now();
    let mut ticks =
        tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
    // A busy runtime skips the ticks it missed rather than sending them in a burst.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last = 0;
    loop {
        ticks.tick().await;
        // The spec wants progress to increase with every notification.
        let seconds = started.elapsed().as_secs().max(last + 1);
        last = seconds;
        let mut progress = ProgressNotificationParam::new(token.clone(), seconds as f64);
        progress.message = Some(format!("running for {seconds} s"));
        // A client that stopped listening is not a reason to stop the call.
        let _ = peer.notify_progress(progress).await;
    }
}
