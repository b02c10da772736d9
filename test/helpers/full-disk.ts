/**
 * A disk that runs out of space on cue, for the recording writers' `openFile` seam: real files, but while
 * `room` is set, writes put at most that many more bytes on disk and then fail with ENOSPC, as a full file
 * system does (a write can land partly before the error).
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { OpenFile } from '../../src/live/disk.js';

export interface FullDisk {
  openFile: OpenFile;
  /** Bytes that still fit; undefined = unlimited (space freed). */
  room: number | undefined;
  /** ENOSPC failures so far. */
  failures: number;
}

export function fullDisk(): FullDisk {
  const disk: FullDisk = {
    room: undefined,
    failures: 0,
    openFile: async (path, flags, mode) => wrap(await open(path, flags, mode)),
  };
  const enospc = (): Error => {
    disk.failures++;
    return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  };
  const wrap = (fh: FileHandle): FileHandle =>
    new Proxy(fh, {
      get(target, prop, receiver) {
        if (prop === 'writev') {
          return async (buffers: Buffer[], position?: number) => {
            if (disk.room === undefined) return target.writev(buffers, position);
            const data = Buffer.concat(buffers);
            const fits = Math.min(disk.room, data.length);
            if (fits > 0) await target.write(data, 0, fits, position);
            disk.room -= fits;
            if (fits < data.length) throw enospc();
            return { bytesWritten: fits, buffers };
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  return disk;
}
