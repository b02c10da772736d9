/** Where things are, whether this module runs from bench/ (vitest) or from the transpiled bench/.build/bench/. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'vapi-call-mcp') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the vapi-call-mcp package root');
    dir = parent;
  }
}

export const REPO_ROOT = findRepoRoot();
/** The server as users run it. */
export const SERVER_ENTRY = join(REPO_ROOT, 'dist', 'index.js');
export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
export const README = join(REPO_ROOT, 'bench', 'README.md');

/** A child-process script, from the transpiled tree (run `node bench/transpile.mjs` first). */
export function childScript(name: 'sim-host' | 'load-gen' | 'naive-listener' | 'ours-listener' | 'bytes-listener' | 'drain-sink'): string {
  const file = join(REPO_ROOT, 'bench', '.build', 'bench', 'children', `${name}.js`);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build && node bench/transpile.mjs\` first`);
  return file;
}
