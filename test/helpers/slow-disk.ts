/**
 * A disk whose writes hang until released, for the recording writers' `openFile` seam: real files, but the write
 * chosen by `hold` waits (a busy thread pool), so a test can see what the writer does while a write is in flight.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { OpenFile } from '../../src/live/disk.js';

export interface SlowDisk {
  openFile: OpenFile;
  /** Writes started so far (counted when started, not when they finish). */
  writes: number;
  /** Lets the held write (and any later one) through. */
  release(): void;
}

/** `hold(n)`: whether the n-th counted write (from 1) waits for release(); `counts` picks the writes counted (by position). */
export function slowDisk(hold: (n: number) => boolean, counts: (position: number | undefined) => boolean = () => true): SlowDisk {
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const disk: SlowDisk = {
    writes: 0,
    release: () => release(),
    openFile: async (path, flags, mode) => wrap(await open(path, flags, mode)),
  };
  const wrap = (fh: FileHandle): FileHandle =>
    new Proxy(fh, {
      get(target, prop, receiver) {
        if (prop === 'writev') {
          return async (buffers: Buffer[], position?: number) => {
            if (counts(position) && hold(++disk.writes)) await gate;
            return target.writev(buffers, position);
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  return disk;
}
