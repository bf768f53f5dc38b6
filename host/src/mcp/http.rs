//! `wasmhost mcp --listen`: the MCP server over Streamable HTTP, for deployments.
//!
//! rmcp's tower service speaks the protocol at [`MCP_PATH`] (and checks the `Host` header,
//! the `Origin` header and the body size); axum routes, gates and shuts down around it:
//!
//! - **Sessions or none**: by default a client's `initialize` opens a session
//!   (`Mcp-Session-Id`), so `notifications/cancelled` reaches the call it names. With
//!   [`HttpOptions::stateless`] there are no sessions, every POST is answered on its own
//!   (JSON, or a short SSE stream when a call reports progress), so instances behind a
//!   plain load balancer are interchangeable; a call is then cancelled by closing its
//!   request (a `notifications/cancelled` on another POST has no session to find it in).
//! - **Bearer token**: with [`HttpOptions::token`] every request to [`MCP_PATH`] must carry
//!   `Authorization: Bearer TOKEN` (compared in constant time); an address that is not
//!   loopback is refused without one ([`HttpError::TokenRequired`]).
//! - **DNS rebinding**: on loopback only loopback `Host` names are served (plus the ones
//!   the user names); a request with an `Origin` header is refused (403) unless the user
//!   allowed that origin. MCP clients that are not browsers send none.
//! - **Limits**: a request body over [`HttpOptions::max_body_bytes`] gets 413; more than
//!   [`HttpOptions::max_pending`] requests in flight get 503 with `Retry-After`; calls
//!   beyond the server's `max_calls` wait for a slot.
//! - **`GET /healthz`** (no token needed, it tells nothing but counts): 200 while serving,
//!   503 while draining, so an orchestrator stops routing here.
//! - **Graceful shutdown**: when `shutdown` resolves the server stops accepting, answers
//!   new requests with 503, lets the calls in flight finish for up to
//!   [`HttpOptions::drain`], then ends whatever is left.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::McpServer;

/// Where the protocol is served.
pub const MCP_PATH: &str = "/mcp";
/// Where orchestrators ask whether this instance takes work.
pub const HEALTH_PATH: &str = "/healthz";
/// The largest request body served unless told otherwise: above the 16 MiB a skill
/// script's input files may hold, with room for the JSON around them.
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Requests in flight (running or waiting for a call slot) beyond which new ones get 503.
pub const DEFAULT_MAX_PENDING: usize = 1024;
/// How long calls in flight may take to finish after a shutdown signal.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(30);
/// The shortest bearer token accepted: a guessable token is no protection.
pub const MIN_TOKEN_CHARS: usize = 16;

/// How the HTTP server is exposed and bounded.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Required as `Authorization: Bearer TOKEN` on every request to [`MCP_PATH`].
    pub token: Option<String>,
    /// `Host` names served besides the loopback ones (on loopback), or instead of no check
    /// at all (elsewhere, where the token is the protection).
    pub allowed_hosts: Vec<String>,
    /// Browser origins allowed to call (`https://app.example.com:443`, `http://localhost:*`);
    /// any other `Origin` header is refused.
    pub allowed_origins: Vec<String>,
    pub max_body_bytes: usize,
    pub max_pending: usize,
    pub drain: Duration,
    /// No sessions: any instance can answer any request.
    pub stateless: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            token: None,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_pending: DEFAULT_MAX_PENDING,
            drain: DEFAULT_DRAIN,
            stateless: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(
        "{addr} is not a loopback address, so anyone who can reach it could call the tools: \
         give a bearer token with --token-env VAR (at least {MIN_TOKEN_CHARS} characters), \
         or listen on 127.0.0.1"
    )]
    TokenRequired { addr: SocketAddr },
    #[error(
        "the bearer token has {chars} characters; use at least {MIN_TOKEN_CHARS} \
         (e.g. `openssl rand -hex 32`)"
    )]
    TokenTooShort { chars: usize },
    #[error("cannot read the listening address: {0}")]
    Address(#[source] std::io::Error),
    #[error("the HTTP server failed: {0}")]
    Serve(#[source] std::io::Error),
}

/// How a server that was told to stop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Calls still running when the drain time ran out (they were stopped).
    pub abandoned: usize,
}

/// What the gate in front of the protocol needs.
struct Gate {
    token: Option<Vec<u8>>,
    server: McpServer,
    draining: AtomicBool,
    pending: AtomicUsize,
    max_pending: usize,
}

/// Check options against the address they will be served on.
pub fn check(addr: SocketAddr, options: &HttpOptions) -> Result<(), HttpError> {
    match &options.token {
        Some(token) if token.chars().count() < MIN_TOKEN_CHARS => Err(HttpError::TokenTooShort {
            chars: token.chars().count(),
        }),
        None if !addr.ip().is_loopback() => Err(HttpError::TokenRequired { addr }),
        _ => Ok(()),
    }
}

/// Serve `server` on `listener` until `shutdown` resolves, then drain.
pub async fn serve(
    listener: TcpListener,
    server: McpServer,
    options: HttpOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Stopped, HttpError> {
    let addr = listener.local_addr().map_err(HttpError::Address)?;
    check(addr, &options)?;
    let ended = CancellationToken::new();
    let gate = Arc::new(Gate {
        token: options.token.as_ref().map(|t| t.as_bytes().to_vec()),
        server: server.clone(),
        draining: AtomicBool::new(false),
        pending: AtomicUsize::new(0),
        max_pending: options.max_pending,
    });
    let config = protocol_config(&options, addr, ended.clone());
    let app = Router::new().route(HEALTH_PATH, get(health));
    let app = if options.stateless {
        let sessions = Arc::new(NeverSessionManager::default());
        let config = config
            .with_legacy_session_mode(false)
            .with_json_response(true);
        app.route_service(
            MCP_PATH,
            StreamableHttpService::new(move || Ok(server.clone()), sessions, config),
        )
    } else {
        let sessions = Arc::new(LocalSessionManager::default());
        let config = config.with_legacy_session_mode(true);
        app.route_service(
            MCP_PATH,
            StreamableHttpService::new(move || Ok(server.clone()), sessions, config),
        )
    };
    let app = app
        .layer(middleware::from_fn_with_state(gate.clone(), guard))
        .with_state(gate.clone());

    let draining = CancellationToken::new();
    let signal = {
        let (gate, draining) = (gate.clone(), draining.clone());
        async move {
            shutdown.await;
            gate.draining.store(true, Ordering::SeqCst);
            draining.cancel();
        }
    };
    let serving = axum::serve(listener, app).with_graceful_shutdown(signal);
    let deadline = async {
        draining.cancelled().await;
        tokio::time::sleep(options.drain).await;
    };
    let abandoned = tokio::select! {
        served = serving => {
            served.map_err(HttpError::Serve)?;
            0
        }
        () = deadline => gate.server.calls_running(),
    };
    // Ends every stream and call still open.
    ended.cancel();
    Ok(Stopped { abandoned })
}

/// rmcp's Streamable HTTP settings: the Host/Origin/body checks.
fn protocol_config(
    options: &HttpOptions,
    addr: SocketAddr,
    ended: CancellationToken,
) -> StreamableHttpServerConfig {
    let config = StreamableHttpServerConfig::default()
        .with_cancellation_token(ended)
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_allowed_origins(options.allowed_origins.clone())
        .enforce_origin_validation();
    if addr.ip().is_loopback() {
        let mut hosts = config.allowed_hosts.clone();
        hosts.extend(options.allowed_hosts.iter().cloned());
        config.with_allowed_hosts(hosts)
    } else if options.allowed_hosts.is_empty() {
        config.disable_allowed_hosts()
    } else {
        config.with_allowed_hosts(options.allowed_hosts.clone())
    }
}

/// Token, drain and load checks in front of [`MCP_PATH`].
async fn guard(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    if request.uri().path() != MCP_PATH {
        return next.run(request).await;
    }
    if let Some(token) = &gate.token
        && !bearer_matches(&request, token)
    {
        let mut response = refusal(
            StatusCode::UNAUTHORIZED,
            "this server needs `Authorization: Bearer TOKEN` with the token it was started with",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"wasmhost\""),
        );
        return response;
    }
    if gate.draining.load(Ordering::SeqCst) {
        return retry_later("the server is shutting down; send this request to another instance");
    }
    let pending = gate.pending.fetch_add(1, Ordering::SeqCst);
    let _pending = Pending(&gate.pending);
    if pending >= gate.max_pending {
        return retry_later(&format!(
            "the server has {} requests in flight, its limit; retry shortly",
            gate.max_pending
        ));
    }
    next.run(request).await
}

/// Takes one off the count of requests in flight when dropped.
struct Pending<'a>(&'a AtomicUsize);

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn bearer_matches(request: &Request, token: &[u8]) -> bool {
    let Some(given) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.as_bytes().strip_prefix(b"Bearer "))
    else {
        return false;
    };
    given.ct_eq(token).into()
}

fn refusal(status: StatusCode, message: &str) -> Response {
    let body = json!({ "error": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn retry_later(message: &str) -> Response {
    let mut response = refusal(StatusCode::SERVICE_UNAVAILABLE, message);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

async fn health(State(gate): State<Arc<Gate>>) -> Response {
    let draining = gate.draining.load(Ordering::SeqCst);
    let body = json!({
        "status": if draining { "draining" } else { "ok" },
        "tools": gate.server.tools().len(),
        "calls_running": gate.server.calls_running(),
        "max_calls": gate.server.max_calls(),
    })
    .to_string();
    let status = if draining {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_token(token: Option<&str>) -> HttpOptions {
        HttpOptions {
            token: token.map(str::to_string),
            ..HttpOptions::default()
        }
    }

    #[test]
    fn only_loopback_goes_without_a_token_and_a_short_token_is_refused_everywhere() {
        let loopback: SocketAddr = "127.0.0.1:8808".parse().expect("addr");
        let v6_loopback: SocketAddr = "[::1]:8808".parse().expect("addr");
        let open: SocketAddr = "0.0.0.0:8808".parse().expect("addr");
        assert!(check(loopback, &with_token(None)).is_ok());
        assert!(check(v6_loopback, &with_token(None)).is_ok());
        assert!(matches!(
            check(open, &with_token(None)),
            Err(HttpError::TokenRequired { .. })
        ));
        let long = "0123456789abcdef";
        assert!(check(open, &with_token(Some(long))).is_ok());
        for addr in [loopback, open] {
            assert!(matches!(
                check(addr, &with_token(Some(&long[1..]))),
                Err(HttpError::TokenTooShort { chars: 15 })
            ));
        }
    }
}
