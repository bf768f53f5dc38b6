//! Which world a component implements and at which contract version, read from the names
//! of its exports (`wasmhost:plugin/tool@0.1.0`): the version a guest was built against is
//! part of every export name, so the host can tell it without running any guest code.

use std::fmt;

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::bindings::Contract;

/// The contract package.
pub const PACKAGE: &str = "wasmhost:plugin";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum World {
    Tool,
    Provider,
}

impl World {
    fn export_interface(self) -> &'static str {
        match self {
            World::Tool => "tool",
            World::Provider => "provider",
        }
    }
}

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            World::Tool => "tool-plugin",
            World::Provider => "provider-plugin",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl ApiVersion {
    fn parse(text: &str) -> Option<Self> {
        let core = text.split(['-', '+']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
        let (major, minor, patch) = (parts.next()??, parts.next()??, parts.next()??);
        parts.next().is_none().then_some(Self {
            major,
            minor,
            patch,
        })
    }

    /// The contract version of the host that serves this plugin, if the host has it.
    pub fn contract(&self) -> Option<Contract> {
        Contract::of(self.major, self.minor)
    }

    pub fn is_supported(&self) -> bool {
        self.contract().is_some()
    }

    /// Whether this is newer than every version the host implements.
    pub fn is_newer_than_host(&self) -> bool {
        (self.major, self.minor) > Contract::NEWEST.major_minor()
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// What the component's type says about it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Shape {
    pub exports: Vec<String>,
    pub imports: Vec<String>,
}

impl Shape {
    pub fn of(engine: &Engine, component: &Component) -> Self {
        let ty = component.component_type();
        Self {
            exports: ty
                .exports(engine)
                .map(|(name, _)| name.to_string())
                .collect(),
            imports: ty
                .imports(engine)
                .map(|(name, _)| name.to_string())
                .collect(),
        }
    }

    /// The world and version the component exports, if it exports exactly one of ours.
    pub fn detect(&self) -> Detected {
        let mut found = Vec::new();
        for name in &self.exports {
            let Some(rest) = name.strip_prefix(PACKAGE).and_then(|r| r.strip_prefix('/')) else {
                continue;
            };
            let (interface, version) = rest.split_once('@').unwrap_or((rest, ""));
            let world = [World::Tool, World::Provider]
                .into_iter()
                .find(|w| w.export_interface() == interface);
            if let Some(world) = world {
                found.push((world, ApiVersion::parse(version), version.to_string()));
            }
        }
        match found.as_slice() {
            [] => Detected::NotAPlugin,
            [(world, Some(version), _)] => Detected::Plugin(*world, *version),
            [(_, None, text)] => Detected::BadVersion(text.clone()),
            _ => Detected::Ambiguous(found.iter().map(|(w, ..)| *w).collect()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detected {
    Plugin(World, ApiVersion),
    NotAPlugin,
    BadVersion(String),
    Ambiguous(Vec<World>),
}

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryKind {
    Component,
    CoreModule,
    NotWasm,
}

/// Reads the binary header: `\0asm`, then version 1 (core module) or the component
/// encoding's version and layer.
pub fn binary_kind(bytes: &[u8]) -> BinaryKind {
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => BinaryKind::CoreModule,
        Some([0, b'a', b's', b'm', _, _, 1, 0]) => BinaryKind::Component,
        _ => BinaryKind::NotWasm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(exports: &[&str]) -> Shape {
        Shape {
            exports: exports.iter().map(|s| s.to_string()).collect(),
            imports: Vec::new(),
        }
    }

    #[test]
    fn detects_world_and_version() {
        assert_eq!(
            shape(&["wasmhost:plugin/tool@0.1.0"]).detect(),
            Detected::Plugin(
                World::Tool,
                ApiVersion {
                    major: 0,
                    minor: 1,
                    patch: 0
                }
            )
        );
        let Detected::Plugin(World::Provider, v) =
            shape(&["x:y/z", "wasmhost:plugin/provider@0.3.1"]).detect()
        else {
            panic!("provider expected");
        };
        assert!(!v.is_supported() && v.is_newer_than_host());
        for (text, contract) in [("0.1.0", Contract::V0_1), ("0.2.4", Contract::V0_2)] {
            let Detected::Plugin(_, v) = shape(&[&format!("wasmhost:plugin/tool@{text}")]).detect()
            else {
                panic!("tool expected");
            };
            assert_eq!(v.contract(), Some(contract), "{text}");
        }
        assert_eq!(
            shape(&["wasi:cli/run@0.2.0"]).detect(),
            Detected::NotAPlugin
        );
        assert_eq!(
            shape(&["wasmhost:plugin/tool"]).detect(),
            Detected::BadVersion(String::new())
        );
        assert!(matches!(
            shape(&[
                "wasmhost:plugin/tool@0.1.0",
                "wasmhost:plugin/provider@0.1.0"
            ])
            .detect(),
            Detected::Ambiguous(_)
        ));
    }

    #[test]
    fn binary_kinds() {
        assert_eq!(binary_kind(b"\0asm\x01\0\0\0rest"), BinaryKind::CoreModule);
        assert_eq!(binary_kind(b"\0asm\x0d\0\x01\0rest"), BinaryKind::Component);
        assert_eq!(binary_kind(b"#!/bin/sh"), BinaryKind::NotWasm);
        assert_eq!(binary_kind(b""), BinaryKind::NotWasm);
    }
}
