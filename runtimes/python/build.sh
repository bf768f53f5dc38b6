#!/usr/bin/env bash
# Builds the sandboxed Python runner component: `runtimes/python/build.sh OUT_PATH`.
#
# componentize-py (pinned below, from PyPI) goes into a venv under target/python-venv,
# never into the system Python. The build is skipped when OUT_PATH exists and a stamp
# beside it matches the hash of the inputs (this folder's WIT and Python files, this
# script) and the componentize-py version.
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUT_PATH" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
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
  cd "$here"
  {
    echo "componentize-py $COMPONENTIZE_PY_VERSION"
    sha256sum build.sh runner.wit ./*.py
  } | sha256sum | cut -d' ' -f1
)"
if [[ -f "$out" && -f "$stamp" && "$(cat "$stamp")" == "$inputs_hash" ]]; then
  echo "python runner up to date: $out" >&2
  exit 0
fi

echo "building the python runner (componentize-py $COMPONENTIZE_PY_VERSION) -> $out" >&2
tmp="$out.tmp"
rm -f "$stamp"
(
  cd "$here"
  # Only this folder is on the build's Python path: nothing from a user's site-packages
  # gets into the snapshot.
  env -u VIRTUAL_ENV "$tool" --quiet -d runner.wit -w python-runner componentize app -p . -o "$tmp"
)
mv "$tmp" "$out"
echo "$inputs_hash" > "$stamp"
