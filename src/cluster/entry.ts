/** One entry of a call's stream (`vcm:events:{id}`, field `d`): what changed, as the owning instance sees it. */
import type { ListenerState } from '../live/listener.js';
import type { LiveSnapshot, TranscriptLine } from '../live/transcript.js';

export interface StreamEntry {
  /** The instance that published it. */
  owner: string;
  /** Final lines new since the previous entry, with their seqs. */
  lines: TranscriptLine[];
  live: LiveSnapshot;
  state: ListenerState;
  /** The listener's one-line audio summary (text faces show it). */
  summary: string;
  /** Set on the first entry of an instance that took the call over after its owner stopped renewing the lease. */
  failover?: { at: number; fromSeq: number };
  /** Takeovers in the call's life so far (each one a stretch nobody heard). */
  failovers?: number;
}

export function parseEntry(raw: string): StreamEntry | undefined {
  try {
    const entry = JSON.parse(raw) as StreamEntry;
    return entry && typeof entry === 'object' && Array.isArray(entry.lines) && entry.state ? entry : undefined;
  } catch {
    return undefined;
  }
}

export function parseLine(raw: string): TranscriptLine | undefined {
  try {
    const line = JSON.parse(raw) as TranscriptLine;
    return typeof line?.seq === 'number' ? line : undefined;
  } catch {
    return undefined;
  }
}
