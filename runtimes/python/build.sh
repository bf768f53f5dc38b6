#!/usr/bin/env bash
# Builds the sandboxed Python runner component: `runtimes/python/build.sh OUT_PATH`
# (skipped when nothing changed; see scripts/componentize.sh).
set -euo pipefail
if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUT_PATH" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../../scripts/componentize.sh" "the python runner" "$here" "$here/runner.wit" \
  python-runner "$1" "$here/build.sh" "$here/runner.wit" "$here"/*.py
