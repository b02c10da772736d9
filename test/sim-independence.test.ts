/**
 * The simulator states the wire on its own: no module of it imports client code (src/vapi, src/log, the core or
 * a face), so a wrong wire definition on the client side cannot be mirrored by the simulator.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SIM_DIR = fileURLToPath(new URL('../src/sim/', import.meta.url));

describe('the simulator', () => {
  it('imports nothing from outside src/sim', async () => {
    const files = (await readdir(SIM_DIR)).filter((name) => name.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    const outside: string[] = [];
    for (const name of files) {
      const source = await readFile(SIM_DIR + name, 'utf8');
      for (const match of source.matchAll(/(?:from|import)\s*\(?\s*['"](\.\.\/[^'"]+)['"]/g)) outside.push(`${name}: ${match[1]}`);
    }
    expect(outside).toEqual([]);
  });
});
