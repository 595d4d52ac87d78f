#!/usr/bin/env bash
# Runs one Python check of this directory in a venv under target/ (CARGO_TARGET_DIR when set),
# made on first use from the pinned requirements.txt with pip, and made again when that file
# changes. Tests call it concurrently, so the venv is made under a lock.
#
#   bash tests/python/run.sh check_openapi.py http://127.0.0.1:PORT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
venv=$target/python-venv
mkdir -p "$target"
exec 9>"$target/python-venv.lock"
flock 9
if ! cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$here/requirements.txt" >&2
  cp "$here/requirements.txt" "$venv/requirements.txt"
fi
flock -u 9
exec "$venv/bin/python" "$here/$1" "${@:2}"
