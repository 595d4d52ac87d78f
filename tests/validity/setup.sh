#!/usr/bin/env bash
# Creates (or brings up to date) the Python venv of the MVT validity check in target/pyvalid,
# with the pinned packages of requirements.txt from PyPI, and prints the venv's python.
# Run by tests/integration/mvt_validity.rs; safe to run by hand. Needs python3 with venv
# (installed with apt when missing, as CI runs as root on Debian).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${TESSERA_PYVALID:-$here/../../target/pyvalid}"
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
fi
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/requirements.txt" "$stamp"; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
  cp "$here/requirements.txt" "$stamp"
fi
echo "$venv/bin/python"
