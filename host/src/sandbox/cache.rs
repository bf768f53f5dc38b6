//! An on-disk cache of compiled components, so the second run of a plugin skips Cranelift.
//!
//! An entry is keyed by the engine's compilation settings and the component's bytes, and
//! stores a BLAKE3 digest of the artifact in front of it. Deserializing an artifact is
//! `unsafe` (it is machine code), so an entry is loaded only when its digest matches what
//! we wrote; anything else (truncated, corrupt, from another wasmtime) is recompiled and
//! replaced.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

/// Marks files written by this cache format.
const MAGIC: &[u8; 8] = b"WHCACHE1";
const HEADER_LEN: usize = MAGIC.len() + blake3::OUT_LEN;

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheOutcome {
    /// Loaded from a valid cache entry.
    Hit,
    /// Compiled and written to the cache.
    Compiled,
    /// Compiled; a bad entry was found and replaced.
    Replaced,
    /// Compiled; the cache is off or could not be written.
    Uncached,
}

#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
}

impl ComponentCache {
    /// A cache in `dir`, created on first write.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir: Some(dir) }
    }

    /// No cache: every load compiles.
    pub fn disabled() -> Self {
        Self { dir: None }
    }

    /// `$WASMHOST_CACHE_DIR`, else the user cache folder (`~/.cache/wasmhost/components`).
    pub fn default_location() -> Self {
        if let Some(dir) = std::env::var_os("WASMHOST_CACHE_DIR") {
            return Self::new(PathBuf::from(dir));
        }
        match directories::ProjectDirs::from("", "", "wasmhost") {
            Some(dirs) => Self::new(dirs.cache_dir().join("components")),
            None => Self::disabled(),
        }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The compiled component for `wasm`, from the cache when a valid entry exists.
    pub fn load(
        &self,
        engine: &Engine,
        wasm: &[u8],
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let Some(dir) = &self.dir else {
            return Ok((Component::new(engine, wasm)?, CacheOutcome::Uncached));
        };
        let path = dir.join(format!("{}.cwasm", entry_key(engine, wasm)));
        let mut found_bad_entry = false;
        if let Ok(bytes) = std::fs::read(&path) {
            if let Some(artifact) = verified_artifact(&bytes) {
                // SAFETY: the digest proves these are the exact bytes this cache wrote
                // from `Engine::precompile_component` with an engine of the same settings
                // (the key includes them).
                match unsafe { Component::deserialize(engine, artifact) } {
                    Ok(component) => return Ok((component, CacheOutcome::Hit)),
                    Err(_) => found_bad_entry = true,
                }
            } else {
                found_bad_entry = true;
            }
        }
        let artifact = engine.precompile_component(wasm)?;
        // SAFETY: produced just now by this engine.
        let component = unsafe { Component::deserialize(engine, &artifact)? };
        let outcome = match write_entry(dir, &path, &artifact) {
            Ok(()) if found_bad_entry => CacheOutcome::Replaced,
            Ok(()) => CacheOutcome::Compiled,
            // A read-only or full cache folder must not stop the plugin from running.
            Err(_) => CacheOutcome::Uncached,
        };
        Ok((component, outcome))
    }
}

fn verified_artifact(bytes: &[u8]) -> Option<&[u8]> {
    let (header, artifact) = bytes.split_at_checked(HEADER_LEN)?;
    let (magic, digest) = header.split_at(MAGIC.len());
    (magic == MAGIC && blake3::hash(artifact).as_bytes() == digest).then_some(artifact)
}

/// Writes through a temporary file and a rename, so a reader never sees half an entry.
fn write_entry(dir: &Path, path: &Path, artifact: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(MAGIC)?;
    tmp.write_all(blake3::hash(artifact).as_bytes())?;
    tmp.write_all(artifact)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn entry_key(engine: &Engine, wasm: &[u8]) -> String {
    let mut hasher = Blake3Hasher(blake3::Hasher::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let mut key = hasher.0;
    key.update(wasm);
    key.finalize().to_hex()[..32].to_string()
}

/// Feeds `Hash` output into BLAKE3 so the key does not depend on std's unstable SipHash.
struct Blake3Hasher(blake3::Hasher);

impl Hasher for Blake3Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        let digest = self.0.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest.as_bytes()[..8]);
        u64::from_le_bytes(first)
    }
}
