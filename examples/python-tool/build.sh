#!/usr/bin/env bash
# Builds the `text-tools` example plugin: `examples/python-tool/build.sh OUT_PATH`.
#
# Uses the same pinned componentize-py, in the same venv (target/python-venv), as
# runtimes/python/build.sh, and compiles app.py against the repository's contract,
# wit/v0.1.0, world `tool-plugin`. Skipped when OUT_PATH exists and the stamp beside it
# matches the hash of the inputs (app.py, this script, the contract) and the tool version.
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUT_PATH" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
wit="$root/wit/v0.1.0"
out="$1"
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
stamp="$out.stamp"

venv="$root/target/python-venv"
tool="$venv/bin/componentize-py"
if [[ "$("$tool" --version 2>/dev/null)" != "componentize-py $COMPONENTIZE_PY_VERSION" ]]; then
  echo "installing componentize-py $COMPONENTIZE_PY_VERSION into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "componentize-py==$COMPONENTIZE_PY_VERSION"
fi

inputs_hash="$(
  {
    echo "componentize-py $COMPONENTIZE_PY_VERSION"
    (cd "$here" && sha256sum build.sh app.py)
    (cd "$wit" && find . -name '*.wit' -type f | LC_ALL=C sort | xargs sha256sum)
  } | sha256sum | cut -d' ' -f1
)"
if [[ -f "$out" && -f "$stamp" && "$(cat "$stamp")" == "$inputs_hash" ]]; then
  echo "text-tools up to date: $out" >&2
  exit 0
fi

echo "building text-tools (componentize-py $COMPONENTIZE_PY_VERSION) -> $out" >&2
tmp="$out.tmp"
rm -f "$stamp"
(
  cd "$here"
  # Only this folder is on the build's Python path.
  env -u VIRTUAL_ENV "$tool" --quiet -d "$wit" -w tool-plugin componentize app -p . -o "$tmp"
)
mv "$tmp" "$out"
echo "$inputs_hash" > "$stamp"
