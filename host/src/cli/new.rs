//! `wasmhost new tool|provider NAME [--dir DIR]`: writes a ready-to-build plugin crate.
//!
//! The crate stands alone: its own `Cargo.toml` (a `cdylib` on `wit-bindgen` and
//! `serde_json`, a size-first release profile, an empty `[workspace]`), a copy of the
//! contract this host implements (`wit/v0.2.0`, WASI deps included), a working example in
//! `src/lib.rs` with a native unit test, and a README with the build and try-out commands.
//! Every file is embedded in the binary, so `new` works from an installed `wasmhost`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::UsageError;

/// The `wit-bindgen` the generated crate depends on: the workspace's (a test checks).
const WIT_BINDGEN_VERSION: &str = "0.61";

/// The contract folder copied into the crate, relative to the crate root.
const WIT_DIR: &str = "wit/v0.2.0";

/// Every file of the contract, by path under [`WIT_DIR`] (a test checks the list is whole).
const WIT_FILES: &[(&str, &str)] = &[
    ("host.wit", include_str!("../../../wit/v0.2.0/host.wit")),
    ("llm.wit", include_str!("../../../wit/v0.2.0/llm.wit")),
    ("tool.wit", include_str!("../../../wit/v0.2.0/tool.wit")),
    ("worlds.wit", include_str!("../../../wit/v0.2.0/worlds.wit")),
    (
        "deps/cli.wit",
        include_str!("../../../wit/v0.2.0/deps/cli.wit"),
    ),
    (
        "deps/clocks.wit",
        include_str!("../../../wit/v0.2.0/deps/clocks.wit"),
    ),
    (
        "deps/filesystem.wit",
        include_str!("../../../wit/v0.2.0/deps/filesystem.wit"),
    ),
    (
        "deps/http.wit",
        include_str!("../../../wit/v0.2.0/deps/http.wit"),
    ),
    (
        "deps/io.wit",
        include_str!("../../../wit/v0.2.0/deps/io.wit"),
    ),
    (
        "deps/random.wit",
        include_str!("../../../wit/v0.2.0/deps/random.wit"),
    ),
    (
        "deps/sockets.wit",
        include_str!("../../../wit/v0.2.0/deps/sockets.wit"),
    ),
];

const CARGO_TOML: &str = include_str!("../../templates/Cargo.toml.tmpl");
const GITIGNORE: &str = include_str!("../../templates/gitignore.tmpl");
const TOOL_LIB: &str = include_str!("../../templates/tool/lib.rs.tmpl");
const TOOL_README: &str = include_str!("../../templates/tool/README.md.tmpl");
const PROVIDER_LIB: &str = include_str!("../../templates/provider/lib.rs.tmpl");
const PROVIDER_README: &str = include_str!("../../templates/provider/README.md.tmpl");

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// What to create: a `tool` plugin (a `hello` tool) or a `provider` plugin (an echo).
    kind: Kind,
    /// The crate's name: letters, digits, `-` and `_`, starting with a letter.
    name: String,
    /// The folder to create the crate in (default: ./NAME). It must be empty or absent.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Kind {
    Tool,
    Provider,
}

pub fn run(args: NewArgs) -> Result<ExitCode> {
    check_name(&args.name).map_err(UsageError)?;
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&args.name));
    if is_non_empty_dir(&dir)? {
        anyhow::bail!(UsageError(format!(
            "{} exists and is not an empty folder; choose another --dir",
            dir.display()
        )));
    }
    for (path, text) in files(args.kind, &args.name) {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let wasm = format!(
        "target/wasm32-wasip2/release/{}.wasm",
        args.name.replace('-', "_")
    );
    println!("created {} in {}", args.name, dir.display());
    println!("  cd {}", dir.display());
    println!("  cargo build --release --target wasm32-wasip2");
    match args.kind {
        Kind::Tool => println!("  wasmhost call {wasm} hello '{{\"name\": \"Ada\"}}'"),
        Kind::Provider => println!("  wasmhost run --plugin {wasm} \"hello\""),
    }
    Ok(ExitCode::SUCCESS)
}

/// The crate's files, by path relative to its folder.
fn files(kind: Kind, name: &str) -> Vec<(PathBuf, String)> {
    let (description, lib, readme) = match kind {
        Kind::Tool => ("A wasmhost tool plugin", TOOL_LIB, TOOL_README),
        Kind::Provider => ("A wasmhost provider plugin", PROVIDER_LIB, PROVIDER_README),
    };
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{crate_name}}", &name.replace('-', "_"))
            .replace("{{plugin_name}}", &name.replace('_', "-"))
            .replace("{{description}}", description)
            .replace("{{wit_bindgen}}", WIT_BINDGEN_VERSION)
    };
    let mut files = vec![
        (PathBuf::from("Cargo.toml"), fill(CARGO_TOML)),
        (PathBuf::from(".gitignore"), GITIGNORE.to_string()),
        (PathBuf::from("src/lib.rs"), fill(lib)),
        (PathBuf::from("README.md"), fill(readme)),
    ];
    for (path, text) in WIT_FILES {
        files.push((Path::new(WIT_DIR).join(path), (*text).to_string()));
    }
    files
}

/// Cargo's rules for a package name, plus a letter first (a component's name starts its
/// file name and the plugin's policy section).
fn check_name(name: &str) -> Result<(), String> {
    const RESERVED: &[&str] = &[
        "alloc",
        "core",
        "proc_macro",
        "proc-macro",
        "std",
        "test",
        "self",
        "super",
        "crate",
        "Self",
        "fn",
        "struct",
        "enum",
        "mod",
        "type",
        "use",
        "impl",
        "trait",
        "let",
        "match",
    ];
    let bad = |why: &str| Err(format!("invalid plugin name `{name}`: {why}"));
    match name.chars().next() {
        None => return bad("it is empty"),
        Some(c) if !c.is_ascii_alphabetic() => return bad("it must start with a letter"),
        Some(_) => {}
    }
    if name.len() > 64 {
        return bad("it is longer than 64 characters");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return bad(&format!(
            "`{c}` is not allowed; use letters, digits, `-` and `_`"
        ));
    }
    if RESERVED.contains(&name) {
        return bad("it is a reserved name in Rust");
    }
    Ok(())
}

fn is_non_empty_dir(dir: &Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Ok(true),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_crate_rules() {
        for good in ["hello", "my-tool", "my_tool2", "A"] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in [
            "", "1tool", "-x", "my tool", "my.tool", "tool/x", "std", "test",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn every_contract_file_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(WIT_DIR);
        let mut on_disk = Vec::new();
        for sub in ["", "deps"] {
            for entry in std::fs::read_dir(root.join(sub)).expect("wit folder") {
                let path = entry.expect("entry").path();
                if path.extension().is_some_and(|e| e == "wit") {
                    let name = path.file_name().expect("name").to_string_lossy();
                    on_disk.push(Path::new(sub).join(&*name).display().to_string());
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = WIT_FILES.iter().map(|(p, _)| p.to_string()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
    }

    #[test]
    fn wit_bindgen_is_the_workspace_version() {
        let manifest = include_str!("../../../Cargo.toml");
        let line = format!("wit-bindgen = \"{WIT_BINDGEN_VERSION}\"");
        assert!(manifest.lines().any(|l| l == line), "expected `{line}`");
    }

    #[test]
    fn templates_are_filled() {
        for kind in [Kind::Tool, Kind::Provider] {
            for (path, text) in files(kind, "my-plugin") {
                assert!(!text.contains("{{"), "{} has a placeholder", path.display());
            }
        }
    }
}
