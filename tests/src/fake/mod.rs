//! Loopback fakes of the provider APIs, for end-to-end tests and benchmarks that run the
//! real `wasmhost` binary with the real provider plugins over real HTTP.
//!
//! Each fake ([`openai::FakeOpenAi`], [`anthropic::FakeAnthropic`]) serves `127.0.0.1` on
//! a free port from its own thread and runtime until dropped, and:
//!
//! - answers each chat request with the next [`Reply`] of its script, as the API's JSON or,
//!   for `"stream": true`, as the API's SSE stream in the documented event order, with
//!   text and tool-call arguments split over many events; faults (HTTP errors, delays,
//!   cut streams, malformed JSON, in-stream errors) are replies too;
//! - records every request ([`Recorded`]) and checks it against the API's documented
//!   rules: path, content type, credential, body shape, tool calls each answered exactly
//!   once. Each problem is a [violation](Fake::violations), answered with the API's error
//!   (401 for the credential, 404 for an unknown path, 400 otherwise) and without using a
//!   scripted reply; an empty script is a violation answered with a 500.
//!
//! ```
//! use wasmhost_e2e::fake::Reply;
//! use wasmhost_e2e::fake::openai::FakeOpenAi;
//!
//! let fake = FakeOpenAi::start([
//!     Reply::chat("").with_tool_call("call_1", "list_skills", "{}"),
//!     Reply::chat("There are two skills."),
//! ]);
//! // … run `wasmhost` against fake.base_url() with FakeOpenAi::KEY …
//! fake.assert_no_violations();
//! assert!(fake.chat_requests().iter().all(|r| r.body["model"].is_string()));
//! ```

mod body;
mod dialect;
mod handler;
mod json;
mod recorded;
mod reply;
mod server;
mod sse;

pub mod anthropic;
pub mod openai;

#[cfg(test)]
mod tests;

pub use handler::{MAX_BODY_BYTES, MAX_REQUESTS};
pub use recorded::Recorded;
pub use reply::{ChatReply, Reasoning, Reply, ToolCall, Usage};
pub use server::Fake;
