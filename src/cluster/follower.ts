/**
 * Feeds every mirror of this instance from the calls' streams: one XREAD BLOCK over all of them, on a connection
 * of its own (a blocked connection can do nothing else). A mirror added while a read is blocked joins the next
 * read, at most `blockMs` later; its catch-up was read before it was added, so it misses nothing.
 */
import type { Logger } from '../log.js';
import type { ClusterConnection, RedisClient } from './connection.js';
import { parseEntry } from './entry.js';
import type { CallMirror } from './mirror.js';
import { keys } from './call-store.js';

type Messages = [string, string[]][];
/** XREAD's answer: an array of [key, messages] pairs (RESP2), or a map of key to messages (RESP3). */
type StreamReply = [string, Messages][] | Map<string, Messages> | Record<string, Messages> | null;

function streamsOf(reply: StreamReply): [string, Messages][] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) return reply;
  if (reply instanceof Map) return [...reply.entries()];
  return Object.entries(reply);
}

export class StreamFollower {
  private readonly mirrors = new Map<string, CallMirror>();
  private reader: RedisClient | undefined;
  private running = false;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly connection: ClusterConnection,
    private readonly logger: Logger,
    private readonly blockMs = 500,
  ) {}

  add(mirror: CallMirror): void {
    this.mirrors.set(mirror.callId, mirror);
    this.wake?.();
    if (!this.running) void this.loop();
  }

  remove(callId: string): void {
    this.mirrors.delete(callId);
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    const reader = this.reader;
    this.reader = undefined;
    if (reader?.isOpen) await reader.close().catch(() => undefined);
  }

  private async loop(): Promise<void> {
    this.running = true;
    let failures = 0;
    while (!this.stopped) {
      if (this.mirrors.size === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      try {
        const reader = await this.open();
        const ids = [...this.mirrors.values()];
        const reply = (await reader.sendCommand([
          'XREAD', 'COUNT', '200', 'BLOCK', String(this.blockMs), 'STREAMS',
          ...ids.map((m) => keys.events(m.callId)),
          ...ids.map((m) => m.lastId),
        ])) as StreamReply;
        failures = 0;
        for (const [key, messages] of streamsOf(reply)) this.deliver(key, messages);
      } catch (err) {
        if (this.stopped) break;
        failures++;
        this.logger.debug('reading call streams failed; retrying', { error: (err as Error).name, message: (err as Error).message });
        await this.pause(Math.min(100 * 2 ** failures, 2000));
      }
    }
    this.running = false;
  }

  private deliver(key: string, messages: Messages): void {
    const mirror = this.mirrors.get(key.slice(keys.events('').length));
    if (!mirror) return;
    for (const [id, fields] of messages) {
      const entry = parseEntry(fields[fields.indexOf('d') + 1] ?? '');
      if (entry) mirror.ingest(id, entry);
      else mirror.lastId = id;
    }
    if (mirror.lifecycle().filesFinal) this.mirrors.delete(mirror.callId);
  }

  private async open(): Promise<RedisClient> {
    if (this.reader?.isReady) return this.reader;
    if (!this.reader) {
      const reader = this.connection.client.duplicate();
      reader.on('error', () => undefined); // the main connection reports the store's state
      this.reader = reader;
      try {
        await reader.connect();
      } catch (err) {
        this.reader = undefined;
        throw err;
      }
    }
    if (!this.reader.isReady) throw new Error('the stream connection is not ready');
    return this.reader;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
