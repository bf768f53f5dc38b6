//! Outbound HTTP (`wasi:http`) for a plugin: every request passes the policy's host
//! allowlist, and the host adds the plugin's credential header itself, only on requests to
//! the origin (scheme, host, port) the secret is bound to, so keys never enter the sandbox.
//! A plugin that learned its key anyway (from a server that echoes headers) cannot send it
//! on in a URL or another header: such a request is refused.

use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue};
use wasmtime::component::Linker;
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks,
    WasiHttpView,
};

use super::{Capability, Denials, PluginState, Prepare, StoreError};
use crate::policy::{Denial, HTTP_FIELDS_BYTES, PluginPolicy};

/// Connecting longer than this means the server is not there; wasi-http's own default is
/// ten minutes.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Per-instance state of outbound HTTP: wasi-http's context and the gate every request
/// passes.
pub struct Http {
    ctx: WasiHttpCtx,
    gate: HttpGate,
}

impl Capability for Http {
    fn prepare(instance: &Prepare<'_>) -> Result<Self, StoreError> {
        let mut ctx = WasiHttpCtx::new();
        // Each header set the guest builds is bounded (the table bounds how many).
        ctx.set_field_size_limit(HTTP_FIELDS_BYTES);
        Ok(Self {
            ctx,
            gate: HttpGate::new(instance.policy.clone(), instance.denials.clone()),
        })
    }

    fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)
    }
}

impl WasiHttpView for PluginState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.caps.http.ctx,
            table: &mut self.table,
            hooks: &mut self.caps.http.gate,
        }
    }
}

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
        // Exactly `http` or `https`, as wasi-http decides plain text or TLS by it.
        let scheme = uri.scheme_str().filter(|s| matches!(*s, "http" | "https"));
        let (Some(scheme), Some(host)) = (scheme, uri.host()) else {
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

/// Whether the plugin put its own secret in the URL (as it is, or percent-encoded) or a
/// header of a request.
fn carries_secret(request: &http::Request<WasiBody>, secret: &str) -> bool {
    let uri = request.uri().to_string();
    uri.contains(secret)
        || percent_decoded(&uri).contains(secret)
        || request.headers().values().any(|v| {
            v.as_bytes()
                .windows(secret.len())
                .any(|w| w == secret.as_bytes())
        })
}

/// `%XX` escapes decoded (lossily: for finding a secret, not for use).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, header: Option<&str>) -> http::Request<WasiBody> {
        use http_body_util::BodyExt as _;
        let mut builder = http::Request::builder().uri(uri);
        if let Some(value) = header {
            builder = builder.header("x-note", value);
        }
        builder
            .body(
                http_body_util::Empty::new()
                    .map_err(|never| match never {})
                    .boxed_unsync(),
            )
            .expect("request")
    }

    #[test]
    fn a_secret_in_a_url_or_header_is_found_even_percent_encoded() {
        let secret = "sk-live/0123+456";
        assert!(carries_secret(
            &request("http://x/?k=sk-live/0123+456", None),
            secret
        ));
        assert!(carries_secret(
            &request("http://x/?k=sk-live%2F0123%2B456", None),
            secret
        ));
        assert!(carries_secret(
            &request("http://x/", Some("a sk-live/0123+456")),
            secret
        ));
        assert!(!carries_secret(
            &request("http://x/?k=sk-live", None),
            secret
        ));
        assert_eq!(percent_decoded("a%41%zz%4"), "aA%zz%4");
    }
}
