/** Reads a WAV file back with an independent parser (wavefile), for checking what the server wrote. */
import { readFileSync } from 'node:fs';
import wavefile from 'wavefile';

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  dataBytes: number;
  fileBytes: number;
  /** The data chunk is the last chunk in the file. */
  dataIsLast: boolean;
}

export function readWav(path: string): WavInfo {
  const bytes = readFileSync(path);
  const wav = new wavefile.WaveFile(bytes);
  const fmt = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number };
  const data = wav.data as { chunkSize: number };
  return {
    sampleRate: fmt.sampleRate,
    channels: fmt.numChannels,
    bitsPerSample: fmt.bitsPerSample,
    dataBytes: data.chunkSize,
    fileBytes: bytes.length,
    dataIsLast: bytes.length === 44 + data.chunkSize && bytes.toString('ascii', 36, 40) === 'data',
  };
}
