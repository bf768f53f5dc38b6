//! What every provider plugin needs and none should rewrite: an HTTP client over
//! `wasi:http/outgoing-handler` ([`http`]), a Server-Sent Events decoder ([`sse`]) and the
//! pull loop that turns a streamed body into `stream-event`s ([`stream`]), the mapping of
//! HTTP statuses, `Retry-After` and transport failures to `provider-error` ([`errors`]),
//! the `base-url` setting ([`config`]) and small wire-format helpers ([`wire`]).
//!
//! The WIT types of `wasmhost:plugin@0.2.0` (`llm-types`, `host`) are generated here once;
//! a plugin maps them onto these with wit-bindgen's `with`, and maps `wasi:*` onto the
//! [`wasip2`] crate this kit uses, so a plugin, the kit and the host calls share one set of
//! types:
//!
//! ```ignore
//! wit_bindgen::generate!({
//!     path: "../../wit/v0.2.0",
//!     world: "provider-plugin",
//!     with: {
//!         "wasmhost:plugin/host@0.2.0": provider_kit::host,
//!         "wasmhost:plugin/llm-types@0.2.0": provider_kit::llm_types,
//!         "wasi:http/types@0.2.12": provider_kit::wasip2::http::types,
//!         "wasi:http/outgoing-handler@0.2.12": provider_kit::wasip2::http::outgoing_handler,
//!         "wasi:io/error@0.2.12": provider_kit::wasip2::io::error,
//!         "wasi:io/poll@0.2.12": provider_kit::wasip2::io::poll,
//!         "wasi:io/streams@0.2.12": provider_kit::wasip2::io::streams,
//!         "wasi:clocks/monotonic-clock@0.2.12": provider_kit::wasip2::clocks::monotonic_clock,
//!     },
//! });
//! ```
//!
//! Everything but [`http::Request::send`], the body reads and the `host` calls is plain
//! Rust, so it runs natively under `cargo test -p provider-kit`:
//!
//! ```
//! use provider_kit::sse::Decoder;
//!
//! let mut sse = Decoder::new();
//! sse.feed(b"event: ping\ndata: {\"a\":");
//! sse.feed(b"1}\r\n\r\n");
//! let event = sse.next_event().unwrap();
//! assert_eq!((event.event.as_str(), event.data.as_str()), ("ping", "{\"a\":1}"));
//! ```

pub mod config;
pub mod errors;
pub mod http;
pub mod sse;
pub mod stream;
pub mod testing;
pub mod url;
pub mod wire;

/// The generated bindings of the `wasmhost:plugin@0.2.0` interfaces the kit uses.
pub mod bindings {
    wit_bindgen::generate!({
        inline: "
            package wasmhost:provider-kit;

            world kit {
                import wasmhost:plugin/host@0.2.0;
                import wasmhost:plugin/llm-types@0.2.0;
            }
        ",
        path: "../../wit/v0.2.0",
        generate_all,
        // llm-types has no functions of its own: without this its types are not emitted.
        generate_unused_types: true,
        // Tests compare events and errors.
        additional_derives: [PartialEq],
    });
}

pub use bindings::wasmhost::plugin::{host, llm_types};
pub use wasip2;

/// Logs a warning through the host; the host tags it with the plugin's name. Off wasm
/// (the plugins' native unit tests) there is no host: the warning is kept for
/// [`testing::take_warnings`].
pub fn warn(message: &str) {
    #[cfg(target_family = "wasm")]
    host::log(host::LogLevel::Warn, message);
    #[cfg(not(target_family = "wasm"))]
    testing::keep_warning(message);
}

/// The `provider-plugin` world's bindings for a provider plugin crate (`exports`, the
/// `export!` macro), with the contract's types and `wasi:*` taken from this kit, so every
/// plugin shares one set of types. Call it once at the plugin's crate root; the plugin
/// must live two folders below the repository root (`plugins/NAME`), where the contract's
/// path `../../wit/v0.2.0` resolves.
#[macro_export]
macro_rules! provider_world {
    () => {
        wit_bindgen::generate!({
            path: "../../wit/v0.2.0",
            world: "provider-plugin",
            with: {
                "wasmhost:plugin/host@0.2.0": ::provider_kit::host,
                "wasmhost:plugin/llm-types@0.2.0": ::provider_kit::llm_types,
                "wasi:http/types@0.2.12": ::provider_kit::wasip2::http::types,
                "wasi:http/outgoing-handler@0.2.12": ::provider_kit::wasip2::http::outgoing_handler,
                "wasi:io/error@0.2.12": ::provider_kit::wasip2::io::error,
                "wasi:io/poll@0.2.12": ::provider_kit::wasip2::io::poll,
                "wasi:io/streams@0.2.12": ::provider_kit::wasip2::io::streams,
                "wasi:clocks/monotonic-clock@0.2.12": ::provider_kit::wasip2::clocks::monotonic_clock,
            },
        });
    };
}
