//! A local MCP server's process: started in its own process group with only the
//! environment the policy names and a limited address space; its stderr kept (the last
//! lines, for error messages); the whole group killed when the session lets it go.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::McpClientError;
use crate::policy::LocalMcpServer;

/// Lines of a server's stderr kept for error messages.
const TAIL_LINES: usize = 20;
/// Bytes of one kept stderr line (a longer one is cut, and says so).
const TAIL_LINE_BYTES: usize = 512;

/// The last lines a server wrote to stderr.
#[derive(Debug, Clone, Default)]
pub struct StderrTail(Arc<Mutex<VecDeque<String>>>, Arc<tokio::sync::Notify>);

/// How long an error message waits for a server that is going away to finish its stderr.
const TAIL_SETTLE: std::time::Duration = std::time::Duration::from_millis(500);

impl StderrTail {
    /// Waits (briefly) until the server's stderr has ended, so that an error message made
    /// when it dies has its last words.
    pub async fn settle(&self) {
        let _ = tokio::time::timeout(TAIL_SETTLE, self.1.notified()).await;
    }

    fn push(&self, line: &str, cut: bool) {
        // Control codes (terminal escapes) never reach the user's terminal raw.
        let mut shown: String = line
            .chars()
            .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
            .collect();
        if cut {
            shown.push_str(" […cut]");
        }
        let mut lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.len() == TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(shown);
    }

    /// `"; its last stderr lines: …"`, or nothing when it wrote none.
    pub fn describe(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.is_empty() {
            return String::new();
        }
        let joined: Vec<&str> = lines.iter().map(String::as_str).collect();
        format!("; its last stderr lines:\n  {}", joined.join("\n  "))
    }
}

/// The server's process; dropping it kills the process group.
pub struct Running {
    child: Child,
    group: Option<i32>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(group) = self.group {
            // SAFETY: killpg(2) on the group this host created for the server.
            unsafe {
                libc::killpg(group, libc::SIGKILL);
            }
        }
        let _ = self.child.start_kill();
    }
}

/// Starts the server: its stdout and stdin carry the protocol.
pub fn spawn(
    name: &str,
    policy: &LocalMcpServer,
) -> Result<(Running, ChildStdout, ChildStdin, StderrTail), McpClientError> {
    let program = &policy.command[0];
    let spawn_error = |reason: String| McpClientError::Spawn {
        server: name.to_string(),
        program: program.clone(),
        reason,
    };
    if !policy.cwd.is_dir() {
        return Err(spawn_error(format!(
            "its folder {} does not exist (cwd in [mcp.{}])",
            policy.cwd.display(),
            name
        )));
    }
    let mut command = Command::new(program);
    command
        .args(&policy.command[1..])
        .current_dir(&policy.cwd)
        .env_clear()
        .envs(&policy.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    limit_address_space(&mut command, policy.memory_bytes);
    let mut child = command.spawn().map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            " (not found: give an absolute path, or a program on PATH with \
             inherit_env = [\"PATH\"])"
        } else {
            ""
        };
        spawn_error(format!("{e}{hint}"))
    })?;
    let group = child.id().and_then(|id| i32::try_from(id).ok());
    let (Some(stdout), Some(stdin), Some(stderr)) =
        (child.stdout.take(), child.stdin.take(), child.stderr.take())
    else {
        return Err(spawn_error("its pipes could not be opened".into()));
    };
    let tail = StderrTail::default();
    let kept = tail.clone();
    tokio::spawn(keep_tail(stderr, kept));
    Ok((Running { child, group }, stdout, stdin, tail))
}

/// Reads the server's stderr to its end, keeping the last lines. A flood (or a line with
/// no end) costs one bounded buffer, never more.
async fn keep_tail(mut stderr: tokio::process::ChildStderr, tail: StderrTail) {
    let mut chunk = vec![0u8; 8 * 1024];
    let mut line: Vec<u8> = Vec::new();
    let mut overlong = false;
    loop {
        let n = match stderr.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &byte in &chunk[..n] {
            if byte == b'\n' {
                tail.push(&String::from_utf8_lossy(&line), overlong);
                line.clear();
                overlong = false;
            } else if line.len() < TAIL_LINE_BYTES {
                line.push(byte);
            } else {
                overlong = true;
            }
        }
    }
    if !line.is_empty() {
        tail.push(&String::from_utf8_lossy(&line), overlong);
    }
    tail.1.notify_waiters();
    tail.1.notify_one();
}

/// RLIMIT_AS for the server, and a SIGKILL when the host dies (even by SIGKILL, which
/// runs no destructor), both set in the child before it runs the program.
fn limit_address_space(command: &mut Command, bytes: u64) {
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    };
    // SAFETY: setrlimit(2) and prctl(2) are async-signal-safe; the closure touches no
    // memory of the parent beyond the copied `limit`.
    unsafe {
        command.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            #[cfg(target_os = "linux")]
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
