/**
 * Following one call from the terminal (`watch`, `call --watch`): listen, then read the transcript from a cursor
 * after every change of the call (and at least once a second for the timer), rendering each read as human text
 * or as the JSON event stream. Stops when the call ends or the signal fires (Ctrl-C); in both cases the files are
 * final before it returns.
 */
import { eventLine, type Files, type WatchEvent } from './events.js';
import type { CallCore } from '../core/call-core.js';
import type { TranscriptRead } from '../core/operations/read-transcript.js';
import type { ListeningView } from '../core/views/listening.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, failureOf } from './failure.js';
import { clock, finalLine, LiveRegion, partialLine, safe, statusLine, talkingLabel, terminalFor, type Role, type Terminal } from './render.js';

export interface FollowOptions {
  out: Terminal;
  /** Write the JSON event stream instead of text. */
  json: boolean;
  /** With json: include partial transcripts. */
  partials: boolean;
  /** Fires on Ctrl-C: stop following (the call itself goes on). */
  signal: AbortSignal;
}

/** ended: the call ended; stopped: Ctrl-C; unavailable: Vapi would not stream the live call (listenError says why). */
export type FollowOutcome = 'ended' | 'stopped' | 'unavailable';

const TICK_MS = 1000;
const READ_MAX_CHARS = 100_000;

export async function followCall(core: CallCore, callId: string, options: FollowOptions): Promise<FollowOutcome> {
  const view = options.json ? new JsonView(options.out, callId, options.partials) : options.out.interactive ? new LiveView(options.out) : new PlainView(options.out);
  // Reads run to completion even after Ctrl-C (they do not wait); only the pause between them is cut short.
  const readContext = { signal: new AbortController().signal };
  await core.listen(callId, { saveAudio: true }, readContext);

  let sinceSeq = 0;
  let last: TranscriptRead | undefined;
  while (true) {
    const read = await core.readTranscript(callId, { sinceSeq, waitSeconds: 0, maxChars: READ_MAX_CHARS }, readContext);
    view.show(read);
    last = read;
    sinceSeq = read.nextSeq;
    if (read.ended || read.listenState === 'unavailable') break;
    if (options.signal.aborted) break;
    if (read.truncated) continue;
    await nextChange(core, callId, options.signal);
  }

  const outcome: FollowOutcome = last.ended ? 'ended' : last.listenState === 'unavailable' ? 'unavailable' : 'stopped';
  const files = last.source === 'live' ? await finalFiles(core, callId) : undefined;
  view.finish(outcome, last, files);
  return outcome;
}

/** Stops listening (a no-op once the call ended) and returns the final files; waits until they are complete. */
async function finalFiles(core: CallCore, callId: string): Promise<ListeningView | undefined> {
  try {
    return (await core.stopListening(callId)).listening;
  } catch (err) {
    if (failureOf(err)?.code === 'not-listening') return undefined;
    throw err;
  }
}

/** Resolves on the next visible change of the call, after TICK_MS, or when the signal fires. */
function nextChange(core: CallCore, callId: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      off();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, TICK_MS);
    const off = core.onCallChange((changed) => {
      if (changed === callId) done();
    });
    signal.addEventListener('abort', done, { once: true });
  });
}

interface View {
  show(read: TranscriptRead): void;
  finish(outcome: FollowOutcome, last: TranscriptRead, files: Files | undefined): void;
}

function filesOf(listening: Files | undefined): Files {
  if (!listening) return {};
  const { audioPath, transcriptPath, audioBytes, durationSeconds } = listening;
  return Object.fromEntries(Object.entries({ audioPath, transcriptPath, audioBytes, durationSeconds }).filter(([, v]) => v !== undefined));
}

/** One JSON object per event, each line written as it happens. */
class JsonView implements View {
  private status: string | undefined;
  private readonly partialText = new Map<Role, string>();
  constructor(
    private readonly out: Terminal,
    private readonly callId: string,
    private readonly partials: boolean,
  ) {}

  show(read: TranscriptRead): void {
    // A new status comes before the lines read with it, except the end, which comes after the last lines.
    if (!read.ended) this.statusChange(read.status);
    for (const line of read.lines) {
      this.partialText.delete(line.role);
      this.emit({ type: 'line', callId: this.callId, seq: line.seq, role: line.role, text: line.text, secondsFromStart: line.secondsFromStart });
    }
    if (read.ended) this.statusChange(read.status);
    if (!this.partials) return;
    for (const partial of read.partials) {
      if (this.partialText.get(partial.role) === partial.text) continue;
      this.partialText.set(partial.role, partial.text);
      this.emit({ type: 'partial', callId: this.callId, role: partial.role, text: partial.text });
    }
  }

  private statusChange(status: string): void {
    if (status === this.status) return;
    this.status = status;
    this.emit({ type: 'status', callId: this.callId, status });
  }

  finish(outcome: FollowOutcome, last: TranscriptRead, files: Files | undefined): void {
    if (outcome === 'ended') {
      this.emit({ type: 'ended', callId: this.callId, status: last.status, ...(last.endedReason ? { endedReason: last.endedReason } : {}), ...filesOf(files) });
    } else if (outcome === 'unavailable') {
      this.emit({
        type: 'listen-unavailable',
        callId: this.callId,
        status: last.status,
        reason: last.listenError ?? 'listening stopped before the call ended',
        ...(last.listenHttpStatus !== undefined ? { httpStatus: last.listenHttpStatus } : {}),
        ...filesOf(files),
      });
    } else {
      this.emit({ type: 'stopped', callId: this.callId, status: last.status, ...filesOf(files) });
    }
  }

  private emit(event: WatchEvent): void {
    this.out.write(eventLine(event));
  }
}

/** Not a terminal: final lines and status changes appended as plain text, no partials, no escape codes. */
class PlainView implements View {
  private status: string | undefined;
  constructor(private readonly out: Terminal) {}

  show(read: TranscriptRead): void {
    const lines = read.lines.map((line) => finalLine(this.out.paint, line));
    // A new status comes before the lines read with it, except the end, which comes after the last lines.
    if (read.status !== this.status) {
      this.status = read.status;
      const status = statusLine(this.out.paint, { status: read.status });
      if (read.ended) lines.push(status);
      else lines.unshift(status);
    }
    if (lines.length) this.out.write(lines.join('\n') + '\n');
  }

  finish(outcome: FollowOutcome, last: TranscriptRead, files: Files | undefined): void {
    this.out.write(summary(outcome, last, files).join('\n') + '\n');
  }
}

/** A terminal: final lines scroll up, the partials and a status line (status, timer, who is talking) stay at the bottom. */
class LiveView implements View {
  private readonly region: LiveRegion;
  private inProgressSince: number | undefined;
  /** Call seconds already past when this view first saw the call in progress (0 when watching from the answer). */
  private joinedAt = 0;
  private latest: TranscriptRead | undefined;
  constructor(private readonly out: Terminal) {
    this.region = new LiveRegion(out);
  }

  show(read: TranscriptRead): void {
    if (read.status === 'in-progress' && this.inProgressSince === undefined) {
      // Joined mid-call: count from the start the lines already heard imply.
      this.joinedAt = read.lines.at(-1)?.secondsFromStart ?? 0;
      this.inProgressSince = Date.now() - this.joinedAt * 1000;
    }
    const paint = this.out.paint;
    const changed = this.latest?.status !== undefined && this.latest.status !== read.status;
    this.latest = read;
    const lines = read.lines.map((line) => finalLine(paint, line));
    if (changed) lines.push(paint('dim', `        ${safe(read.status)}`));
    const width = this.out.columns() - 1;
    const live = read.ended ? [] : read.partials.map((p) => partialLine(paint, p, width));
    live.push(
      statusLine(paint, {
        status: read.status,
        ...(this.inProgressSince !== undefined ? { elapsedSeconds: this.elapsed(read) } : {}),
        ...(read.status === 'in-progress' ? { talking: talkingLabel(talking(read)) } : {}),
      }),
    );
    this.region.update(lines, live);
  }

  finish(outcome: FollowOutcome, last: TranscriptRead, files: Files | undefined): void {
    this.region.clear();
    this.out.write(summary(outcome, last, files).join('\n') + '\n');
  }

  /** Call time: the audio heard so far when it is measured (it keeps call time, also in a sped-up simulation), else the clock. */
  private elapsed(read: TranscriptRead): number {
    const heard = read.audio && read.audio.source !== 'error' ? read.audio.analyzedSeconds : 0;
    return heard > 0 ? this.joinedAt + heard : (Date.now() - this.inProgressSince!) / 1000;
  }
}

/** Who is talking: measured from the audio when the server measures it, else whoever has words in progress. */
function talking(read: TranscriptRead): { customer: boolean; assistant: boolean } {
  if (read.audio && (read.audio.source === 'audio' || read.audio.source === 'events')) return read.audio.talking;
  return { customer: read.partials.some((p) => p.role === 'customer'), assistant: read.partials.some((p) => p.role === 'assistant') };
}

/** The closing lines: how it ended (or that watching stopped) and where the files are. */
function summary(outcome: FollowOutcome, last: TranscriptRead, files: Files | undefined): string[] {
  const lines: string[] = [];
  if (outcome === 'ended') {
    const after = files?.durationSeconds ? ` after ${clock(files.durationSeconds)} of audio` : '';
    lines.push(`Call ended${last.endedReason ? ` (${safe(last.endedReason)})` : ''}${after}.`);
  } else if (outcome === 'unavailable') {
    lines.push(`Cannot listen to this call (status: ${safe(last.status)}): ${safe(last.listenError ?? 'listening stopped before the call ended')}.`);
  } else {
    lines.push(`Stopped watching; the call goes on (status: ${safe(last.status)}).`);
  }
  if (files?.audioPath) lines.push(`Audio:  ${files.audioPath} (${files.audioBytes ?? 0} bytes, ${(files.durationSeconds ?? 0).toFixed(1)} s)`);
  if (files?.transcriptPath) lines.push(`Events: ${files.transcriptPath}`);
  if (!files && last.source === 'vapi') lines.push('The call was over before watching began: these are the lines from Vapi\'s record.');
  return lines;
}

/**
 * Follows the call on stdout as `watch` and `call --watch` do; the exit code: 0 at the call's end, 130 on Ctrl-C,
 * 1 when Vapi would not stream the call.
 */
export async function watchOnStdout(core: CallCore, callId: string, options: { json: boolean; partials: boolean; signal: AbortSignal }): Promise<number> {
  const outcome = await followCall(core, callId, { out: terminalFor(process.stdout), ...options });
  return outcome === 'ended' ? 0 : outcome === 'unavailable' ? EXIT_FAILED : EXIT_INTERRUPTED;
}
