//! MCP servers as a tool source (`--mcp NAME`): the host is the MCP client, with rmcp doing
//! the protocol, and the user's `[mcp.NAME]` policy deciding what runs and what the model
//! sees.
//!
//! A local server is started only because the policy names it ([`process`]): its own
//! process group (killed with it), a scrubbed environment with only the variables the
//! policy names, its address space limited, in the folder the policy names. That is
//! containment, not a sandbox. Its tools are filtered by the policy (`tools`,
//! `deny_tools`); a tool whose name the model APIs would refuse, whose spec is over
//! [`DEFAULT_TOOL_SPEC_BYTES`] or beyond the first [`DEFAULT_MAX_TOOLS`] is left out and
//! named.
//! Every call has the policy's deadline (the server is told to cancel when it passes, or
//! when the caller stops waiting), and its result is cut to `result_kib`, saying so
//! ([`results`]). A server that dies fails the calls made to it with a clear message and
//! the last lines of its stderr; the conversation goes on.

mod process;
mod results;

use rmcp::RoleClient;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CancelledNotificationParam, ClientRequest, RequestId};
use rmcp::service::{PeerRequestOptions, RunningService, ServiceError};

use crate::agent::{BoxFuture, ToolBox};
use crate::chat::{ToolErrorKind, ToolFailure, ToolSpec};
use crate::policy::{DEFAULT_MAX_TOOLS, DEFAULT_TOOL_SPEC_BYTES, McpServerPolicy};

pub use process::StderrTail;

/// The longest tool name the model APIs accept.
const MAX_TOOL_NAME: usize = 64;
/// Tools left out that are named one by one; the rest are counted.
const MAX_LEFT_OUT_NAMED: usize = 50;

/// A server could not be started or did not answer as an MCP server.
#[derive(Debug, thiserror::Error)]
pub enum McpClientError {
    #[error("MCP server `{server}`: cannot start `{program}`: {reason}")]
    Spawn {
        server: String,
        program: String,
        reason: String,
    },
    #[error(
        "MCP server `{server}` did not {what} within {secs} s (startup_secs in [mcp.{server}]){tail}"
    )]
    StartupTimeout {
        server: String,
        what: &'static str,
        secs: u64,
        tail: String,
    },
    #[error("MCP server `{server}` failed to {what}: {reason}{tail}")]
    Protocol {
        server: String,
        what: &'static str,
        reason: String,
        tail: String,
    },
}

/// A tool the policy left out, and why (the user is told).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub tool: String,
    pub reason: String,
}

/// One running MCP server and the tools the policy lets the session use.
pub struct McpServerTools {
    policy: McpServerPolicy,
    client: RunningService<RoleClient, ()>,
    specs: Vec<ToolSpec>,
    left_out: Vec<LeftOut>,
    stderr: StderrTail,
    /// Kills the server's process group when the tools are dropped.
    _process: process::Running,
}

impl McpServerTools {
    /// Starts the server the policy describes, completes the handshake and lists its
    /// tools; the handshake and the listing each get the policy's `startup_secs`.
    pub async fn start(policy: McpServerPolicy) -> Result<Self, McpClientError> {
        let (running, stdout, stdin, stderr) = process::spawn(&policy)?;
        let server = policy.name.clone();
        let tail = StderrTail::describe;
        let transport = rmcp::transport::async_rw::AsyncRwTransport::new_client(stdout, stdin);
        let client = match tokio::time::timeout(policy.startup, ().serve(transport)).await {
            Err(_) => {
                return Err(McpClientError::StartupTimeout {
                    server,
                    what: "answer `initialize`",
                    secs: policy.startup.as_secs(),
                    tail: tail(&stderr),
                });
            }
            Ok(Err(e)) => {
                stderr.settle().await;
                return Err(McpClientError::Protocol {
                    server,
                    what: "complete the MCP handshake",
                    reason: e.to_string(),
                    tail: tail(&stderr),
                });
            }
            Ok(Ok(client)) => client,
        };
        let listed = match tokio::time::timeout(policy.startup, client.list_all_tools()).await {
            Err(_) => {
                return Err(McpClientError::StartupTimeout {
                    server,
                    what: "list its tools",
                    secs: policy.startup.as_secs(),
                    tail: tail(&stderr),
                });
            }
            Ok(Err(e)) => {
                return Err(McpClientError::Protocol {
                    server,
                    what: "list its tools",
                    reason: e.to_string(),
                    tail: tail(&stderr),
                });
            }
            Ok(Ok(tools)) => tools,
        };
        let (specs, left_out) = offered_tools(&policy, listed);
        Ok(Self {
            policy,
            client,
            specs,
            left_out,
            stderr,
            _process: running,
        })
    }

    pub fn name(&self) -> &str {
        &self.policy.name
    }

    pub fn policy(&self) -> &McpServerPolicy {
        &self.policy
    }

    /// The server's tools the policy left out.
    pub fn left_out(&self) -> &[LeftOut] {
        &self.left_out
    }

    async fn call_tool(&self, name: &str, arguments: &str) -> Result<String, ToolFailure> {
        let arguments = match serde_json::from_str::<serde_json::Value>(arguments) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) | Err(_) => {
                return Err(ToolFailure::new(
                    ToolErrorKind::InvalidArguments,
                    format!("the arguments of `{name}` must be a JSON object"),
                ));
            }
        };
        let request = ClientRequest::CallToolRequest(rmcp::model::CallToolRequest::new(
            CallToolRequestParams::new(name.to_string()).with_arguments(arguments),
        ));
        let peer = self.client.peer();
        let handle = peer
            .send_request_with_option(request, PeerRequestOptions::no_options())
            .await
            .map_err(|e| self.unreachable(&e))?;
        // Told to cancel if the caller stops waiting or the deadline passes.
        let mut cancel = CancelOnDrop {
            peer: Some(peer.clone()),
            id: handle.id.clone(),
        };
        let response =
            match tokio::time::timeout(self.policy.call_timeout, handle.await_response()).await {
                Err(_) => {
                    let secs = self.policy.call_timeout.as_secs_f64();
                    return Err(ToolFailure {
                        limit: Some("time"),
                        ..ToolFailure::new(
                            ToolErrorKind::BudgetExceeded,
                            format!(
                                "budget-exceeded: MCP server `{}` did not answer `{name}` \
                                 within {secs} s (timeout_secs in [mcp.{}]); it was told to \
                                 cancel the call",
                                self.policy.name, self.policy.name
                            ),
                        )
                    });
                }
                Ok(response) => response,
            };
        cancel.peer = None;
        let response = match response {
            Ok(response) => response,
            Err(e) => {
                self.stderr.settle().await;
                return Err(self.unreachable(&e));
            }
        };
        results::tool_output(response, &self.policy)
    }

    fn unreachable(&self, error: &ServiceError) -> ToolFailure {
        let message = match error {
            ServiceError::McpError(e) => {
                // The server answered with a JSON-RPC error (an unknown tool, bad params).
                let kind = if e.code == rmcp::model::ErrorCode::INVALID_PARAMS {
                    ToolErrorKind::InvalidArguments
                } else {
                    ToolErrorKind::ToolError
                };
                return ToolFailure::new(
                    kind,
                    format!(
                        "MCP server `{}` refused the call: {}",
                        self.policy.name, e.message
                    ),
                );
            }
            other => format!(
                "MCP server `{}` is not reachable ({other}); its tools fail until the session \
                 is restarted{}",
                self.policy.name,
                self.stderr.describe()
            ),
        };
        ToolFailure::new(ToolErrorKind::HostFailure, message)
    }
}

/// Sends `notifications/cancelled` for a request the caller stopped waiting for.
struct CancelOnDrop {
    peer: Option<rmcp::service::Peer<RoleClient>>,
    id: RequestId,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Some(peer) = self.peer.take() else {
            return;
        };
        let id = self.id.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let cancelled = CancelledNotificationParam::new(
                    Some(id),
                    Some("the caller stopped waiting".into()),
                );
                let _ = peer.notify_cancelled(cancelled).await;
            });
        }
    }
}

/// The listed tools the session may offer, and those left out with the reason: not
/// allowed by the policy, a name the model APIs refuse, a spec over
/// [`DEFAULT_TOOL_SPEC_BYTES`], or beyond the first [`DEFAULT_MAX_TOOLS`]. Past
/// [`MAX_LEFT_OUT_NAMED`] the rest are counted in one entry, so a flood stays one line.
fn offered_tools(
    policy: &McpServerPolicy,
    listed: Vec<rmcp::model::Tool>,
) -> (Vec<ToolSpec>, Vec<LeftOut>) {
    let mut specs = Vec::new();
    let mut left_out = Vec::new();
    let mut unnamed = 0usize;
    let mut leave = |left_out: &mut Vec<LeftOut>, tool: String, reason: String| {
        if left_out.len() < MAX_LEFT_OUT_NAMED {
            left_out.push(LeftOut { tool, reason });
        } else {
            unnamed += 1;
        }
    };
    for tool in listed {
        let name = tool.name.to_string();
        if !policy.offers(&name) {
            let reason = format!(
                "not allowed by `tools`/`deny_tools` in [mcp.{}]",
                policy.name
            );
            leave(&mut left_out, name, reason);
            continue;
        }
        if !valid_name(&name) {
            let reason = format!(
                "the model APIs take only names of 1 to {MAX_TOOL_NAME} letters, digits, `_` \
                 and `-`"
            );
            leave(&mut left_out, name, reason);
            continue;
        }
        let spec = ToolSpec {
            name,
            description: tool.description.map(|d| d.to_string()).unwrap_or_default(),
            parameters_schema: serde_json::Value::Object((*tool.input_schema).clone()).to_string(),
        };
        let size = spec.name.len() + spec.description.len() + spec.parameters_schema.len();
        if size > DEFAULT_TOOL_SPEC_BYTES {
            let reason = format!(
                "its name, description and schema are {size} bytes, over the \
                 {DEFAULT_TOOL_SPEC_BYTES} one tool may take"
            );
            leave(&mut left_out, spec.name, reason);
            continue;
        }
        if specs.len() == DEFAULT_MAX_TOOLS {
            let reason = format!(
                "the server offers more than the {DEFAULT_MAX_TOOLS} tools a session takes \
                 from one server; choose with `tools = [...]` in [mcp.{}]",
                policy.name
            );
            leave(&mut left_out, spec.name, reason);
            continue;
        }
        specs.push(spec);
    }
    if unnamed > 0 {
        left_out.push(LeftOut {
            tool: format!("{unnamed} more"),
            reason: format!(
                "left out for the reasons above (only the first {MAX_LEFT_OUT_NAMED} are named)"
            ),
        });
    }
    (specs, left_out)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TOOL_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl ToolBox for McpServerTools {
    fn specs(&self) -> &[ToolSpec] {
        &self.specs
    }

    fn call<'a>(
        &'a self,
        name: &'a str,
        arguments: &'a str,
    ) -> BoxFuture<'a, Result<String, ToolFailure>> {
        Box::pin(async move {
            if !self.specs.iter().any(|s| s.name == name) {
                return Err(ToolFailure::unknown_tool(name, &self.specs));
            }
            self.call_tool(name, arguments).await
        })
    }
}
