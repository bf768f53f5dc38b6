//! Outbound HTTP (`wasi:http`) for a plugin: every request passes the policy's host
//! allowlist, and the host adds the plugin's credential header itself, only on requests to
//! the origin (scheme, host, port) the secret is bound to, so keys never enter the sandbox.
//! A plugin that learned its key anyway (from a server that echoes headers) cannot send it
//! on in a URL or another header: such a request is refused.

use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use super::Denials;
use crate::policy::{Denial, PluginPolicy};

/// Connecting longer than this means the server is not there; wasi-http's own default is
/// ten minutes.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `WasiHttpHooks` of one plugin instance.
pub struct HttpGate {
    policy: Arc<PluginPolicy>,
    denials: Denials,
}

impl HttpGate {
    pub fn new(policy: Arc<PluginPolicy>, denials: Denials) -> Self {
        Self { policy, denials }
    }

    fn authorize(&self, request: &mut http::Request<WasiBody>) -> Result<(), Denial> {
        let uri = request.uri().clone();
        let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) else {
            return Err(Denial {
                plugin: self.policy.name.clone(),
                capability: crate::policy::Capability::MalformedHttpTarget(uri.to_string()),
            });
        };
        let port = uri.port_u16();
        self.policy.check_outbound(scheme, host, port)?;
        if let Some(secret) = &self.policy.secret
            && carries_secret(request, secret.value.expose())
        {
            return Err(Denial {
                plugin: self.policy.name.clone(),
                capability: crate::policy::Capability::ResendSecret {
                    scheme: scheme.to_string(),
                    host: host.to_string(),
                    port,
                },
            });
        }
        inject_secret(&self.policy, request, scheme, host, port);
        Ok(())
    }
}

/// Whether the plugin put its own secret in the URL or a header of a request.
fn carries_secret(request: &http::Request<WasiBody>, secret: &str) -> bool {
    request.uri().to_string().contains(secret)
        || request.headers().values().any(|v| {
            v.as_bytes()
                .windows(secret.len())
                .any(|w| w == secret.as_bytes())
        })
}

/// Adds the credential header when the request goes to the host the secret is bound to,
/// and strips a header of that name otherwise, so a plugin cannot learn the secret's
/// shape from what it sends elsewhere.
fn inject_secret(
    policy: &PluginPolicy,
    request: &mut http::Request<WasiBody>,
    scheme: &str,
    host: &str,
    port: Option<u16>,
) {
    let Some(secret) = &policy.secret else {
        return;
    };
    let Ok(name) = HeaderName::from_bytes(secret.header.as_bytes()) else {
        return;
    };
    let headers = request.headers_mut();
    headers.remove(&name);
    if secret.origin.matches(scheme, host, port) {
        let text = format!("{}{}", secret.prefix, secret.value.expose());
        if let Ok(mut value) = HeaderValue::from_str(&text) {
            value.set_sensitive(true);
            headers.insert(name, value);
        }
    }
}

impl WasiHttpHooks for HttpGate {
    /// A request body is buffered a chunk at a time (one in flight, one queued): a guest
    /// that opens many bodies and never sends them holds little host memory.
    fn p2_outgoing_body_chunk_size(&mut self) -> usize {
        crate::policy::HTTP_BODY_CHUNK_BYTES
    }

    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                    ),
                    HttpError,
                >,
            > + Send,
    > {
        _ = fut;
        if let Err(denial) = self.authorize(&mut request) {
            self.denials.push(denial);
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let mut options = options.unwrap_or_default();
        options.connect_timeout = Some(
            options
                .connect_timeout
                .map_or(CONNECT_TIMEOUT, |t| t.min(CONNECT_TIMEOUT)),
        );
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) =
                wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = Result<(), HttpError>> + Send>,
            ))
        })
    }
}
