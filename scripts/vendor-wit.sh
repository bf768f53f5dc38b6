#!/usr/bin/env bash
# Vendor the WASI WIT packages our worlds import into every frozen contract folder that
# lacks them. The source is the wasmtime-wasi-http crate the host links, so the guest's
# view of wasi:* is exactly the version the host implements.
set -euo pipefail
cd "$(dirname "$0")/.."

src=$(cargo metadata --format-version 1 --locked 2>/dev/null \
  | python3 -c 'import json,sys; m=json.load(sys.stdin); print(next(p["manifest_path"] for p in m["packages"] if p["name"]=="wasmtime-wasi-http"))')
src="$(dirname "$src")/wit/deps"
[ -d "$src" ] || { echo "vendor-wit: no WIT found at $src" >&2; exit 1; }

for dir in wit/v*/; do
  deps="$dir/deps"
  if [ "${1:-}" = "--check" ]; then
    diff -r "$src" "$deps" >/dev/null || { echo "vendor-wit: $deps differs from $src (run scripts/vendor-wit.sh)" >&2; exit 1; }
    continue
  fi
  # A released contract folder is frozen: only fill in what is missing.
  [ -d "$deps" ] && continue
  mkdir -p "$deps"
  cp "$src"/*.wit "$deps"/
  echo "vendor-wit: $deps <- $src"
done
