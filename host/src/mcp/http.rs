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
//!   allowed that origin. MCP clients that are not browsers send none. No CORS preflight is
//!   answered, so a web page on another origin cannot call in even when its origin is
//!   allowed; a browser client goes through a proxy that answers CORS on its behalf.
//! - **Limits**: a request body over [`HttpOptions::max_body_bytes`] gets 413; more than
//!   [`HttpOptions::max_pending`] requests in flight (an open SSE stream counts until it
//!   ends) get 503 with `Retry-After`; with sessions, an `initialize` beyond
//!   [`HttpOptions::max_sessions`] open sessions gets 503, and a session unused for
//!   [`HttpOptions::session_idle`] is closed; calls beyond the server's `max_calls` wait
//!   for a slot, and beyond its `max_waiting` are refused as overloaded.
//! - **`GET /healthz`** (no token needed, it tells nothing but counts): 200 while serving;
//!   while draining the listener is closed (new connections are refused, so a load
//!   balancer routes elsewhere) and a probe on a connection already open gets 503.
//! - **Graceful shutdown**: when `shutdown` resolves the server stops accepting
//!   connections, answers new requests on open ones with 503, lets the calls in flight
//!   (running or waiting) finish for up to [`HttpOptions::drain`], then ends whatever is
//!   left, open session streams included.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http_body_util::BodyExt;
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
/// Sessions open at once beyond which a new `initialize` gets 503 (sessions mode).
pub const DEFAULT_MAX_SESSIONS: usize = 256;
/// How long a session lives without a request or a message from the server: long enough
/// for a call under a generous policy deadline, short enough that a client that vanished
/// gives its session back.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
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
    pub max_sessions: usize,
    pub session_idle: Duration,
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
            max_sessions: DEFAULT_MAX_SESSIONS,
            session_idle: DEFAULT_SESSION_IDLE,
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
    /// Requests in flight, counted until their response body (an SSE stream too) ends.
    pending: Arc<AtomicUsize>,
    max_pending: usize,
    /// The open sessions, when there are sessions.
    sessions: Option<Arc<LocalSessionManager>>,
    max_sessions: usize,
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
    let config = protocol_config(&options, addr, ended.clone());
    let (protocol, sessions) = if options.stateless {
        let config = config
            .with_legacy_session_mode(false)
            .with_json_response(true);
        let manager = Arc::new(NeverSessionManager::default());
        let service = {
            let server = server.clone();
            StreamableHttpService::new(move || Ok(server.clone()), manager, config)
        };
        (Router::new().route_service(MCP_PATH, service), None)
    } else {
        let mut manager = LocalSessionManager::default();
        manager.session_config.keep_alive = Some(options.session_idle);
        let manager = Arc::new(manager);
        let config = config.with_legacy_session_mode(true);
        let service = {
            let server = server.clone();
            StreamableHttpService::new(move || Ok(server.clone()), manager.clone(), config)
        };
        (
            Router::new().route_service(MCP_PATH, service),
            Some(manager),
        )
    };
    let gate = Arc::new(Gate {
        token: options.token.as_ref().map(|t| t.as_bytes().to_vec()),
        server: server.clone(),
        draining: AtomicBool::new(false),
        pending: Arc::new(AtomicUsize::new(0)),
        max_pending: options.max_pending,
        sessions,
        max_sessions: options.max_sessions,
    });
    let app = protocol
        .route_layer(middleware::from_fn_with_state(gate.clone(), guard))
        .route(HEALTH_PATH, get(health))
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
    let serving = axum::serve(listener, app)
        .with_graceful_shutdown(signal)
        .into_future();
    tokio::pin!(serving);
    // Serve until told to stop.
    tokio::select! {
        served = &mut serving => {
            served.map_err(HttpError::Serve)?;
            ended.cancel();
            return Ok(Stopped { abandoned: 0 });
        }
        () = draining.cancelled() => {}
    }
    // Draining: wait for the calls in flight (running or waiting for a slot) to end, or
    // for the drain time to run out. Every connection closing ends it too.
    let mut closed = false;
    let abandoned = tokio::select! {
        served = &mut serving => {
            served.map_err(HttpError::Serve)?;
            closed = true;
            0
        }
        () = calls_ended(&server) => 0,
        () = tokio::time::sleep(options.drain) => server.calls_in_flight(),
    };
    if !closed {
        // The last answers are on their way out: give them a moment, then end every
        // stream and call still open (a session's GET stream would otherwise hold its
        // connection open).
        if tokio::time::timeout(ANSWER_GRACE, &mut serving)
            .await
            .is_err()
        {
            ended.cancel();
            let _ = tokio::time::timeout(ANSWER_GRACE, &mut serving).await;
        }
    }
    ended.cancel();
    Ok(Stopped { abandoned })
}

/// How long answers already computed get to reach their clients once a drain ends.
const ANSWER_GRACE: Duration = Duration::from_millis(500);

/// Resolves when no call is running or waiting.
async fn calls_ended(server: &McpServer) {
    let mut poll = tokio::time::interval(Duration::from_millis(20));
    while server.calls_in_flight() > 0 {
        poll.tick().await;
    }
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
    if let Some(sessions) = &gate.sessions
        && request.method() == Method::POST
        && !request.headers().contains_key(SESSION_HEADER)
        && sessions.sessions.read().await.len() >= gate.max_sessions
    {
        return retry_later(&format!(
            "the server has {} sessions open, its limit (--max-sessions); close one \
             (DELETE with its Mcp-Session-Id) or retry shortly",
            gate.max_sessions
        ));
    }
    let pending = Pending::count(&gate.pending);
    if pending.before >= gate.max_pending {
        return retry_later(&format!(
            "the server has {} requests in flight, its limit (--max-pending); retry shortly",
            gate.max_pending
        ));
    }
    // The request counts until its body is sent: an SSE stream holds it as long as it runs.
    next.run(request).await.map(|body| {
        Body::new(body.map_frame(move |frame| {
            let _ = &pending;
            frame
        }))
    })
}

/// The header that names a session.
const SESSION_HEADER: &str = "mcp-session-id";

/// One request in the count of requests in flight, taken off when dropped.
struct Pending {
    count: Arc<AtomicUsize>,
    before: usize,
}

impl Pending {
    fn count(count: &Arc<AtomicUsize>) -> Self {
        let before = count.fetch_add(1, Ordering::SeqCst);
        Self {
            count: count.clone(),
            before,
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `Authorization: Bearer TOKEN`, the scheme in any case (RFC 7235), the token exactly.
fn bearer_matches(request: &Request, token: &[u8]) -> bool {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return false;
    };
    let value = value.as_bytes();
    let Some((scheme, given)) = value.split_at_checked(7) else {
        return false;
    };
    scheme.eq_ignore_ascii_case(b"bearer ") && bool::from(given.ct_eq(token))
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
        "calls_waiting": gate.server.calls_in_flight().saturating_sub(gate.server.calls_running()),
        "max_calls": gate.server.max_calls(),
        "requests_in_flight": gate.pending.load(Ordering::SeqCst),
        "sessions": match &gate.sessions {
            Some(sessions) => json!(sessions.sessions.read().await.len()),
            None => json!(null),
        },
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
