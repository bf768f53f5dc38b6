//! What a plugin may do in the folders it was granted, beyond what `wasmtime-wasi`
//! enforces (no `..`, no absolute paths, no symlink escapes, read-only unless `rw`):
//!
//! - it opens only regular files and directories. A FIFO, socket or device in a granted
//!   folder (or a skill) would block the host thread that opens or reads it, past every
//!   deadline, or stream without end; such a file is refused as "not permitted". The path
//!   is checked before the open (the usual case, with a clear refusal) and the opened file
//!   after it (in case something was renamed into place in between); the open itself runs
//!   where a blocking call cannot starve the async runtime;
//! - it creates no symbolic links. A link planted in a read-write folder (`escape ->
//!   ../../..`) is harmless to the sandbox but not to the next program that follows it on
//!   the host.
//!
//! Both are `wasi:filesystem/types` functions redefined over `wasmtime-wasi`'s own: the
//! check runs, then the original does the work.

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemView};
use wasmtime_wasi::p2::FsError;
use wasmtime_wasi::p2::bindings::filesystem::types::{
    DescriptorFlags, DescriptorType, ErrorCode, Host, HostDescriptor, OpenFlags, PathFlags,
};

use super::{Capability, PluginState, Prepare, StoreError};
use crate::blocking::off_the_async_workers;
use crate::policy::{self, Denial};

/// The `wasi:filesystem/types` instance these functions replace, as `wasmtime-wasi` links it.
const TYPES: &str = "wasi:filesystem/types@0.2.12";

/// The guard holds no state of its own: what it refuses goes to the instance's denials.
pub struct FsGuard;

impl Capability for FsGuard {
    fn prepare(_: &Prepare<'_>) -> Result<Self, StoreError> {
        Ok(Self)
    }

    fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
        add_to_linker(linker)
    }
}

/// Replaces `open-at` and `symlink-at` in `linker`, which must already hold
/// `wasmtime-wasi`'s filesystem.
fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut types = linker.instance(TYPES)?;
    types.func_wrap_async(
        "[method]descriptor.open-at",
        |mut store,
         (fd, path_flags, path, oflags, flags): (
            Resource<Descriptor>,
            PathFlags,
            String,
            OpenFlags,
            DescriptorFlags,
        )| {
            Box::new(async move {
                let state = store.data_mut();
                let kind = {
                    let mut fs = state.filesystem();
                    let borrowed = Resource::new_borrow(fd.rep());
                    match HostDescriptor::stat_at(&mut fs, borrowed, path_flags, path.clone()).await
                    {
                        Ok(stat) => Some(stat.type_),
                        // Missing (it may be created) or unreadable: let the open decide.
                        Err(_) => None,
                    }
                };
                if kind.is_some_and(|k| !openable(k)) {
                    state.denials.push(Denial {
                        plugin: state.plugin.clone(),
                        capability: policy::Capability::SpecialFile { path },
                    });
                    return Ok((Err(ErrorCode::NotPermitted),));
                }
                let mut fs = state.filesystem();
                let opened = off_the_async_workers(|| {
                    futures::executor::block_on(HostDescriptor::open_at(
                        &mut fs,
                        fd,
                        path_flags,
                        path.clone(),
                        oflags,
                        flags,
                    ))
                });
                let opened = match error_code(&mut fs, opened)? {
                    Ok(opened) => opened,
                    Err(code) => return Ok((Err(code),)),
                };
                // Checked again on the open file: the path may have changed since the stat.
                let borrowed = Resource::new_borrow(opened.rep());
                let kind = match HostDescriptor::stat(&mut fs, borrowed).await {
                    Ok(stat) => stat.type_,
                    Err(_) => DescriptorType::Unknown,
                };
                if openable(kind) {
                    return Ok((Ok(opened),));
                }
                HostDescriptor::drop(&mut fs, opened)?;
                state.denials.push(Denial {
                    plugin: state.plugin.clone(),
                    capability: policy::Capability::SpecialFile { path },
                });
                Ok((Err(ErrorCode::NotPermitted),))
            })
        },
    )?;
    types.func_wrap_async(
        "[method]descriptor.symlink-at",
        |mut store, (_fd, target, link): (Resource<Descriptor>, String, String)| {
            Box::new(async move {
                let state = store.data_mut();
                state.denials.push(Denial {
                    plugin: state.plugin.clone(),
                    capability: policy::Capability::Symlink { link, target },
                });
                Ok((Err::<(), _>(ErrorCode::NotPermitted),))
            })
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// What a plugin may open: data and folders, nothing that blocks or streams forever.
fn openable(kind: DescriptorType) -> bool {
    matches!(
        kind,
        DescriptorType::RegularFile | DescriptorType::Directory | DescriptorType::SymbolicLink
    )
}

/// An `FsResult` as the guest sees it: the error code, or a trap for a host fault.
fn error_code<T>(
    fs: &mut impl Host,
    result: Result<T, FsError>,
) -> wasmtime::Result<Result<T, ErrorCode>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(error) => Ok(Err(fs.convert_error_code(error)?)),
    }
}
