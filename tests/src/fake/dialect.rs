//! What differs between the provider APIs: paths, credential header, request rules, error
//! bodies and the rendering of a reply. Everything else (serving, recording, the script,
//! faults) is shared and lives in the server and handler modules.
//!
//! The trait is public only so it can bound [`Fake`](super::Fake); it lives in a private
//! module, so only this crate implements it.

use serde_json::Value;

use super::recorded::Recorded;
use super::reply::ChatReply;

/// The two endpoints every fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Chat,
    Models,
}

/// The kinds of error a fake answers with on its own (not scripted ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// A request the real API would reject: 400.
    InvalidRequest,
    /// Missing or wrong credential: 401, as the real APIs answer.
    Authentication,
    /// Unknown method or path: 404.
    NotFound,
    /// The fake itself cannot answer (script exhausted, request limit): 500.
    Server,
}

impl Fault {
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::Authentication => 401,
            Self::NotFound => 404,
            Self::Server => 500,
        }
    }
}

/// One chat request, as much of it as rendering needs.
#[derive(Debug, Clone)]
pub struct Call {
    /// 1-based number of the request to this fake, for unique ids.
    pub number: usize,
    /// The request's `model`, echoed in the response like the real APIs do.
    pub model: String,
    pub stream: bool,
    /// The whole request body, for dialect-specific options (`stream_options`).
    pub body: Value,
}

pub trait Dialect: Send + Sync + 'static {
    /// The API's name, in messages.
    const NAME: &'static str;
    /// The key a fake expects unless told otherwise.
    const KEY: &'static str;
    /// The model list a fake serves unless told otherwise.
    const MODELS: &'static [&'static str];
    /// The header carrying the key (lower-case).
    const CREDENTIAL_HEADER: &'static str;
    /// The header the real API puts its request id in.
    const REQUEST_ID_HEADER: &'static str;

    /// The base URL a client is configured with.
    fn base_url(port: u16) -> String;
    /// Which endpoint a method and path are, if any.
    fn route(method: &str, path: &str) -> Option<Endpoint>;
    /// The key in a credential header's value, if the value has the documented form.
    fn presented_key(header: &str) -> Option<&str>;
    /// Problems with API-specific headers (not content-type or the credential).
    fn check_headers(request: &Recorded) -> Vec<(Fault, String)>;
    /// Problems with a chat request's body, each naming where it is.
    fn check_chat(body: &Value) -> Vec<String>;

    /// The API's error body.
    fn error_body(fault: Fault, message: &str) -> Value;
    /// The HTTP status the API uses for an error type (for a non-streamed stream error).
    fn error_type_status(error_type: &str) -> u16;
    /// The error body for an error type and message.
    fn typed_error_body(error_type: &str, message: &str) -> Value;
    /// The model listing.
    fn models(ids: &[String]) -> Value;

    /// A completion as the non-streamed JSON body.
    fn chat_json(reply: &ChatReply, call: &Call) -> Value;
    /// A completion as SSE events, terminator included.
    fn chat_events(reply: &ChatReply, call: &Call) -> Vec<String>;
    /// The in-band error event of a failing stream.
    fn stream_error_event(error_type: &str, message: &str) -> String;
    /// A stream that opens normally, then has a data line that is not JSON.
    fn malformed_events(call: &Call) -> Vec<String>;
}
