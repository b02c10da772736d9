/**
 * Live JavaScript heap of another Node process, from a heap snapshot (V8 collects garbage before writing one):
 * the server runs with --heapsnapshot-signal=SIGUSR2 and --diagnostic-dir, and SIGUSR2 asks for a snapshot.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { waitUntil } from './clock.js';

export function heapSnapshotArgs(dir: string): string[] {
  return ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`];
}

/** Asks `pid` for a heap snapshot in `dir`, waits for it to be complete, returns its live size (MB) and deletes it. */
export async function liveHeapMb(pid: number, dir: string): Promise<number> {
  const before = new Set(await snapshots(dir));
  process.kill(pid, 'SIGUSR2');
  let file: string | undefined;
  let parsed: HeapSnapshot | undefined;
  await waitUntil(
    async () => {
      file ??= (await snapshots(dir)).find((f) => !before.has(f));
      if (!file) return false;
      try {
        parsed = JSON.parse(await readFile(join(dir, file), 'utf8')) as HeapSnapshot;
        return true;
      } catch {
        return false; // still being written
      }
    },
    'a heap snapshot',
    60_000,
    100,
  );
  await rm(join(dir, file!), { force: true });
  return totalSelfSize(parsed!) / 2 ** 20;
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[] } };
  nodes: number[];
}

function totalSelfSize(snapshot: HeapSnapshot): number {
  const fields = snapshot.snapshot.meta.node_fields;
  const offset = fields.indexOf('self_size');
  let total = 0;
  for (let i = offset; i < snapshot.nodes.length; i += fields.length) total += snapshot.nodes[i];
  return total;
}

async function snapshots(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.heapsnapshot'));
}
