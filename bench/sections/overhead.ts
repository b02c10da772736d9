/**
 * Tool overhead: create_call, get_call and inject_say through MCP over stdio, against the same Vapi requests made
 * directly to the simulator from the same process with the same HTTP client (undici). The difference, paired per
 * iteration, is what the server adds: JSON-RPC over two pipes, input validation, the guardrails, the result
 * shaping. create_call runs with listen: false so both sides do the same work (the REST request alone).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { wallNow } from '../lib/clock.js';
import type { RunContext } from '../lib/context.js';
import { ServerProcess, serverEnv, TEST_NUMBER } from '../lib/server-process.js';
import { SimHost } from '../lib/sim-host-client.js';
import { distribution, type Distribution } from '../lib/stats.js';

export type OverheadTool = 'create_call' | 'get_call' | 'inject_say';

export interface ToolOverhead {
  mcp: Distribution;
  direct: Distribution;
  /** MCP minus direct, paired per iteration. */
  added: Distribution;
}

export interface OverheadResult {
  iterations: number;
  tools: Record<OverheadTool, ToolOverhead>;
}

export async function runOverhead(settings: { warmup: number; iterations: number }, context: RunContext): Promise<OverheadResult> {
  const sim = await SimHost.start({ speed: 1, seed: context.seed, ringMs: 1000, answerMs: 3000, scriptRepeats: 1 }, context.pinning?.loadCore);
  const recordingsDir = await mkdtemp(join(tmpdir(), 'vapi-bench-overhead-'));
  const server = new ServerProcess({
    env: serverEnv(sim.baseUrl, sim.apiKey, recordingsDir),
    core: context.pinning?.measuredCore,
    entry: context.serverEntry,
    nodeArgs: context.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${context.profileDir}`, '--cpu-prof-name=server-overhead.cpuprofile'] : [],
  });
  const created: string[] = [];
  const auth = { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json' };
  // The body create_call sends for these arguments (server defaults and the monitor plan it always asks for).
  const createBody = JSON.stringify({
    phoneNumberId: 'bench-phone-number',
    customer: { number: TEST_NUMBER },
    assistantId: 'bench-assistant',
    assistantOverrides: { monitorPlan: { listenEnabled: true, controlEnabled: true } },
  });

  const timed = async (work: () => Promise<unknown>): Promise<number> => {
    const started = wallNow();
    await work();
    return wallNow() - started;
  };
  const mcp = (name: string, args: Record<string, unknown>) => async () => {
    const started = wallNow();
    const { result, receivedAt } = await server.request('tools/call', { name, arguments: args });
    if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
    if (name === 'create_call') created.push(String((result.structuredContent as { callId: string }).callId));
    return receivedAt - started;
  };
  const direct = (method: 'GET' | 'POST', url: string, body?: string) => async () => {
    const response = await request(url, { method, headers: auth, body });
    const text = await response.body.text();
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${text}`);
    if (method === 'POST' && url.endsWith('/call')) created.push((JSON.parse(text) as { id: string }).id);
  };

  try {
    await server.initialize();
    // One call for each side to read and steer.
    await mcp('create_call', { customer: { number: TEST_NUMBER }, listen: false })();
    const mcpCallId = created[0];
    const directCall = (await (await request(`${sim.baseUrl}/call`, { method: 'POST', headers: auth, body: createBody })).body.json()) as {
      id: string;
      monitor: { controlUrl: string };
    };
    created.push(directCall.id);

    const samples: Record<OverheadTool, { mcp: number[]; direct: number[] }> = {
      create_call: { mcp: [], direct: [] },
      get_call: { mcp: [], direct: [] },
      inject_say: { mcp: [], direct: [] },
    };
    const pairs: Record<OverheadTool, [() => Promise<number>, () => Promise<number>]> = {
      create_call: [mcp('create_call', { customer: { number: TEST_NUMBER }, listen: false }), () => timed(direct('POST', `${sim.baseUrl}/call`, createBody))],
      get_call: [mcp('get_call', { callId: mcpCallId }), () => timed(direct('GET', `${sim.baseUrl}/call/${directCall.id}`))],
      inject_say: [
        mcp('inject_say', { callId: mcpCallId, content: 'Just a moment, please.' }),
        () => timed(direct('POST', directCall.monitor.controlUrl, JSON.stringify({ type: 'say', content: 'Just a moment, please.' }))),
      ],
    };
    for (let i = 0; i < settings.warmup + settings.iterations; i++) {
      for (const tool of Object.keys(pairs) as OverheadTool[]) {
        const [viaMcp, viaHttp] = pairs[tool];
        // Alternate which side goes first so neither always runs on a warmer path.
        const [first, second] = i % 2 === 0 ? [viaMcp, viaHttp] : [viaHttp, viaMcp];
        const a = await first();
        const b = await second();
        if (i < settings.warmup) continue;
        samples[tool].mcp.push(i % 2 === 0 ? a : b);
        samples[tool].direct.push(i % 2 === 0 ? b : a);
      }
    }
    const tools = Object.fromEntries(
      (Object.keys(samples) as OverheadTool[]).map((tool) => {
        const { mcp: viaMcp, direct: viaHttp } = samples[tool];
        return [tool, { mcp: distribution(viaMcp), direct: distribution(viaHttp), added: distribution(viaMcp.map((m, k) => m - viaHttp[k])) }];
      }),
    ) as Record<OverheadTool, ToolOverhead>;
    return { iterations: settings.iterations, tools };
  } finally {
    await sim.hangup(created).catch(() => {});
    await server.close().catch(() => {});
    await sim.close().catch(() => {});
    await rm(recordingsDir, { recursive: true, force: true });
  }
}
