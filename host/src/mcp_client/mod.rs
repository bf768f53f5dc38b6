//! MCP servers as a tool source (`--mcp NAME`): the host is the MCP client, with rmcp doing
//! the protocol, and the user's `[mcp.NAME]` policy deciding what runs and what the model
//! sees.
//!
//! A remote server (`url`) is reached over Streamable HTTP ([`remote`]) only at the
//! origin the policy names (redirects are checked against it and `allowed_hosts`), with
//! the token the policy names added by the host as a header and replaced wherever the
//! server sends it back.
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
mod remote;
mod results;

use rmcp::RoleClient;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CancelledNotificationParam, ClientRequest, RequestId};
use rmcp::service::{PeerRequestOptions, RunningService, ServiceError};

use crate::agent::{BoxFuture, ToolBox};
use crate::chat::{ToolErrorKind, ToolFailure, ToolSpec};
use crate::policy::{
    DEFAULT_MAX_TOOLS, DEFAULT_TOOL_SPEC_BYTES, McpServerPolicy, McpTransport, Redactor,
};

pub use process::StderrTail;
pub use remote::{CONNECT_TIMEOUT, MAX_REDIRECTS};

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
    endpoint: Endpoint,
    /// Replaces a remote server's token in whatever the server sends back.
    redactor: Redactor,
}

/// What is known about where the server runs, for error messages; a local server's
/// process group is killed when this is dropped.
enum Endpoint {
    Local {
        stderr: StderrTail,
        _process: Box<process::Running>,
    },
    Remote {
        refusals: remote::Refusals,
    },
}

impl Endpoint {
    /// Its last stderr lines, or the requests the gate refused.
    fn describe(&self) -> String {
        match self {
            Endpoint::Local { stderr, .. } => stderr.describe(),
            Endpoint::Remote { refusals } => refusals.describe(),
        }
    }

    /// Waits (briefly) for a dying local server's last stderr lines.
    async fn settle(&self) {
        if let Endpoint::Local { stderr, .. } = self {
            stderr.settle().await;
        }
    }
}

impl McpServerTools {
    /// Starts (or connects to) the server the policy describes, completes the handshake
    /// and lists its tools; the handshake and the listing each get the policy's
    /// `startup_secs`.
    pub async fn start(policy: McpServerPolicy) -> Result<Self, McpClientError> {
        let redactor = Redactor::new(policy.secret().map(|s| s.expose()));
        match &policy.transport {
            McpTransport::Local(local) => {
                let (running, stdout, stdin, stderr) = process::spawn(&policy.name, local)?;
                let transport =
                    rmcp::transport::async_rw::AsyncRwTransport::new_client(stdout, stdin);
                let endpoint = Endpoint::Local {
                    stderr,
                    _process: Box::new(running),
                };
                Self::handshake(policy, transport, endpoint, redactor).await
            }
            McpTransport::Remote(server) => {
                let (transport, refusals) = remote::connect(&policy.name, server)?;
                let endpoint = Endpoint::Remote { refusals };
                Self::handshake(policy, transport, endpoint, redactor).await
            }
        }
    }

    async fn handshake<T, E, A>(
        policy: McpServerPolicy,
        transport: T,
        endpoint: Endpoint,
        redactor: Redactor,
    ) -> Result<Self, McpClientError>
    where
        T: rmcp::transport::IntoTransport<RoleClient, E, A>,
        E: std::error::Error + Send + Sync + 'static,
    {
        let server = policy.name.clone();
        let tail = |endpoint: &Endpoint| redactor.redact(&endpoint.describe()).into_owned();
        let client = match tokio::time::timeout(policy.startup, ().serve(transport)).await {
            Err(_) => {
                return Err(McpClientError::StartupTimeout {
                    server,
                    what: "answer `initialize`",
                    secs: policy.startup.as_secs(),
                    tail: tail(&endpoint),
                });
            }
            Ok(Err(e)) => {
                endpoint.settle().await;
                let hint = auth_hint(&policy, &e);
                return Err(McpClientError::Protocol {
                    server,
                    what: "complete the MCP handshake",
                    reason: redactor.redact(&error_chain(&e)).into_owned(),
                    tail: format!("{}{hint}", tail(&endpoint)),
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
                    tail: tail(&endpoint),
                });
            }
            Ok(Err(e)) => {
                return Err(McpClientError::Protocol {
                    server,
                    what: "list its tools",
                    reason: redactor.redact(&error_chain(&e)).into_owned(),
                    tail: tail(&endpoint),
                });
            }
            Ok(Ok(tools)) => tools,
        };
        let (mut specs, mut left_out) = offered_tools(&policy, listed);
        if !redactor.is_empty() {
            for spec in &mut specs {
                redactor.redact_string(&mut spec.description);
                redactor.redact_string(&mut spec.parameters_schema);
            }
            for left in &mut left_out {
                redactor.redact_string(&mut left.tool);
            }
        }
        Ok(Self {
            policy,
            client,
            specs,
            left_out,
            endpoint,
            redactor,
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
                self.endpoint.settle().await;
                return Err(self.unreachable(&e));
            }
        };
        results::tool_output(response, &self.policy, &self.redactor)
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
                "MCP server `{}` is not reachable ({}); its tools fail until the session is \
                 restarted{}",
                self.policy.name,
                error_chain(other),
                self.endpoint.describe()
            ),
        };
        ToolFailure::new(ToolErrorKind::HostFailure, message)
    }
}

/// What to do when a remote server turned the client away (HTTP 401 or 403).
fn auth_hint(policy: &McpServerPolicy, error: &(dyn std::error::Error + 'static)) -> String {
    use rmcp::transport::streamable_http_client::StreamableHttpError;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut refused = false;
    while let Some(cause) = source {
        if let Some(e) = cause.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
            refused = matches!(
                e,
                StreamableHttpError::AuthRequired(_) | StreamableHttpError::InsufficientScope(_)
            );
        }
        refused |= cause.to_string().contains("Auth required");
        source = cause.source();
    }
    if !refused {
        return String::new();
    }
    let name = &policy.name;
    match &policy.transport {
        McpTransport::Remote(remote) => match &remote.credential {
            Some(c) => format!(
                "; the server refused the token from `{}`: check that it is current and meant \
                 for this server",
                c.env
            ),
            None => format!(
                "; the server asks for a token: add [mcp.{name}.secret] with env = \"VAR\" \
                 naming the variable that holds it (OAuth sign-in is not supported yet)"
            ),
        },
        McpTransport::Local(_) => String::new(),
    }
}

/// An error with its sources (`a: b: c`), each said once: rmcp's transport errors keep
/// the reason (a refused redirect, a refused connection) in the source.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = without_type_names(&error.to_string());
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

/// rmcp names its transport's Rust type in errors (`Transport [rmcp::…<…>] error`): noise
/// to a user, so it goes.
fn without_type_names(text: &str) -> String {
    let mut out = text.to_string();
    while let Some(start) = out.find(" [rmcp::") {
        let mut depth = 0usize;
        let mut end = None;
        for (i, c) in out[start + 1..].char_indices() {
            match c {
                '[' => depth += 1,
                ']' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(start + 1 + i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        out.replace_range(start..end, "");
    }
    out
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
            // Results are redacted before they are cut; failures here.
            self.call_tool(name, arguments)
                .await
                .map_err(|mut failure| {
                    self.redactor.redact_string(&mut failure.message);
                    failure
                })
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rust_type_names_leave_rmcp_errors() {
        let text = "Send message error Transport [rmcp::transport::worker::WorkerTransport<rmcp::X<[u8]>>] error: Auth required";
        assert_eq!(
            super::without_type_names(text),
            "Send message error Transport error: Auth required"
        );
        assert_eq!(super::without_type_names("plain [text]"), "plain [text]");
    }
}
