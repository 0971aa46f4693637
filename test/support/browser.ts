/**
 * Renders a local HTML file in a real headless browser (Debian's Chromium, installed on first use by
 * test/report/chromium.sh as the test bed installs its packages): the DOM after the page's scripts ran, and a
 * screenshot. No network: the page must need none.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(import.meta.dirname, '..', 'report', 'chromium.sh');

/** The browser's path, installing it when missing (root on Debian; anything else fails with what to install). */
export function chromium(): string {
  return execFileSync('bash', [SCRIPT], { encoding: 'utf8', timeout: 600_000 }).trim().split('\n').pop()!;
}

function run(bin: string, args: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'pilot-chromium-'));
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`];
  return new Promise((resolve, reject) => {
    execFile(bin, [...flags, ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The DOM of `file` once its scripts ran (`--dump-dom`). */
export function dumpDom(bin: string, file: string): Promise<string> {
  return run(bin, ['--dump-dom', `file://${file}`]);
}

/** A PNG screenshot of `file` at width × height; returns its bytes. */
export async function screenshot(bin: string, file: string, png: string, width = 1200, height = 900): Promise<Buffer> {
  await run(bin, [`--screenshot=${png}`, `--window-size=${width},${height}`, `file://${file}`]);
  return readFileSync(png);
}

/** A PNG's width and height (its IHDR chunk), or undefined when the bytes are not a PNG. */
export function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}
