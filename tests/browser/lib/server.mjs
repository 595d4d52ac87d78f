// Starts the real tessera binary on 127.0.0.1:0 with its own data directory and write token,
// and reads the URL it prints.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const REPO = path.resolve(HERE, '..', '..');
export const WRITE_TOKEN = 'browser-tests-write-token-0123456789';

/** The binary: $TESSERA_BIN, else debug/tessera under $CARGO_TARGET_DIR or this repository's target/. */
export function binary() {
  const target = process.env.CARGO_TARGET_DIR || 'target';
  return path.resolve(REPO, process.env.TESSERA_BIN || path.join(target, 'debug', 'tessera'));
}

/**
 * Starts a server; resolves to { url, stop() }. `args` are extra flags for `tessera serve`;
 * `geodata` is the data directory served (the repository's geodata/ by default).
 * Rejects if the server exits or prints no URL within 120 s (a bound for a loaded machine, not a
 * timing check); a server that has not printed its URL by then is killed, so that the test's
 * process can end.
 */
export async function startServer(args = [], { geodata = path.join(REPO, 'geodata') } = {}) {
  const data = mkdtempSync(path.join(tmpdir(), 'tessera-browser-'));
  const child = spawn(
    binary(),
    ['serve', '--listen', '127.0.0.1:0', '--geodata', geodata, '--data', data, ...args],
    { cwd: REPO, env: { ...process.env, TESSERA_WRITE_TOKEN: WRITE_TOKEN, RUST_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
      reject(new Error(`no URL from ${binary()} in 120 s; stderr: ${stderr}`));
    }, 120_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/at (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${binary()} exited with ${code}: ${stderr}`)); });
    child.on('error', (e) => { clearTimeout(timer); reject(new Error(`cannot start ${binary()}: ${e.message} (build it, or set TESSERA_BIN)`)); });
  });
  child.removeAllListeners('exit');
  return {
    url,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** POSTs one event (a GeoJSON Feature) with the write token. */
export async function postEvent(base, feature) {
  const r = await fetch(`${base}/collections/events/items`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${WRITE_TOKEN}`, 'Content-Type': 'application/geo+json' },
    body: JSON.stringify(feature),
  });
  if (r.status !== 201) throw new Error(`POST event: ${r.status} ${await r.text()}`);
  return r.json();
}

/**
 * [lon, lat] of a place of the report, by its name in geodata/report-places.geojson (where its
 * coordinates are sourced), for events that tests post.
 */
export function reportPlace(name) {
  const places = JSON.parse(readFileSync(path.join(REPO, 'geodata', 'report-places.geojson'), 'utf8'));
  const f = places.features.find((p) => p.properties.name === name);
  if (!f) throw new Error(`${name} is not a place of geodata/report-places.geojson`);
  return f.geometry.coordinates;
}
