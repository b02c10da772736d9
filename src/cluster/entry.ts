/** One entry of a call's stream (`vcm:events:{id}`, field `d`): what changed, as the owning instance sees it. */
import type { ListenerState } from '../live/listener.js';
import type { LiveSnapshot, TranscriptLine } from '../live/transcript.js';

export interface StreamEntry {
  /** The instance that published it. */
  owner: string;
  /** Final lines new since the previous entry, with their seqs. */
  lines: TranscriptLine[];
  live: LiveSnapshot;
  /**
   * The listener's state and one-line audio summary (text faces show it): only in entries where they were
   * refreshed (at least every STATE_EVERY_MAX_MS, and whenever the call's lifecycle changes); an entry without
   * them leaves the last ones standing.
   */
  state?: ListenerState;
  summary?: string;
  /** Set on the first entry of an instance that took the call over after its owner stopped renewing the lease. */
  failover?: { at: number; fromSeq: number };
  /** Takeovers in the call's life so far (each one a stretch nobody heard). */
  failovers?: number;
}

/**
 * A call's entries are at least this many ms apart. Partials and speech updates come several a second; a reader on
 * another instance sees what is being said a quarter of a second later at most.
 */
export const MIN_ENTRY_INTERVAL_MS = 250;
/** The owner refreshes the state it publishes at least this often. */
export const STATE_EVERY_MAX_MS = 2_000;
/** So among a call's newest this many entries one carries the state (a reader catching up reads them). */
export const ENTRIES_TO_FIND_STATE = STATE_EVERY_MAX_MS / MIN_ENTRY_INTERVAL_MS + 2;

export function parseEntry(raw: string): StreamEntry | undefined {
  try {
    const entry = JSON.parse(raw) as StreamEntry;
    return entry && typeof entry === 'object' && Array.isArray(entry.lines) && (entry.state === undefined || typeof entry.state === 'object') ? entry : undefined;
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
