//! What a component may ask of the compiler, checked on its bytes before anything is
//! compiled: Cranelift's time grows faster than linearly in some shapes of code (one huge
//! function, thousands of locals live across it), so a few hundred kilobytes can cost
//! minutes of host CPU before any per-call budget applies. The checks read every core
//! module nested in the component (one pass, no validation, no allocation per function).

use wasmparser::{Encoding, Parser, Payload};

use crate::policy::CompileLimits;

/// Which compile limit a component crossed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileRefusal {
    #[error(
        "it is {size} bytes, over the limit of {limit} (raise `component_mib` in [host] of wasmhost.toml)"
    )]
    Size { size: u64, limit: u64 },
    #[error(
        "it defines {count} functions, over the limit of {limit} (raise `compile_functions` in [host] of wasmhost.toml)"
    )]
    Functions { count: u64, limit: u64 },
    #[error(
        "function {index} of core module {module} is {size} bytes of code, over the limit of {limit} (raise `compile_function_kib` in [host] of wasmhost.toml)"
    )]
    FunctionSize {
        module: usize,
        index: u64,
        size: u64,
        limit: u64,
    },
    #[error(
        "function {index} of core module {module} declares {count} locals, over the limit of {limit} (raise `compile_locals` in [host] of wasmhost.toml)"
    )]
    Locals {
        module: usize,
        index: u64,
        count: u64,
        limit: u64,
    },
    #[error("it is not a well-formed WebAssembly binary: {0}")]
    Malformed(String),
}

/// What the checks counted, for `just bench` and `inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CodeShape {
    pub core_modules: usize,
    pub functions: u64,
    pub largest_function: u64,
    pub most_locals: u64,
}

/// Reads `wasm` and refuses it if it crosses `limits`; otherwise says what it holds.
pub fn check(wasm: &[u8], limits: &CompileLimits) -> Result<CodeShape, CompileRefusal> {
    let size = wasm.len() as u64;
    if size > limits.component_bytes {
        return Err(CompileRefusal::Size {
            size,
            limit: limits.component_bytes,
        });
    }
    let mut shape = CodeShape::default();
    // Index of the function body within its module.
    let mut body_index = 0u64;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| CompileRefusal::Malformed(e.to_string()))?;
        match payload {
            Payload::Version {
                encoding: Encoding::Module,
                ..
            } => {
                shape.core_modules += 1;
                body_index = 0;
            }
            Payload::CodeSectionStart { count, .. } => {
                shape.functions += u64::from(count);
                if shape.functions > limits.functions {
                    return Err(CompileRefusal::Functions {
                        count: shape.functions,
                        limit: limits.functions,
                    });
                }
            }
            Payload::CodeSectionEntry(body) => {
                let module = shape.core_modules.saturating_sub(1);
                let bytes = body.range().len() as u64;
                shape.largest_function = shape.largest_function.max(bytes);
                if bytes > limits.function_bytes {
                    return Err(CompileRefusal::FunctionSize {
                        module,
                        index: body_index,
                        size: bytes,
                        limit: limits.function_bytes,
                    });
                }
                let mut locals = 0u64;
                let reader = body
                    .get_locals_reader()
                    .map_err(|e| CompileRefusal::Malformed(e.to_string()))?;
                for entry in reader {
                    let (count, _ty) =
                        entry.map_err(|e| CompileRefusal::Malformed(e.to_string()))?;
                    locals = locals.saturating_add(u64::from(count));
                }
                shape.most_locals = shape.most_locals.max(locals);
                if locals > limits.locals {
                    return Err(CompileRefusal::Locals {
                        module,
                        index: body_index,
                        count: locals,
                        limit: limits.locals,
                    });
                }
                body_index += 1;
            }
            _ => {}
        }
    }
    Ok(shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(body: &str) -> Vec<u8> {
        wat::parse_str(format!("(module {body})")).expect("valid wat")
    }

    #[test]
    fn counts_and_refuses_each_shape() {
        let limits = CompileLimits {
            component_bytes: 1 << 20,
            functions: 3,
            function_bytes: 64,
            locals: 10,
            ..CompileLimits::default()
        };
        let ok = module("(func) (func (local i32 i64))");
        let shape = check(&ok, &limits).expect("within limits");
        assert_eq!(shape.functions, 2);
        assert_eq!(shape.most_locals, 2);

        let many = module("(func) (func) (func) (func)");
        assert!(matches!(
            check(&many, &limits),
            Err(CompileRefusal::Functions { count: 4, .. })
        ));

        let big = module(&format!("(func {})", "(drop (i32.const 1)) ".repeat(40)));
        let err = check(&big, &limits).expect_err("big");
        assert!(
            matches!(err, CompileRefusal::FunctionSize { index: 0, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("`compile_function_kib`"), "{err}");

        let locals = module("(func (local i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32))");
        assert!(matches!(
            check(&locals, &limits),
            Err(CompileRefusal::Locals { count: 11, .. })
        ));

        let huge = vec![0u8; 2 << 20];
        assert!(matches!(
            check(&huge, &limits),
            Err(CompileRefusal::Size { .. })
        ));
        assert!(matches!(
            check(b"\0asm\x01\0\0\0\x0a\xff", &limits),
            Err(CompileRefusal::Malformed(_))
        ));
    }
}
