/**
 * `console_updates`: the live console view's data path, hidden from the model (`_meta.ui.visibility: ["app"]`).
 * It returns what changed since the view's cursor (new lines after `sinceSeq`; status, partials, who is
 * speaking, connection, mutes when they differ from `etag`), waiting up to `waitSeconds` and returning as soon
 * as anything changes. Every open view of a call rides the call's one listener (the registry keeps one per call),
 * so a view costs one pending request, never a second socket.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CallListener } from '../live/listener.js';
import { defineTool, type ToolDefinition } from '../tools/define.js';
import { callIdField, requireCallId } from '../tools/fields.js';
import { artifactLines, listenerFor } from '../tools/listening.js';
import type { MuteLedger } from './mute-ledger.js';

export const CONSOLE_UPDATES_TOOL = 'console_updates';
export const MAX_WAIT_SECONDS = 20;
/** While audio levels are available, updates come at least this often so the meters move. */
const LEVELS_INTERVAL_MS = 200;

const roleSchema = z.enum(['customer', 'assistant']);
const partyLevelSchema = z.object({
  rmsDbfs: z.number().describe('Loudness of the party\'s channel over the last moment, dBFS (0 = full scale)'),
  speaking: z.boolean(),
});
export const levelsSchema = z.object({ customer: partyLevelSchema, assistant: partyLevelSchema });
export type Levels = z.infer<typeof levelsSchema>;

/** Where per-party audio levels come from, when the listener measures them. */
export type LevelsSource = (listener: CallListener) => Levels | undefined;

const input = {
  callId: callIdField,
  sinceSeq: z.number().int().min(1).optional().describe('Return lines with seq >= sinceSeq; pass the previous nextSeq'),
  etag: z.string().max(100).optional().describe('The previous etag: return early only when the state differs from it'),
  waitSeconds: z.number().min(0).max(MAX_WAIT_SECONDS).default(0).describe('Wait up to this many seconds for news; 0 answers at once'),
};

const output = {
  callId: z.string(),
  status: z.string(),
  ended: z.boolean(),
  endedReason: z.string().optional(),
  lines: z.array(z.object({ seq: z.number(), role: roleSchema, text: z.string(), secondsFromStart: z.number() })),
  partials: z.array(z.object({ role: roleSchema, text: z.string() })),
  speaking: z.array(roleSchema).describe('Parties speaking now, from speech-update events and partial transcripts'),
  levels: levelsSchema.optional().describe('Audio level per party, when this server measures them'),
  muted: z.object({ customer: z.boolean(), assistant: z.boolean() }).describe('Mutes this server set'),
  connection: z.enum(['connecting', 'connected', 'reconnecting', 'closed']),
  listenError: z.string().optional(),
  durationSeconds: z.number().describe('Seconds of call audio heard so far'),
  nextSeq: z.number(),
  missedLines: z.number().optional(),
  etag: z.string().describe('Pass back with the next request'),
  source: z.enum(['live', 'vapi']),
};

type Update = z.output<z.ZodObject<typeof output>>;

export function consoleUpdatesTool(mutes: MuteLedger, levelsOf: LevelsSource | undefined): ToolDefinition {
  return defineTool({
    name: CONSOLE_UPDATES_TOOL,
    title: 'Live call console updates',
    description: 'For the live call console view only: what changed in a call since the cursor, waiting briefly for news.',
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    changesCalls: false,
    async run(deps, args, context) {
      const callId = requireCallId(args.callId);
      const target = await listenerFor(deps, callId, { saveAudio: true, signal: context.signal });
      if (target.kind === 'over') {
        const lines = artifactLines(target.call).filter((line) => line.seq >= (args.sinceSeq ?? 1));
        const snapshot = {
          callId,
          status: target.call.status ?? 'ended',
          ended: true,
          ...(target.call.endedReason ? { endedReason: target.call.endedReason } : {}),
          partials: [],
          speaking: [],
          muted: { customer: false, assistant: false },
          connection: 'closed' as const,
          durationSeconds: 0,
          source: 'vapi' as const,
        };
        return { ...snapshot, lines, nextSeq: (lines.at(-1)?.seq ?? (args.sinceSeq ?? 1) - 1) + 1, etag: etagOf(snapshot) };
      }

      const listener = target.listener;
      const read = (): Update => snapshotOf(listener, mutes, levelsOf, args.sinceSeq);
      const hasNews = (update: Update) => update.lines.length > 0 || update.ended || update.etag !== args.etag;
      let update = read();
      if (!hasNews(update) && args.waitSeconds > 0) {
        const waitMs = update.levels ? Math.min(LEVELS_INTERVAL_MS, args.waitSeconds * 1000) : args.waitSeconds * 1000;
        await waitFor(() => hasNews(read()), [listener.onChange.bind(listener), (fn) => mutes.onChange((id) => id === callId && fn())], waitMs, context.signal);
        update = read();
      }
      return update;
    },
  }) as unknown as ToolDefinition;
}

function snapshotOf(listener: CallListener, mutes: MuteLedger, levelsOf: LevelsSource | undefined, sinceSeq: number | undefined): Update {
  const state = listener.state();
  const partials = listener.transcript.partials();
  const speaking = new Set(listener.transcript.speakingRoles());
  for (const partial of partials) speaking.add(partial.role);
  const page = listener.transcript.linesSince(sinceSeq, 50_000);
  const levels = levelsOf?.(listener);
  const snapshot = {
    callId: state.callId,
    status: state.status,
    ended: state.ended,
    ...(state.endedReason ? { endedReason: state.endedReason } : {}),
    partials,
    speaking: (['customer', 'assistant'] as const).filter((role) => speaking.has(role)),
    muted: mutes.get(state.callId),
    connection: state.connected ? ('connected' as const) : !state.listening ? ('closed' as const) : state.reconnects > 0 ? ('reconnecting' as const) : ('connecting' as const),
    ...(state.listenError ? { listenError: state.listenError } : {}),
    source: 'live' as const,
  };
  return {
    ...snapshot,
    lines: page.lines,
    ...(levels ? { levels } : {}),
    durationSeconds: state.durationSeconds,
    nextSeq: page.nextSeq,
    ...(page.missedLines ? { missedLines: page.missedLines } : {}),
    // Levels and the audio clock change all the time; they ride along but never count as news on their own.
    etag: etagOf(snapshot),
  };
}

function etagOf(snapshot: object): string {
  return createHash('sha256').update(JSON.stringify(snapshot)).digest('base64url').slice(0, 16);
}

type Subscribe = (fn: () => void) => () => void;

/** Resolves when `ready()` holds after a change, at the deadline, or when the request is cancelled. */
function waitFor(ready: () => boolean, sources: Subscribe[], ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const unsubscribes: (() => void)[] = [];
    const finish = () => {
      clearTimeout(timer);
      for (const off of unsubscribes) off();
      signal.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    for (const subscribe of sources) unsubscribes.push(subscribe(() => ready() && finish()));
    signal.addEventListener('abort', finish, { once: true });
  });
}
