//! Finding a plugin's file from what the user typed: a path, or the name of a shipped
//! plugin.

use std::path::{Path, PathBuf};

use super::PluginError;

/// Where a plugin comes from, and the name its policy section goes by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSource {
    /// The file stem: `plugins/openai.wasm` is `openai`.
    pub name: String,
    pub path: PathBuf,
}

/// Folders searched for a plugin given by name, in order: `$WASMHOST_PLUGIN_PATH`
/// (`:`-separated), then `plugins/` next to the `wasmhost` binary (where `just install`
/// and release archives put the shipped plugins).
pub fn search_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("WASMHOST_PLUGIN_PATH")
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        dirs.push(exe_dir.join("plugins"));
    }
    dirs
}

/// Every plugin installed on the search path, sorted by name within each folder: the first
/// of each name, the one [`locate`] finds for it.
pub fn installed() -> Vec<PluginSource> {
    let mut found = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for dir in search_dirs() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "wasm") && p.is_file())
            .collect();
        paths.sort();
        for path in paths {
            let name = name_of(&path);
            if seen.insert(name.clone()) {
                found.push(PluginSource { name, path });
            }
        }
    }
    found
}

/// Resolves `spec`: anything with a path separator or a `.wasm` suffix is a path; anything
/// else is a name looked up in [`search_dirs`].
pub fn locate(spec: &str) -> Result<PluginSource, PluginError> {
    let looks_like_path =
        spec.contains(std::path::MAIN_SEPARATOR) || spec.contains('/') || spec.ends_with(".wasm");
    if looks_like_path {
        let path = PathBuf::from(spec);
        return Ok(PluginSource {
            name: name_of(&path),
            path,
        });
    }
    let dirs = search_dirs();
    let file = format!("{spec}.wasm");
    // Also accept the cargo output name (`echo_provider.wasm` for `echo-provider`).
    let alt = format!("{}.wasm", spec.replace('-', "_"));
    for dir in &dirs {
        for candidate in [&file, &alt] {
            let path = dir.join(candidate);
            if path.is_file() {
                return Ok(PluginSource {
                    name: spec.to_string(),
                    path,
                });
            }
        }
    }
    Err(PluginError::NotFound {
        name: spec.to_string(),
        searched: if dirs.is_empty() {
            "(no plugin folders)".to_string()
        } else {
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        },
    })
}

/// A plugin's name from its file: the stem, with cargo's underscores turned back into
/// hyphens (`echo_provider.wasm` is `echo-provider`).
fn name_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().replace('_', "-"))
        .unwrap_or_else(|| "plugin".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_paths_and_name_from_stem() {
        let s = locate("some/dir/echo_provider.wasm").expect("path");
        assert_eq!(s.name, "echo-provider");
        assert_eq!(s.path, PathBuf::from("some/dir/echo_provider.wasm"));
        assert_eq!(locate("x.wasm").expect("path").name, "x");
    }

    #[test]
    fn unknown_name_says_where_it_looked() {
        let err = locate("surely-not-a-shipped-plugin").expect_err("missing");
        let text = err.to_string();
        assert!(text.contains("surely-not-a-shipped-plugin.wasm"), "{text}");
        assert!(text.contains("plugins"), "{text}");
    }
}
