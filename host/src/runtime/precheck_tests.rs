use super::*;

fn module(body: &str) -> Vec<u8> {
    wat::parse_str(format!("(module {body})")).expect("valid wat")
}

fn refusal_key(wasm: &[u8], limits: &CompileLimits) -> &'static str {
    match check(wasm, limits) {
        Err(CompileRefusal::Limit { key, .. }) => key,
        other => panic!("expected a limit, got {other:?}"),
    }
}

fn nested(open: &str, close: &str, depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

#[test]
fn counts_a_small_module_within_the_defaults() {
    let wasm =
        module("(memory 1) (func (param i32) (local i64) (loop (br_if 0 (local.get 0)))) (func)");
    let shape = check(&wasm, &CompileLimits::default()).expect("within limits");
    assert_eq!(shape.core_modules, 1);
    assert_eq!(shape.functions, 2);
    assert_eq!(shape.loops, 1);
    assert_eq!(shape.cfg_ops, 2);
}

#[test]
fn each_shape_that_makes_cranelift_slow_has_its_cap() {
    let small = CompileLimits {
        functions: 3,
        function_bytes: 4096,
        locals: 10,
        stack: 8,
        control_depth: 20,
        loops: 5,
        loop_nesting: 3,
        br_table: 4,
        cfg_ops: 30,
        call_indirect: 2,
        loop_pressure: 1_000,
        ..CompileLimits::default()
    };
    let cases: Vec<(&str, String)> = vec![
        ("functions", "(func) (func) (func) (func)".into()),
        (
            "function_kib",
            format!("(func {})", "(drop (i32.const 1)) ".repeat(2000)),
        ),
        ("locals", format!("(func (local {}))", "i32 ".repeat(11))),
        (
            "stack",
            format!(
                "(func {} {})",
                "(i32.const 1) ".repeat(9),
                "(drop) ".repeat(9)
            ),
        ),
        (
            "control_depth",
            format!("(func {})", nested("(block ", ")", 21, "")),
        ),
        ("loops", format!("(func {})", "(loop) ".repeat(6))),
        (
            "loop_nesting",
            format!("(func {})", nested("(loop ", ")", 4, "")),
        ),
        (
            "br_table",
            "(func (block (br_table 0 0 0 0 0 0 (i32.const 0))))".into(),
        ),
        ("cfg_ops", format!("(func {})", "(block) ".repeat(31))),
        (
            "call_indirect",
            format!(
                "(type $t (func)) (table 1 funcref) (func {})",
                "(call_indirect (type $t) (i32.const 0)) ".repeat(3)
            ),
        ),
        (
            "loop_pressure",
            format!(
                "(func (local {}) {})",
                "i32 ".repeat(10),
                "(loop) ".repeat(5)
            ),
        ),
    ];
    for (key, body) in cases {
        let mut limits = small;
        if key == "loop_pressure" {
            limits.loop_pressure = 49;
        }
        assert_eq!(refusal_key(&module(&body), &limits), key, "{body:.60}");
    }
}

#[test]
fn totals_over_the_component_have_their_caps() {
    let four_functions = module(&"(func (loop) (block)) ".repeat(4));
    for (key, limits) in [
        (
            "total_cfg_ops",
            CompileLimits {
                total_cfg_ops: 7,
                ..CompileLimits::default()
            },
        ),
        (
            "total_cfg_cost",
            CompileLimits {
                total_cfg_cost: 15,
                ..CompileLimits::default()
            },
        ),
        (
            "total_loops",
            CompileLimits {
                total_loops: 3,
                ..CompileLimits::default()
            },
        ),
        (
            "code_mib",
            CompileLimits {
                code_bytes: 8,
                ..CompileLimits::default()
            },
        ),
    ] {
        assert_eq!(refusal_key(&four_functions, &limits), key);
    }
    let limits = CompileLimits {
        component_bytes: 10,
        ..CompileLimits::default()
    };
    assert_eq!(refusal_key(&four_functions, &limits), "component_mib");
}

#[test]
fn the_message_names_the_place_the_value_and_the_key() {
    let wasm = module(&format!("(func) (func {})", nested("(loop ", ")", 40, "")));
    let err = check(&wasm, &CompileLimits::default()).expect_err("nested loops");
    assert_eq!(
        err.to_string(),
        "function 1 of core module 0 has 40 levels of nested loops, over the limit of 32: code \
         shaped like this makes the compiler run for minutes (raise `loop_nesting` in \
         [host.compile] of wasmhost.toml)"
    );
}

#[test]
fn nested_core_modules_of_a_component_are_all_checked() {
    let wat = format!(
        "(component (core module) (core module (func {})))",
        nested("(loop ", ")", 40, "")
    );
    let wasm = wat::parse_str(wat).expect("component");
    let err = check(&wasm, &CompileLimits::default()).expect_err("nested");
    assert!(
        err.to_string()
            .starts_with("function 0 of core module 1 has 40"),
        "{err}"
    );
    assert!(matches!(
        check(b"\0asm\x01\0\0\0\x0a\xff", &CompileLimits::default()),
        Err(CompileRefusal::Malformed(_))
    ));
}
