//! An on-disk cache of compiled components, so the second run of a plugin skips Cranelift.
//!
//! An entry is keyed by the engine's compilation settings and the component's bytes. It is
//! two files: `KEY.cwasm`, the artifact as wasmtime wrote it, and `KEY.seal`, a BLAKE3
//! digest of the artifact plus the fingerprint (size, inode, mtime, ctime) the artifact
//! file had when that digest was last checked. Deserializing an artifact is `unsafe` (it
//! is machine code), so an entry is loaded only when it is proven to be what we wrote:
//! - the fingerprint is unchanged since the last full check: the file is memory-mapped as
//!   is (~1 ms even for CPython's 60 MB artifact); any write to the file, even one that
//!   keeps its size, moves its ctime, which only the kernel sets;
//! - otherwise the whole artifact is hashed against the digest (and the seal refreshed).
//!
//! Anything else (truncated, corrupt, unsealed, from another wasmtime) is recompiled and
//! replaced, each file through a temporary file and a rename.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

/// Marks seals written by this cache format.
const MAGIC: &[u8; 8] = b"WHSEAL01";

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

    /// The compiled component for `wasm`, from the cache when a valid entry exists, else
    /// from `compile` (which turns the component into an artifact of `engine`).
    pub fn load<E: From<wasmtime::Error>>(
        &self,
        engine: &Engine,
        wasm: &[u8],
        compile: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>,
    ) -> Result<(Component, CacheOutcome), E> {
        let Some(dir) = &self.dir else {
            let artifact = compile(wasm)?;
            // SAFETY: `compile` produced it just now for this engine's settings, in this
            // process or in a child running this same binary on a private temporary folder.
            let component = unsafe { Component::deserialize(engine, &artifact)? };
            return Ok((component, CacheOutcome::Uncached));
        };
        let key = entry_key(engine, wasm);
        let artifact_path = dir.join(format!("{key}.cwasm"));
        let seal_path = dir.join(format!("{key}.seal"));
        let found_entry = artifact_path.exists() || seal_path.exists();
        if let Some(component) = load_sealed(engine, &artifact_path, &seal_path) {
            return Ok((component, CacheOutcome::Hit));
        }
        let artifact = compile(wasm)?;
        // SAFETY: as above, produced just now by `compile` for this engine.
        let component = unsafe { Component::deserialize(engine, &artifact)? };
        let outcome = match write_entry(dir, &artifact_path, &seal_path, &artifact) {
            Ok(()) if found_entry => CacheOutcome::Replaced,
            Ok(()) => CacheOutcome::Compiled,
            // A read-only or full cache folder must not stop the plugin from running.
            Err(_) => CacheOutcome::Uncached,
        };
        Ok((component, outcome))
    }
}

/// The seal: magic, the artifact's digest, and the artifact file's fingerprint.
struct Seal {
    digest: [u8; blake3::OUT_LEN],
    fingerprint: Fingerprint,
}

/// What changes whenever a file's content may have changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    len: u64,
    ino: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Fingerprint {
    const BYTES: usize = 8 + 8 + 16 + 16;

    fn of(path: &Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(Self {
            len: m.len(),
            ino: m.ino(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            ctime_ns: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
        })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.len.to_le_bytes());
        out.extend_from_slice(&self.ino.to_le_bytes());
        out.extend_from_slice(&self.mtime_ns.to_le_bytes());
        out.extend_from_slice(&self.ctime_ns.to_le_bytes());
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let (len, rest) = bytes.split_first_chunk::<8>()?;
        let (ino, rest) = rest.split_first_chunk::<8>()?;
        let (mtime, rest) = rest.split_first_chunk::<16>()?;
        let (ctime, _) = rest.split_first_chunk::<16>()?;
        Some(Self {
            len: u64::from_le_bytes(*len),
            ino: u64::from_le_bytes(*ino),
            mtime_ns: i128::from_le_bytes(*mtime),
            ctime_ns: i128::from_le_bytes(*ctime),
        })
    }
}

impl Seal {
    fn read(path: &Path) -> Option<Self> {
        let bytes = std::fs::read(path).ok()?;
        let rest = bytes.strip_prefix(MAGIC.as_slice())?;
        let (digest, rest) = rest.split_first_chunk::<{ blake3::OUT_LEN }>()?;
        (rest.len() == Fingerprint::BYTES).then_some(())?;
        Some(Self {
            digest: *digest,
            fingerprint: Fingerprint::decode(rest)?,
        })
    }

    fn write(&self, dir: &Path, path: &Path) -> std::io::Result<()> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&self.digest);
        self.fingerprint.encode(&mut bytes);
        write_atomically(dir, path, &bytes)
    }
}

/// The cached component, if the entry proves to be what this cache wrote.
fn load_sealed(engine: &Engine, artifact_path: &Path, seal_path: &Path) -> Option<Component> {
    let seal = Seal::read(seal_path)?;
    let now = Fingerprint::of(artifact_path)?;
    if now == seal.fingerprint {
        // SAFETY: the file has not changed since its bytes were checked against the digest
        // of what this cache wrote from `Engine::precompile_component` with an engine of
        // the same settings (the key includes them).
        return unsafe { Component::deserialize_file(engine, artifact_path) }.ok();
    }
    let bytes = std::fs::read(artifact_path).ok()?;
    if blake3::hash(&bytes).as_bytes() != &seal.digest {
        return None;
    }
    // SAFETY: as above: these are the exact bytes the digest was made from.
    let component = unsafe { Component::deserialize(engine, &bytes) }.ok()?;
    // Checked in full: remember the file as it is now, so the next load can map it.
    if let (Some(dir), Some(fingerprint)) = (seal_path.parent(), Fingerprint::of(artifact_path)) {
        let fresh = Seal {
            digest: seal.digest,
            fingerprint,
        };
        let _ = fresh.write(dir, seal_path);
    }
    Some(component)
}

/// Writes the artifact, then its seal. A crash in between leaves an unsealed artifact,
/// which the next load recompiles.
fn write_entry(
    dir: &Path,
    artifact_path: &Path,
    seal_path: &Path,
    artifact: &[u8],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let _ = std::fs::remove_file(seal_path);
    write_atomically(dir, artifact_path, artifact)?;
    let fingerprint = Fingerprint::of(artifact_path)
        .ok_or_else(|| std::io::Error::other("the artifact just written cannot be read back"))?;
    Seal {
        digest: *blake3::hash(artifact).as_bytes(),
        fingerprint,
    }
    .write(dir, seal_path)
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
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
