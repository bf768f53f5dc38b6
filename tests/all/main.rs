//! End-to-end tests: real components (built by `tests/build.rs`) in the real sandbox, and
//! the real `wasmhost` binary. One test binary, so the build links once.

mod agent;
mod authoring;
mod cache;
mod cli;
mod containment;
mod filesystem;
mod http;
mod limits;
mod loading;
mod mcp;
mod native_python;
mod python;
mod replay;
mod skills;
mod skills_reference;
mod support;
