//! A tool plugin that misbehaves on request, for the host's end-to-end tests and benches.
//!
//! Each tool exercises one thing the host must contain or measure: endless CPU (`spin`),
//! endless memory (`alloc`), stack exhaustion (`recurse`), traps and panics, filesystem,
//! network and environment probes, floods of stdout, and cheap round trips (`ok`, `echo`)
//! for overhead benches. Nothing here is clever on purpose: each tool does the obvious thing
//! a careless or malicious plugin would do.
//!
//! Later additions: raw `wasi:filesystem` symlinks out of a preopen (`symlink`), host
//! resources never freed (`fields_leak`), oversized results (`big_result`), bounded memory
//! held for a while (`alloc_mb`), idle waits (`sleep`) and terminal escapes in results
//! (`escape`). The `spec` config key adds hostile entries to `list-tools` itself: a huge
//! description, a schema that is not JSON, an escape in a name, or 10 000 tools (see
//! [`spec_mode_tools`]).
//!
//! Only `panic` and `print_panic` may panic; every other tool reports bad input and failed
//! I/O as a `tool-error`.
//!
//! It targets contract 0.1 on purpose: the host serves it through its 0.1 adapters, so
//! every test that runs it also tests that an older plugin still works.

wit_bindgen::generate!({ path: "../../../wit/v0.1.0", world: "tool-plugin", generate_all });

use std::hint::black_box;
use std::io::Write;

use exports::wasmhost::plugin::tool::{Guest, ToolError};
use serde_json::{Map, Value, json};
use wasmhost::plugin::host::{self, LogLevel};
use wasmhost::plugin::llm_types::ToolSpec;
use wasmhost::plugin::script_bridge::{self, ScriptError, ScriptRequest};

const NO_ARGS: &str = r#"{"type":"object","properties":{},"additionalProperties":false}"#;
const PATH: &str =
    r#"{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}"#;
const BYTES: &str = r#"{"type":"object","properties":{"bytes":{"type":"integer","minimum":0}},"required":["bytes"]}"#;

/// Name, description and JSON Schema of the arguments, for `list-tools`.
const TOOLS: &[(&str, &str, &str)] = &[
    ("ok", "Returns \"ok\".", NO_ARGS),
    (
        "echo",
        "Returns `text` unchanged.",
        r#"{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}"#,
    ),
    ("spin", "Loops forever.", NO_ARGS),
    ("alloc", "Allocates 1 MiB chunks forever.", NO_ARGS),
    (
        "recurse",
        "Recurses `depth` levels deep, or without end when `depth` is absent.",
        r#"{"type":"object","properties":{"depth":{"type":"integer","minimum":0}}}"#,
    ),
    ("read_file", "Returns the text of the file at `path`.", PATH),
    (
        "read_len",
        "Returns the byte length of the file at `path`.",
        PATH,
    ),
    (
        "time_read",
        "Reads the file at `path` and returns how long the read took, in nanoseconds, by the guest's own clock.",
        PATH,
    ),
    (
        "write_file",
        "Writes `content` to the file at `path`.",
        r#"{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"}},"required":["path","content"]}"#,
    ),
    (
        "list_dir",
        "Returns the names in the directory at `path`, one a line.",
        PATH,
    ),
    (
        "http_get",
        "GETs `url` and returns \"status N\".",
        r#"{"type":"object","properties":{"url":{"type":"string"}},"required":["url"]}"#,
    ),
    (
        "env",
        "Returns the environment variable `name`.",
        r#"{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}"#,
    ),
    (
        "env_all",
        "Returns every environment variable as K=V lines.",
        NO_ARGS,
    ),
    (
        "args",
        "Returns the program arguments, joined by spaces.",
        NO_ARGS,
    ),
    (
        "print",
        "Writes `bytes` bytes to stdout, reporting write errors.",
        BYTES,
    ),
    (
        "print_panic",
        "Writes `bytes` bytes to stdout with print!, which panics on error.",
        BYTES,
    ),
    ("trap", "Executes `unreachable`.", NO_ARGS),
    ("panic", "Panics.", NO_ARGS),
    (
        "compute",
        "Builds `n` JSON objects, serializes and parses them; returns how many came back.",
        r#"{"type":"object","properties":{"n":{"type":"integer","minimum":0}},"required":["n"]}"#,
    ),
    (
        "log",
        "Logs `message` through the host at info level.",
        r#"{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}"#,
    ),
    (
        "config",
        "Returns the host configuration value for `key`.",
        r#"{"type":"object","properties":{"key":{"type":"string"}},"required":["key"]}"#,
    ),
    (
        "run_python",
        "Runs `code` through the host's script bridge for `skill`; returns its stdout.",
        r#"{"type":"object","properties":{"skill":{"type":"string"},"code":{"type":"string"}},"required":["skill","code"]}"#,
    ),
    (
        "symlink",
        "Creates the symlink `name` -> `target` inside the preopened directory `dir`.",
        r#"{"type":"object","properties":{"dir":{"type":"string"},"target":{"type":"string"},"name":{"type":"string"}},"required":["dir","target","name"]}"#,
    ),
    (
        "fields_leak",
        "Creates `count` wasi:http header maps, each holding one `bytes`-byte header, and never drops them.",
        r#"{"type":"object","properties":{"count":{"type":"integer","minimum":0},"bytes":{"type":"integer","minimum":0}},"required":["count","bytes"]}"#,
    ),
    ("big_result", "Returns a string of `bytes` bytes.", BYTES),
    (
        "alloc_mb",
        "Allocates and writes `mb` MiB, holds it for `hold_ms` milliseconds, then returns.",
        r#"{"type":"object","properties":{"mb":{"type":"integer","minimum":0},"hold_ms":{"type":"integer","minimum":0}},"required":["mb"]}"#,
    ),
    (
        "sleep",
        "Sleeps `ms` milliseconds on the WASI monotonic clock.",
        r#"{"type":"object","properties":{"ms":{"type":"integer","minimum":0}},"required":["ms"]}"#,
    ),
    (
        "escape",
        "Returns text full of terminal escape sequences.",
        NO_ARGS,
    ),
];

/// What the `escape` tool returns: an OSC 52 clipboard write, a screen clear and a C1 CSI.
const ESCAPE: &str = "\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2Jvisible\u{9b}0m";

struct Hostile;

impl Guest for Hostile {
    fn list_tools() -> Vec<ToolSpec> {
        let mut tools: Vec<ToolSpec> = TOOLS
            .iter()
            .map(|(name, description, schema)| spec(name, description, schema))
            .collect();
        tools.extend(spec_mode_tools());
        tools
    }

    fn call(name: String, arguments: String) -> Result<String, ToolError> {
        if !TOOLS.iter().any(|(tool, _, _)| *tool == name) {
            return Err(ToolError::UnknownTool(name));
        }
        let mut args = Args::parse(&arguments)?;
        match name.as_str() {
            "ok" => Ok("ok".into()),
            "echo" => args.take_string("text"),
            "spin" => spin(),
            "alloc" => alloc(),
            "recurse" => {
                let depth = args.opt_u64("depth")?.unwrap_or(u64::MAX);
                Ok(format!("recursed {}", recurse(depth)))
            }
            "read_file" => std::fs::read_to_string(args.take_string("path")?).map_err(io_failed),
            "read_len" => std::fs::read(args.take_string("path")?)
                .map(|bytes| bytes.len().to_string())
                .map_err(io_failed),
            "time_read" => {
                let path = args.take_string("path")?;
                let started = std::time::Instant::now();
                let bytes = std::fs::read(path).map_err(io_failed)?;
                let took = started.elapsed();
                std::hint::black_box(&bytes);
                Ok(took.as_nanos().to_string())
            }
            "write_file" => {
                let path = args.take_string("path")?;
                let content = args.take_string("content")?;
                std::fs::write(path, content).map_err(io_failed)?;
                Ok("written".into())
            }
            "list_dir" => list_dir(&args.take_string("path")?),
            "http_get" => http_get(&args.take_string("url")?),
            "env" => std::env::var(args.take_string("name")?).map_err(|e| match e {
                std::env::VarError::NotPresent => ToolError::Failed("not set".into()),
                e => ToolError::Failed(e.to_string()),
            }),
            "env_all" => Ok(std::env::vars_os()
                .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
                .collect::<Vec<_>>()
                .join("\n")),
            "args" => Ok(std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")),
            "print" => print(args.usize("bytes")?),
            "print_panic" => print_panic(args.usize("bytes")?),
            "trap" => trap(),
            "panic" => panic!("hostile guest panicked on purpose"),
            "compute" => compute(args.usize("n")?),
            "log" => {
                host::log(LogLevel::Info, &args.take_string("message")?);
                Ok("logged".into())
            }
            "config" => host::get_config(&args.take_string("key")?)
                .ok_or_else(|| ToolError::Failed("unset".into())),
            "run_python" => run_python(args.take_string("skill")?, args.take_string("code")?),
            "symlink" => symlink(
                &args.take_string("dir")?,
                &args.take_string("target")?,
                &args.take_string("name")?,
            ),
            "fields_leak" => fields_leak(args.usize("count")?, args.usize("bytes")?),
            "big_result" => Ok("r".repeat(args.usize("bytes")?)),
            "alloc_mb" => {
                let mb = args.usize("mb")?;
                let hold_ms = args.opt_u64("hold_ms")?.unwrap_or(0);
                alloc_mb(mb, hold_ms)
            }
            "sleep" => {
                let ms = args.opt_u64("ms")?;
                sleep_ms(ms.ok_or_else(|| invalid("`ms` is required"))?);
                Ok("slept".into())
            }
            "escape" => Ok(ESCAPE.into()),
            // Every name in TOOLS has an arm above.
            _ => Err(ToolError::UnknownTool(name)),
        }
    }
}

export!(Hostile);

fn spec(name: &str, description: &str, schema: &str) -> ToolSpec {
    ToolSpec {
        name: name.into(),
        description: description.into(),
        parameters_schema: schema.into(),
    }
}

/// The extra tools the `spec` config key asks for, to test how the host copes with
/// hostile tool lists (none of them can be called):
///
/// - `huge`: one tool `huge` whose description is `spec-bytes` bytes (default 100 MB);
/// - `bad-schema`: one tool `bad_schema` whose parameters schema is not JSON;
/// - `escape-name`: one tool whose name holds an OSC terminal escape;
/// - `many`: 10 000 tools `t0` .. `t9999`.
fn spec_mode_tools() -> Vec<ToolSpec> {
    match host::get_config("spec").as_deref() {
        Some("huge") => {
            let bytes = host::get_config("spec-bytes")
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(100_000_000);
            vec![spec("huge", &"d".repeat(bytes), NO_ARGS)]
        }
        Some("bad-schema") => vec![spec(
            "bad_schema",
            "Its schema is not JSON.",
            "this is not json",
        )],
        Some("escape-name") => vec![spec(
            "evil\u{1b}]0;x\u{7}",
            "Its name holds a terminal escape.",
            NO_ARGS,
        )],
        Some("many") => (0..10_000)
            .map(|i| spec(&format!("t{i}"), "One of many.", NO_ARGS))
            .collect(),
        _ => Vec::new(),
    }
}

/// The arguments object of one call.
struct Args(Map<String, Value>);

impl Args {
    fn parse(json: &str) -> Result<Self, ToolError> {
        match serde_json::from_str(json) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(invalid("arguments must be a JSON object")),
            Err(e) => Err(invalid(&format!("arguments are not JSON: {e}"))),
        }
    }

    /// Moves the string out, so `echo` of 1 MiB costs no extra copy.
    fn take_string(&mut self, key: &str) -> Result<String, ToolError> {
        match self.0.remove(key) {
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(invalid(&format!("`{key}` must be a string"))),
            None => Err(invalid(&format!("`{key}` is required"))),
        }
    }

    fn opt_u64(&self, key: &str) -> Result<Option<u64>, ToolError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| invalid(&format!("`{key}` must be a non-negative integer"))),
        }
    }

    fn usize(&self, key: &str) -> Result<usize, ToolError> {
        let n = self
            .opt_u64(key)?
            .ok_or_else(|| invalid(&format!("`{key}` is required")))?;
        usize::try_from(n).map_err(|_| invalid(&format!("`{key}` is too large")))
    }
}

fn invalid(message: &str) -> ToolError {
    ToolError::InvalidArguments(message.into())
}

/// The io error as the tests match it: its kind, then its text.
fn io_failed(err: std::io::Error) -> ToolError {
    ToolError::Failed(format!("{:?}: {err}", err.kind()))
}

fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        // black_box makes each iteration observable, so the loop cannot be removed.
        n = black_box(n.wrapping_add(1));
    }
}

fn alloc() -> ! {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        // Nonzero fill so every page is really written, not left to lazily-zeroed memory.
        kept.push(vec![0xA5; 1 << 20]);
        black_box(&kept);
    }
}

/// Recursion that is neither a tail call nor foldable: each frame holds an array that is
/// read after the inner call returns.
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let mut frame = [0u8; 256];
    frame[(depth % 256) as usize] = 1;
    black_box(&mut frame);
    if depth == 0 {
        return 0;
    }
    let below = recurse(black_box(depth - 1));
    below + u64::from(black_box(&frame)[(depth % 256) as usize])
}

fn list_dir(path: &str) -> Result<String, ToolError> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io_failed)? {
        names.push(
            entry
                .map_err(io_failed)?
                .file_name()
                .to_string_lossy()
                .into_owned(),
        );
    }
    names.sort();
    Ok(names.join("\n"))
}

fn http_get(url: &str) -> Result<String, ToolError> {
    use wasip2::http::outgoing_handler;
    use wasip2::http::types::{ErrorCode, Fields, Method, OutgoingRequest, Scheme};

    let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else {
        return Err(invalid("`url` must start with http:// or https://"));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
        Some(i) => (&rest[..i], rest[i..].to_owned()),
        None => (rest, "/".to_owned()),
    };

    let request = OutgoingRequest::new(Fields::new());
    let refused = |what: &str| ToolError::Failed(format!("the host refused the {what}"));
    request
        .set_method(&Method::Get)
        .map_err(|()| refused("method"))?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| refused("scheme"))?;
    request
        .set_authority(Some(authority))
        .map_err(|()| refused("authority"))?;
    request
        .set_path_with_query(Some(&path))
        .map_err(|()| refused("path"))?;

    let http_error = |code: ErrorCode| match code {
        ErrorCode::HttpRequestDenied => ToolError::Denied(code.to_string()),
        code => ToolError::Failed(code.to_string()),
    };
    let response = outgoing_handler::handle(request, None).map_err(http_error)?;
    response.subscribe().block();
    match response.get() {
        Some(Ok(Ok(response))) => Ok(format!("status {}", response.status())),
        Some(Ok(Err(code))) => Err(http_error(code)),
        Some(Err(())) => Err(ToolError::Failed("response already taken".into())),
        None => Err(ToolError::Failed("response not ready after waiting".into())),
    }
}

const CHUNK: usize = 64 * 1024;

fn print(bytes: usize) -> Result<String, ToolError> {
    let chunk = [b'x'; CHUNK];
    let mut out = std::io::stdout().lock();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(CHUNK);
        out.write_all(&chunk[..n]).map_err(io_failed)?;
        left -= n;
    }
    out.flush().map_err(io_failed)?;
    Ok(format!("printed {bytes}"))
}

/// Like `print`, but through `print!`, which panics when stdout fails: the host sees a trap.
fn print_panic(bytes: usize) -> Result<String, ToolError> {
    let chunk = "x".repeat(CHUNK);
    let mut left = bytes;
    while left > 0 {
        let n = left.min(CHUNK);
        print!("{}", &chunk[..n]);
        left -= n;
    }
    // stdout is line-buffered and nothing flushes it when the call returns.
    std::io::stdout().flush().map_err(io_failed)?;
    Ok(format!("printed {bytes}"))
}

fn trap() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    // Only so that `cargo check --workspace` builds this crate natively.
    #[cfg(not(target_arch = "wasm32"))]
    std::process::abort();
}

/// Deterministic CPU and allocation work whose cost grows with `n`.
fn compute(n: usize) -> Result<String, ToolError> {
    let items: Vec<Value> = (0..n)
        .map(|i| json!({ "id": i, "name": format!("item-{i}"), "tags": ["a", "b"], "score": i as f64 * 0.5 }))
        .collect();
    let text = serde_json::to_string(&Value::Array(items))
        .map_err(|e| ToolError::Failed(e.to_string()))?;
    let back: Value = serde_json::from_str(&text).map_err(|e| ToolError::Failed(e.to_string()))?;
    Ok(back.as_array().map_or(0, Vec::len).to_string())
}

fn run_python(skill: String, code: String) -> Result<String, ToolError> {
    let request = ScriptRequest {
        skill,
        code: Some(code),
        script: None,
        args: Vec::new(),
        stdin: None,
    };
    match script_bridge::run_python(&request) {
        Ok(output) => Ok(output.stdout),
        Err(ScriptError::InvalidRequest(m)) => {
            Err(ToolError::Failed(format!("invalid request: {m}")))
        }
        Err(ScriptError::Denied(m)) => Err(ToolError::Failed(format!("denied: {m}"))),
        Err(ScriptError::Unavailable(m)) => Err(ToolError::Failed(format!("unavailable: {m}"))),
    }
}

/// Creates a symlink through the raw `wasi:filesystem` call, bypassing std, so the test sees
/// exactly what the host answers.
fn symlink(dir: &str, target: &str, name: &str) -> Result<String, ToolError> {
    use wasip2::filesystem::preopens::get_directories;
    use wasip2::filesystem::types::ErrorCode;

    let Some((descriptor, _)) = get_directories()
        .into_iter()
        .find(|(_, guest_path)| guest_path == dir)
    else {
        return Err(ToolError::NotFound(format!("no preopen at {dir}")));
    };
    match descriptor.symlink_at(target, name) {
        Ok(()) => Ok("created".into()),
        Err(code @ (ErrorCode::NotPermitted | ErrorCode::Access)) => {
            Err(ToolError::Denied(format!("{code:?}")))
        }
        Err(code) => Err(ToolError::Failed(format!("{code:?}"))),
    }
}

/// Host-side resources the guest creates and never drops: each `Fields` lives in the host's
/// resource table until the instance goes away.
fn fields_leak(count: usize, bytes: usize) -> Result<String, ToolError> {
    use wasip2::http::types::Fields;

    let value = vec![b'a'; bytes];
    for n in 0..count {
        match Fields::from_list(&[("x-leak".to_owned(), value.clone())]) {
            Ok(fields) => std::mem::forget(fields),
            Err(error) => return Err(ToolError::Failed(format!("after {n}: {error:?}"))),
        }
    }
    Ok(format!("leaked {count}"))
}

/// A bounded `alloc`: `mb` MiB really written (one nonzero byte per 4 KiB page), held for
/// `hold_ms` so a test can observe it, then freed.
fn alloc_mb(mb: usize, hold_ms: u64) -> Result<String, ToolError> {
    // One allocation, so the guest's memory grows once, by the whole amount.
    let mut kept = vec![0u8; mb << 20];
    for page in kept.chunks_mut(4096) {
        page[0] = 0xA5;
    }
    black_box(&mut kept);
    sleep_ms(hold_ms);
    black_box(&kept);
    Ok(format!("allocated {mb}"))
}

/// Blocks on the WASI monotonic clock (not a busy loop, so the host sees an idle guest).
fn sleep_ms(ms: u64) {
    std::thread::sleep(std::time::Duration::from_millis(ms));
}
