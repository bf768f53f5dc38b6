//! wasmhost runs LLM agents whose providers and tools are sandboxed WebAssembly
//! components.
//!
//! - [`policy`]: what each plugin may do (deny by default), from `wasmhost.toml`;
//! - [`runtime`]: the wasmtime engine, per-call budgets, the compiled-component cache;
//! - [`caps`]: one module per capability a plugin can be given (WASI, HTTP, host API,
//!   script bridge), and the store data that is their sum;
//! - [`sandbox`]: a runtime with the capabilities linked, making a store per call;
//! - [`plugin`]: loading components, detecting their world, typed tool/provider calls;
//! - [`agent`]: the conversation loop over wasm-free `ChatProvider`/`ToolBox` traits;
//! - [`chat`]: the conversation data model; [`scripts`]: running skills' Python;
//! - [`session`]: a conversation built from a spec, what every frontend shares;
//! - [`mcp`]: the tools served to MCP clients.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use wasmhost::{plugin, policy::Policy, sandbox::{Sandbox, SandboxOptions}};
//!
//! let sandbox = Sandbox::new(SandboxOptions::default())?;
//! let source = plugin::locate("skills")?;
//! let mut grants = Policy::default().for_plugin(&source.name)?;
//! grants.grant_skills_folder("skills".into());
//! let tools = plugin::Plugin::load(&sandbox, source, grants)?.into_tool()?;
//! let answer = tools.call("list_skills", "{}").await?;
//! println!("{answer:?}");
//! # Ok(()) }
//! ```

/// A boxed, sendable future: what the wasm-free traits return.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

pub mod agent;
pub mod bindings;
mod blocking;
pub mod caps;
pub mod chat;
pub mod mcp;
pub mod mcp_client;
pub mod plugin;
pub mod policy;
pub mod runtime;
pub mod sandbox;
pub mod scripts;
pub mod session;
