//! A small blocking HTTP client over `wasi:http/outgoing-handler`: build a request, send it,
//! read the status and headers, then the body whole or chunk by chunk.
//!
//! Blocking on the wasi pollables is deliberate: the host runs every plugin call under its
//! own deadline, so a hung server ends the call rather than the conversation. Failures come
//! back as `provider-error`s ([`errors::from_transport`]); nothing here panics on what a
//! server sends. The credential header is never set here: the host adds it.

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse,
    Method as WasiMethod, OutgoingBody, OutgoingRequest, Scheme as WasiScheme,
};
use wasip2::io::streams::{InputStream, StreamError};

use crate::errors;
use crate::llm_types::ProviderError;
use crate::stream::ByteSource;
use crate::url::{Scheme, Target};

/// [`Response::bytes`] refuses bodies larger than this: no API answer is that big, and the
/// plugin's memory is limited.
pub const MAX_BODY_BYTES: usize = 32 << 20;

/// How much one read asks for: a streamed body usually delivers much less at a time.
const READ_CHUNK: u64 = 64 * 1024;

/// `blocking-write-and-flush` takes at most this much per call.
const WRITE_CHUNK: usize = 4096;

/// Header names and values; names are compared case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a header, keeping any earlier one of the same name.
    pub fn append(&mut self, name: &str, value: &str) {
        self.0.push((name.to_ascii_lowercase(), value.to_owned()));
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut headers = Self::new();
        for (name, value) in pairs {
            headers.append(name.as_ref(), value.as_ref());
        }
        headers
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// An outgoing request to an absolute URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Method,
    pub url: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

impl Request {
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: Method::Get,
            url: url.into(),
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// A POST of `body` as `application/json`.
    pub fn post_json(url: impl Into<String>, body: &serde_json::Value) -> Self {
        let mut request = Self {
            method: Method::Post,
            url: url.into(),
            headers: Headers::new(),
            body: body.to_string().into_bytes(),
        };
        request.headers.append("content-type", "application/json");
        request
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Sends the request and waits for the status and headers; the body is read later.
    pub fn send(self) -> Result<Response, ProviderError> {
        let target = Target::parse(&self.url).map_err(|e| ProviderError::Other(e.to_string()))?;
        let url = self.url;
        let fail = |code: ErrorCode| errors::from_transport(&code, &url, &target.authority);
        let refused = |what: &str| {
            ProviderError::Other(format!(
                "the host refused the {what} of the request to {url}"
            ))
        };

        let fields = Fields::new();
        for (name, value) in self.headers.iter() {
            fields
                .append(name, value.as_bytes())
                .map_err(|e| refused(&format!("header `{name}` ({e:?})")))?;
        }
        let has_body = self.method == Method::Post || !self.body.is_empty();
        if has_body {
            let length = self.body.len().to_string();
            fields
                .set("content-length", &[length.into_bytes()])
                .map_err(|_| refused("content-length"))?;
        }
        let request = OutgoingRequest::new(fields);
        let method = match self.method {
            Method::Get => WasiMethod::Get,
            Method::Post => WasiMethod::Post,
        };
        let scheme = match target.scheme {
            Scheme::Http => WasiScheme::Http,
            Scheme::Https => WasiScheme::Https,
        };
        request
            .set_method(&method)
            .map_err(|()| refused("method"))?;
        request
            .set_scheme(Some(&scheme))
            .map_err(|()| refused("scheme"))?;
        request
            .set_authority(Some(&target.authority))
            .map_err(|()| refused("host"))?;
        request
            .set_path_with_query(Some(&target.path_with_query))
            .map_err(|()| refused("path"))?;
        let outgoing_body = if has_body {
            Some(request.body().map_err(|()| refused("body"))?)
        } else {
            None
        };

        // Send first, then write: the host only drains the body once the request is on its
        // way, so writing a large body before `handle` could wait forever.
        let future = outgoing_handler::handle(request, None).map_err(fail)?;
        if let Some(outgoing_body) = outgoing_body {
            // A failed write shows up as the response's error (refused, reset, denied), which
            // says more than the stream error; a server that answers anyway (413) is fine.
            let _ = write_body(outgoing_body, &self.body);
        }
        let response = wait(&future).map_err(fail)?;
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
            .collect();
        let body = Body::open(response, url.clone(), target.authority.clone());
        Ok(Response {
            status,
            headers,
            body,
            url,
        })
    }
}

fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<(), ErrorCode> {
    {
        let stream = body
            .write()
            .map_err(|()| ErrorCode::InternalError(Some("body stream already taken".into())))?;
        for chunk in bytes.chunks(WRITE_CHUNK) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| stream_error_code(&e))?;
        }
        // The stream, a child of the body, is dropped here, before `finish`.
    }
    OutgoingBody::finish(body, None)
}

fn wait(future: &FutureIncomingResponse) -> Result<IncomingResponse, ErrorCode> {
    future.subscribe().block();
    match future.get() {
        Some(Ok(result)) => result,
        Some(Err(())) => Err(ErrorCode::InternalError(Some(
            "response already taken".into(),
        ))),
        None => Err(ErrorCode::InternalError(Some(
            "no response after waiting".into(),
        ))),
    }
}

fn stream_error_code(error: &StreamError) -> ErrorCode {
    match error {
        StreamError::Closed => ErrorCode::ConnectionTerminated,
        StreamError::LastOperationFailed(e) => wasip2::http::types::http_error_code(e)
            .unwrap_or_else(|| ErrorCode::InternalError(Some(e.to_debug_string()))),
    }
}

/// A response whose status and headers have arrived.
#[derive(Debug)]
pub struct Response {
    status: u16,
    headers: Headers,
    body: Body,
    url: String,
}

impl Response {
    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// True when the body is declared `application/json` (not an event stream).
    pub fn is_json(&self) -> bool {
        self.headers.get("content-type").is_some_and(|t| {
            let media_type = t.split(';').next().unwrap_or_default().trim();
            media_type.eq_ignore_ascii_case("application/json")
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The whole body, up to [`MAX_BODY_BYTES`].
    pub fn bytes(self) -> Result<Vec<u8>, ProviderError> {
        let mut body = self.body;
        let mut all = Vec::new();
        while let Some(chunk) = body.read_chunk()? {
            all.extend_from_slice(&chunk);
            if all.len() > MAX_BODY_BYTES {
                return Err(ProviderError::Other(format!(
                    "the response from {} is larger than {} MiB",
                    self.url,
                    MAX_BODY_BYTES >> 20
                )));
            }
        }
        Ok(all)
    }

    /// The body, to read chunk by chunk.
    pub fn into_body(self) -> Body {
        self.body
    }
}

/// A response body being read. Dropping it closes the stream.
#[derive(Debug)]
pub struct Body {
    // Field order is drop order: the stream is a child of the body and must go first.
    stream: Option<InputStream>,
    body: Option<IncomingBody>,
    url: String,
    authority: String,
}

impl Body {
    fn open(response: IncomingResponse, url: String, authority: String) -> Self {
        let body = response.consume().ok();
        let stream = body.as_ref().and_then(|b| b.stream().ok());
        Self {
            stream,
            body,
            url,
            authority,
        }
    }

    fn close(&mut self) {
        self.stream = None;
        self.body = None;
    }
}

impl ByteSource for Body {
    /// The next bytes, blocking until some arrive; `None` at the end of the body.
    fn read_chunk(&mut self) -> Result<Option<Vec<u8>>, ProviderError> {
        loop {
            let Some(stream) = &self.stream else {
                return Ok(None);
            };
            match stream.blocking_read(READ_CHUNK) {
                Ok(bytes) if bytes.is_empty() => continue,
                Ok(bytes) => return Ok(Some(bytes)),
                Err(StreamError::Closed) => {
                    self.close();
                    return Ok(None);
                }
                Err(StreamError::LastOperationFailed(e)) => {
                    self.close();
                    return Err(match wasip2::http::types::http_error_code(&e) {
                        Some(code) => errors::from_transport(&code, &self.url, &self.authority),
                        // wasmtime reports a connection that died mid-body as a plain I/O
                        // error: still a network failure worth a retry.
                        None => ProviderError::Network(format!(
                            "the response from {} broke off: {}",
                            self.url,
                            errors::first_line(&e.to_debug_string())
                        )),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_case_insensitive_and_keep_order() {
        let headers: Headers = [("Retry-After", "3"), ("x-a", "1"), ("X-A", "2")]
            .into_iter()
            .collect();
        assert_eq!(headers.get("retry-after"), Some("3"));
        assert_eq!(headers.get("x-a"), Some("1"));
        assert_eq!(headers.get("missing"), None);
        assert_eq!(headers.iter().count(), 3);
    }

    #[test]
    fn post_json_sets_the_content_type_and_never_a_credential() {
        let request =
            Request::post_json("http://h/v1/chat/completions", &serde_json::json!({"a": 1}))
                .header("anthropic-version", "2023-06-01");
        assert_eq!(request.method, Method::Post);
        assert_eq!(request.body, br#"{"a":1}"#);
        assert_eq!(
            request.headers.get("content-type"),
            Some("application/json")
        );
        assert_eq!(request.headers.get("anthropic-version"), Some("2023-06-01"));
        assert_eq!(request.headers.get("authorization"), None);
    }
}
