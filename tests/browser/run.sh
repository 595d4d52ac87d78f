#!/usr/bin/env bash
# Browser tests of the viewer, /embed and the README snippets, in headless Chromium.
# Installs what is missing (the npm packages of package-lock.json; Debian's chromium), builds
# the server (debug, as `cargo test` does; set TESSERA_BIN to test another binary) and runs
# `node --test`. No internet is needed past the installs: CDN requests are answered from
# node_modules. Screenshots and metrics land in tests/browser/artifacts/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "== installing node and npm (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "== installing chromium (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
cd "$here"
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci (tests/browser)"
  # playwright-core never downloads a browser; the variable says so to anything that might.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi
if [ -z "${TESSERA_BIN:-}" ]; then
  echo "== cargo build"
  (cd "$repo" && cargo build --locked --quiet --bin tessera)
fi
echo "== node --test (headless chromium)"
node --test viewer.test.mjs snippets.test.mjs vector.test.mjs events.test.mjs imagery.test.mjs edit.test.mjs timeline.test.mjs
