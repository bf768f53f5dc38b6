#!/usr/bin/env bash
# Builds a Python component with componentize-py:
#   scripts/componentize.sh LABEL SRC_DIR WIT WORLD OUT_PATH INPUT...
# compiles SRC_DIR/app.py against WIT (a file or folder), world WORLD, into OUT_PATH.
#
# componentize-py (pinned here, from PyPI) goes into a venv under target/python-venv,
# never into the system Python. The build is skipped when OUT_PATH exists and a stamp
# beside it matches the hash of the INPUTs (files or folders), this script and the pinned
# version.
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1

if [[ $# -lt 6 ]]; then
  echo "usage: $0 LABEL SRC_DIR WIT WORLD OUT_PATH INPUT..." >&2
  exit 2
fi
label="$1" src="$2" wit="$3" world="$4" out="$5"
shift 5
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
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
    sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1
    find "$@" -type f | LC_ALL=C sort | xargs sha256sum | cut -d' ' -f1
  } | sha256sum | cut -d' ' -f1
)"
if [[ -f "$out" && -f "$stamp" && "$(cat "$stamp")" == "$inputs_hash" ]]; then
  echo "$label up to date: $out" >&2
  exit 0
fi

echo "building $label (componentize-py $COMPONENTIZE_PY_VERSION) -> $out" >&2
tmp="$out.tmp"
rm -f "$stamp"
(
  cd "$src"
  # Only SRC_DIR is on the build's Python path: nothing from a user's site-packages gets
  # into the snapshot.
  env -u VIRTUAL_ENV "$tool" --quiet -d "$wit" -w "$world" componentize app -p . -o "$tmp"
)
mv "$tmp" "$out"
echo "$inputs_hash" > "$stamp"
