//! Folders: a plugin sees only what its policy grants, read-only unless granted `rw`, and
//! cannot leave a granted folder by `..`, an absolute path or a symlink.

use serde_json::json;
use wasmhost::policy::{Access, FolderGrant};

use crate::support::{call, deny_all, hostile};

struct Tree {
    _root: tempfile::TempDir,
    data: std::path::PathBuf,
    secret: std::path::PathBuf,
}

/// `root/data/a.txt`, `root/data/link -> ../secret.txt`, `root/secret.txt`.
fn tree() -> Tree {
    let root = tempfile::tempdir().expect("tempdir");
    let data = root.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    std::fs::write(data.join("a.txt"), "inside").expect("write");
    let secret = root.path().join("secret.txt");
    std::fs::write(&secret, "SECRET").expect("write");
    std::os::unix::fs::symlink("../secret.txt", data.join("link")).expect("symlink");
    std::os::unix::fs::symlink(&secret, data.join("abslink")).expect("symlink");
    Tree {
        data,
        secret,
        _root: root,
    }
}

fn granted(tree: &Tree, access: Access) -> wasmhost::plugin::ToolPlugin {
    let mut policy = deny_all();
    policy.folders.push(FolderGrant {
        host: tree.data.clone(),
        guest: "/data".into(),
        access,
    });
    hostile(policy)
}

#[tokio::test]
async fn no_folder_is_visible_without_a_grant() {
    let t = tree();
    let tool = hostile(deny_all());
    for path in [
        "/data/a.txt",
        "a.txt",
        t.secret.to_str().expect("utf-8"),
        "/etc/passwd",
    ] {
        let err = call(&tool, "read_file", json!({ "path": path })).await;
        assert!(err.is_err(), "{path} was readable: {err:?}");
    }
}

#[tokio::test]
async fn granted_folder_is_readable() {
    let t = tree();
    let tool = granted(&t, Access::Ro);
    assert_eq!(
        call(&tool, "read_file", json!({ "path": "/data/a.txt" }))
            .await
            .as_deref(),
        Ok("inside")
    );
}

#[tokio::test]
async fn dotdot_absolute_paths_and_symlinks_do_not_escape() {
    let t = tree();
    let tool = granted(&t, Access::Ro);
    let outside = t.secret.to_str().expect("utf-8").to_string();
    for path in [
        "/data/../secret.txt",
        "/data/../../../../etc/passwd",
        &outside,
        "/data/link",
        "/data/abslink",
        "/etc/passwd",
    ] {
        let answer = call(&tool, "read_file", json!({ "path": path })).await;
        let err = answer.expect_err(path);
        assert!(!err.to_string().contains("SECRET"), "{path}: {err}");
    }
}

#[tokio::test]
async fn read_only_grant_refuses_writes() {
    let t = tree();
    let tool = granted(&t, Access::Ro);
    let err = call(
        &tool,
        "write_file",
        json!({ "path": "/data/new.txt", "content": "x" }),
    )
    .await
    .expect_err("read-only");
    assert!(!t.data.join("new.txt").exists(), "{err}");
    let err = call(
        &tool,
        "write_file",
        json!({ "path": "/data/a.txt", "content": "x" }),
    )
    .await
    .expect_err("read-only");
    assert_eq!(
        std::fs::read_to_string(t.data.join("a.txt")).expect("read"),
        "inside",
        "{err}"
    );
}

#[tokio::test]
async fn read_write_grant_allows_writes_inside_only() {
    let t = tree();
    let tool = granted(&t, Access::Rw);
    assert!(
        call(
            &tool,
            "write_file",
            json!({ "path": "/data/new.txt", "content": "x" })
        )
        .await
        .is_ok()
    );
    assert_eq!(
        std::fs::read_to_string(t.data.join("new.txt")).expect("written"),
        "x"
    );
    assert!(
        call(
            &tool,
            "write_file",
            json!({ "path": "/data/../escaped.txt", "content": "x" })
        )
        .await
        .is_err()
    );
    assert!(
        call(
            &tool,
            "write_file",
            json!({ "path": "/data/link", "content": "x" })
        )
        .await
        .is_err()
    );
    assert_eq!(std::fs::read_to_string(&t.secret).expect("read"), "SECRET");
}

#[tokio::test(flavor = "multi_thread")]
async fn special_files_are_refused_and_the_next_call_works() {
    let t = tree();
    let fifo = t.data.join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("no NUL");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let tool = granted(&t, Access::Ro);
    for path in ["/data/fifo", "/data/./fifo"] {
        match call(&tool, "read_file", json!({ "path": path })).await {
            Err(wasmhost::plugin::ToolError::Denied(m)) => {
                assert!(m.contains("may not open"), "{m}");
                assert!(m.contains("not a regular file"), "{m}");
            }
            other => panic!("{path}: expected a refusal, got {other:?}"),
        }
    }
    crate::support::assert_healthy(&tool).await;
}

#[tokio::test]
async fn symbolic_links_cannot_be_created() {
    let t = tree();
    let tool = granted(&t, Access::Rw);
    for target in ["../../..", "a.txt"] {
        let args = json!({ "dir": "/data", "target": target, "name": "planted" });
        match call(&tool, "symlink", args).await {
            Err(wasmhost::plugin::ToolError::Denied(m)) => {
                assert!(m.contains("may not create symbolic links"), "{m}");
            }
            other => panic!("{target}: expected a refusal, got {other:?}"),
        }
        assert!(std::fs::symlink_metadata(t.data.join("planted")).is_err());
    }
    crate::support::assert_healthy(&tool).await;
}
