//! The host's layers depend one way (docs/architecture.md). This reads the sources and
//! fails when a module names one it may not: a new import across layers is a decision to
//! write down here, not an accident.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each top-level module may import with `crate::` (the CLI: `wasmhost::`).
const ALLOWED: &[(&str, &[&str])] = &[
    ("policy", &[]),
    ("chat", &[]),
    ("blocking", &[]),
    ("bindings", &[]),
    ("agent", &["chat", "policy", "blocking"]),
    ("runtime", &["policy"]),
    ("caps", &["bindings", "blocking", "policy", "runtime"]),
    ("sandbox", &["caps", "policy", "runtime"]),
    ("scripts", &["caps", "policy", "runtime", "sandbox"]),
    (
        "plugin",
        &[
            "agent", "bindings", "caps", "chat", "policy", "runtime", "sandbox",
        ],
    ),
    (
        "session",
        &["agent", "chat", "mcp_client", "plugin", "policy", "sandbox"],
    ),
    ("mcp", &["agent", "chat"]),
    ("mcp_client", &["agent", "chat", "policy"]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .expect("read src")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for entry in entries {
            rust_files(&entry, out);
        }
    } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// The files of top-level module `name`: `name.rs` and everything under `name/`.
fn module_files(name: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&src().join(format!("{name}.rs")), &mut files);
    rust_files(&src().join(name), &mut files);
    files
}

/// The code of a file without comments (they may name any layer), with the spaces
/// around `::` removed (`crate :: plugin` is `crate::plugin`).
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).expect("read source");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let line = rest.find('\n').map_or(rest.len(), |at| at + 1);
        let (head, tail) = rest.split_at(line);
        rest = tail;
        // `//` starts a comment unless it follows a `:` (a URL in a string).
        let cut = head
            .match_indices("//")
            .find(|(at, _)| !head[..*at].ends_with(':'))
            .map_or(head.len(), |(at, _)| at);
        out.push_str(&head[..cut]);
        if cut < head.len() {
            out.push('\n');
        }
    }
    while let Some(open) = out.find("/*") {
        let close = out[open..].find("*/").map_or(out.len(), |at| open + at + 2);
        out.replace_range(open..close, " ");
    }
    let mut squeezed = out.replace(" ::", "::").replace(":: ", "::");
    while squeezed.contains(" ::") || squeezed.contains(":: ") {
        squeezed = squeezed.replace(" ::", "::").replace(":: ", "::");
    }
    squeezed
}

/// How deep `file`'s module is under the crate root: `x.rs` and `x/mod.rs` are 1,
/// `x/y.rs` is 2.
fn depth(file: &Path) -> usize {
    // A file outside the sources (the reader's own test) counts as top-level.
    let Ok(relative) = file.strip_prefix(src()) else {
        return 1;
    };
    let parts = relative.components().count();
    if relative.file_name().is_some_and(|n| n == "mod.rs") {
        parts - 1
    } else {
        parts
    }
}

/// `super::` chains that climb from `file` to the crate root, rewritten as `crate::`.
fn rooted(file: &Path, code: &str) -> String {
    let depth = depth(file);
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("super::") {
        let before = &rest[..at];
        let boundary = !before.ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':');
        let mut chain = 0;
        let mut after = &rest[at..];
        while let Some(next) = after.strip_prefix("super::") {
            chain += 1;
            after = next;
        }
        out.push_str(before);
        if boundary && chain == depth {
            out.push_str("crate::");
        } else {
            out.push_str(&"super::".repeat(chain));
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The top-level modules `files` name after `prefix` (`crate::` or `wasmhost::`),
/// including those in grouped imports (`use crate::{a, b::{c, d}}`, over several lines).
fn named(files: &[PathBuf], prefix: &str, modules: &BTreeSet<&str>) -> BTreeSet<String> {
    let ident = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    for file in files {
        let code = rooted(file, &code(file));
        assert!(
            !code.contains("crate as ") && !code.contains("crate::{self"),
            "{}: an alias of the crate hides what it names",
            file.display()
        );
        for (at, _) in code.match_indices(prefix) {
            let rest = &code[at + prefix.len()..];
            let Some(group) = rest.strip_prefix('{') else {
                found.insert(ident(rest));
                continue;
            };
            // The first name of every item at the group's own depth.
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        found.insert(ident(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        }
    }
    found.retain(|m| modules.contains(m.as_str()));
    found
}

fn graph() -> BTreeMap<&'static str, BTreeSet<String>> {
    let modules: BTreeSet<&str> = ALLOWED.iter().map(|(m, _)| *m).collect();
    ALLOWED
        .iter()
        .map(|(module, _)| {
            let mut deps = named(&module_files(module), "crate::", &modules);
            deps.remove(*module);
            (*module, deps)
        })
        .collect()
}

#[test]
fn every_top_level_module_is_listed() {
    let listed: BTreeSet<&str> = ALLOWED.iter().map(|(m, _)| *m).collect();
    let mut present = BTreeSet::new();
    for entry in std::fs::read_dir(src()).expect("read src") {
        let path = entry.expect("entry").path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if matches!(name.as_str(), "lib" | "main" | "cli") {
            continue;
        }
        present.insert(name);
    }
    let missing: Vec<_> = present
        .iter()
        .filter(|m| !listed.contains(m.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "add these modules to ALLOWED: {missing:?}"
    );
}

#[test]
fn layers_import_only_what_they_may() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(m, deps)| (*m, deps.iter().copied().collect()))
        .collect();
    let mut wrong = Vec::new();
    for (module, deps) in graph() {
        for dep in deps {
            if !allowed[module].contains(dep.as_str()) {
                wrong.push(format!("{module} imports {dep}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports across layers: {wrong:?}");
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = graph();
    // Kahn's algorithm: every module whose imports are all placed can be placed.
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    while placed.len() < graph.len() {
        let next: Vec<&str> = graph
            .iter()
            .filter(|(m, deps)| {
                !placed.contains(*m) && deps.iter().all(|d| placed.contains(d.as_str()))
            })
            .map(|(m, _)| *m)
            .collect();
        assert!(
            !next.is_empty(),
            "a cycle among {:?}",
            graph
                .keys()
                .filter(|m| !placed.contains(*m))
                .collect::<Vec<_>>()
        );
        placed.extend(next);
    }
}

#[test]
fn the_loop_and_its_data_know_nothing_of_webassembly() {
    for module in ["agent", "chat"] {
        for file in module_files(module) {
            for line in code(&file).lines() {
                assert!(
                    !line.contains("wasmtime") && !line.contains("wit_bindgen"),
                    "{} names WebAssembly: {line}",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn the_cli_drives_sessions_and_the_agent_task_not_the_loop() {
    let modules: BTreeSet<&str> = ALLOWED.iter().map(|(m, _)| *m).collect();
    let mut files = module_files("cli");
    files.push(src().join("main.rs"));
    let named = named(&files, "wasmhost::", &modules);
    assert!(
        named.contains("session"),
        "the CLI builds on sessions: {named:?}"
    );
    for file in &files {
        let code = code(file);
        assert!(
            !code.contains(".run_until(") && !code.contains(".agent.run("),
            "{} runs the loop itself; frontends submit turns to the agent task",
            file.display()
        );
    }
}

#[test]
fn only_the_bindings_and_the_plugin_handles_name_a_contract_version() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let bindings = src().join("bindings");
    let handles = src().join("plugin").join("handles.rs");
    for file in files {
        if file.starts_with(&bindings) || file == handles {
            continue;
        }
        for line in code(&file).lines() {
            assert!(
                !names_a_version(line),
                "{} names a contract version's bindings (use the re-exports in bindings/): {line}",
                file.display()
            );
        }
    }
}

/// Whether `line` names a version module (`v0_1_0`, `v1_12_3`).
fn names_a_version(line: &str) -> bool {
    line.match_indices('v').any(|(at, _)| {
        let before = line[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return false;
        }
        let parts: Vec<&str> = line[at + 1..]
            .split(|c: char| !(c.is_ascii_digit() || c == '_'))
            .next()
            .unwrap_or_default()
            .split('_')
            .collect();
        parts.len() == 3 && parts.iter().all(|p| !p.is_empty())
    })
}

#[test]
fn the_crate_root_re_exports_no_layer() {
    let code = code(&src().join("lib.rs"));
    assert!(
        !code.contains("pub use"),
        "lib.rs re-exports something, so `crate::X` would hide its layer"
    );
}

#[test]
fn the_reader_sees_grouped_imports() {
    let dir = tempfile_dir();
    let file = dir.join("x.rs");
    std::fs::write(
        &file,
        "use crate::{\n    agent::Agent, // a comment } \n    caps::{wasi, plugin},\n    /* } */ policy,\n};\n// crate::plugin in a comment\nlet x = crate :: runtime::Limit::Stack;\nlet u = \"http://x\"; use super::session::S;\n",
    )
    .expect("write");
    let modules: BTreeSet<&str> = ["agent", "policy", "plugin", "runtime", "session"].into();
    let found = named(&[file], "crate::", &modules);
    // `super::` from a top-level file is the crate root.
    let expected: BTreeSet<String> = ["agent", "policy", "runtime", "session"]
        .map(String::from)
        .into();
    assert_eq!(found, expected);
    assert!(names_a_version("use crate::bindings::v0_3_0::x;"));
    assert!(names_a_version("v12_0_1::Thing"));
    assert!(!names_a_version("let v = dev0_1_0; let v2 = 3;"));
    std::fs::remove_dir_all(&dir).ok();
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmhost-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}
