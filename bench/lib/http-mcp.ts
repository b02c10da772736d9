/**
 * A minimal MCP client over Streamable HTTP for the benchmark: one session, requests as POSTs (the reply read
 * from the response's SSE stream), notifications from the session's GET stream, each stamped with the wall-clock
 * time its bytes arrived, before parsing (like the stdio driver in server-process.ts).
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { wallNow } from './clock.js';
import type { NotificationHandler } from './server-process.js';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export class HttpMcpSession {
  private sessionId = '';
  private nextId = 1;
  private stream: IncomingMessage | undefined;
  private readonly handlers = new Set<NotificationHandler>();

  constructor(private readonly url: string) {}

  onNotification(handler: NotificationHandler): void {
    this.handlers.add(handler);
  }

  /** initialize, notifications/initialized, then the GET notification stream. */
  async open(): Promise<void> {
    await this.post({ jsonrpc: '2.0', id: this.nextId++, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'vapi-call-mcp-bench', version: '0' } } });
    await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    this.stream = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(this.url, { method: 'GET', agent, headers: this.headers({ accept: 'text/event-stream' }) }, resolve);
      req.on('error', reject).end();
    });
    if (this.stream.statusCode !== 200) throw new Error(`GET stream: HTTP ${this.stream.statusCode}`);
    let buffered = '';
    this.stream.setEncoding('utf8').on('data', (chunk: string) => {
      const receivedAt = wallNow();
      buffered += chunk;
      let cut: number;
      while ((cut = buffered.indexOf('\n\n')) >= 0) {
        const data = dataOf(buffered.slice(0, cut));
        buffered = buffered.slice(cut + 2);
        if (!data) continue;
        const message = JSON.parse(data) as { method?: string; params?: Record<string, unknown> };
        if (message.method) for (const handler of this.handlers) handler(message.method, message.params ?? {}, receivedAt);
      }
    });
    this.stream.on('error', () => {});
  }

  async request(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const reply = (await this.post({ jsonrpc: '2.0', id, method, params })) as { result?: Record<string, unknown>; error?: unknown } | undefined;
    if (!reply || reply.error) throw new Error(`${method}: ${JSON.stringify(reply?.error ?? 'no reply')}`);
    return reply.result ?? {};
  }

  async callTool(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const result = await this.request('tools/call', { name, arguments: args });
    if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
    return (result.structuredContent ?? {}) as Record<string, unknown>;
  }

  close(): void {
    this.stream?.destroy();
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return { ...extra, ...(this.sessionId ? { 'mcp-session-id': this.sessionId, 'mcp-protocol-version': '2025-06-18' } : {}) };
  }

  /** POSTs one message; resolves with the JSON-RPC reply for a request, undefined for a notification. */
  private post(message: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = request(
        this.url,
        { method: 'POST', agent, headers: this.headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' }) },
        (res) => {
          const session = res.headers['mcp-session-id'];
          if (typeof session === 'string') this.sessionId = session;
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            if ((res.statusCode ?? 0) >= 300) return reject(new Error(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
            if (message.id === undefined) return resolve(undefined);
            const replies = body.split('\n\n').map(dataOf).filter(Boolean).map((d) => JSON.parse(d!) as { id?: unknown });
            resolve(replies.find((r) => r.id === message.id));
          });
        },
      );
      req.on('error', reject).end(JSON.stringify(message));
    });
  }
}

function dataOf(block: string): string | undefined {
  const data = block
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice(6))
    .join('\n')
    .trim();
  return data || undefined;
}
