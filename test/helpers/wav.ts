/**
 * The one WAV reader of the tests: a strict RIFF/WAVE chunk walk (chunk order, sizes, the data chunk last), checked
 * against an independent library (wavefile) that must agree on the format and the data size.
 */
import { readFileSync } from 'node:fs';
import wavefile from 'wavefile';

export interface ParsedWav {
  riffSize: number;
  audioFormat: number;
  channels: number;
  sampleRate: number;
  byteRate: number;
  blockAlign: number;
  bitsPerSample: number;
  dataSize: number;
  /** Chunk ids in file order. */
  chunkIds: string[];
  data: Buffer;
  fileSize: number;
  /** The data chunk is the last chunk and the file ends with it. */
  dataIsLast: boolean;
}

export function parseWav(file: Buffer): ParsedWav {
  if (file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not RIFF/WAVE');
  const chunkIds: string[] = [];
  let offset = 12;
  let fmt: Buffer | undefined;
  let dataStart = -1;
  let dataSize = -1;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    chunkIds.push(id);
    if (id === 'fmt ') fmt = file.subarray(offset + 8, offset + 8 + size);
    if (id === 'data') {
      dataStart = offset + 8;
      dataSize = size;
    }
    offset += 8 + size + (size % 2);
  }
  if (!fmt || dataStart < 0) throw new Error('missing fmt or data chunk');
  const parsed: ParsedWav = {
    riffSize: file.readUInt32LE(4),
    audioFormat: fmt.readUInt16LE(0),
    channels: fmt.readUInt16LE(2),
    sampleRate: fmt.readUInt32LE(4),
    byteRate: fmt.readUInt32LE(8),
    blockAlign: fmt.readUInt16LE(12),
    bitsPerSample: fmt.readUInt16LE(14),
    dataSize,
    chunkIds,
    data: file.subarray(dataStart, dataStart + dataSize),
    fileSize: file.length,
    dataIsLast: chunkIds.at(-1) === 'data' && dataStart + dataSize === file.length,
  };
  const library = new wavefile.WaveFile(file);
  const libraryFmt = library.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number };
  const libraryData = library.data as { chunkSize: number };
  if (
    libraryFmt.sampleRate !== parsed.sampleRate ||
    libraryFmt.numChannels !== parsed.channels ||
    libraryFmt.bitsPerSample !== parsed.bitsPerSample ||
    libraryData.chunkSize !== parsed.dataSize
  ) {
    throw new Error(`wavefile reads this WAV differently: ${JSON.stringify({ libraryFmt, dataSize: libraryData.chunkSize })}`);
  }
  return parsed;
}

export function readWav(path: string): ParsedWav {
  return parseWav(readFileSync(path));
}
