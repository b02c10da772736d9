/**
 * Recovery after a crash (SIGKILL, power loss): what the files on disk still hold is made usable again.
 *
 * - repairRecordings(): at start-up, every `*.wav` in the recordings directory whose header disagrees with the
 *   file's length (the header is patched every few seconds, so a crash leaves it behind the data) gets its sizes
 *   rewritten from the length, and the file is cut to whole sample frames.
 * - restoreTranscript(): a listener started again for a call that already has an event log reads the final
 *   transcript lines back from it, so the transcript does not forget what was said before the restart.
 */
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { ListenEvent } from '../vapi/schemas.js';
import type { RollingTranscript } from './transcript.js';
import { WAV_HEADER_BYTES } from './wav-writer.js';

export interface RepairedWav {
  path: string;
  dataBytes: number;
  /** Bytes after the last whole sample frame, cut off. */
  trimmedBytes: number;
}

/** Repairs the headers of unfinished WAV files (this server's canonical 44-byte PCM layout only). */
export async function repairRecordings(dir: string): Promise<RepairedWav[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const repaired: RepairedWav[] = [];
  for (const name of names) {
    if (!name.endsWith('.wav')) continue;
    const result = await repairWav(path.join(dir, name)).catch(() => undefined);
    if (result) repaired.push(result);
  }
  return repaired;
}

/** Rewrites the RIFF and data sizes from the file length when they disagree; undefined when nothing was done. */
export async function repairWav(file: string): Promise<RepairedWav | undefined> {
  const fh = await open(file, 'r+');
  try {
    const header = Buffer.alloc(WAV_HEADER_BYTES);
    const { bytesRead } = await fh.read(header, 0, WAV_HEADER_BYTES, 0);
    if (bytesRead < WAV_HEADER_BYTES || !isCanonicalPcmHeader(header)) return undefined;
    const blockAlign = header.readUInt16LE(32);
    const length = (await fh.stat()).size;
    const payload = Math.min(length - WAV_HEADER_BYTES, 0xffffffff - 36);
    const dataBytes = payload - (payload % blockAlign);
    if (header.readUInt32LE(40) === dataBytes && header.readUInt32LE(4) === 36 + dataBytes && length === WAV_HEADER_BYTES + dataBytes) {
      return undefined;
    }
    const trimmedBytes = length - WAV_HEADER_BYTES - dataBytes;
    if (trimmedBytes > 0) await fh.truncate(WAV_HEADER_BYTES + dataBytes);
    const size = Buffer.alloc(4);
    size.writeUInt32LE(36 + dataBytes, 0);
    await fh.write(size, 0, 4, 4);
    size.writeUInt32LE(dataBytes, 0);
    await fh.write(size, 0, 4, 40);
    await fh.sync();
    return { path: file, dataBytes, trimmedBytes };
  } finally {
    await fh.close();
  }
}

function isCanonicalPcmHeader(h: Buffer): boolean {
  const channels = h.readUInt16LE(22);
  return (
    h.toString('ascii', 0, 4) === 'RIFF' &&
    h.toString('ascii', 8, 16) === 'WAVEfmt ' &&
    h.readUInt32LE(16) === 16 &&
    h.readUInt16LE(20) === 1 &&
    channels >= 1 &&
    h.readUInt16LE(32) === channels * 2 &&
    h.readUInt16LE(34) === 16 &&
    h.toString('ascii', 36, 40) === 'data'
  );
}

/** Event-log lines longer than this are skipped when restoring (this server never writes one that long). */
const MAX_RESTORED_LINE_CHARS = 8 * 1024 * 1024;

/** Replays the final transcript lines of an existing event log into `transcript`; returns how many were added. */
export async function restoreTranscript(file: string, transcript: RollingTranscript): Promise<number> {
  let stream;
  try {
    const fh = await open(file, 'r');
    stream = fh.createReadStream({ encoding: 'utf8', highWaterMark: 64 * 1024 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let restored = 0;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length === 0 || line.length > MAX_RESTORED_LINE_CHARS || !line.includes('"event"')) continue;
    let record: { receivedAt?: unknown; event?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      continue; // a torn last line
    }
    const event = record.event;
    if (!event || typeof event !== 'object' || Array.isArray(event)) continue;
    const receivedAt = typeof record.receivedAt === 'number' ? record.receivedAt : Date.now();
    if (transcript.restoreFinal(event as ListenEvent, receivedAt)) restored++;
  }
  return restored;
}
