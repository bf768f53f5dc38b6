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
    ("session", &["agent", "chat", "plugin", "policy", "sandbox"]),
];

/// Modules the CLI (the binary) must not reach into: it builds on sessions and plugins.
const CLI_FORBIDDEN: &[&str] = &["blocking"];

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

/// The code of a file without its comment lines (comments may name any layer).
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).expect("read source");
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
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
        let code = code(file);
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
fn the_cli_uses_the_library_not_its_internals() {
    let modules: BTreeSet<&str> = ALLOWED.iter().map(|(m, _)| *m).collect();
    let mut files = module_files("cli");
    files.push(src().join("main.rs"));
    let named = named(&files, "wasmhost::", &modules);
    for forbidden in CLI_FORBIDDEN {
        assert!(!named.contains(*forbidden), "the CLI imports {forbidden}");
    }
    assert!(
        named.contains("session"),
        "the CLI builds on sessions: {named:?}"
    );
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
                !line.contains("v0_1_0") && !line.contains("v0_2_0"),
                "{} names a contract version's bindings (use the re-exports in bindings/): {line}",
                file.display()
            );
        }
    }
}

#[test]
fn the_reader_sees_grouped_imports() {
    let dir = tempfile_dir();
    let file = dir.join("x.rs");
    std::fs::write(
        &file,
        "use crate::{\n    agent::Agent,\n    caps::{wasi, plugin},\n    policy,\n};\n// crate::plugin in a comment\nlet x = crate::runtime::Limit::Stack;\n",
    )
    .expect("write");
    let modules: BTreeSet<&str> = ["agent", "policy", "plugin", "runtime"].into();
    let found = named(&[file], "crate::", &modules);
    let expected: BTreeSet<String> = ["agent", "policy", "runtime"].map(String::from).into();
    assert_eq!(found, expected);
    std::fs::remove_dir_all(&dir).ok();
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmhost-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}
