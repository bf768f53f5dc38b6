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
//! At most [`McpServer::max_calls`] calls run at once (others wait their turn); a call
//! that runs longer than [`PROGRESS_EVERY`] sends `notifications/progress` (when the
//! client asked for it with a progress token) every [`PROGRESS_EVERY`] until it ends.
//! [`http`] serves the same handler over Streamable HTTP.

pub mod http;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock as Content,
    Implementation, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam,
    ProgressToken, ServerCapabilities, ServerConfig, Tool,
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

/// How long a call runs before it reports progress, and how often after that.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Sandboxed tools as an MCP server.
#[derive(Clone)]
pub struct McpServer {
    tools: Arc<dyn ToolBox>,
    /// The tools as MCP lists them, built once.
    listed: Arc<Vec<Tool>>,
    /// One permit per call allowed to run at once.
    slots: Arc<tokio::sync::Semaphore>,
    max_calls: usize,
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
        })
    }

    /// Run at most `max_calls` calls at once (at least one).
    pub fn with_max_calls(mut self, max_calls: usize) -> Self {
        let max_calls = max_calls.max(1);
        self.slots = Arc::new(tokio::sync::Semaphore::new(max_calls));
        self.max_calls = max_calls;
        self
    }

    /// How many calls may run at once.
    pub fn max_calls(&self) -> usize {
        self.max_calls
    }

    /// Calls running now.
    pub fn calls_running(&self) -> usize {
        self.max_calls - self.slots.available_permits()
    }

    /// The tools as the server offers them.
    pub fn tools(&self) -> &[Tool] {
        &self.listed
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
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
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
    loop {
        ticks.tick().await;
        let seconds = started.elapsed().as_secs();
        let mut progress = ProgressNotificationParam::new(token.clone(), seconds as f64);
        progress.message = Some(format!("running for {seconds} s"));
        // A client that stopped listening is not a reason to stop the call.
        let _ = peer.notify_progress(progress).await;
    }
}
