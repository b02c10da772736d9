/**
 * What `npm pack` would publish, from a clean copy of the sources (no dist/): the build runs on pack, the bin is
 * there and executable, source maps ship only with their sources (here: neither), and no tests or benchmarks.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let copy: string | undefined;
afterAll(async () => {
  if (copy) await rm(copy, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('builds and packs the server, its README and example config, and nothing from tests or benchmarks', async () => {
    copy = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-pack-'));
    for (const entry of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts', 'src', 'README.md', 'mcp.json.example', 'server.json', 'test', 'bench']) {
      await cp(join(ROOT, entry), join(copy, entry), { recursive: true });
    }
    await symlink(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');

    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json'], { cwd: copy, maxBuffer: 16 * 1024 * 1024 });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [{ files: { path: string; mode: number }[] }];
    const files = new Map(packed.files.map((f) => [f.path, f.mode]));
    const paths = [...files.keys()];

    expect(files.get('dist/index.js')! & 0o111).toBe(0o111);
    for (const needed of ['package.json', 'README.md', 'mcp.json.example', 'dist/lib.js', 'dist/lib.d.ts', 'dist/sim/index.js', 'dist/mcp/app/console.html']) {
      expect(paths).toContain(needed);
    }
    expect(paths.filter((p) => /^(test|bench|src)\//.test(p) || p.endsWith('.test.js'))).toEqual([]);
    // A source map without the sources it points to is noise: neither ships (dependencies ship as published).
    expect(paths.filter((p) => p.endsWith('.map') && !p.includes('node_modules/'))).toEqual([]);
    expect(paths).toContain('server.json');
  }, 180_000);
});
