# wasmhost entry points. `just` alone runs the demo.

set shell := ["bash", "-euo", "pipefail", "-c"]

wasm_out := "target/wasm/wasm32-wasip2/release"
plugin_dir := "target/debug/plugins"

# The main job: the shipped plugins, for real, on the example skills.
default: demo

# Install the wasm target if missing.
setup:
    rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

# Refresh the vendored WASI WIT in any contract folder that lacks it.
vendor-wit:
    scripts/vendor-wit.sh

# Build the sandboxed Python runner (CPython for WASI, via componentize-py from PyPI in
# target/python-venv); skipped when its inputs are unchanged.
python-runner:
    runtimes/python/build.sh target/runtimes/python.wasm

# Build the example tool plugin written in Python (examples/python-tool, componentize-py)
# to target/examples/text_tools.wasm; skipped when its inputs are unchanged.
python-tool:
    examples/python-tool/build.sh target/examples/text_tools.wasm

# The Agent Skills reference validator (`skills-ref` from PyPI, its `agentskills` command),
# in target/tools/skills-ref: the tests check `skills check` against it.
skills-ref:
    test -x target/tools/skills-ref/bin/agentskills || { python3 -m venv target/tools/skills-ref && target/tools/skills-ref/bin/python -m pip install --quiet --disable-pip-version-check skills-ref==0.1.1; }

# The official MCP Python SDK (`mcp` from PyPI) in target/tools/mcp: the tests drive
# `wasmhost mcp` with its client.
mcp-sdk:
    test -x target/tools/mcp/bin/python && target/tools/mcp/bin/python -c "import mcp" 2>/dev/null || { python3 -m venv target/tools/mcp && target/tools/mcp/bin/python -m pip install --quiet --disable-pip-version-check mcp==2.3.0; }

# Build the shipped plugins and put them (and the Python runner) next to the debug binary.
plugins: setup python-runner
    cargo build --release --target wasm32-wasip2 --target-dir target/wasm -p skills -p openai -p anthropic -p replay
    mkdir -p {{plugin_dir}} {{plugin_dir}}/../runtimes
    cp {{wasm_out}}/skills.wasm {{wasm_out}}/openai.wasm {{wasm_out}}/anthropic.wasm {{wasm_out}}/replay.wasm {{plugin_dir}}/
    cp target/runtimes/python.wasm {{plugin_dir}}/../runtimes/python.wasm

# Install wasmhost and the shipped plugins (next to the binary, where it finds them by name).
install: plugins
    cargo install --locked --path host
    mkdir -p "${CARGO_HOME:-$HOME/.cargo}/bin/plugins"
    cp {{plugin_dir}}/*.wasm "${CARGO_HOME:-$HOME/.cargo}/bin/plugins/"
    mkdir -p "${CARGO_HOME:-$HOME/.cargo}/bin/runtimes"
    cp target/runtimes/python.wasm "${CARGO_HOME:-$HOME/.cargo}/bin/runtimes/"
    "${CARGO_HOME:-$HOME/.cargo}/bin/wasmhost" precompile

# Build the host and the plugins, and compile them (and the Python runtime) into the cache
# so that the first run does not wait for it.
build: plugins
    cargo build -p wasmhost
    target/debug/wasmhost precompile

# The offline demo: the agent loop with the `replay` provider answering from a cassette
# shipped in demo/ (no API key, no network), driving the example skills end to end: list
# them, read one, run its script in the sandboxed Python, answer. Tool calls show on stderr.
demo: build
    target/debug/wasmhost run --plugin replay --cassette demo/unit-conversion.cassette.jsonl --skills skills "How many miles is a 42 km marathon?"

# Formatting and lints, as CI enforces them.
lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings
    cargo clippy --all-targets -p skills -p provider-kit -p openai -p anthropic -p replay -p wasmhost-plugin -- -D warnings
    cargo clippy --release --target wasm32-wasip2 --target-dir target/wasm -p skills -p openai -p anthropic -p replay -p wasmhost-plugin -- -D warnings

# Every test: lints, unit tests, and end-to-end tests on real components.
test: setup python-runner python-tool skills-ref mcp-sdk lint
    cargo test
    cargo test -p skills -p provider-kit -p openai -p anthropic -p replay -p wasmhost-plugin

# Benchmarks: prints a table of figures with native baselines from the same run.
bench: setup python-runner
    env -u RUST_BACKTRACE cargo bench -p wasmhost-e2e --bench foundation --bench agent --bench skills --bench mcp
