/**
 * Shared watching over Streamable HTTP: N real-time calls placed by one session, M sessions each subscribed to
 * every call's transcript, one server process (`--http`, its own core). Update latency is measured per
 * (session, call) pair exactly as the capacity section measures it over stdio, so the two sit side by side.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, wallNow, waitUntil } from '../lib/clock.js';
import type { RunContext } from '../lib/context.js';
import { HttpMcpSession } from '../lib/http-mcp.js';
import { analyseLatency, type LatencyReport } from '../lib/latency.js';
import { mapLimit } from '../lib/pool.js';
import { cpuPercent, sampleProcess } from '../lib/proc.js';
import { ServerProcess, serverEnv, TEST_NUMBER } from '../lib/server-process.js';
import { SimHost } from '../lib/sim-host-client.js';
import { round } from '../lib/stats.js';
import type { HttpSettings } from '../settings.js';
import { measureTokenCheck, type TokenCheckResult } from './token-check.js';

export interface HttpResult {
  calls: number;
  sessions: number;
  windowSeconds: number;
  serverCpuPercent: number;
  rssMb: number;
  /** Over every (session, call) pair: each transcript event is expected once per session. */
  latency: LatencyReport;
  notificationsInWindow: number;
  /** Listen sockets the simulator saw per call at most (1 when the sessions share one listener per call). */
  listenSocketsPerCall: number | null;
  simulatorKeptUp: boolean;
  /** OAuth: the cost of checking an access token, paid once per HTTP request. */
  tokenCheck: TokenCheckResult;
}

const MCP_CONCURRENCY = 16;

export async function runHttp(settings: HttpSettings, { pinning, seed, serverEntry, profileDir, log }: RunContext): Promise<HttpResult> {
  const sim = await SimHost.start({ speed: 1, seed, ringMs: 200, answerMs: 300, scriptRepeats: 50 }, pinning?.loadCore);
  const recordingsDir = await mkdtemp(join(tmpdir(), 'vapi-bench-http-'));
  const server = new ServerProcess({
    env: serverEnv(sim.baseUrl, sim.apiKey, recordingsDir),
    args: ['--http', '--port', '0'],
    core: pinning?.measuredCore,
    entry: serverEntry,
    nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=server-http-${settings.calls}-calls-${settings.sessions}-sessions.cpuprofile`] : [],
  });
  const sessions: HttpMcpSession[] = [];
  try {
    let url = '';
    await waitUntil(() => Boolean((url = /ready on (http:\/\/\S+\/mcp)/.exec(server.stderr())?.[1] ?? '')), 'the HTTP server to be ready', 15_000);
    for (let i = 0; i < settings.sessions; i++) {
      const session = new HttpMcpSession(url);
      await session.open();
      sessions.push(session);
    }
    const notified = new Map<string, number[]>();
    sessions.forEach((session, s) =>
      session.onNotification((method, params, receivedAt) => {
        if (method !== 'notifications/resources/updated') return;
        const callId = /^vapi:\/\/calls\/([^/]+)\/transcript$/.exec(String(params.uri))?.[1];
        if (callId) (notified.get(`${s}:${callId}`) ?? notified.set(`${s}:${callId}`, []).get(`${s}:${callId}`)!).push(receivedAt);
      }),
    );

    const started = wallNow();
    const callIds = await mapLimit(Array.from({ length: settings.calls }, (_, i) => i), MCP_CONCURRENCY, async (i) => {
      const due = started + (settings.staggerMs * i) / settings.calls - wallNow();
      if (due > 0) await sleep(due);
      return String((await sessions[0]!.callTool('create_call', { customer: { number: TEST_NUMBER } })).callId);
    });
    const pairs = sessions.flatMap((session) => callIds.map((id) => ({ session, id })));
    await mapLimit(pairs, MCP_CONCURRENCY, ({ session, id }) => session.request('resources/subscribe', { uri: `vapi://calls/${id}/transcript` }));
    await waitUntil(async () => Object.values(await sim.bytesSent(callIds)).every((b) => b > 0), 'every call to stream audio', 60_000, 50);
    log(`  ${settings.calls} calls placed, ${settings.sessions} sessions subscribed to each (${((wallNow() - started) / 1000).toFixed(1)} s)`);

    await sleep(settings.warmupMs);
    await sim.drainEmissions();
    const sentBefore = sum(await sim.bytesSent(callIds));
    const before = sampleProcess(server.pid);
    const windowStart = wallNow();
    await sleep(settings.windowMs);
    const windowEnd = wallNow();
    const after = sampleProcess(server.pid);
    const emissions = await sim.drainEmissions();
    const sentInWindow = sum(await sim.bytesSent(callIds)) - sentBefore;

    // Every session should hear of every event of every call: one emission list per (session, call).
    const emitted: Record<string, number[]> = {};
    for (let s = 0; s < sessions.length; s++) {
      for (const [callId, times] of Object.entries(emissions.transcripts)) emitted[`${s}:${callId}`] = times;
    }
    await sleep(500); // the last events' updates are still on their way (the throttle holds some back 100 ms)
    const latency = analyseLatency({ emitted, notified, from: windowStart, to: windowEnd });
    const windowMs = windowEnd - windowStart;
    const listenSockets = await sim.listenSockets(callIds).catch(() => null);
    await sim.hangup(callIds);
    const tokenCheck = await measureTokenCheck(settings.tokenChecks);
    return {
      calls: settings.calls,
      sessions: settings.sessions,
      windowSeconds: round(windowMs / 1000, 1) ?? 0,
      serverCpuPercent: round(cpuPercent(before, after, windowMs), 1) ?? 0,
      rssMb: round(after.rssKb / 1024, 1) ?? 0,
      latency,
      notificationsInWindow: [...notified.values()].reduce((a, times) => a + times.filter((t) => t >= windowStart && t < windowEnd).length, 0),
      listenSocketsPerCall: listenSockets,
      simulatorKeptUp: sentInWindow >= settings.calls * 64 * windowMs * 0.97,
      tokenCheck,
    };
  } finally {
    for (const session of sessions) session.close();
    if (server.child.exitCode === null && server.child.signalCode === null) {
      const exited = once(server.child, 'exit');
      server.child.kill('SIGTERM'); // finalises the recordings, like the stdio server's stdin closing
      const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await sim.close().catch(() => {});
    await rm(recordingsDir, { recursive: true, force: true });
  }
}

function sum(values: Record<string, number>): number {
  return Object.values(values).reduce((a, b) => a + b, 0);
}
