/** What the server left on disk: WAV data bytes (from the header and the file size) and JSONL event counts. */
import { open, readFile, stat } from 'node:fs/promises';

export const WAV_HEADER_BYTES = 44;

/** PCM bytes on disk after the header (0 while the file does not exist yet). */
export async function wavBytesOnDisk(path: string): Promise<number> {
  try {
    return Math.max(0, (await stat(path)).size - WAV_HEADER_BYTES);
  } catch {
    return 0;
  }
}

/** The data size the WAV header declares, and the bytes actually after the header. */
export async function wavDataSizes(path: string): Promise<{ declared: number; onDisk: number }> {
  const fh = await open(path, 'r');
  try {
    const header = Buffer.alloc(WAV_HEADER_BYTES);
    await fh.read(header, 0, WAV_HEADER_BYTES, 0);
    const size = (await fh.stat()).size;
    return { declared: header.readUInt32LE(40), onDisk: size - WAV_HEADER_BYTES };
  } finally {
    await fh.close();
  }
}

/** Events per type recorded in a JSONL event log (meta lines are not events). */
export async function jsonlEventCounts(path: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const text = await readFile(path, 'utf8');
  for (const line of text.split('\n')) {
    if (!line) continue;
    const record = JSON.parse(line) as { event?: { type?: unknown } };
    if (record.event && typeof record.event.type === 'string') counts[record.event.type] = (counts[record.event.type] ?? 0) + 1;
  }
  return counts;
}
