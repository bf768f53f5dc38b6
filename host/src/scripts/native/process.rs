//! One interpreter process: started in its own process group under a memory limit, fed its
//! stdin, its output captured up to a cap, killed with its group at the time limit.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::process::Command;
use tokio::time::{Instant, sleep_until};

use crate::policy::Limits;
use crate::scripts::{ScriptFailure, ScriptRun};

/// After the interpreter has exited and its group is killed, how long the pipes may take to
/// reach end of file. Only a process that left the group and kept them open makes this wait.
pub const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// Read size per pipe.
const CHUNK: usize = 64 * 1024;

/// Starts `command` (already given its program, arguments, folder and environment), writes
/// `stdin`, and collects the run under `limits`.
pub async fn run(
    mut command: Command,
    program: &Path,
    stdin: &[u8],
    limits: &Limits,
) -> Result<ScriptRun, ScriptFailure> {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        // If this future is dropped mid-run, tokio kills and reaps the interpreter; the
        // `Group` guard below kills the rest of its group.
        .kill_on_drop(true);
    limit_address_space(&mut command, limits.memory_bytes);
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| {
        ScriptFailure::Unavailable(format!(
            "cannot start the interpreter {}: {e}",
            program.display()
        ))
    })?;
    let mut group = Group(child.id().and_then(|id| i32::try_from(id).ok()));
    let deadline = started + limits.timeout;
    let mut input = child.stdin.take().filter(|_| !stdin.is_empty());
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let (mut stdout, mut stderr) = (Capture::new(limits), Capture::new(limits));
    let (mut out_buf, mut err_buf) = (vec![0; CHUNK], vec![0; CHUNK]);
    let mut written = 0;
    let mut status: Option<io::Result<ExitStatus>> = None;
    let mut timed_out = false;
    let mut drain_until = None;

    while status.is_none() || out.is_some() || err.is_some() {
        tokio::select! {
            n = write_to(&mut input, &stdin[written..]) => match n {
                Ok(n) if n > 0 && written + n < stdin.len() => written += n,
                // All written, or the script stopped reading: close stdin either way.
                _ => input = None,
            },
            n = read_from(&mut out, &mut out_buf) => match n {
                Ok(n) if n > 0 => stdout.push(&out_buf[..n]),
                _ => out = None,
            },
            n = read_from(&mut err, &mut err_buf) => match n {
                Ok(n) if n > 0 => stderr.push(&err_buf[..n]),
                _ => err = None,
            },
            exited = child.wait(), if status.is_none() => {
                // Whatever the script left running in its group ends with it.
                group.kill();
                status = Some(exited);
                drain_until = Some(Instant::now() + DRAIN_GRACE);
            },
            () = sleep_until(deadline), if status.is_none() => {
                timed_out = true;
                group.kill();
                status = Some(child.wait().await);
                drain_until = Some(Instant::now() + DRAIN_GRACE);
            },
            () = sleep_until(drain_until.unwrap_or(deadline)), if drain_until.is_some() => break,
        }
    }
    group.disarm();
    let duration = started.elapsed();
    let status = status
        .unwrap_or_else(|| Err(io::Error::other("no exit status")))
        .map_err(|e| {
            ScriptFailure::Unavailable(format!(
                "lost track of the interpreter {}: {e}",
                program.display()
            ))
        })?;
    Ok(ScriptRun {
        truncated: stdout.truncated || stderr.truncated,
        stdout: stdout.into_string(),
        stderr: stderr.into_string(),
        exit_code: exit_code(status),
        timed_out,
        duration,
    })
}

/// The exit code, or minus the signal number that ended the process.
fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| -s))
        .unwrap_or(-1)
}

/// The process group led by the interpreter, killed whole on the way out.
struct Group(Option<i32>);

impl Group {
    fn kill(&mut self) {
        if let Some(pgid) = self.0.filter(|&p| p > 0) {
            // SAFETY: kill(2) has no memory-safety preconditions. `-pgid` addresses the group
            // the interpreter leads; it is killed at most while the interpreter is unreaped
            // (so its id cannot be reused) or right after reaping it (the group id stays
            // reserved while any member lives, and ESRCH when none does is harmless).
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }

    /// The group was killed on the normal path; dropping must not kill by a stale id.
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sets `RLIMIT_AS` (soft and hard) to `bytes` in the child before `exec`, lowered to the
/// host's own hard limit if that is smaller (raising it would fail the start).
fn limit_address_space(command: &mut Command, bytes: u64) {
    let mut current = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: getrlimit(2) writes one `rlimit` through a valid pointer to a local.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut current) } != 0 {
        current.rlim_max = libc::RLIM_INFINITY;
    }
    let bytes = libc::rlim_t::try_from(bytes).unwrap_or(libc::RLIM_INFINITY);
    let limit = libc::rlimit {
        rlim_cur: bytes.min(current.rlim_max),
        rlim_max: bytes.min(current.rlim_max),
    };
    // SAFETY: the closure runs in the forked child before exec, where only
    // async-signal-safe work is allowed. It makes one setrlimit(2) system call on a `Copy`
    // value it owns: no allocation, no lock, nothing shared with the parent, and
    // `last_os_error` only reads errno.
    unsafe {
        command.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        });
    }
}

/// Reads from `pipe` while it is open; never completes once it is closed.
async fn read_from<R: AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    buf: &mut [u8],
) -> io::Result<usize> {
    match pipe {
        Some(pipe) => pipe.read(buf).await,
        None => std::future::pending().await,
    }
}

/// Writes to `pipe` while it is open; never completes once it is closed.
async fn write_to<W: AsyncWrite + Unpin>(pipe: &mut Option<W>, data: &[u8]) -> io::Result<usize> {
    match pipe {
        Some(pipe) => pipe.write(data).await,
        None => std::future::pending().await,
    }
}

/// One stream's output, kept up to the cap; the rest is read and dropped.
struct Capture {
    bytes: Vec<u8>,
    cap: usize,
    truncated: bool,
}

impl Capture {
    fn new(limits: &Limits) -> Self {
        Self {
            bytes: Vec::new(),
            cap: limits.output_bytes,
            truncated: false,
        }
    }

    fn push(&mut self, chunk: &[u8]) {
        let room = self.cap.saturating_sub(self.bytes.len());
        if chunk.len() > room {
            self.truncated = true;
        }
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
    }

    /// The text, invalid UTF-8 replaced; a character cut in half by the cap is dropped.
    fn into_string(mut self) -> String {
        if self.truncated
            && let Err(e) = std::str::from_utf8(&self.bytes)
            && e.error_len().is_none()
        {
            self.bytes.truncate(e.valid_up_to());
        }
        match String::from_utf8(self.bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(cap: usize) -> Capture {
        Capture::new(&Limits {
            output_bytes: cap,
            ..Limits::default()
        })
    }

    #[test]
    fn capture_keeps_up_to_the_cap_and_never_splits_a_character() {
        let mut c = capture(5);
        c.push(b"ab");
        c.push("cdé!".as_bytes());
        assert!(c.truncated);
        assert_eq!(c.into_string(), "abcd");
        let mut exact = capture(4);
        exact.push(b"abcd");
        assert!(!exact.truncated);
        let mut bad = capture(10);
        bad.push(b"a\xffb");
        assert_eq!(bad.into_string(), "a\u{fffd}b");
    }

    #[test]
    fn signals_are_negative_exit_codes() {
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGKILL)), -9);
    }
}
