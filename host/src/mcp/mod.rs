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

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock as Content,
    Implementation, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
    Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};

use crate::agent::ToolBox;
use crate::chat::{ToolFailure, ToolSpec};

/// What the server says it is.
pub const SERVER_NAME: &str = "wasmhost";

/// Sandboxed tools as an MCP server.
#[derive(Clone)]
pub struct McpServer {
    tools: Arc<dyn ToolBox>,
    /// The tools as MCP lists them, built once.
    listed: Arc<Vec<Tool>>,
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
        })
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
        let call = self.tools.call(name, &arguments);
        let outcome = tokio::select! {
            outcome = call => outcome,
            // The client gave up: stop the call (its instance goes with it).
            () = context.ct.cancelled() => {
                return Err(ErrorData::internal_error("the call was cancelled", None));
            }
        };
        Ok(match outcome {
            Ok(output) => CallToolResult::success(vec![Content::text(output)]),
            Err(failure) => failure_result(&failure),
        }
        .into())
    }
}
