#!/usr/bin/env bash
# Builds the `text-tools` example plugin against the repository's contract (wit/v0.2.0,
# world `tool-plugin`): `examples/python-tool/build.sh OUT_PATH` (skipped when nothing
# changed; see scripts/componentize.sh).
set -euo pipefail
if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUT_PATH" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
wit="$(cd "$here/../../wit/v0.2.0" && pwd)"
exec "$here/../../scripts/componentize.sh" text-tools "$here" "$wit" tool-plugin "$1" \
  "$here/build.sh" "$here/app.py" "$wit"
