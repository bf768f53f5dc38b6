//! The compiled-component cache: the second load skips Cranelift; a corrupt or truncated
//! entry is rebuilt, never loaded.

use wasmhost::runtime::{CacheOutcome, ComponentCache};
use wasmhost_e2e::guests;

fn entries(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect()
}

#[test]
fn second_load_hits_and_bad_entries_are_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = ComponentCache::new(dir.path().to_path_buf());
    let sandbox = crate::support::sandbox();
    let engine = sandbox.engine();
    let wasm = std::fs::read(guests::HOSTILE).expect("guest");

    assert_eq!(
        cache
            .load(engine, &wasm, |w| engine.precompile_component(w))
            .expect("compile")
            .1,
        CacheOutcome::Compiled
    );
    assert_eq!(
        cache
            .load(engine, &wasm, |w| engine.precompile_component(w))
            .expect("load")
            .1,
        CacheOutcome::Hit
    );
    let [entry] = entries(dir.path()).try_into().expect("one entry");

    // Flip one byte deep in the artifact: the digest no longer matches.
    let mut bytes = std::fs::read(&entry).expect("read");
    let last = bytes.len() - 100;
    bytes[last] ^= 0xff;
    std::fs::write(&entry, &bytes).expect("corrupt");
    assert_eq!(
        cache
            .load(engine, &wasm, |w| engine.precompile_component(w))
            .expect("rebuild")
            .1,
        CacheOutcome::Replaced
    );
    assert_eq!(
        cache
            .load(engine, &wasm, |w| engine.precompile_component(w))
            .expect("load")
            .1,
        CacheOutcome::Hit
    );

    // Truncated to nothing, then to half.
    std::fs::write(&entry, b"").expect("truncate");
    assert_eq!(
        cache
            .load(engine, &wasm, |w| engine.precompile_component(w))
            .expect("rebuild")
            .1,
        CacheOutcome::Replaced
    );
    let bytes = std::fs::read(&entry).expect("read");
    std::fs::write(&entry, &bytes[..bytes.len() / 2]).expect("truncate");
    assert_eq!(
        cache
            .load(engine, &wasm, |w| engine.precompile_component(w))
            .expect("rebuild")
            .1,
        CacheOutcome::Replaced
    );

    // Rewrites replace the entry in place rather than adding files.
    assert_eq!(entries(dir.path()).len(), 1);
}

#[test]
fn a_different_component_gets_its_own_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = ComponentCache::new(dir.path().to_path_buf());
    let sandbox = crate::support::sandbox();
    for path in [guests::HOSTILE, guests::SKILLS] {
        let wasm = std::fs::read(path).expect("guest");
        assert_eq!(
            cache
                .load(sandbox.engine(), &wasm, |w| sandbox
                    .engine()
                    .precompile_component(w))
                .expect("compile")
                .1,
            CacheOutcome::Compiled
        );
    }
    assert_eq!(entries(dir.path()).len(), 2);
}

#[test]
fn an_unwritable_cache_still_runs_the_plugin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a folder").expect("write");
    let cache = ComponentCache::new(blocker.join("cache"));
    let wasm = std::fs::read(guests::HOSTILE).expect("guest");
    let outcome = cache
        .load(crate::support::sandbox().engine(), &wasm, |w| {
            crate::support::sandbox().engine().precompile_component(w)
        })
        .expect("compiles anyway")
        .1;
    assert_eq!(outcome, CacheOutcome::Uncached);
}

#[test]
fn an_unsealed_or_rewritten_entry_is_checked_in_full() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = ComponentCache::new(dir.path().to_path_buf());
    let engine = crate::support::sandbox().engine().clone();
    let wasm = std::fs::read(guests::HOSTILE).expect("guest");
    assert_eq!(
        cache
            .load(&engine, &wasm, |w| engine.precompile_component(w))
            .expect("compile")
            .1,
        CacheOutcome::Compiled
    );
    let [entry] = entries(dir.path()).try_into().expect("one entry");
    let seal = entry.with_extension("seal");

    // Same bytes written again: the fingerprint changes, the full check passes.
    let bytes = std::fs::read(&entry).expect("read");
    std::fs::write(&entry, &bytes).expect("rewrite");
    assert_eq!(
        cache
            .load(&engine, &wasm, |w| engine.precompile_component(w))
            .expect("load")
            .1,
        CacheOutcome::Hit
    );
    assert_eq!(
        cache
            .load(&engine, &wasm, |w| engine.precompile_component(w))
            .expect("load")
            .1,
        CacheOutcome::Hit
    );

    // Without its seal an artifact is never trusted.
    std::fs::remove_file(&seal).expect("unseal");
    assert_eq!(
        cache
            .load(&engine, &wasm, |w| engine.precompile_component(w))
            .expect("rebuild")
            .1,
        CacheOutcome::Replaced
    );
    // A seal that is garbage is no seal.
    std::fs::write(&seal, b"WHSEAL01 not really").expect("forge");
    assert_eq!(
        cache
            .load(&engine, &wasm, |w| engine.precompile_component(w))
            .expect("rebuild")
            .1,
        CacheOutcome::Replaced
    );
    assert_eq!(
        cache
            .load(&engine, &wasm, |w| engine.precompile_component(w))
            .expect("load")
            .1,
        CacheOutcome::Hit
    );
}
