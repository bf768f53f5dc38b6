;; Test guest: a tool plugin whose instantiation alone asks for 800 MiB of linear memory.
;;
;; Four core module instances each define their own memory of 3200 pages (200 MiB): the
;; host's memory limit must count every memory of a component, not just the first one. The
;; plugin itself is trivial: `list-tools` returns no tools and `call` always answers
;; ok("ok"). It imports nothing.
;;
;; tests/build.rs turns this into multi_memory.wasm with the `wat` crate.
(component
  ;; The implementation: list-tools, call and a bump allocator for call's string params.
  (core module $impl
    (memory (export "memory") 3200)
    ;; Static layout: call's return area at 16, list-tools' at 32, the "ok" bytes at 64;
    ;; the heap starts at 1024 and is reset by every call.
    (data (i32.const 64) "ok")
    (global $heap (mut i32) (i32.const 1024))

    ;; list-tools: func() -> list<tool-spec>, returned as (ptr, len) = (48, 0).
    (func (export "list-tools") (result i32)
      (i32.store (i32.const 32) (i32.const 48))
      (i32.store (i32.const 36) (i32.const 0))
      (i32.const 32))

    ;; call: func(name: string, arguments: string) -> result<string, tool-error>,
    ;; returned as (discriminant 0 = ok, ptr, len) = (0, 64, 2). The parameters are never
    ;; read, so the heap holding them can be reclaimed now.
    (func (export "call") (param i32 i32 i32 i32) (result i32)
      (global.set $heap (i32.const 1024))
      (i32.store8 (i32.const 16) (i32.const 0))
      (i32.store (i32.const 20) (i32.const 64))
      (i32.store (i32.const 24) (i32.const 2))
      (i32.const 16))

    ;; cabi_realloc(old-ptr, old-size, align, new-size) -> ptr: a bump allocator that only
    ;; ever allocates (the host never reallocates parameters), growing memory as needed.
    (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32)
      (param $size i32) (result i32)
      (local $ptr i32)
      (local $end i64)
      (local $have i64)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end
        (i64.add (i64.extend_i32_u (local.get $ptr)) (i64.extend_i32_u (local.get $size))))
      (local.set $have (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
      (if (i64.gt_u (local.get $end) (local.get $have))
        (then
          (if (i32.eq
                (memory.grow
                  (i32.wrap_i64
                    (i64.shr_u
                      (i64.add (i64.sub (local.get $end) (local.get $have)) (i64.const 65535))
                      (i64.const 16))))
                (i32.const -1))
            (then unreachable))))
      (global.set $heap (i32.wrap_i64 (local.get $end)))
      (local.get $ptr)))

  ;; Nothing but a memory of its own; instantiated three times.
  (core module $padding
    (memory (export "memory") 3200))

  (core instance $impl (instantiate $impl))
  (core instance $padding1 (instantiate $padding))
  (core instance $padding2 (instantiate $padding))
  (core instance $padding3 (instantiate $padding))

  ;; The types of wasmhost:plugin/llm-types@0.1.0 and wasmhost:plugin/tool@0.1.0.
  (type $tool-spec
    (record
      (field "name" string)
      (field "description" string)
      (field "parameters-schema" string)))
  (type $tool-error
    (variant
      (case "unknown-tool" string)
      (case "invalid-arguments" string)
      (case "not-found" string)
      (case "denied" string)
      (case "failed" string)))

  (alias core export $impl "memory" (core memory $memory))
  (alias core export $impl "cabi_realloc" (core func $realloc))
  (alias core export $impl "list-tools" (core func $core-list-tools))
  (alias core export $impl "call" (core func $core-call))

  (func $list-tools (result (list $tool-spec))
    (canon lift (core func $core-list-tools) (memory $memory)))
  (func $call (param "name" string) (param "arguments" string)
    (result (result string (error $tool-error)))
    (canon lift (core func $core-call) (memory $memory) (realloc $realloc)))

  ;; The exported interface, shaped the way wit-component shapes one: a nested component
  ;; that names its types, so that the export's type reads as the WIT interface.
  (component $tool-interface
    (type $tool-spec-def
      (record
        (field "name" string)
        (field "description" string)
        (field "parameters-schema" string)))
    (import "import-type-tool-spec" (type $tool-spec-in (eq $tool-spec-def)))
    (type $tool-error-def
      (variant
        (case "unknown-tool" string)
        (case "invalid-arguments" string)
        (case "not-found" string)
        (case "denied" string)
        (case "failed" string)))
    (import "import-type-tool-error" (type $tool-error-in (eq $tool-error-def)))
    (import "import-func-list-tools" (func $list-tools (result (list $tool-spec-in))))
    (import "import-func-call" (func $call (param "name" string) (param "arguments" string)
      (result (result string (error $tool-error-in)))))
    (export $tool-spec "tool-spec" (type $tool-spec-in))
    (export $tool-error "tool-error" (type $tool-error-in))
    (export "list-tools" (func $list-tools) (func (result (list $tool-spec))))
    (export "call" (func $call) (func (param "name" string) (param "arguments" string)
      (result (result string (error $tool-error))))))

  (instance $tool (instantiate $tool-interface
    (with "import-type-tool-spec" (type $tool-spec))
    (with "import-type-tool-error" (type $tool-error))
    (with "import-func-list-tools" (func $list-tools))
    (with "import-func-call" (func $call))))

  (export "wasmhost:plugin/tool@0.1.0" (instance $tool)))
