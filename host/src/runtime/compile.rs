//! Compiling a component under the host's compile limits: checked first
//! ([`super::precheck`]), then compiled under a deadline.
//!
//! Cranelift cannot be interrupted. With [`Compiler::Subprocess`] (what the CLI uses) the
//! compile runs in a child process that is killed at the deadline, so a component that
//! passes the checks and still takes too long costs at most the deadline. With
//! [`Compiler::InProcess`] the host stops waiting at the deadline and the compiling thread
//! finishes in the background (fine for tests and trusted components).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wasmtime::Engine;

use super::engine::build_engine;
use super::precheck::{self, CompileRefusal};
use crate::policy::CompileLimits;

/// Where compilation runs.
#[derive(Debug, Clone, Default)]
pub enum Compiler {
    /// On a thread of this process.
    #[default]
    InProcess,
    /// In a child process, `program ARGS… (--metered|--unmetered) IN OUT`, which must
    /// compile IN with [`compile_file`] and write the artifact to OUT.
    Subprocess { program: PathBuf, args: Vec<String> },
}

/// Why a component was not compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// It asks too much of the compiler: refused before compiling.
    #[error("{0}")]
    Refused(#[from] CompileRefusal),
    #[error(
        "compiling it took longer than {} s (raise `timeout_secs` in [host.compile] of wasmhost.toml)",
        .0.as_secs_f64()
    )]
    Timeout(Duration),
    #[error("{0:#}")]
    Failed(#[from] wasmtime::Error),
    #[error("the compiler process failed: {0}")]
    Process(String),
}

/// How often a compile in a child process is checked on.
const POLL: Duration = Duration::from_millis(10);

/// `wasm` checked against `limits`, then compiled into an artifact of `engine` (built with
/// `metered` as the sandbox's is).
pub fn guarded(
    engine: &Engine,
    metered: bool,
    compiler: &Compiler,
    wasm: &[u8],
    limits: &CompileLimits,
) -> Result<Vec<u8>, CompileError> {
    precheck::check(wasm, limits)?;
    match compiler {
        Compiler::InProcess => on_a_thread(engine, wasm, limits.timeout),
        Compiler::Subprocess { program, args } => {
            in_a_process(program, args, metered, wasm, limits.timeout)
        }
    }
}

fn on_a_thread(engine: &Engine, wasm: &[u8], timeout: Duration) -> Result<Vec<u8>, CompileError> {
    let (send, receive) = std::sync::mpsc::sync_channel(1);
    let engine = engine.clone();
    let bytes = wasm.to_vec();
    std::thread::Builder::new()
        .name("wasmhost-compile".into())
        .spawn(move || {
            let _ = send.send(engine.precompile_component(&bytes));
        })
        .map_err(|e| CompileError::Process(format!("cannot start the compiler thread: {e}")))?;
    match receive.recv_timeout(timeout) {
        Ok(result) => Ok(result?),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(CompileError::Timeout(timeout)),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(CompileError::Process(
            "the compiler thread stopped without a result".into(),
        )),
    }
}

fn in_a_process(
    program: &Path,
    args: &[String],
    metered: bool,
    wasm: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, CompileError> {
    let io = |what: &str, e: std::io::Error| CompileError::Process(format!("{what}: {e}"));
    let scratch = tempfile::Builder::new()
        .prefix("wasmhost-compile-")
        .tempdir()
        .map_err(|e| io("cannot create a scratch folder", e))?;
    let input = scratch.path().join("in.wasm");
    let output = scratch.path().join("out.cwasm");
    std::fs::write(&input, wasm).map_err(|e| io("cannot write the component", e))?;
    let mut child = Command::new(program)
        .args(args)
        .arg(if metered { "--metered" } else { "--unmetered" })
        .arg("--")
        .arg(&input)
        .arg(&output)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| io(&format!("cannot start {}", program.display()), e))?;
    // Drained as it comes, so a chatty child never blocks on a full pipe.
    let stderr = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            use std::io::Read as _;
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| io("cannot wait for it", e))? {
            break status;
        }
        if started.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(CompileError::Timeout(timeout));
        }
        std::thread::sleep(POLL);
    };
    if !status.success() {
        let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
        return Err(CompileError::Process(format!(
            "{status}: {}",
            stderr.trim()
        )));
    }
    std::fs::read(&output).map_err(|e| io("cannot read the compiled artifact", e))
}

/// The child's side of [`Compiler::Subprocess`]: compiles the component at `input` with
/// the sandbox's engine settings and writes the artifact to `output`.
pub fn compile_file(input: &Path, output: &Path, metered: bool) -> wasmtime::Result<()> {
    // It compiles and never instantiates: the smallest pool (its size does not enter the
    // artifact, which the parent's engine checks when it loads it).
    let engine = build_engine(metered, 1)?;
    let wasm = std::fs::read(input)
        .map_err(|e| wasmtime::format_err!("cannot read {}: {e}", input.display()))?;
    let artifact = engine.precompile_component(&wasm)?;
    std::fs::write(output, artifact)
        .map_err(|e| wasmtime::format_err!("cannot write {}: {e}", output.display()))
}
