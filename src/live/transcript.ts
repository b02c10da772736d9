/**
 * The rolling live transcript of one call, built from listen-socket events (pure: no I/O, no timers).
 *
 * - Final utterances become numbered lines (seq from 1, never reused). Only the newest `maxLines` are kept, and
 *   only as many as fit in `maxChars` characters of text; older ones are dropped and counted.
 * - A line or partial longer than `maxLineChars` is cut, with a visible marker (the event log keeps the raw event).
 * - Sizes here are counted in characters (UTF-16 code units, JavaScript's string length), like every maxChars.
 * - Per role at most one in-progress partial: a partial replaces the previous one, the final clears it.
 * - `linesSince(cursor)` pages through lines with a cursor that never skips or repeats a line, and reports
 *   lines that fell out of memory between two reads.
 */
import { inertLine } from '../core/call-text.js';
import { PRE_ANSWER_STATUSES, type ListenEvent } from '../vapi/schemas.js';

export type SpeakerRole = 'customer' | 'assistant';

export interface TranscriptLine {
  seq: number;
  role: SpeakerRole;
  text: string;
  /** Seconds from call start to when the utterance began (its first speech or partial event), one decimal. */
  secondsFromStart: number;
}

export interface PartialUtterance {
  role: SpeakerRole;
  text: string;
}

export interface LiveSnapshot {
  status: string;
  endedReason?: string;
  partials: PartialUtterance[];
  speaking: SpeakerRole[];
}

export interface LinesPage {
  lines: TranscriptLine[];
  /** Pass back as `sinceSeq` to get exactly the lines not yet returned. */
  nextSeq: number;
  /** True when more lines were available but did not fit in maxChars. */
  truncated: boolean;
  /** Lines after the cursor that were dropped from memory before this read (they remain in the event log). */
  missedLines: number;
}

export interface RenderHeader {
  callId: string;
  status: string;
  durationSeconds?: number;
  /** Event log path, named in the note shown when old lines were dropped. */
  transcriptPath?: string;
}

export interface RollingTranscriptOptions {
  /** Default 500. */
  maxLines?: number;
  /** Longest line or partial kept, in characters; default 10 000 (a spoken utterance is far shorter). */
  maxLineChars?: number;
  /** Characters of final lines kept in memory; default 1 000 000. */
  maxChars?: number;
  /** Call start (epoch ms), when known from the Call object. */
  startedAt?: number;
}

export const DEFAULT_TRANSCRIPT_MAX_LINES = 500;
export const DEFAULT_TRANSCRIPT_MAX_LINE_CHARS = 10_000;
export const DEFAULT_TRANSCRIPT_MAX_CHARS = 1_000_000;

/** Cuts text to at most maxChars characters, ending in a marker that says how long it was. */
export function cutText(text: string, maxChars: number, where = ''): string {
  if (text.length <= maxChars) return text;
  const marker = ` … [cut: ${text.length} characters in all${where}]`;
  if (marker.length >= maxChars) return ownCopy(text.slice(0, Math.max(0, maxChars - 1)) + '…');
  return ownCopy(text.slice(0, maxChars - marker.length) + marker);
}

/**
 * A copy that shares no memory with the string it came from. V8 makes slices and concatenations point into
 * their source, so a 10 000-character cut of a 4 MiB line would otherwise keep the whole 4 MiB alive.
 */
function ownCopy(text: string): string {
  return Buffer.from(text, 'utf16le').toString('utf16le');
}

const CUT_WHERE = '; the full text is in the event log';

const ROLE_LABEL: Record<SpeakerRole, string> = { customer: 'Customer', assistant: 'Assistant' };

export class RollingTranscript {
  readonly maxLines: number;
  readonly maxLineChars: number;
  readonly maxChars: number;
  /** Vapi call status from status-update events ('unknown' before the first). */
  status = 'unknown';
  endedReason: string | undefined;
  /** Lines dropped from memory because of maxLines. */
  droppedLines = 0;

  private readonly lineList: TranscriptLine[] = [];
  private charsKept = 0;
  private nextLineSeq = 1;
  private readonly pending = new Map<SpeakerRole, string>();
  private readonly speaking = new Set<SpeakerRole>();
  /** When each role's current utterance began (speech-update started or first partial): a line's time. */
  private readonly utteranceStart = new Map<SpeakerRole, number>();
  private startMs: number | undefined;
  private startFrozen = false;
  private firstEventMs: number | undefined;

  constructor(options: RollingTranscriptOptions = {}) {
    this.maxLines = Math.max(1, Math.floor(options.maxLines ?? DEFAULT_TRANSCRIPT_MAX_LINES));
    this.maxLineChars = Math.max(100, Math.floor(options.maxLineChars ?? DEFAULT_TRANSCRIPT_MAX_LINE_CHARS));
    this.maxChars = Math.max(this.maxLineChars, Math.floor(options.maxChars ?? DEFAULT_TRANSCRIPT_MAX_CHARS));
    if (options.startedAt !== undefined && Number.isFinite(options.startedAt)) {
      this.startMs = options.startedAt;
      this.startFrozen = true;
    }
  }

  /** Folds one event in; returns true when anything visible (lines, partials, status, speech) changed. */
  apply(event: ListenEvent, receivedAt: number): boolean {
    const at = eventTime(event, receivedAt);
    this.firstEventMs ??= at;
    const type = event.type;
    if (type.startsWith('transcript')) {
      const answered = this.inferAnswered(at);
      return this.applyTranscript(event, type, at) || answered;
    }
    switch (type) {
      case 'status-update':
        return this.applyStatus(event, at);
      case 'speech-update': {
        const answered = this.inferAnswered(at);
        return this.applySpeech(event, at) || answered;
      }
      case 'end-of-call-report':
        return this.markEnded(stringField(event, 'endedReason'));
      default:
        return false;
    }
  }

  /**
   * Folds in a final transcript event read back from an earlier event log (after a restart); anything else is
   * ignored, so partials and speech state of the earlier session do not linger. Returns true when a line was added.
   */
  restoreFinal(event: ListenEvent, receivedAt: number): boolean {
    const type = typeof event.type === 'string' ? event.type : '';
    if (!type.startsWith('transcript') || transcriptKind(event, type) !== 'final') return false;
    const before = this.nextLineSeq;
    this.apply(event, receivedAt);
    return this.nextLineSeq > before;
  }

  /**
   * Cluster mode: a final line another instance heard, with the seq it gave it (a mirror of a call owned elsewhere,
   * or a listener taking a call over). A line already held is ignored; a jump past missing seqs forgets the kept
   * lines (counted as dropped) so the kept seqs stay contiguous. Returns true when the line was added.
   */
  adoptLine(line: TranscriptLine): boolean {
    if (line.seq < this.nextLineSeq) return false;
    if (line.seq > this.nextLineSeq) {
      this.droppedLines += this.lineList.length + (line.seq - this.nextLineSeq);
      this.lineList.length = 0;
      this.charsKept = 0;
      this.nextLineSeq = line.seq;
    }
    this.startFrozen = true;
    this.pushLine({ ...line, seq: this.nextLineSeq++ });
    return true;
  }

  /** Cluster mode, mirror side: status, partials and speakers as the owning instance last published them. */
  adoptLive(live: LiveSnapshot): void {
    this.status = live.status;
    this.endedReason = live.endedReason;
    this.pending.clear();
    for (const partial of live.partials) this.pending.set(partial.role, partial.text);
    this.speaking.clear();
    for (const role of live.speaking) this.speaking.add(role);
  }

  /** What adoptLive takes: the visible state that is not a final line. */
  liveSnapshot(): LiveSnapshot {
    return {
      status: this.status,
      ...(this.endedReason !== undefined && { endedReason: this.endedReason }),
      partials: this.partials(),
      speaking: this.speakingRoles(),
    };
  }

  /** The lines still in memory, oldest first. */
  lines(): readonly TranscriptLine[] {
    return this.lineList;
  }

  /** Seq the next final line will get. */
  get nextSeq(): number {
    return this.nextLineSeq;
  }

  get ended(): boolean {
    return this.status === 'ended';
  }

  /** In-progress utterances, customer first. */
  partials(): PartialUtterance[] {
    const out: PartialUtterance[] = [];
    for (const role of ['customer', 'assistant'] as const) {
      const text = this.pending.get(role);
      if (text !== undefined) out.push({ role, text });
    }
    return out;
  }

  /** Roles currently speaking according to speech-update events. */
  speakingRoles(): SpeakerRole[] {
    return (['customer', 'assistant'] as const).filter((r) => this.speaking.has(r));
  }

  /**
   * Lines with seq >= sinceSeq (default: from the oldest kept), at most maxChars of rendered text — but always
   * at least one line when any is available, so a cursor can never get stuck on a long line.
   */
  linesSince(sinceSeq?: number, maxChars?: number): LinesPage {
    const from = Math.max(1, Math.floor(sinceSeq ?? 1));
    const oldestKept = this.lineList[0]?.seq ?? this.nextLineSeq;
    const missedLines = Math.max(0, oldestKept - from);
    const start = Math.max(from, oldestKept);
    const startIndex = start - oldestKept;
    const page = fitLines(this.lineList, startIndex, maxChars, CUT_WHERE);
    const { lines, truncated } = page;
    const nextSeq = lines.length > 0 ? lines[lines.length - 1].seq + 1 : Math.min(start, this.nextLineSeq);
    return { lines, nextSeq, truncated, missedLines };
  }

  /**
   * Text form: a header line, a note when lines were dropped or left out, the newest lines that fit in
   * maxChars, then in-progress partials marked "(speaking)".
   */
  render(header: RenderHeader, maxChars?: number): string {
    const status = header.status === 'ended' && this.endedReason ? `ended (${inertLine(this.endedReason)})` : inertLine(header.status);
    const duration = header.durationSeconds === undefined ? '' : `, ${header.durationSeconds.toFixed(1)} s`;
    const head = `Call ${header.callId} (status: ${status}${duration})`;

    const tail: string[] = [];
    for (const p of this.partials()) tail.push(`${ROLE_LABEL[p.role]} (speaking): ${p.text}`);
    for (const role of this.speakingRoles()) {
      if (!this.pending.has(role)) tail.push(`${ROLE_LABEL[role]} (speaking): …`);
    }

    const where = header.transcriptPath ? ` The full event log is ${header.transcriptPath}.` : '';
    const droppedNote = this.droppedLines > 0 ? `(${this.droppedLines} earlier lines were dropped from memory.${where})` : undefined;
    const hiddenNote = (n: number): string => `(${n} earlier lines not shown to fit the size limit; page through them with a cursor.)`;
    const fixed = [head, droppedNote, hiddenNote(this.lineList.length), ...tail].filter((x) => x !== undefined);
    const budget = maxChars === undefined ? Infinity : maxChars - fixed.join('\n').length - 1;

    const body: string[] = [];
    let used = 0;
    for (let i = this.lineList.length - 1; i >= 0; i--) {
      const text = formatLine(this.lineList[i]);
      if (used + text.length + 1 > budget) break;
      body.push(text);
      used += text.length + 1;
    }
    body.reverse();

    const hidden = this.lineList.length - body.length;
    const notes: string[] = [];
    if (droppedNote) notes.push(droppedNote);
    if (hidden > 0) notes.push(hiddenNote(hidden));
    if (this.lineList.length === 0 && tail.length === 0) notes.push('(no speech yet)');

    const text = [head, ...notes, ...body, ...tail].join('\n');
    return maxChars !== undefined && text.length > maxChars ? `${text.slice(0, Math.max(0, maxChars - 1))}…` : text;
  }

  /**
   * A listener that connects after the call was answered never sees the in-progress status-update; people
   * talking is proof enough that the call is in progress.
   */
  private inferAnswered(at: number): boolean {
    if (this.status !== 'unknown' && !PRE_ANSWER_STATUSES.has(this.status)) return false;
    this.status = 'in-progress';
    if (!this.startFrozen && this.startMs === undefined) this.startMs = at;
    return true;
  }

  private applyTranscript(event: ListenEvent, type: string, at: number): boolean {
    const role = speakerRole(event.role);
    if (!role) return false;
    // The caller's words are made inert here, once, for every text form; the JSONL keeps them raw.
    let text = inertLine((stringField(event, 'transcript') ?? stringField(event, 'text') ?? '').trim()).trim();
    const isPartial = transcriptKind(event, type) === 'partial';
    if (!this.utteranceStart.has(role)) this.utteranceStart.set(role, at);
    if (isPartial) {
      if (text === '') return this.pending.delete(role);
      text = cutText(text, this.maxLineChars, CUT_WHERE);
      if (this.pending.get(role) === text) return false;
      this.pending.set(role, text);
      return true;
    }
    const startedAt = this.utteranceStart.get(role) ?? at;
    this.utteranceStart.delete(role);
    const hadPartial = this.pending.delete(role);
    if (text === '') return hadPartial;
    this.addLine(role, text, startedAt);
    return true;
  }

  private addLine(role: SpeakerRole, text: string, at: number): void {
    if (!this.startFrozen) {
      this.startMs ??= this.firstEventMs ?? at;
      this.startFrozen = true;
    }
    const seconds = Math.max(0, (at - (this.startMs ?? at)) / 1000);
    const kept = cutText(text, this.maxLineChars, CUT_WHERE);
    this.pushLine({ seq: this.nextLineSeq++, role, text: kept, secondsFromStart: Math.round(seconds * 10) / 10 });
  }

  private pushLine(line: TranscriptLine): void {
    this.lineList.push(line);
    this.charsKept += line.text.length;
    while (this.lineList.length > this.maxLines || (this.charsKept > this.maxChars && this.lineList.length > 1)) {
      const dropped = this.lineList.shift();
      this.charsKept -= dropped?.text.length ?? 0;
      this.droppedLines++;
    }
  }

  private applyStatus(event: ListenEvent, at: number): boolean {
    const status = stringField(event, 'status');
    if (!status) return false;
    if (status === 'in-progress' && !this.startFrozen) this.startMs = at;
    if (status === 'ended') return this.markEnded(stringField(event, 'endedReason'));
    if (this.ended || this.status === status) return false;
    this.status = status;
    return true;
  }

  private markEnded(endedReason: string | undefined): boolean {
    if (this.ended) {
      if (this.endedReason !== undefined || endedReason === undefined) return false;
      this.endedReason = endedReason;
      return true;
    }
    this.status = 'ended';
    this.endedReason = endedReason;
    this.speaking.clear();
    return true;
  }

  private applySpeech(event: ListenEvent, at: number): boolean {
    const role = speakerRole(event.role);
    const status = stringField(event, 'status');
    if (!role || this.ended) return false;
    if (status === 'started') {
      if (!this.utteranceStart.has(role)) this.utteranceStart.set(role, at);
      if (this.speaking.has(role)) return false;
      this.speaking.add(role);
      return true;
    }
    if (status === 'stopped') return this.speaking.delete(role);
    return false;
  }
}

/** "Customer: text" — the line format shared by render() and the maxChars accounting of linesSince(). */
/**
 * The lines from `startIndex` on that fit in `maxChars` (each costs its `Customer: …` text and a line break, the
 * one way every maxChars budget counts lines). A first line bigger than the whole budget comes back cut, marked
 * with `cutWhere`, so a cursor still moves past it.
 */
export function fitLines(all: readonly TranscriptLine[], startIndex: number, maxChars: number | undefined, cutWhere = ''): { lines: TranscriptLine[]; truncated: boolean } {
  const lines: TranscriptLine[] = [];
  let used = 0;
  let i = startIndex;
  let cutFirst = false;
  for (; i < all.length; i++) {
    const line = all[i];
    const cost = formatLine(line).length + 1;
    if (maxChars !== undefined && used + cost > maxChars) {
      if (lines.length > 0) break;
      const room = Math.max(1, maxChars - (cost - line.text.length));
      lines.push({ ...line, text: cutText(line.text, room, cutWhere) });
      i++;
      cutFirst = true;
      break;
    }
    lines.push({ ...line });
    used += cost;
  }
  return { lines, truncated: cutFirst || i < all.length };
}

export function formatLine(line: Pick<TranscriptLine, 'role' | 'text'>): string {
  return `${ROLE_LABEL[line.role]}: ${line.text}`;
}

export function speakerRole(value: unknown): SpeakerRole | undefined {
  if (value === 'user' || value === 'customer') return 'customer';
  if (value === 'assistant' || value === 'bot') return 'assistant';
  return undefined;
}

/** `transcriptType` field, else a `[transcriptType="…"]` selector in the type, else final. */
function transcriptKind(event: ListenEvent, type: string): 'partial' | 'final' {
  const field = event.transcriptType;
  if (field === 'partial' || field === 'final') return field;
  if (/transcriptType\s*=\s*["']?partial/.test(type)) return 'partial';
  return 'final';
}

/** The event's own `timestamp` (epoch ms, or an ISO string) when present, else when it was received. */
function eventTime(event: ListenEvent, receivedAt: number): number {
  const ts = event.timestamp;
  if (typeof ts === 'number' && Number.isFinite(ts) && ts > 0) return ts;
  if (typeof ts === 'string') {
    const parsed = Date.parse(ts);
    if (Number.isFinite(parsed)) return parsed;
  }
  return receivedAt;
}

function stringField(event: ListenEvent, key: string): string | undefined {
  const value = event[key];
  return typeof value === 'string' ? value : undefined;
}
