/**
 * The simulator's side of the December 2026 wire facts: UUIDv7 call ids that carry createdAt, per-call metadata
 * kept in assistantOverrides, new endedReason values, refused listen handshakes with a JSON body, and a POST /call
 * whose answer is lost after the call was created. Everything over real HTTP, without the project's clients.
 */
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { Simulator } from '../src/sim/index.js';
import { postCall, simulatorPool } from './helpers/sim.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const CALL = { assistantId: 'asst-1', phoneNumberId: 'pn-1', customer: { number: '+15550100' } };

const start = simulatorPool({ ringMs: 1e9, seed: 21 });

async function get(sim: Simulator, path: string): Promise<{ status: number; body: any }> {
  const res = await request(`${sim.baseUrl}${path}`, { headers: { authorization: `Bearer ${sim.apiKey}` } });
  return { status: res.statusCode, body: await res.body.json() };
}

/** The 48-bit timestamp at the front of a UUIDv7, in epoch milliseconds. */
function uuidV7Millis(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

describe('call ids', () => {
  it('are UUIDv7 whose first 48 bits are createdAt in epoch ms, ordered like the calls', async () => {
    const sim = await start({ speed: 1000 });
    const calls = [];
    for (let i = 0; i < 5; i++) calls.push(await postCall(sim, CALL));
    for (const call of calls) {
      expect(call.id).toMatch(UUID_V7);
      expect(uuidV7Millis(call.id)).toBe(Date.parse(call.createdAt));
      expect((await get(sim, `/call/${call.id}`)).body.id).toBe(call.id);
    }
    const ids = calls.map((call) => call.id);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('assistantOverrides.metadata', () => {
  it('is kept and returned by GET /call/{id} and GET /call', async () => {
    const sim = await start();
    const metadata = { idempotencyKey: 'k-123', nested: { a: [1, 2] } };
    const created = await postCall(sim, { ...CALL, assistantOverrides: { metadata, variableValues: { name: 'Ada' } } });
    await postCall(sim, CALL);
    expect(created.assistantOverrides.metadata).toEqual(metadata);
    expect((await get(sim, `/call/${created.id}`)).body.assistantOverrides).toEqual({ metadata, variableValues: { name: 'Ada' } });
    const listed = (await get(sim, `/call?createdAtGe=${encodeURIComponent(created.createdAt)}`)).body as any[];
    expect(listed).toHaveLength(2);
    expect(listed.find((call) => call.id === created.id).assistantOverrides.metadata).toEqual(metadata);
    expect(listed.find((call) => call.id !== created.id).assistantOverrides).toBeUndefined();
  });
});

describe('endedReason', () => {
  it('passes values Vapi added in 2026 through verbatim', async () => {
    const sim = await start();
    for (const reason of ['customer-ended-call-during-transfer', 'call.forwarding.no-answer']) {
      const call = await postCall(sim, CALL);
      sim.hangup(call.id, reason);
      expect((await get(sim, `/call/${call.id}`)).body).toMatchObject({ status: 'ended', endedReason: reason });
    }
  });
});

describe('dropAfterCreate', () => {
  it('creates the call, then cuts the connection before answering; the next POST answers normally', async () => {
    const sim = await start();
    sim.faults.dropAfterCreate(1);
    const body = { ...CALL, assistantOverrides: { metadata: { idempotencyKey: 'dropped-1' } } };
    await expect(
      request(`${sim.baseUrl}/call`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    ).rejects.toThrow();
    const listed = (await get(sim, '/call')).body as any[];
    expect(listed).toHaveLength(1);
    expect(listed[0].assistantOverrides.metadata).toEqual({ idempotencyKey: 'dropped-1' });
    expect(listed[0].status).toBe('queued');
    // Consumed: the next create is answered.
    const next = await postCall(sim, CALL);
    expect((await get(sim, '/call')).body.map((call: any) => call.id)).toEqual([next.id, listed[0].id]);
  });

  it('does not fire on a request that creates nothing', async () => {
    const sim = await start();
    sim.faults.dropAfterCreate(1);
    const refused = await request(`${sim.baseUrl}/call`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customer: { number: '+15550100' } }),
    });
    expect(refused.statusCode).toBe(400);
    await refused.body.dump();
    expect((await get(sim, '/call')).body).toEqual([]);
    await expect(
      request(`${sim.baseUrl}/call`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(CALL),
      }),
    ).rejects.toThrow();
    expect((await get(sim, '/call')).body).toHaveLength(1);
  });
});

describe('refused listen handshakes', () => {
  it('answer the upgrade with 400 and a short JSON body, then accept again', async () => {
    const sim = await start({ ringMs: 0, answerMs: 0, speed: 50 });
    const call = await postCall(sim, CALL);
    sim.faults.rejectListenUpgrades(1, 400);
    const refused = await rawUpgrade(call.monitor.listenUrl);
    expect(refused.status).toBe(400);
    expect(refused.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(refused.body)).toEqual({ message: 'Bad Request', error: 'Bad Request', statusCode: 400 });
    expect((await rawUpgrade(call.monitor.listenUrl)).status).toBe(101);
  });
});

/** A WebSocket handshake by hand, so the refusal's status, headers and body are seen as sent. */
function rawUpgrade(wsUrl: string): Promise<{ status: number; contentType?: string; body: string }> {
  const url = new URL(wsUrl.replace(/^ws/, 'http'));
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}
