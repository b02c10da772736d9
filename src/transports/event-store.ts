/**
 * The messages one HTTP session sent on its SSE streams, kept so a client that lost a stream can reconnect with
 * Last-Event-ID and get what it missed. Bounded by count and by bytes: the oldest go first, so a client away
 * longer than the store reaches misses what was evicted (it still gets everything retained after its cursor).
 * One store per session: the SDK names every session's standalone stream alike.
 */
import type { EventStore, EventId, StreamId } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

interface StoredEvent {
  seq: number;
  streamId: StreamId;
  message: JSONRPCMessage;
  bytes: number;
}

export class BoundedEventStore implements EventStore {
  private readonly events: StoredEvent[] = [];
  private head = 0;
  private bytes = 0;
  private seq = 0;

  constructor(
    private readonly maxEvents: number,
    private readonly maxBytes = 8 * 1024 * 1024,
  ) {}

  get size(): number {
    return this.events.length - this.head;
  }

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const seq = ++this.seq;
    if (this.maxEvents > 0 && 'jsonrpc' in message) {
      const bytes = JSON.stringify(message).length;
      this.events.push({ seq, streamId, message, bytes });
      this.bytes += bytes;
      while (this.size > this.maxEvents || (this.bytes > this.maxBytes && this.size > 1)) this.evictOldest();
    }
    return `${seq}_${streamId}`;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return this.parse(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId: EventId, { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const cursor = this.parse(lastEventId);
    if (!cursor) return '';
    // Snapshot first: sending may store (and evict) while we walk.
    const missed = this.events.slice(this.head).filter((e) => e.streamId === cursor.streamId && e.seq > cursor.seq);
    for (const event of missed) await send(`${event.seq}_${event.streamId}`, event.message);
    return cursor.streamId;
  }

  private parse(eventId: EventId): { seq: number; streamId: StreamId } | undefined {
    const cut = eventId.indexOf('_');
    if (cut <= 0) return undefined;
    const seq = Number(eventId.slice(0, cut));
    const streamId = eventId.slice(cut + 1);
    if (!Number.isSafeInteger(seq) || seq < 1 || seq > this.seq || !streamId) return undefined;
    return { seq, streamId };
  }

  private evictOldest(): void {
    const oldest = this.events[this.head];
    if (!oldest) return;
    this.bytes -= oldest.bytes;
    this.events[this.head] = undefined as unknown as StoredEvent;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events.splice(0, this.head);
      this.head = 0;
    }
  }
}
