/**
 * MCP over Streamable HTTP at /mcp: many sessions (one SDK transport and one MCP server each, keyed by
 * mcp-session-id) on one shared call core, so every session sees the same calls, a call is listened to once
 * however many sessions watch it, and the limits are shared. Each session has its own subscriptions and
 * notification stream, resumable with Last-Event-ID from a bounded per-session store. GET /healthz reports
 * counts. close() stops accepting and closes every session; the core (and its recordings) belongs to the caller.
 *
 * Order at the door: Host/Origin (403) → OAuth's own paths (metadata, the built-in authorization server) → CORS
 * preflight → bearer token or OAuth access token (401/403) → body size (413) → session (bound to who opened it).
 */
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest, isJSONRPCRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CallCore } from '../core/call-core.js';
import { operatorOnly, type Logger } from '../log.js';
import { createServer, type VapiCallServer } from '../mcp/server.js';
import { VERSION } from '../version.js';
import { BoundedEventStore } from './event-store.js';
import { checkBearer, checkHostAndOrigin, clientAddress, corsHeaders, preflightHeaders, type Refusal } from './http-gate.js';
import type { HttpOptions } from './http-options.js';
import { FULL_RIGHTS } from '../mcp/rights.js';
import { startOAuth, type Access, type Admission, type OAuthFace } from './oauth/index.js';
import { ToolCallLimit } from './tool-call-limit.js';

export interface HttpServerOptions {
  /** The process's call core, shared by every session; never closed here. */
  core: CallCore;
  http: HttpOptions;
  /** How the built-in authorization server fetches Client ID Metadata Documents (tests serve them locally). */
  oauthFetch?: typeof fetch;
  /** Defaults to the core's logger. Session lines (who connected from where) stay on stderr, never mirrored to the
   * MCP sessions, so one session never learns of another. */
  logger?: Logger;
}

export interface RunningHttpServer {
  /** http://host:port/mcp */
  url: string;
  /** The canonical URL tokens must be issued for (VAPI_MCP_PUBLIC_URL, else url); set when OAuth is on. */
  resource?: string;
  port: number;
  sessionCount(): number;
  /** Stops accepting and closes every session (not the core). Idempotent. */
  close(): Promise<void>;
}

interface Session {
  id: string;
  transport: StreamableHTTPServerTransport;
  server: VapiCallServer;
  /** Who opened the session and with which scopes: later requests must come from the same principal. */
  access: Access;
  limit: ToolCallLimit;
  /** HTTP requests of this session still open (an open notification stream keeps a session alive). */
  openRequests: number;
  lastActive: number;
}

const MCP_PATH = '/mcp';
const HEALTH_PATH = '/healthz';

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { core, http: settings } = options;
  const logger = operatorOnly(options.logger ?? core.logger);
  const sessions = new Map<string, Session>();
  let closing: Promise<void> | undefined;
  let oauth: OAuthFace | undefined;

  async function openSession(req: IncomingMessage, res: ServerResponse, body: unknown, access: Access): Promise<void> {
    if (sessions.size >= settings.maxSessions) {
      return refuse(res, { status: 503, message: `Too many sessions (${settings.maxSessions}); close one or try again later.`, headers: { 'retry-after': '30' } });
    }
    const server = createServer({ core, rights: access.rights });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new BoundedEventStore(settings.resumableEvents),
      maxRequestBodySize: settings.maxBodyBytes,
      onsessioninitialized: (id) => {
        session.id = id;
        sessions.set(id, session);
        logger.info('HTTP session opened', { session: shortSession(id), client: clientAddress(req, settings.trustProxy), sessions: sessions.size });
      },
    });
    const session: Session = { id: '', transport, server, access, limit: new ToolCallLimit(settings.toolCallsPerMinute), openRequests: 0, lastActive: Date.now() };
    transport.onclose = () => {
      if (session.id && sessions.get(session.id) === session) {
        sessions.delete(session.id);
        logger.info('HTTP session closed', { session: shortSession(session.id), sessions: sessions.size });
      }
      void server.close().catch((err: unknown) => logger.error('error closing a session', { error: (err as Error).message }));
    };
    await server.mcp.connect(transport);
    limitToolCalls(session);
    await handle(session, req, res, body);
    if (!session.id) await server.close(); // the request did not initialise a session
  }

  /** Tool calls over the session's budget are answered here, before they reach the server. */
  function limitToolCalls(session: Session): void {
    const deliver = session.transport.onmessage;
    if (!deliver) throw new Error('MCP server did not attach to the transport');
    session.transport.onmessage = (message, extra) => {
      if (isJSONRPCRequest(message) && message.method === 'tools/call' && !session.limit.take()) {
        const refusal: JSONRPCMessage = { jsonrpc: '2.0', id: message.id, result: session.limit.refusal() };
        session.transport.send(refusal).catch(() => {});
        return;
      }
      deliver(message, extra);
    };
  }

  async function handle(session: Session, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    session.openRequests++;
    session.lastActive = Date.now();
    res.once('close', () => {
      session.openRequests--;
      session.lastActive = Date.now();
    });
    await session.transport.handleRequest(req, res, body);
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const hostRefusal = checkHostAndOrigin(req, settings, !oauth?.isOpenToOtherOrigins(path));
    if (hostRefusal) return refuse(res, hostRefusal);
    if (oauth && path !== MCP_PATH && (await oauth.serve(req, res, path))) return;
    const cors = corsHeaders(req, settings);
    for (const [name, value] of Object.entries(cors)) res.setHeader(name, value);

    if (path === HEALTH_PATH && req.method === 'GET') return health(res);
    if (path !== MCP_PATH) return refuse(res, { status: 404, message: `Not found: MCP is served at ${MCP_PATH}.` });
    if (req.method === 'OPTIONS') {
      res.writeHead(204, preflightHeaders(req, settings)).end();
      return;
    }
    const admission = await admit(req);
    if ('refusal' in admission) {
      logger.warn(`HTTP request refused: ${admission.reason}`, { client: clientAddress(req, settings.trustProxy) });
      return refuse(res, admission.refusal);
    }
    const { access } = admission;
    if (closing) return refuse(res, { status: 503, message: 'The server is shutting down.', headers: { connection: 'close' } });

    let body: unknown;
    if (req.method === 'POST') {
      const read = await readJsonBody(req, settings.maxBodyBytes);
      if ('refusal' in read) return refuse(res, read.refusal, read.code);
      body = read.value;
    }

    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      // Another principal's session is as good as absent: its id proves nothing.
      if (!session || session.access.principal !== access.principal) {
        return refuse(res, { status: 404, message: 'Session not found: it expired or the server restarted. Initialise a new session.' }, -32001);
      }
      const missing = [...session.access.rights].filter((scope) => !access.rights.has(scope));
      if (missing.length && oauth) return refuse(res, oauth.resourceServer.insufficientScope(missing));
      return handle(session, req, res, body);
    }
    if (req.method === 'POST' && (isInitializeRequest(body) || (Array.isArray(body) && body.length === 1 && isInitializeRequest(body[0])))) {
      return openSession(req, res, body, access);
    }
    if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'DELETE') {
      return refuse(res, { status: 405, message: 'Method not allowed.', headers: { allow: 'GET, POST, DELETE, OPTIONS' } });
    }
    return refuse(res, { status: 400, message: 'Bad Request: send an initialize request first, then the Mcp-Session-Id header it returns.' });
  }

  /** OAuth (with the static token beside it), or the static token alone, or nobody on loopback without one. */
  async function admit(req: IncomingMessage): Promise<Admission> {
    if (oauth) return oauth.resourceServer.admit(req);
    if (settings.oauth) return { refusal: { status: 503, message: 'The server is starting; try again shortly.', headers: { 'retry-after': '1' } }, reason: 'OAuth not ready yet' };
    const refusal = checkBearer(req, settings.token);
    if (refusal) return { refusal, reason: 'missing or wrong bearer token' };
    return { access: { principal: settings.token ? 'static-token' : 'anyone', rights: FULL_RIGHTS } };
  }

  function health(res: ServerResponse): void {
    const liveListeners = core.liveListeners().filter((listener) => !listener.ended).length;
    // Cluster mode with the shared store down: still 200, because this instance keeps recording and serving what it
    // knows (a balancer must not drop every instance at once); the body says placing calls is refused meanwhile.
    const store = core.clusterStoreReachable();
    const degraded = store === false;
    const payload = {
      status: closing ? 'shutting-down' : degraded ? 'degraded' : 'ok',
      version: VERSION,
      simulated: core.config.simulated,
      sessions: sessions.size,
      liveListeners,
      ...(store === undefined ? {} : { clusterStore: store ? 'reachable' : 'unreachable' }),
      ...(degraded ? { note: 'Cluster store (Valkey/Redis) unreachable: placing calls is refused until it answers.' } : {}),
    };
    res.writeHead(closing ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(payload));
  }

  const httpServer = createHttpServer({ requestTimeout: 60_000, headersTimeout: 30_000 }, (req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      logger.error('HTTP request failed', { error: (err as Error).message });
      if (!res.headersSent) refuse(res, { status: 500, message: 'Internal error.' }, -32603);
      else res.destroy();
    });
  });

  const sweep = setInterval(
    () => {
      const idleBefore = Date.now() - settings.sessionIdleSeconds * 1000;
      for (const session of sessions.values()) {
        if (session.openRequests === 0 && session.lastActive < idleBefore) {
          logger.info('HTTP session expired after being idle', { session: shortSession(session.id), idleSeconds: settings.sessionIdleSeconds });
          void session.transport.close();
        }
      }
    },
    Math.min(30_000, Math.max(250, (settings.sessionIdleSeconds * 1000) / 4)),
  );
  sweep.unref();

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(settings.port, settings.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const urlHost = settings.host.includes(':') && !settings.host.startsWith('[') ? `[${settings.host}]` : settings.host;
  const url = `http://${urlHost}:${port}${MCP_PATH}`;
  const resource = settings.oauth ? (settings.oauth.publicUrl ?? new URL(url)) : undefined;
  if (settings.oauth && resource) {
    try {
      oauth = await startOAuth({ oauth: settings.oauth, resource, staticToken: settings.token, trustProxy: settings.trustProxy, logger, fetch: options.oauthFetch });
    } catch (err) {
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      throw err;
    }
  }

  return {
    url,
    resource: resource?.href,
    port,
    sessionCount: () => sessions.size,
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        const stopped = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        await Promise.allSettled([...sessions.values()].map(async (session) => {
          await session.transport.close();
          await session.server.close();
        }));
        httpServer.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}

/** Reads a JSON body of at most maxBytes; a bigger one is refused before it is read in full. */
async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<{ value: unknown } | { refusal: Refusal; code: number }> {
  const tooLarge = { refusal: { status: 413, message: `Payload too large: request bodies are limited to ${maxBytes} bytes.`, headers: { connection: 'close' } }, code: -32000 };
  if (Number(req.headers['content-length']) > maxBytes) return tooLarge;
  const text = await new Promise<string | undefined>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      // Stop reading (not destroy: the socket must carry the 413); Connection: close ends it after the reply.
      req.off('data', onData).off('end', onEnd).pause();
      resolve(undefined);
    };
    const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
    req.on('data', onData).once('end', onEnd).once('error', reject);
  });
  if (text === undefined) return tooLarge;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { refusal: { status: 400, message: 'Parse error: the body is not valid JSON.' }, code: -32700 };
  }
}

/** A refusal as the SDK words its own: a JSON-RPC error with no id. */
function refuse(res: ServerResponse, refusal: Refusal, code = -32000): void {
  if (res.headersSent) return void res.end();
  res.writeHead(refusal.status, { 'content-type': 'application/json', ...refusal.headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message: refusal.message }, id: null }));
}

function shortSession(id: string): string {
  return id.slice(0, 8);
}
