//! Class 6: a FIFO (or socket, or device) in a granted folder or a skill cannot block a
//! call past its deadline: it is refused, and the call answers at once.

use std::ffi::CString;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use super::printed;
use crate::support::{stderr, stdout, wasmhost_command};

fn mkfifo(path: &Path) {
    let c = CString::new(path.to_str().expect("utf-8")).expect("no NUL");
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo: {}", std::io::Error::last_os_error());
}

/// Runs wasmhost, killing it (and failing) if it is still running after `patience`: a
/// FIFO that blocks the host would otherwise hang the test suite.
fn run_or_kill(args: &[&str], cwd: &Path, patience: Duration) -> Output {
    let mut child = wasmhost_command(args, cwd, &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("wasmhost runs");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > patience {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "wasmhost was still blocked after {patience:?}:\n{}",
                printed(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn a_fifo_in_a_granted_folder_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    mkfifo(&data.join("fifo"));
    std::fs::write(data.join("plain.txt"), "plain").expect("write");
    std::fs::write(
        dir.path().join("wasmhost.toml"),
        "[plugins.hostile]\ntimeout_secs = 5\nfolders = [{ host = \"data\", guest = \"/data\" }]\n",
    )
    .expect("policy");
    let out = run_or_kill(
        &["call", "hostile", "read_file", r#"{"path": "/data/fifo"}"#],
        dir.path(),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    let err = stderr(&out);
    assert!(
        err.contains("may not open `fifo`: it is not a regular file"),
        "{err}"
    );
    // Regular files in the same folder still read.
    let out = run_or_kill(
        &[
            "call",
            "hostile",
            "read_file",
            r#"{"path": "/data/plain.txt"}"#,
        ],
        dir.path(),
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", printed(&out));
    assert_eq!(stdout(&out).trim(), "plain");
}

#[test]
fn a_fifo_in_a_skill_is_refused_to_sandboxed_python() {
    let dir = tempfile::tempdir().expect("tempdir");
    let skill = dir.path().join("skills").join("demo");
    std::fs::create_dir_all(&skill).expect("mkdir");
    std::fs::write(
        skill.join("SKILL.md"),
        "---\nname: demo\ndescription: A skill with a FIFO in it.\n---\nRead the pipe.\n",
    )
    .expect("write");
    mkfifo(&skill.join("pipe"));
    let code = r#"{"name": "demo", "code": "try:\n    open('/skill/pipe').read()\nexcept OSError as e:\n    print(type(e).__name__)"}"#;
    let out = run_or_kill(
        &[
            "call",
            "skills",
            "run_python_script",
            code,
            "--skills",
            "skills",
        ],
        dir.path(),
        Duration::from_secs(120),
    );
    assert!(out.status.success(), "{}", printed(&out));
    assert!(
        stdout(&out).contains("PermissionError"),
        "{}",
        printed(&out)
    );
}
