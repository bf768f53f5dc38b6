//! What a component may ask of the compiler, checked on its bytes before anything is
//! compiled. Cranelift's time grows faster than linearly in some shapes of code, so a few
//! kilobytes can cost minutes of host CPU before any per-call budget applies: 21 KB of
//! loops nested 3,000 deep took 71 s, 350 KB of `call_indirect` 41 s, thousands of locals
//! live across thousands of loops 40 s (measured with wasmtime 48 on the reference
//! machine; `docs/security.md` has the table). Each shape that drives a blow-up has a cap
//! ([`CompileLimits`]), set at least twice over what the biggest real component we know
//! (the sandboxed CPython runner) needs.
//!
//! One pass with wasmparser's validator (which knows each operator's operand-stack height)
//! over every function of every core module in the component: ~130 ms for CPython's 6.5 MB
//! of code, run only when the compile cache misses.

use wasmparser::{
    Encoding, FuncValidatorAllocations, Operator, Parser, Payload, ValidPayload, Validator,
    WasmFeatures,
};

use crate::policy::CompileLimits;

/// Why a component was refused before compiling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileRefusal {
    #[error(
        "{place}{value} {what}, over the limit of {limit}: code shaped like this makes the \
         compiler run for minutes (raise `{key}` in [host.compile] of wasmhost.toml)"
    )]
    Limit {
        /// `function 3 of core module 1 has ` or `it has ` (the component as a whole).
        place: String,
        what: &'static str,
        value: u64,
        limit: u64,
        key: &'static str,
    },
    #[error("it is not a well-formed WebAssembly component: {0}")]
    Malformed(String),
}

/// What the checks counted over the whole component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CodeShape {
    pub core_modules: usize,
    pub functions: u64,
    pub code_bytes: u64,
    pub cfg_ops: u64,
    /// Σ cfg_ops² over functions: the branch-heavy part of compile time is quadratic per
    /// function.
    pub cfg_cost: u64,
    pub loops: u64,
    pub loop_pressure: u64,
}

/// What one function holds.
#[derive(Debug, Default)]
struct FunctionShape {
    bytes: u64,
    locals: u64,
    stack: u64,
    control_depth: u64,
    loops: u64,
    loop_nesting: u64,
    br_table: u64,
    /// Branches, blocks, indirect calls, memory and table instructions that become calls:
    /// what makes control-flow graphs (and the optimiser's work on them) big.
    cfg_ops: u64,
    call_indirect: u64,
}

/// Reads `wasm` and refuses it if it crosses `limits`; otherwise says what it holds.
pub fn check(wasm: &[u8], limits: &CompileLimits) -> Result<CodeShape, CompileRefusal> {
    let whole = |what, value, limit, key| CompileRefusal::Limit {
        place: "it has ".into(),
        what,
        value,
        limit,
        key,
    };
    let size = wasm.len() as u64;
    if size > limits.component_bytes {
        return Err(whole(
            "bytes",
            size,
            limits.component_bytes,
            "component_mib",
        ));
    }
    let malformed = |e: wasmparser::BinaryReaderError| CompileRefusal::Malformed(e.to_string());
    let mut shape = CodeShape::default();
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let mut allocations = FuncValidatorAllocations::default();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(malformed)?;
        if let Payload::Version {
            encoding: Encoding::Module,
            ..
        } = &payload
        {
            shape.core_modules += 1;
        }
        let ValidPayload::Func(to_validate, body) =
            validator.payload(&payload).map_err(malformed)?
        else {
            continue;
        };
        let mut func = to_validate.into_validator(std::mem::take(&mut allocations));
        let index = func.index();
        let mut f = FunctionShape {
            bytes: body.range().len() as u64,
            ..FunctionShape::default()
        };
        let mut reader = body.get_binary_reader();
        func.read_locals(&mut reader).map_err(malformed)?;
        f.locals = u64::from(func.len_locals());
        // Whether each open block is a loop, to know the loop nesting at its `end`.
        let mut open: Vec<bool> = Vec::new();
        let mut nesting = 0u64;
        let mut operators = body.get_operators_reader().map_err(malformed)?;
        while !operators.eof() {
            let (op, offset) = operators.read_with_offset().map_err(malformed)?;
            count(&op, &mut f, &mut open, &mut nesting);
            func.op(offset, &op).map_err(malformed)?;
            f.stack = f.stack.max(u64::from(func.operand_stack_height()));
            f.control_depth = f.control_depth.max(u64::from(func.control_stack_height()));
        }
        allocations = func.into_allocations();
        let module = shape.core_modules.saturating_sub(1);
        check_function(&f, limits, module, index)?;

        shape.functions += 1;
        shape.code_bytes += f.bytes;
        shape.cfg_ops += f.cfg_ops;
        shape.cfg_cost = shape
            .cfg_cost
            .saturating_add(f.cfg_ops.saturating_mul(f.cfg_ops));
        shape.loops += f.loops;
        shape.loop_pressure += (f.locals + f.stack).saturating_mul(f.loops);
        for (what, value, limit, key) in [
            ("functions", shape.functions, limits.functions, "functions"),
            (
                "bytes of code",
                shape.code_bytes,
                limits.code_bytes,
                "code_mib",
            ),
            (
                "branches and blocks",
                shape.cfg_ops,
                limits.total_cfg_ops,
                "total_cfg_ops",
            ),
            (
                "units of branch cost (each function's branches and blocks, squared, summed)",
                shape.cfg_cost,
                limits.total_cfg_cost,
                "total_cfg_cost",
            ),
            ("loops", shape.loops, limits.total_loops, "total_loops"),
            (
                "units of loop pressure (locals and stack values times loops, summed)",
                shape.loop_pressure,
                limits.total_loop_pressure,
                "total_loop_pressure",
            ),
        ] {
            if value > limit {
                return Err(whole(what, value, limit, key));
            }
        }
    }
    Ok(shape)
}

fn count(op: &Operator<'_>, f: &mut FunctionShape, open: &mut Vec<bool>, nesting: &mut u64) {
    use Operator as O;
    match op {
        O::Loop { .. } => {
            f.cfg_ops += 1;
            f.loops += 1;
            *nesting += 1;
            f.loop_nesting = f.loop_nesting.max(*nesting);
            open.push(true);
        }
        O::Block { .. } | O::If { .. } | O::Try { .. } | O::TryTable { .. } => {
            f.cfg_ops += 1;
            open.push(false);
        }
        // Every `end` closes one block (the guard pops it); a loop's also unnests.
        O::End if open.pop() == Some(true) => *nesting -= 1,
        // Every target is an edge of the control-flow graph: summed, so many small tables
        // cost as much as one big one.
        O::BrTable { targets } => {
            f.cfg_ops += 1;
            f.br_table += u64::from(targets.len());
        }
        O::CallIndirect { .. }
        | O::ReturnCallIndirect { .. }
        | O::CallRef { .. }
        | O::ReturnCallRef { .. } => {
            f.cfg_ops += 1;
            f.call_indirect += 1;
        }
        O::Else
        | O::Br { .. }
        | O::BrIf { .. }
        | O::BrOnNull { .. }
        | O::BrOnNonNull { .. }
        | O::Catch { .. }
        | O::CatchAll
        // These become calls into the runtime, with the same superlinear cost as branches.
        | O::MemoryGrow { .. }
        | O::MemoryFill { .. }
        | O::MemoryCopy { .. }
        | O::MemoryInit { .. }
        | O::TableGet { .. }
        | O::TableSet { .. }
        | O::TableGrow { .. }
        | O::TableFill { .. }
        | O::TableCopy { .. }
        | O::TableInit { .. }
        | O::MemoryAtomicWait32 { .. }
        | O::MemoryAtomicWait64 { .. }
        | O::MemoryAtomicNotify { .. }
        | O::Throw { .. }
        | O::ThrowRef
        | O::Rethrow { .. } => f.cfg_ops += 1,
        _ => {}
    }
}

fn check_function(
    f: &FunctionShape,
    limits: &CompileLimits,
    module: usize,
    index: u32,
) -> Result<(), CompileRefusal> {
    let pressure = (f.locals + f.stack).saturating_mul(f.loops);
    for (what, value, limit, key) in [
        (
            "bytes of code",
            f.bytes,
            limits.function_bytes,
            "function_kib",
        ),
        ("locals", f.locals, limits.locals, "locals"),
        (
            "operand-stack values live at once",
            f.stack,
            limits.stack,
            "stack",
        ),
        (
            "levels of nested blocks",
            f.control_depth,
            limits.control_depth,
            "control_depth",
        ),
        // The more specific cause first: nesting before loops, indirect calls before the
        // branches and blocks they count in.
        (
            "levels of nested loops",
            f.loop_nesting,
            limits.loop_nesting,
            "loop_nesting",
        ),
        ("loops", f.loops, limits.loops, "loops"),
        (
            "br_table targets (all its tables together)",
            f.br_table,
            limits.br_table,
            "br_table",
        ),
        (
            "indirect calls",
            f.call_indirect,
            limits.call_indirect,
            "call_indirect",
        ),
        ("branches and blocks", f.cfg_ops, limits.cfg_ops, "cfg_ops"),
        (
            "units of loop pressure (locals and stack values times loops)",
            pressure,
            limits.loop_pressure,
            "loop_pressure",
        ),
    ] {
        if value > limit {
            return Err(CompileRefusal::Limit {
                place: format!("function {index} of core module {module} has "),
                what,
                value,
                limit,
                key,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "precheck_tests.rs"]
mod tests;
