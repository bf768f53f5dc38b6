//! A remote MCP server over Streamable HTTP: rmcp's client on a reqwest client the host
//! builds, so that the user's policy, not the server, decides where requests go and what
//! they carry.
//!
//! - **Egress gate.** The client reaches the origin of `url`; a redirect is followed only
//!   to the same origin or a host in `allowed_hosts`, and never off the origin while a
//!   credential is configured. A refused redirect is recorded and named in the error the
//!   caller sees.
//! - **Credential broker.** The token is a sensitive default header of this client only:
//!   rmcp, the transcript and the model never hold it, and the session's [`Redactor`]
//!   replaces it in anything the server sends back.
//! - **Bounds.** Connecting takes at most [`CONNECT_TIMEOUT`]; rmcp caps one JSON
//!   response and one SSE event (16 MiB each by default); each call has the policy's
//!   deadline.
//!
//! [`Redactor`]: crate::policy::Redactor

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

use super::McpClientError;
use crate::policy::{HostPattern, Origin, RemoteMcpServer};

/// Connecting longer than this means the server is not there.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects followed for one request (each one checked against the gate).
pub const MAX_REDIRECTS: usize = 5;
/// Refusals kept for error messages.
const KEPT_REFUSALS: usize = 8;

/// Requests the gate refused, newest last.
#[derive(Debug, Clone, Default)]
pub struct Refusals(Arc<Mutex<Vec<String>>>);

impl Refusals {
    fn push(&self, refusal: String) {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() == KEPT_REFUSALS {
            kept.remove(0);
        }
        kept.push(refusal);
    }

    /// `"; refused: …"` for each refusal, or nothing.
    pub fn describe(&self) -> String {
        let kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.iter().map(|r| format!("; refused: {r}")).collect()
    }
}

/// What decides whether a redirect is followed.
struct Gate {
    server: String,
    origin: Origin,
    allowed: Vec<HostPattern>,
    has_credential: bool,
    refusals: Refusals,
}

impl Gate {
    fn check(&self, url: &reqwest::Url) -> Result<(), String> {
        let scheme = url.scheme();
        let host = url
            .host_str()
            .unwrap_or("")
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = url.port();
        let shown = redirect_target(url);
        if !self.allowed.iter().any(|p| p.allows(scheme, host, port)) {
            return Err(format!(
                "MCP server `{}` redirected the client to {shown}, which is not allowed; \
                 add the host to `allowed_hosts` in [mcp.{}] if you trust it",
                self.server, self.server
            ));
        }
        if self.has_credential && !self.origin.matches(scheme, host, port) {
            return Err(format!(
                "MCP server `{}` redirected the client to {shown}, another origin than {}; \
                 the token is sent only to the url's origin, so the redirect is not followed",
                self.server, self.origin
            ));
        }
        Ok(())
    }
}

/// A redirect target as shown in a refusal: scheme, host, port and path, never the query
/// (which may carry anything).
fn redirect_target(url: &reqwest::Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or("?"));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    shown
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A redirect the gate refused (the error reqwest hands on).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

/// The transport to `remote`, and where its refusals are kept.
pub fn connect(
    name: &str,
    remote: &RemoteMcpServer,
) -> Result<(StreamableHttpClientTransport<reqwest::Client>, Refusals), McpClientError> {
    let fail = |reason: String| McpClientError::Protocol {
        server: name.to_string(),
        what: "set up its HTTP client",
        reason,
        tail: String::new(),
    };
    let refusals = Refusals::default();
    let credential = remote
        .credential
        .as_ref()
        .and_then(|c| c.value.as_ref().map(|v| (c, v)));
    let gate = Arc::new(Gate {
        server: name.to_string(),
        origin: remote.origin.clone(),
        allowed: remote.allowed_hosts.clone(),
        has_credential: credential.is_some(),
        refusals: refusals.clone(),
    });
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            let refusal = format!(
                "MCP server `{}` redirected the client more than {MAX_REDIRECTS} times",
                gate.server
            );
            gate.refusals.push(refusal.clone());
            return attempt.error(Refused(refusal));
        }
        match gate.check(attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(refusal) => {
                gate.refusals.push(refusal.clone());
                attempt.error(Refused(refusal))
            }
        }
    });
    let mut headers = HeaderMap::new();
    if let Some((credential, value)) = credential {
        let name = HeaderName::from_bytes(credential.header.as_bytes())
            .map_err(|e| fail(format!("the credential header: {e}")))?;
        let mut value = HeaderValue::from_str(&format!("{}{}", credential.prefix, value.expose()))
            .map_err(|_| fail(format!("`{}` does not fit in a header", credential.env)))?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config().map_err(|e| fail(format!("TLS: {e}")))?)
        .redirect(redirects)
        .default_headers(headers)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("wasmhost/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let config = StreamableHttpClientTransportConfig::with_uri(remote.url.clone())
        // A server that restarted (its session gone, HTTP 404) is joined again: the
        // request it did not process is sent once more.
        .reinit_on_expired_session(true);
    Ok((
        StreamableHttpClientTransport::with_client(client, config),
        refusals,
    ))
}

/// rustls with the ring provider and the system's trust store.
fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(allowed: &[&str], has_credential: bool) -> Gate {
        let origin = Origin::of_url("https://mcp.example.com/mcp").expect("origin");
        let mut patterns = vec![HostPattern::for_origin(&origin)];
        patterns.extend(
            allowed
                .iter()
                .map(|a| HostPattern::parse(a).expect("pattern")),
        );
        Gate {
            server: "ex".into(),
            origin,
            allowed: patterns,
            has_credential,
            refusals: Refusals::default(),
        }
    }

    fn url(text: &str) -> reqwest::Url {
        reqwest::Url::parse(text).expect("url")
    }

    #[test]
    fn redirects_stay_on_the_origin_or_the_named_hosts() {
        let g = gate(&["other.example.com"], false);
        assert!(g.check(&url("https://mcp.example.com/v2/mcp")).is_ok());
        assert!(g.check(&url("https://other.example.com/mcp")).is_ok());
        let err = g
            .check(&url("https://evil.example/steal?x=secret"))
            .expect_err("not allowed");
        assert!(err.contains("https://evil.example/steal") && err.contains("allowed_hosts"));
        assert!(!err.contains("secret"), "the query is not shown: {err}");
        assert!(
            g.check(&url("http://mcp.example.com/mcp")).is_err(),
            "no downgrade"
        );
        assert!(g.check(&url("https://mcp.example.com:8443/mcp")).is_err());
    }

    #[test]
    fn with_a_token_no_redirect_leaves_the_origin() {
        let g = gate(&["other.example.com"], true);
        assert!(g.check(&url("https://mcp.example.com/v2")).is_ok());
        let err = g
            .check(&url("https://other.example.com/mcp"))
            .expect_err("the token would follow");
        assert!(err.contains("only to the url's origin"), "{err}");
    }

    #[test]
    fn refusals_are_bounded_and_described() {
        let r = Refusals::default();
        assert_eq!(r.describe(), "");
        for i in 0..20 {
            r.push(format!("r{i}"));
        }
        let text = r.describe();
        assert!(
            text.contains("r19")
                && !text.contains("r11;")
                && text.matches("refused").count() == KEPT_REFUSALS
        );
    }
}
