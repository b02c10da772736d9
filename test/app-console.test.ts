/**
 * The live call console (MCP Apps) contract: the ui:// resource, the tools linked to it, the app-only update
 * tool and its cursor/etag semantics, and the confirmation token that the console's "Place call" uses.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { CONSOLE_URI } from '../src/mcp/app/index.js';
import { ConfirmationTokens } from '../src/guard/confirmation-token.js';
import { follow, startHarness, until, VALID_NUMBER, type Harness } from './helpers/harness.js';
import { spawnServer } from './helpers/spawn.js';

const MIME = 'text/html;profile=mcp-app';
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface Update {
  status: string;
  ended: boolean;
  lines: { seq: number; role: string; text: string }[];
  partials: unknown[];
  speaking: string[];
  muted: { customer: boolean; assistant: boolean };
  nextSeq: number;
  etag: string;
  levels?: unknown;
  connection: string;
  controls: { steer: boolean; transfer: boolean };
}

describe('console resource', () => {
  it('is listed and readable as one self-contained MCP App document with a CSP that allows no origin', async () => {
    h = await startHarness();
    const { resources } = await h.client.listResources();
    const listed = resources.find((r) => r.uri === CONSOLE_URI);
    expect(listed).toMatchObject({ uri: CONSOLE_URI, mimeType: MIME });

    const read = await h.client.readResource({ uri: CONSOLE_URI });
    const [content] = read.contents as { uri: string; mimeType: string; text: string; _meta?: { ui?: { csp?: Record<string, unknown> } } }[];
    expect(content.mimeType).toBe(MIME);
    expect(content._meta?.ui?.csp).toEqual({ connectDomains: [], resourceDomains: [] });
    const html = content.text;
    expect(html).toMatch(/^<!doctype html>/i);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("connect-src 'none'");
    // Everything inline: no external script, stylesheet, image or font.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|@import|url\(https?:/i);
    expect(html).toContain('id="transcript"');
  });
});

describe('console resource in the built server', () => {
  it('is served from dist over stdio (npm run build bundles the view)', async () => {
    const home = await mkdtemp(join(tmpdir(), 'vapi-console-stdio-'));
    const server = spawnServer(['--simulate'], { HOME: home, VAPI_RECORDINGS_DIR: join(home, 'recordings') }, home);
    try {
      await server.initialize();
      const read = (await server.request('resources/read', { uri: CONSOLE_URI })) as { contents: { mimeType: string; text: string }[] };
      expect(read.contents[0].mimeType).toBe(MIME);
      expect(read.contents[0].text).toContain('Content-Security-Policy');
    } finally {
      server.child.kill();
      await server.exit();
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('tool links', () => {
  it('links create_call, listen_call and get_call to the view and hides console_updates from the model', async () => {
    h = await startHarness();
    const { tools } = await h.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of ['create_call', 'listen_call', 'get_call']) {
      const meta = byName.get(name)?._meta as { ui?: { resourceUri?: string; visibility?: string[] } } | undefined;
      expect(meta?.ui?.resourceUri, name).toBe(CONSOLE_URI);
      expect(meta?.ui?.visibility, name).toBeUndefined();
    }
    const updates = byName.get('console_updates')?._meta as { ui?: { resourceUri?: string; visibility?: string[] } };
    expect(updates.ui).toEqual({ resourceUri: CONSOLE_URI, visibility: ['app'] });
    for (const name of ['list_calls', 'read_transcript', 'inject_say', 'end_call']) expect(byName.get(name)?._meta, name).toBeUndefined();
  });
});

describe('console_updates', () => {
  it('returns lines after the cursor once, waits for news with an etag, and reports mutes this server set', async () => {
    h = await startHarness({ sim: { hangupAfterScript: false } });
    const created = await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER } });
    const callId = created.callId;
    await follow(h, callId, (_read, lines) => lines.length >= 2);

    const first = await h.ok<Update>('console_updates', { callId });
    expect(first.lines.length).toBeGreaterThanOrEqual(2);
    expect(first.lines.map((l) => l.seq)).toEqual(first.lines.map((_, i) => i + 1));
    expect(first.connection).toBe('connected');
    expect(first.controls).toEqual({ steer: true, transfer: true });
    // The simulator streams stereo audio, so the meters follow the measured level of each party.
    expect(first.levels).toMatchObject({ customer: { rmsDbfs: expect.any(Number) }, assistant: { rmsDbfs: expect.any(Number) } });

    // With the cursor and etag it waits; the next line or state change answers it.
    const next = await h.ok<Update>('console_updates', { callId, sinceSeq: first.nextSeq, etag: first.etag, waitSeconds: 20 });
    expect(next.lines.length > 0 || next.etag !== first.etag).toBe(true);
    expect(next.lines.every((l) => l.seq >= first.nextSeq)).toBe(true);

    await h.ok('set_mute', { callId, party: 'customer', muted: true });
    const muted = await h.ok<Update>('console_updates', { callId, sinceSeq: 1_000_000 });
    expect(muted.muted).toEqual({ customer: true, assistant: false });
    expect(muted.lines).toEqual([]);
  });

  it('serves several waiting views of one call from one listener', async () => {
    h = await startHarness({ sim: { hangupAfterScript: false } });
    const { callId } = await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER } });
    const start = await h.ok<Update>('console_updates', { callId });
    const views = await Promise.all(
      [1, 2, 3].map(() => h!.ok<Update>('console_updates', { callId, sinceSeq: start.nextSeq, etag: start.etag, waitSeconds: 20 })),
    );
    for (const update of views) expect(update.lines.length > 0 || update.etag !== start.etag).toBe(true);
    expect(h.server.core.listeners.list()).toHaveLength(1);
    await h.ok('end_call', { callId });
    const ended = await until(async () => {
      const update = await h!.ok<Update>('console_updates', { callId, waitSeconds: 2 });
      return update.ended ? update : undefined;
    });
    expect(ended.status).toBe('ended');
  });

  it('is refused for a call id that is not a UUID, in the usual envelope', async () => {
    h = await startHarness();
    const failure = await h.err('console_updates', { callId: 'nope' });
    expect(failure.code).toBe('invalid-call-id');
  });
});

describe('confirmation token', () => {
  it('a dry run issues a token that places exactly that call once', async () => {
    h = await startHarness();
    const args = { customer: { number: VALID_NUMBER }, firstMessage: 'Hello' };
    const dry = await h.ok<{ confirmationToken: string; confirmationExpiresAt: string }>('create_call', { ...args, dryRun: true });
    expect(dry.confirmationToken).toMatch(/^[\w-]+\.[0-9a-z]+\.[\w-]+$/);
    expect(Date.parse(dry.confirmationExpiresAt) - Date.now()).toBeGreaterThan(4 * 60_000);

    const changed = await h.err('create_call', { ...args, firstMessage: 'Hello there', confirmationToken: dry.confirmationToken });
    expect(changed.code).toBe('confirmation-token-mismatch');
    const placed = await h.ok<{ callId: string }>('create_call', { ...args, confirmationToken: dry.confirmationToken });
    expect(placed.callId).toBeTruthy();
    const reused = await h.err('create_call', { ...args, confirmationToken: dry.confirmationToken });
    expect(reused.code).toBe('confirmation-token-reused');
    const wrong = await h.err('create_call', { ...args, confirmationToken: 'abc.def.ghi' });
    expect(wrong.code).toBe('confirmation-token-wrong');
    expect(h.sim.requests.filter((r) => r.method === 'POST' && r.path === '/call')).toHaveLength(1);
    expect(h.logLines.some((line) => line.includes(dry.confirmationToken))).toBe(false);
  });

  it('confirms a call without elicitation when VAPI_CONFIRM_CALLS is on', async () => {
    h = await startHarness({ config: { confirmCalls: true } });
    const args = { customer: { number: VALID_NUMBER } };
    expect((await h.ok<{ status: string }>('create_call', args)).status).toBe('confirmation-required');
    const dry = await h.ok<{ confirmationToken: string }>('create_call', { ...args, dryRun: true });
    await h.ok('create_call', { ...args, confirmationToken: dry.confirmationToken });
  });

  it('does not stand in for the question in a client that can ask: a declined confirmation still refuses', async () => {
    h = await startHarness({ config: { confirmCalls: true }, clientCapabilities: { capabilities: { elicitation: {} } } });
    const questions: string[] = [];
    h.client.setRequestHandler(ElicitRequestSchema, async (request) => {
      questions.push(request.params.message);
      return { action: 'accept', content: { confirm: false } };
    });
    const args = { customer: { number: VALID_NUMBER } };
    const dry = await h.ok<{ confirmationToken: string }>('create_call', { ...args, dryRun: true });
    expect((await h.err('create_call', { ...args, confirmationToken: dry.confirmationToken })).code).toBe('declined-by-user');
    expect(questions).toHaveLength(1);
    expect(h.sim.requests.filter((r) => r.method === 'POST' && r.path === '/call')).toHaveLength(0);
  });

  it('tells an expired token from a wrong one, also after it is forgotten', () => {
    let now = 1_000_000;
    const tokens = new ConfirmationTokens({ now: () => now });
    const request = { body: { customer: { number: VALID_NUMBER } } };
    const { token } = tokens.issue(request);
    now += 5 * 60_000;
    expect(tokens.redeem(token, request)).toMatchObject({ ok: false, code: 'confirmation-token-expired' });
    tokens.issue({ other: true }); // prunes the expired entry
    expect(tokens.redeem(token, request)).toMatchObject({ ok: false, code: 'confirmation-token-expired' });
    expect(tokens.redeem(`${token}x`, request)).toMatchObject({ ok: false, code: 'confirmation-token-wrong' });
    const fresh = tokens.issue({ b: 1, a: [1, { d: 2, c: 3 }] });
    expect(tokens.redeem(fresh.token, { a: [1, { c: 3, d: 2 }], b: 1 })).toEqual({ ok: true });
  });
});
